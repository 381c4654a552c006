/* Unit tests: the exporter's basic authentication pieces (webauth.c):
 * the Authorization header, bcrypt verification through libxcrypt for
 * $2y$, $2b$ and $2a$ hashes (made here with crypt_gensalt_rn/crypt_r),
 * and the table of remembered successes (hits, misses, expiry, bound). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <crypt.h>
#include <sodium.h>

#include <osh/util.h>

#include "ipmi-exporter/webauth.h"
#include "ipmi-exporter/webcfg.h"

static void
basic_header(void **state)
{
	static const struct {
		const char *header, *user, *password; /* NULL: refused */
	} cases[] = {
	    {"Basic cHJvbTpzM2NyM3Q=", "prom", "s3cr3t"},
	    {"basic   cHJvbTpzM2NyM3Q=  ", "prom", "s3cr3t"},
	    {"BASIC cHJvbTo=", "prom", ""}, /* "prom:" */
	    {"Basic OnB3", "", "pw"}, /* ":pw" */
	    {"Basic dTpwOnc=", "u", "p:w"}, /* the first colon splits */
	    {"Basic cHJvbQ==", NULL, NULL}, /* no colon */
	    {"Basic cHJvbTpzM2NyM3Q", NULL, NULL}, /* padding missing */
	    {"Basic cHJv!bTpzM2NyM3Q=", NULL, NULL}, {"Basic ", NULL, NULL},
	    {"Bearer cHJvbTpzM2NyM3Q=", NULL, NULL}, {"Basiccc", NULL, NULL},
	    {"", NULL, NULL},
	    {"Basic dQBzZXI6cHc=", NULL, NULL}, /* "u\0ser:pw" */
	};
	char user[256], pw[WEBAUTH_MAX_PASSWORD + 1];
	char longpw[320], b64[300];
	char raw[120];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		bool ok = webauth_parse_basic(
		    cases[i].header, user, sizeof(user), pw, sizeof(pw));
		if (cases[i].user == NULL) {
			if (ok)
				fail_msg("\"%s\" accepted", cases[i].header);
			continue;
		}
		if (!ok)
			fail_msg("\"%s\" refused", cases[i].header);
		assert_string_equal(user, cases[i].user);
		assert_string_equal(pw, cases[i].password);
	}
	assert_false(
	    webauth_parse_basic(NULL, user, sizeof(user), pw, sizeof(pw)));
	/* 72 password bytes pass; 73 are refused, not cut to 72. */
	for (int n = 72; n <= 73; n++) {
		memset(raw, 'a', sizeof(raw));
		raw[0] = 'u';
		raw[1] = ':';
		sodium_bin2base64(b64, sizeof(b64), (unsigned char *)raw,
		    (size_t)n + 2, sodium_base64_VARIANT_ORIGINAL);
		snprintf(longpw, sizeof(longpw), "Basic %s", b64);
		assert_int_equal(webauth_parse_basic(longpw, user, sizeof(user),
				     pw, sizeof(pw)),
		    n == 72);
	}
}

/* A bcrypt hash of password with the prefix and cost given. */
static void
make_hash(
    const char *prefix, int cost, const char *password, char *out, size_t len)
{
	char salt[64];
	unsigned char rnd[16];
	struct crypt_data cd;
	const char *h;

	randombytes_buf(rnd, sizeof(rnd));
	assert_non_null(crypt_gensalt_rn(prefix, (unsigned long)cost,
	    (const char *)rnd, sizeof(rnd), salt, sizeof(salt)));
	memset(&cd, 0, sizeof(cd));
	h = crypt_r(password, salt, &cd);
	assert_non_null(h);
	assert_true(h[0] == '$');
	osh_strlcpy(out, h, len);
}

static void
bcrypt_verification(void **state)
{
	static const char *const prefixes[] = {"$2b$", "$2y$", "$2a$"};
	char h[128];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(prefixes); i++) {
		make_hash(prefixes[i], 4, "correct horse", h, sizeof(h));
		assert_memory_equal(h, prefixes[i], 4);
		assert_true(webauth_bcrypt_verify(h, "correct horse"));
		assert_false(webauth_bcrypt_verify(h, "correct horsE"));
		assert_false(webauth_bcrypt_verify(h, ""));
		assert_false(webauth_bcrypt_verify(h, "correct horse "));
	}
	/* A fixed hash of "test", as htpasswd -B writes them (cost 10). */
	assert_true(webauth_bcrypt_verify(
	    "$2y$10$mDwo.lAisC94iLAyP81MCeyAMVJZX1uVlWyyg.uoDhsRja1W.XwLq",
	    "test"));
	assert_false(webauth_bcrypt_verify(
	    "$2y$10$mDwo.lAisC94iLAyP81MCeyAMVJZX1uVlWyyg.uoDhsRja1W.XwLr",
	    "test"));
	/* Nothing but bcrypt, and nothing malformed, ever verifies. */
	assert_false(webauth_bcrypt_verify("", ""));
	assert_false(webauth_bcrypt_verify("*0", "*0"));
	assert_false(webauth_bcrypt_verify("$2y$10$short", "x"));
	assert_false(webauth_bcrypt_verify("abc", "abc"));
	assert_false(webauth_bcrypt_verify("$1$salt$hash", "x"));

	/* What --hash-password writes verifies, and is what webcfg takes. */
	assert_int_equal(webauth_bcrypt_hash("s3cret", 4, h, sizeof(h)), 0);
	assert_memory_equal(h, "$2y$04$", 7);
	assert_true(webauth_bcrypt_verify(h, "s3cret"));
	assert_false(webauth_bcrypt_verify(h, "s3cre"));
	assert_true(webcfg_bcrypt_hash_valid(h));
	{
		char longpw[WEBAUTH_MAX_PASSWORD + 2];
		memset(longpw, 'x', sizeof(longpw) - 1);
		longpw[sizeof(longpw) - 1] = '\0';
		assert_int_equal(
		    webauth_bcrypt_hash(longpw, 4, h, sizeof(h)), -1);
		assert_int_equal(webauth_bcrypt_hash("x", 3, h, sizeof(h)), -1);
	}
}

static void
remembered_successes(void **state)
{
	struct webauth_cache *c = webauth_cache_new();
	unsigned char k1[32], k2[32], k3[32], k4[32];
	const uint64_t t0 = 1000000000;
	const uint64_t ttl = (uint64_t)WEBAUTH_CACHE_TTL_S * 1000000u;

	(void)state;
	webauth_cache_key(c, "prom", "$2y$hash", "pw", k1);
	webauth_cache_key(c, "prom", "$2y$hash", "pw2", k2);
	webauth_cache_key(c, "prom", "$2y$other", "pw", k3);
	webauth_cache_key(c, "prom2", "$2y$hash", "pw", k4);
	/* Each of user, stored hash and password changes the key, and the
	 * lengths are in it: "ab"+"c" is not "a"+"bc". */
	assert_memory_not_equal(k1, k2, 32);
	assert_memory_not_equal(k1, k3, 32);
	assert_memory_not_equal(k1, k4, 32);
	{
		unsigned char a[32], b[32];
		webauth_cache_key(c, "ab", "c", "d", a);
		webauth_cache_key(c, "a", "bc", "d", b);
		assert_memory_not_equal(a, b, 32);
	}
	assert_false(webauth_cache_hit(c, k1, t0));
	webauth_cache_put(c, k1, t0);
	assert_true(webauth_cache_hit(c, k1, t0 + 1));
	assert_false(webauth_cache_hit(c, k2, t0 + 1));
	assert_true(webauth_cache_hit(c, k1, t0 + ttl - 1));
	assert_false(webauth_cache_hit(c, k1, t0 + ttl));
	assert_int_equal(webauth_cache_count(c, t0 + ttl), 0);

	/* Bounded: ten times as many keys as slots, never more than the
	 * slots, and the latest ones are there. */
	for (int i = 0; i < 10 * WEBAUTH_CACHE_SLOTS; i++) {
		char pw[32];
		unsigned char k[32];
		snprintf(pw, sizeof(pw), "pw%d", i);
		webauth_cache_key(c, "u", "h", pw, k);
		webauth_cache_put(c, k, t0 + (uint64_t)i);
		assert_true(webauth_cache_hit(c, k, t0 + (uint64_t)i));
	}
	assert_true(webauth_cache_count(c, t0) <= WEBAUTH_CACHE_SLOTS);
	assert_true(webauth_cache_count(c, t0) > WEBAUTH_CACHE_SLOTS / 2);
	webauth_cache_free(c);

	/* Another process (another secret) makes other keys. */
	c = webauth_cache_new();
	webauth_cache_key(c, "prom", "$2y$hash", "pw", k2);
	assert_memory_not_equal(k1, k2, 32);
	webauth_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(basic_header),
	    cmocka_unit_test(bcrypt_verification),
	    cmocka_unit_test(remembered_successes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
