/* crypto.c - libsodium helpers. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/crypto.h"
#include "osh/util.h"

/* argon2id cost: libsodium's "interactive" limits (2 passes, 64 MiB). */
#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

static char dummy_hash[crypto_pwhash_STRBYTES];

int
osh_crypto_init(void)
{
	char pw[33];

	if (sodium_init() < 0)
		return -1;
	/* A hash of a random password: verifying anything against it costs
	 * what a real verification costs and never succeeds. */
	osh_random_token(pw, sizeof(pw), 16);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), PW_OPS, PW_MEM) != 0)
		return -1;
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

int
osh_password_hash(const char *password, char *out)
{
	_Static_assert(OSH_PWHASH_LEN >= crypto_pwhash_STRBYTES,
	    "OSH_PWHASH_LEN too small");
	return crypto_pwhash_str(
		   out, password, strlen(password), PW_OPS, PW_MEM) == 0
	    ? 0
	    : -1;
}

bool
osh_password_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool
osh_password_verify_dummy(const char *password)
{
	int rc =
	    crypto_pwhash_str_verify(dummy_hash, password, strlen(password));

	return rc == 0 && false;
}

void
osh_random_bytes(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void
osh_random_token(char *out, size_t outlen, size_t nbytes)
{
	unsigned char raw[64];

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	randombytes_buf(raw, nbytes);
	osh_b64url_encode(raw, nbytes, out, outlen);
	sodium_memzero(raw, sizeof(raw));
}

void
osh_token_hash(const char *token, char out[OSH_TOKEN_HASH_LEN])
{
	unsigned char h[32];

	crypto_generichash(
	    h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, OSH_TOKEN_HASH_LEN, h, sizeof(h));
}

bool
osh_const_eq(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

bool
osh_const_streq(const char *a, const char *b)
{
	unsigned char ha[32], hb[32];

	/* Comparing fixed-size digests hides the lengths too. */
	crypto_generichash(
	    ha, sizeof(ha), (const unsigned char *)a, strlen(a), NULL, 0);
	crypto_generichash(
	    hb, sizeof(hb), (const unsigned char *)b, strlen(b), NULL, 0);
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

void
osh_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void
osh_free_secret(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

void
osh_b64url_encode(const void *in, size_t n, char *out, size_t outlen)
{
	if (outlen < sodium_base64_ENCODED_LEN(
			 n, sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	sodium_bin2base64(
	    out, outlen, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

long
osh_b64url_decode(const char *in, size_t inlen, void *out, size_t outlen)
{
	size_t n;

	if (sodium_base642bin(out, outlen, in, inlen, NULL, &n, NULL,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	return (long)n;
}

/* Keyring for secrets at rest. */

#define MAX_KEYS 16
#define KID_MAX 32

struct osh_keyring {
	size_t n;
	struct {
		char kid[KID_MAX];
		unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	} keys[MAX_KEYS];
};

struct osh_keyring *
osh_keyring_load(const char *path)
{
	struct osh_keyring *k;
	char *text, *line, *save = NULL;

	if ((text = osh_read_file(path, 8192, true)) == NULL)
		return NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		goto out_free_text;
	memset(k, 0, sizeof(*k));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		size_t klen;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (colon == NULL || colon == line ||
		    (size_t)(colon - line) >= KID_MAX || k->n == MAX_KEYS)
			goto out_bad;
		memcpy(k->keys[k->n].kid, line, (size_t)(colon - line));
		if (sodium_base642bin(k->keys[k->n].key,
			sizeof(k->keys[k->n].key), colon + 1, strlen(colon + 1),
			NULL, &klen, NULL,
			sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    klen != sizeof(k->keys[k->n].key))
			goto out_bad;
		k->n++;
	}
	if (k->n == 0)
		goto out_bad;
	osh_free_secret(text);
	return k;
out_bad:
	sodium_free(k);
out_free_text:
	osh_free_secret(text);
	return NULL;
}

void
osh_keyring_free(struct osh_keyring *k)
{
	if (k != NULL)
		sodium_free(k);
}

const char *
osh_keyring_current(const struct osh_keyring *k)
{
	return k->keys[0].kid;
}

char *
osh_seal(struct osh_keyring *k, const char *plain, size_t len, const char *ad)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t ab = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char *raw;
	unsigned long long clen;
	size_t b64len, outlen;
	char *out;

	if ((raw = malloc(nb + len + ab)) == NULL)
		return NULL;
	randombytes_buf(raw, nb);
	crypto_aead_xchacha20poly1305_ietf_encrypt(raw + nb, &clen,
	    (const unsigned char *)plain, len, (const unsigned char *)ad,
	    strlen(ad), NULL, raw, k->keys[0].key);
	b64len = sodium_base64_ENCODED_LEN(
	    nb + clen, sodium_base64_VARIANT_ORIGINAL);
	outlen = strlen(k->keys[0].kid) + 1 + b64len;
	if ((out = malloc(outlen)) != NULL) {
		size_t kl = strlen(k->keys[0].kid);
		memcpy(out, k->keys[0].kid, kl);
		out[kl] = ':';
		sodium_bin2base64(out + kl + 1, b64len, raw, nb + clen,
		    sodium_base64_VARIANT_ORIGINAL);
	}
	free(raw);
	return out;
}

char *
osh_open(struct osh_keyring *k, const char *sealed, const char *ad, size_t *len)
{
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const char *colon = strchr(sealed, ':');
	unsigned char *raw = NULL, *key = NULL;
	unsigned long long plen;
	size_t rawlen, cap;
	char *plain = NULL;

	if (colon == NULL)
		return NULL;
	for (size_t i = 0; i < k->n; i++) {
		if (strlen(k->keys[i].kid) == (size_t)(colon - sealed) &&
		    memcmp(k->keys[i].kid, sealed, (size_t)(colon - sealed)) ==
			0)
			key = k->keys[i].key;
	}
	if (key == NULL)
		return NULL;
	cap = strlen(colon + 1);
	if ((raw = malloc(cap)) == NULL)
		return NULL;
	if (sodium_base642bin(raw, cap, colon + 1, cap, NULL, &rawlen, NULL,
		sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    rawlen < nb + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		goto out_free_raw;
	if ((plain = malloc(rawlen + 1)) == NULL)
		goto out_free_raw;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain,
		&plen, NULL, raw + nb, rawlen - nb, (const unsigned char *)ad,
		strlen(ad), raw, key) != 0) {
		free(plain);
		plain = NULL;
		goto out_free_raw;
	}
	plain[plen] = '\0';
	if (len != NULL)
		*len = (size_t)plen;
out_free_raw:
	free(raw);
	return plain;
}
