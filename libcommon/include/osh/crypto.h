/* crypto.h - libsodium helpers: password hashing, random tokens, hashing
 * of tokens for storage, constant-time comparison and AEAD for secrets at
 * rest. osh_crypto_init must run before anything else here. */
#ifndef OSH_CRYPTO_H
#define OSH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int osh_crypto_init(void);

/* argon2id; out must hold OSH_PWHASH_LEN bytes. Slow by design (tens of
 * milliseconds): call from a worker thread, never on the event loop. */
#define OSH_PWHASH_LEN 128
int osh_password_hash(const char *password, char *out);
bool osh_password_verify(const char *hash, const char *password);
/* Verifies against a fixed dummy hash so that unknown users cost the same
 * time as known ones. Always false. */
bool osh_password_verify_dummy(const char *password);

/* Fills buf with n random bytes. */
void osh_random_bytes(void *buf, size_t n);
/* Writes a URL-safe random token of 'nbytes' bytes of entropy (base64url,
 * no padding) into out, which must hold at least 2*nbytes+1 bytes. */
void osh_random_token(char *out, size_t outlen, size_t nbytes);

/* Hex digest (64 chars + NUL) of BLAKE2b-256(data): how opaque tokens are
 * stored. */
#define OSH_TOKEN_HASH_LEN 65
void osh_token_hash(const char *token, char out[OSH_TOKEN_HASH_LEN]);

bool osh_const_eq(const void *a, const void *b, size_t n);
/* Constant-time over max(len) for two NUL-terminated strings. */
bool osh_const_streq(const char *a, const char *b);

void osh_wipe(void *p, size_t n);
/* Wipes and frees a NUL-terminated string; NULL is fine. */
void osh_free_secret(char *s);

/* Base64url without padding; out must hold 4*((n+2)/3)+1 bytes. */
void osh_b64url_encode(const void *in, size_t n, char *out, size_t outlen);
/* Returns bytes written, or -1. */
long osh_b64url_decode(const char *in, size_t inlen, void *out, size_t outlen);

/* AEAD for secrets at rest (XChaCha20-Poly1305). A keyring holds keys by
 * id; sealing uses the current key and writes "<kid>:<base64 nonce|ct>". */
struct osh_keyring;
/* Loads "kid:base64key" lines (32-byte keys); the first line is the
 * current key. Returns NULL on a bad file. */
struct osh_keyring *osh_keyring_load(const char *path);
void osh_keyring_free(struct osh_keyring *k);
/* The id of the current key (the one osh_seal uses): borrowed, valid
 * while k lives. */
const char *osh_keyring_current(const struct osh_keyring *k);
/* Returns a new string the caller frees, or NULL. 'ad' binds the
 * ciphertext to its owner (e.g. "server:42"). */
char *osh_seal(
    struct osh_keyring *k, const char *plain, size_t len, const char *ad);
/* Returns the plaintext (caller wipes and frees) or NULL when the key id
 * is unknown or the ciphertext was altered. */
char *osh_open(
    struct osh_keyring *k, const char *sealed, const char *ad, size_t *len);

#endif
