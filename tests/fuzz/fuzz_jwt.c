/* fuzz_jwt.c - libFuzzer target: access tokens through libcommon's
 * verifier (osh_jwt_verify), with an ES256 key pair the target makes at
 * start-up (no private key is kept anywhere).
 *
 * Input: byte 0 picks what the rest is:
 *   0  a token, verified as it comes (header checks, decoding, signature);
 *   1  the claims of a token as JSON, signed with the key: what the
 *      verifier makes of any claims that carry a good signature;
 *   2  claims (name, role, jti, sid, uid, NUL-separated) signed with
 *      osh_jwt_sign: a round trip;
 *   3  edits (position, byte pairs) to a good token.
 *
 * Invariants: a token the verifier accepts has claims a service can use
 * (a known role, a user id unless a service, name and jti, valid UTF-8,
 * not expired, not from the future); a token osh_jwt_sign made from
 * usable claims verifies to exactly those claims, and one from unusable
 * claims does not verify; an edited token verifies only to the claims it
 * was signed with. */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/auth.h"
#include "osh/crypto.h"
#include "osh/log.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 2000000000 /* a fixed clock: nothing depends on the time */
#define ISSUER "openserverhub"
#define AUDIENCE "openserverhub"

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_jwt: %s\n", what);
	abort();
}

struct keys {
	char *priv, *pub;
	struct osh_jwt_signer *signer;
	char *good; /* a token signed from 'claims' */
	struct osh_claims claims;
};

static char *
pem_of(EVP_PKEY *k, bool private_key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;
	int ok;

	if (b == NULL)
		return NULL;
	ok = private_key
	    ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
	    : PEM_write_bio_PUBKEY(b, k);
	if (ok == 1 && (n = BIO_get_mem_data(b, &p)) > 0)
		out = strndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

/* A P-256 key pair made now, and a signer for it. */
static const struct keys *
keys(void)
{
	static struct keys k;
	static bool done;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	if (done)
		return &k;
	done = true;
	osh_log_init("fuzz", OSH_LOG_ERROR);
	check(osh_crypto_init() == 0, "libsodium");
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	check(ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
		EVP_PKEY_CTX_set_ec_paramgen_curve_nid(
		    ctx, NID_X9_62_prime256v1) == 1 &&
		EVP_PKEY_keygen(ctx, &pkey) == 1,
	    "key generation");
	k.priv = pem_of(pkey, true);
	k.pub = pem_of(pkey, false);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	check(k.priv != NULL && k.pub != NULL, "PEM export");
	k.signer = osh_jwt_signer_new("ES256", k.priv, ISSUER, AUDIENCE);
	check(k.signer != NULL, "signer");
	k.claims.user_id = 42;
	osh_strlcpy(k.claims.name, "ada", sizeof(k.claims.name));
	osh_strlcpy(k.claims.role, "operator", sizeof(k.claims.role));
	osh_strlcpy(k.claims.jti, "jti-1", sizeof(k.claims.jti));
	osh_strlcpy(k.claims.sid, "family-1", sizeof(k.claims.sid));
	k.claims.iat = NOW - 10;
	k.claims.iat_ms = k.claims.iat * 1000 + 7;
	k.claims.exp = NOW + 900;
	k.good = osh_jwt_sign(k.signer, &k.claims);
	check(k.good != NULL, "signing the good token");
	return &k;
}

/* One verifier for every input: it remembers tokens it accepted, but a
 * remembered token gets the answer it got the first time (the clock is
 * fixed), so inputs do not depend on each other. */
static enum osh_token_status
verify(const char *token, struct osh_claims *out)
{
	static struct osh_jwt_verifier *v;

	if (v == NULL)
		v = osh_jwt_verifier_new(
		    "ES256", keys()->pub, ISSUER, AUDIENCE);
	check(v != NULL, "verifier");
	memset(out, 0, sizeof(*out));
	return osh_jwt_verify(v, token, NOW, out);
}

static bool
str_ok(const char *s, size_t room)
{
	size_t n = strnlen(s, room);

	return n < room && osh_utf8_valid(s, n);
}

/* What any accepted token must say. */
static void
check_usable(const struct osh_claims *c)
{
	check(osh_role_valid(c->role), "accepted with an unknown role");
	check(strcmp(c->role, "service") == 0 || c->user_id > 0,
	    "accepted a user token without a user id");
	check(str_ok(c->name, sizeof(c->name)) && c->name[0] != '\0',
	    "accepted without a usable name");
	check(str_ok(c->jti, sizeof(c->jti)) && c->jti[0] != '\0',
	    "accepted without a usable jti");
	check(str_ok(c->sid, sizeof(c->sid)), "accepted with a bad sid");
	check(c->exp > NOW, "accepted an expired token");
	check(c->iat > 0 && c->iat <= NOW + 30, "accepted a future token");
	check(c->iat_ms / 1000 == c->iat, "iat_ms does not match iat");
}

static bool
same_claims(const struct osh_claims *a, const struct osh_claims *b)
{
	return a->user_id == b->user_id && strcmp(a->name, b->name) == 0 &&
	    strcmp(a->role, b->role) == 0 && strcmp(a->jti, b->jti) == 0 &&
	    strcmp(a->sid, b->sid) == 0 && a->iat == b->iat &&
	    a->exp == b->exp && a->iat_ms == b->iat_ms;
}

static void
raw_token(const char *text)
{
	struct osh_claims c;

	if (verify(text, &c) == OSH_TOKEN_OK)
		check_usable(&c);
}

/* Any claims (JSON), signed with the right key by libjwt. */
static void
signed_grants(const char *json)
{
	struct osh_claims c;
	jwt_t *jwt = NULL;
	char *token = NULL;

	if (jwt_new(&jwt) != 0)
		return;
	if (jwt_add_grants_json(jwt, json) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_ES256, (const unsigned char *)keys()->priv,
		(int)strlen(keys()->priv)) != 0 ||
	    (token = jwt_encode_str(jwt)) == NULL)
		goto out;
	if (verify(token, &c) == OSH_TOKEN_OK)
		check_usable(&c);
out:
	free(token);
	jwt_free(jwt);
}

/* The next NUL-separated field of [*p, end), copied into out. */
static void
field(const char **p, const char *end, char *out, size_t room)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t n = nul != NULL ? (size_t)(nul - *p) : (size_t)(end - *p);

	if (n >= room)
		n = room - 1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = nul != NULL ? nul + 1 : end;
}

static void
round_trip(const char *p, const char *end)
{
	struct osh_claims in, out;
	enum osh_token_status st;
	char uid[24];
	bool usable;
	char *token;

	memset(&in, 0, sizeof(in));
	field(&p, end, in.name, sizeof(in.name));
	field(&p, end, in.role, sizeof(in.role));
	field(&p, end, in.jti, sizeof(in.jti));
	field(&p, end, in.sid, sizeof(in.sid));
	field(&p, end, uid, sizeof(uid));
	if (!osh_parse_int(uid, INT32_MIN, INT32_MAX, &in.user_id))
		in.user_id = 0;
	in.iat = NOW - 5;
	in.iat_ms = in.iat * 1000 + 999;
	in.exp = NOW + 60;
	if ((token = osh_jwt_sign(keys()->signer, &in)) == NULL)
		return; /* claims libjwt refuses to encode (not UTF-8) */
	usable = osh_role_valid(in.role) && in.name[0] != '\0' &&
	    in.jti[0] != '\0' &&
	    (strcmp(in.role, "service") == 0 || in.user_id > 0);
	st = verify(token, &out);
	if (usable) {
		check(st == OSH_TOKEN_OK, "usable claims did not verify");
		/* A service token carries no user id. */
		if (in.user_id <= 0)
			in.user_id = 0;
		check(same_claims(&in, &out), "claims changed on the way");
	} else {
		check(st != OSH_TOKEN_OK, "unusable claims verified");
	}
	free(token);
}

static void
edited(const uint8_t *p, size_t n)
{
	const struct keys *k = keys();
	size_t len = strlen(k->good);
	struct osh_claims c;
	char *t = strdup(k->good);

	if (t == NULL)
		return;
	for (size_t i = 0; i + 1 < n; i += 2)
		t[(size_t)p[i] * 7 % len] = (char)(p[i + 1] ? p[i + 1] : '.');
	if (verify(t, &c) == OSH_TOKEN_OK) {
		check_usable(&c);
		check(same_claims(&c, &k->claims),
		    "an edited token verified to other claims");
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	(void)keys();
	/* An exact-size, NUL-terminated copy of the rest. */
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: raw_token(text); break;
	case 1: signed_grants(text); break;
	case 2: round_trip(text, text + size - 1); break;
	case 3: edited(data + 1, size - 1); break;
	}
	free(text);
	return 0;
}
