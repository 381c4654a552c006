/* Unit tests: jwt.c, with keys made by openssl for the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/auth.h"
#include "osh/crypto.h"
#include "osh/util.h"

struct keys {
	char dir[64];
	char *priv, *pub, *rsa_priv, *rsa_pub, *other_priv, *other_pub;
};

static char *
slurp(const char *dir, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return osh_read_file(path, 16384, false);
}

static int
setup(void **state)
{
	static struct keys k;
	char cmd[1024];

	osh_crypto_init();
	snprintf(k.dir, sizeof(k.dir), "/tmp/osh-jwt-test-XXXXXX");
	if (mkdtemp(k.dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd),
	    "cd %s && "
	    "openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | "
	    "openssl pkcs8 -topk8 -nocrypt -out ec.pem && "
	    "openssl ec -in ec.pem -pubout -out ec.pub 2>/dev/null && "
	    "openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | "
	    "openssl pkcs8 -topk8 -nocrypt -out other.pem && "
	    "openssl ec -in other.pem -pubout -out other.pub 2>/dev/null && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out rsa.pem 2>/dev/null && "
	    "openssl pkey -in rsa.pem -pubout -out rsa.pub",
	    k.dir);
	if (system(cmd) != 0)
		return -1;
	k.priv = slurp(k.dir, "ec.pem");
	k.pub = slurp(k.dir, "ec.pub");
	k.rsa_priv = slurp(k.dir, "rsa.pem");
	k.rsa_pub = slurp(k.dir, "rsa.pub");
	k.other_priv = slurp(k.dir, "other.pem");
	k.other_pub = slurp(k.dir, "other.pub");
	*state = &k;
	return k.priv && k.pub && k.rsa_priv && k.rsa_pub && k.other_priv &&
		k.other_pub
	    ? 0
	    : -1;
}

static int
teardown(void **state)
{
	struct keys *k = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", k->dir);
	(void)!system(cmd);
	free(k->priv);
	free(k->pub);
	free(k->rsa_priv);
	free(k->rsa_pub);
	free(k->other_priv);
	free(k->other_pub);
	return 0;
}

static struct osh_claims
claims(int64_t now)
{
	struct osh_claims c;

	memset(&c, 0, sizeof(c));
	c.user_id = 7;
	osh_strlcpy(c.name, "ada", sizeof(c.name));
	osh_strlcpy(c.role, "operator", sizeof(c.role));
	osh_strlcpy(c.jti, "jti-1", sizeof(c.jti));
	osh_strlcpy(c.sid, "fam-1", sizeof(c.sid));
	c.iat = now;
	c.iat_ms = now * 1000 + 123;
	c.exp = now + 900;
	return c;
}

static char *
sign(const char *alg, const char *pem, const char *iss, const char *aud,
    const struct osh_claims *c)
{
	struct osh_jwt_signer *s = osh_jwt_signer_new(alg, pem, iss, aud);
	char *t;

	assert_non_null(s);
	t = osh_jwt_sign(s, c);
	osh_jwt_signer_free(s);
	assert_non_null(t);
	return t;
}

static void
round_trip(void **state)
{
	struct keys *k = *state;
	int64_t now = osh_wall_s();
	struct osh_claims in = claims(now), out;
	struct osh_jwt_verifier *v =
	    osh_jwt_verifier_new("ES256", k->pub, "osh", "osh");
	char *t = sign("ES256", k->priv, "osh", "osh", &in);

	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_OK);
	assert_int_equal(out.user_id, 7);
	assert_string_equal(out.role, "operator");
	assert_string_equal(out.sid, "fam-1");
	assert_int_equal(out.iat_ms, in.iat_ms);
	/* Second time from the cache; expiry still applies. */
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_OK);
	assert_int_equal(
	    osh_jwt_verify(v, t, now + 901, &out), OSH_TOKEN_EXPIRED);
	free(t);
	osh_jwt_verifier_free(v);
}

static void
rejections(void **state)
{
	struct keys *k = *state;
	int64_t now = osh_wall_s();
	struct osh_claims c = claims(now), out;
	struct osh_jwt_verifier *v =
	    osh_jwt_verifier_new("ES256", k->pub, "osh", "osh");
	char *t;

	t = sign("ES256", k->priv, "evil", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_ISSUER);
	free(t);
	t = sign("ES256", k->priv, "osh", "other", &c);
	assert_int_equal(
	    osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_AUDIENCE);
	free(t);
	t = sign("ES256", k->other_priv, "osh", "osh", &c);
	assert_int_equal(
	    osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_SIGNATURE);
	free(t);
	t = sign("RS256", k->rsa_priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_ALG);
	free(t);
	c.iat = now + 3600;
	c.exp = now + 7200;
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(
	    osh_jwt_verify(v, t, now, &out), OSH_TOKEN_NOT_YET_VALID);
	free(t);
	c = claims(now);
	osh_strlcpy(c.role, "root", sizeof(c.role));
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_CLAIMS);
	free(t);
	/* Required claims present but empty (found by fuzz_jwt). */
	c = claims(now);
	c.jti[0] = '\0';
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_CLAIMS);
	free(t);
	c = claims(now);
	c.name[0] = '\0';
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_CLAIMS);
	free(t);
	/* Times past year 9999 (their milliseconds would overflow; found
	 * by fuzz_jwt). */
	c = claims(now);
	c.iat = 19999999999099990;
	c.iat_ms = 0;
	c.exp = now + 900;
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_CLAIMS);
	free(t);
	c = claims(now);
	c.exp = INT64_MAX / 10;
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_CLAIMS);
	free(t);
	/* alg "none" with an empty signature. */
	assert_int_equal(osh_jwt_verify(v,
			     "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", now, &out),
	    OSH_TOKEN_BAD_ALG);
	assert_int_equal(
	    osh_jwt_verify(v, "garbage", now, &out), OSH_TOKEN_MALFORMED);
	assert_int_equal(osh_jwt_verify(v, "", now, &out), OSH_TOKEN_MALFORMED);
	osh_jwt_verifier_free(v);
}

static void
rsa_works_when_configured(void **state)
{
	struct keys *k = *state;
	int64_t now = osh_wall_s();
	struct osh_claims c = claims(now), out;
	struct osh_jwt_verifier *v =
	    osh_jwt_verifier_new("RS256", k->rsa_pub, "osh", "osh");
	char *t = sign("RS256", k->rsa_priv, "osh", "osh", &c);

	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_OK);
	free(t);
	t = sign("ES256", k->priv, "osh", "osh", &c);
	assert_int_equal(osh_jwt_verify(v, t, now, &out), OSH_TOKEN_BAD_ALG);
	free(t);
	osh_jwt_verifier_free(v);
}

static void
jwks(void **state)
{
	struct keys *k = *state;
	char *j = osh_jwks_from_pem("ES256", k->pub, "kid1");

	assert_non_null(j);
	assert_non_null(strstr(j, "\"crv\":\"P-256\""));
	assert_non_null(strstr(j, "\"kid\":\"kid1\""));
	free(j);
	j = osh_jwks_from_pem("RS256", k->rsa_pub, "kid2");
	assert_non_null(j);
	assert_non_null(strstr(j, "\"e\":\"AQAB\""));
	free(j);
	assert_null(osh_jwks_from_pem("ES256", k->rsa_pub, "x"));
	assert_null(osh_jwks_from_pem("ES256", "not a key", "x"));
	assert_null(osh_jwt_verifier_new("HS256", k->pub, "a", "b"));
}

/* A signing key rotation: the public key file holds the new key and the
 * old one; tokens of both verify, and the JWKS shows both. */
static void
rotation_overlap(void **state)
{
	struct keys *k = *state;
	int64_t now = osh_wall_s();
	struct osh_claims in = claims(now), out;
	char both[8192], hex[OSH_TOKEN_HASH_LEN], kid[40], *j;
	char *told = sign("ES256", k->priv, "osh", "osh", &in);
	char *tnew = sign("ES256", k->other_priv, "osh", "osh", &in);
	struct osh_jwt_verifier *v, *only;

	snprintf(both, sizeof(both), "%s%s", k->other_pub, k->pub);
	v = osh_jwt_verifier_new("ES256", both, "osh", "osh");
	only = osh_jwt_verifier_new("ES256", k->other_pub, "osh", "osh");
	assert_non_null(v);
	assert_non_null(only);
	assert_int_equal(osh_jwt_verify(v, tnew, now, &out), OSH_TOKEN_OK);
	assert_int_equal(osh_jwt_verify(v, told, now, &out), OSH_TOKEN_OK);
	assert_int_equal(osh_jwt_verify(only, tnew, now, &out), OSH_TOKEN_OK);
	assert_int_equal(
	    osh_jwt_verify(only, told, now, &out), OSH_TOKEN_BAD_SIGNATURE);
	j = osh_jwks_from_pems("ES256", both);
	assert_non_null(j);
	/* Each kid is the digest of its key's file: unchanged by rotation. */
	osh_token_hash(k->pub, hex);
	snprintf(kid, sizeof(kid), "\"kid\":\"%.23s\"", hex);
	assert_non_null(strstr(j, kid));
	osh_token_hash(k->other_pub, hex);
	snprintf(kid, sizeof(kid), "\"kid\":\"%.23s\"", hex);
	assert_non_null(strstr(j, kid));
	free(j);
	assert_null(osh_jwks_from_pems("ES256", "no key"));
	assert_null(osh_jwt_verifier_new("ES256", "no key", "osh", "osh"));
	osh_jwt_verifier_free(v);
	osh_jwt_verifier_free(only);
	free(told);
	free(tnew);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(rejections),
	    cmocka_unit_test(rsa_works_when_configured),
	    cmocka_unit_test(jwks),
	    cmocka_unit_test(rotation_overlap),
	};
	return cmocka_run_group_tests_name("jwt", tests, setup, teardown);
}
