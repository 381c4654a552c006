/* auth.h - access tokens (JWT, ES256 or RS256) and role permissions.
 * Every service verifies tokens locally with the public key; only the auth
 * service holds a signer. */
#ifndef OSH_AUTH_H
#define OSH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSH_ROLE_MAX 16
#define OSH_JTI_MAX 48
#define OSH_NAME_MAX 128

/* What a verified token says. sub is "user:<id>" or "service:<name>". */
struct osh_claims {
	int64_t user_id; /* 0 for a service */
	char name[OSH_NAME_MAX];
	char role[OSH_ROLE_MAX]; /* admin, operator, viewer, service */
	char jti[OSH_JTI_MAX];
	char sid[OSH_JTI_MAX]; /* refresh family the token belongs to */
	int64_t iat, exp;
	int64_t iat_ms; /* issue time in ms, for precise revocation */
};

enum osh_token_status {
	OSH_TOKEN_OK,
	OSH_TOKEN_MALFORMED,
	OSH_TOKEN_BAD_ALG,
	OSH_TOKEN_BAD_SIGNATURE,
	OSH_TOKEN_EXPIRED,
	OSH_TOKEN_NOT_YET_VALID,
	OSH_TOKEN_BAD_ISSUER,
	OSH_TOKEN_BAD_AUDIENCE,
	OSH_TOKEN_BAD_CLAIMS,
};

const char *osh_token_status_str(enum osh_token_status s);

struct osh_jwt_verifier;
struct osh_jwt_signer;

/* At most this many public keys verify tokens at once (a key rotation
 * holds two: the new signing key and the one before). */
#define OSH_JWT_KEYS_MAX 4

/* alg: "ES256" or "RS256". pem: the public keys, one PEM block each (up
 * to OSH_JWT_KEYS_MAX; the current signing key first, then keys still
 * accepted during a rotation). Returns NULL when the alg is not one of
 * those or no key is there. Copies its arguments. */
struct osh_jwt_verifier *osh_jwt_verifier_new(
    const char *alg, const char *pem, const char *issuer, const char *audience);
void osh_jwt_verifier_free(struct osh_jwt_verifier *v);

/* Verifies signature, algorithm (exactly the configured one), iss, aud,
 * exp, iat and nbf (with 'leeway' seconds) at time 'now', and fills out.
 * Recently verified tokens are remembered, so a repeat costs a hash. */
enum osh_token_status osh_jwt_verify(struct osh_jwt_verifier *v,
    const char *token, int64_t now, struct osh_claims *out);

/* pem: the private key (copied; the copy is wiped on free). */
struct osh_jwt_signer *osh_jwt_signer_new(
    const char *alg, const char *pem, const char *issuer, const char *audience);
void osh_jwt_signer_free(struct osh_jwt_signer *s);

/* Signs claims valid from c->iat to c->exp. Returns a new string the
 * caller frees, or NULL. */
char *osh_jwt_sign(struct osh_jwt_signer *s, const struct osh_claims *c);

/* Builds the JWKS document ({"keys": [...]}) for a public key PEM; NULL
 * when the key is not a P-256 EC or RSA key. Caller frees. */
char *osh_jwks_from_pem(const char *alg, const char *pem, const char *kid);
/* The JWKS of every PEM block of pems (up to OSH_JWT_KEYS_MAX), each
 * with kid the first 23 hex digits of osh_token_hash of its block (its
 * text through the END line and one newline); NULL if one does not
 * load or there is none. Caller frees. */
char *osh_jwks_from_pems(const char *alg, const char *pems);

/* Role checks. perm is "resource:verb". */
bool osh_role_valid(const char *role);
bool osh_role_allows(const char *role, const char *perm);

#endif
