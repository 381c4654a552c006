/* Unit tests: the exporter's basic authentication pieces (webauth.c):
 * the Authorization header, bcrypt verification through libxcrypt for
 * $2y$, $2b$ and $2a$ hashes (made here with crypt_gensalt_rn/crypt_r),
 * the tables of remembered successes and refusals (hits, misses, expiry,
 * bound, per client), the hash unknown users are checked against, and
 * the per-client count of pending checks. */
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
	struct webauth_cache *c = webauth_cache_new(WEBAUTH_CACHE_TTL_S);
	unsigned char k1[32], k2[32], k3[32], k4[32];
	const uint64_t t0 = 1000000000;
	const uint64_t ttl = (uint64_t)WEBAUTH_CACHE_TTL_S * 1000000u;

	(void)state;
	webauth_cache_key(c, NULL, "prom", "$2y$hash", "pw", k1);
	webauth_cache_key(c, NULL, "prom", "$2y$hash", "pw2", k2);
	webauth_cache_key(c, NULL, "prom", "$2y$other", "pw", k3);
	webauth_cache_key(c, NULL, "prom2", "$2y$hash", "pw", k4);
	/* Each of user, stored hash and password changes the key, and the
	 * lengths are in it: "ab"+"c" is not "a"+"bc". */
	assert_memory_not_equal(k1, k2, 32);
	assert_memory_not_equal(k1, k3, 32);
	assert_memory_not_equal(k1, k4, 32);
	{
		unsigned char a[32], b[32];
		webauth_cache_key(c, NULL, "ab", "c", "d", a);
		webauth_cache_key(c, NULL, "a", "bc", "d", b);
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
		webauth_cache_key(c, NULL, "u", "h", pw, k);
		webauth_cache_put(c, k, t0 + (uint64_t)i);
		assert_true(webauth_cache_hit(c, k, t0 + (uint64_t)i));
	}
	assert_true(webauth_cache_count(c, t0) <= WEBAUTH_CACHE_SLOTS);
	assert_true(webauth_cache_count(c, t0) > WEBAUTH_CACHE_SLOTS / 2);
	webauth_cache_free(c);

	/* Another process (another secret) makes other keys. */
	c = webauth_cache_new(WEBAUTH_CACHE_TTL_S);
	webauth_cache_key(c, NULL, "prom", "$2y$hash", "pw", k2);
	assert_memory_not_equal(k1, k2, 32);
	webauth_cache_free(c);
}

/* Refusals are remembered per client and for a shorter while: the same
 * wrong password from the same client is known, from another client or
 * with another password it is not (and is checked with bcrypt). */
static void
remembered_refusals(void **state)
{
	struct webauth_cache *c = webauth_cache_new(WEBAUTH_FAILURE_TTL_S);
	unsigned char a[32], b[32], d[32], e[32];
	const uint64_t t0 = 1000000000;
	const uint64_t ttl = (uint64_t)WEBAUTH_FAILURE_TTL_S * 1000000u;

	(void)state;
	assert_true(WEBAUTH_FAILURE_TTL_S < WEBAUTH_CACHE_TTL_S);
	webauth_cache_key(c, "127.0.0.2", "prom", "$2y$h", "guess", a);
	webauth_cache_key(c, "127.0.0.3", "prom", "$2y$h", "guess", b);
	webauth_cache_key(c, "127.0.0.2", "prom", "$2y$h", "guess2", d);
	webauth_cache_key(c, NULL, "prom", "$2y$h", "guess", e);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, d, 32);
	assert_memory_not_equal(a, e, 32);
	/* The client's key is delimited too: "1"+"2prom" is not "12"+"prom". */
	{
		unsigned char x[32], y[32];
		webauth_cache_key(c, "1", "2prom", "h", "p", x);
		webauth_cache_key(c, "12", "prom", "h", "p", y);
		assert_memory_not_equal(x, y, 32);
	}
	webauth_cache_put(c, a, t0);
	assert_true(webauth_cache_hit(c, a, t0 + 1));
	assert_false(webauth_cache_hit(c, b, t0 + 1));
	assert_false(webauth_cache_hit(c, d, t0 + 1));
	assert_false(webauth_cache_hit(c, a, t0 + ttl));
	webauth_cache_free(c);
}

/* A web configuration with users whose hashes have the costs given (the
 * hashes are well formed; nothing is verified against them here). */
static struct web_config *
users_with_costs(const int *costs, size_t n)
{
	char yaml[4096], err[300];
	size_t len;
	struct web_config *w;

	len = (size_t)snprintf(yaml, sizeof(yaml), "basic_auth_users:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
		    "  user%zu: $2%c$%02d$"
		    "abcdefghijklmnopqrstuu5z1kR3Dd0EYq8wXQ3g9ktQlB3ZvFk%02zu\n",
		    i, "ybay"[i % 4], costs[i], i);
	assert_true(len < sizeof(yaml));
	w = webcfg_parse(yaml, len, NULL, err, sizeof(err));
	if (w == NULL)
		fail_msg("%s", err);
	return w;
}

/* Unknown users are checked against the configured hash of the largest
 * cost, whatever order the users come in, and that follows reloads. */
static void
dummy_cost_follows_configuration(void **state)
{
	static const struct {
		int costs[4];
		size_t n;
		int want; /* the dummy's cost */
	} cases[] = {
	    {{4}, 1, 4},
	    {{12, 4}, 2, 12},
	    {{4, 12}, 2, 12},
	    {{10, 14, 10, 5}, 4, 14},
	    {{5, 5, 5}, 3, 5},
	    {{31}, 1, 31},
	};
	struct webauth *a = webauth_new(NULL);

	(void)state;
	assert_non_null(a);
	/* Before any configuration, and without users: the built-in one. */
	assert_int_equal(webcfg_bcrypt_cost(webauth_dummy_hash(a)), 10);
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct web_config *w =
		    users_with_costs(cases[i].costs, cases[i].n);
		const char *d;
		bool one_of_them = false;

		webauth_set_config(a, w);
		d = webauth_dummy_hash(a);
		if (webcfg_bcrypt_cost(d) != cases[i].want)
			fail_msg("case %zu: dummy %s, want cost %02d", i, d,
			    cases[i].want);
		for (size_t k = 0; k < w->nusers; k++)
			one_of_them |= strcmp(w->users[k].hash, d) == 0;
		assert_true(one_of_them);
	}
	{
		static const char no_users[] = "rate_limit: {}\n";
		char err[300];
		struct web_config *w = webcfg_parse(
		    no_users, strlen(no_users), NULL, err, sizeof(err));
		assert_non_null(w);
		webauth_set_config(a, w);
	}
	assert_int_equal(webcfg_bcrypt_cost(webauth_dummy_hash(a)), 10);
	webauth_set_config(a, NULL);
	assert_int_equal(webcfg_bcrypt_cost(webauth_dummy_hash(a)), 10);
	webauth_free(a);
}

static void
client_keys(void **state)
{
	static const struct {
		const char *addr, *key;
	} cases[] = {
	    {"127.0.0.2", "127.0.0.2"},
	    {"192.0.2.7", "192.0.2.7"},
	    {"::ffff:192.0.2.7", "192.0.2.7"},
	    {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
	    {"2001:db8:1:2::1", "2001:db8:1:2::/64"},
	    {"2001:db8:1:3::1", "2001:db8:1:3::/64"},
	    {"::1", "::/64"},
	    {"fe80::1", "fe80::/64"},
	    {"unknown", "unknown"},
	    {"", ""},
	};
	char out[WEBAUTH_CLIENT_MAX];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		webauth_client_key(cases[i].addr, out, sizeof(out));
		if (strcmp(out, cases[i].key) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", cases[i].addr, out,
			    cases[i].key);
	}
	/* The longest IPv6 prefix still fits. */
	webauth_client_key(
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", out, sizeof(out));
	assert_string_equal(out, "ffff:ffff:ffff:ffff::/64");
}

/* One client gets WEBAUTH_MAX_PENDING_PER_CLIENT checks at once, and the
 * others still get theirs; a slot comes back when a check ends. */
static void
pending_per_client(void **state)
{
	struct webauth_clients t;
	char key[32];

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_true(WEBAUTH_MAX_PENDING_PER_CLIENT < WEBAUTH_MAX_PENDING);
	for (int i = 0; i < WEBAUTH_MAX_PENDING_PER_CLIENT; i++)
		assert_true(webauth_clients_enter(&t, "127.0.0.2"));
	assert_false(webauth_clients_enter(&t, "127.0.0.2"));
	assert_int_equal(webauth_clients_count(&t, "127.0.0.2"),
	    WEBAUTH_MAX_PENDING_PER_CLIENT);
	assert_true(webauth_clients_enter(&t, "127.0.0.3"));
	assert_int_equal(webauth_clients_count(&t, "127.0.0.3"), 1);
	webauth_clients_leave(&t, "127.0.0.2");
	assert_true(webauth_clients_enter(&t, "127.0.0.2"));
	assert_false(webauth_clients_enter(&t, "127.0.0.2"));
	/* Leaving what never entered changes nothing. */
	webauth_clients_leave(&t, "10.0.0.1");
	assert_int_equal(webauth_clients_count(&t, "10.0.0.1"), 0);
	for (int i = 0; i < WEBAUTH_MAX_PENDING_PER_CLIENT; i++)
		webauth_clients_leave(&t, "127.0.0.2");
	webauth_clients_leave(&t, "127.0.0.3");
	assert_int_equal(webauth_clients_count(&t, "127.0.0.2"), 0);

	/* As many clients as pending checks, one check each: all fit; the
	 * slots of those that are done are taken again. */
	for (int i = 0; i < WEBAUTH_MAX_PENDING; i++) {
		snprintf(key, sizeof(key), "10.0.0.%d", i);
		assert_true(webauth_clients_enter(&t, key));
	}
	assert_false(webauth_clients_enter(&t, "10.0.1.1"));
	webauth_clients_leave(&t, "10.0.0.7");
	assert_true(webauth_clients_enter(&t, "10.0.1.1"));
	assert_int_equal(webauth_clients_count(&t, "10.0.1.1"), 1);
	assert_int_equal(webauth_clients_count(&t, "10.0.0.7"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(basic_header),
	    cmocka_unit_test(bcrypt_verification),
	    cmocka_unit_test(remembered_successes),
	    cmocka_unit_test(remembered_refusals),
	    cmocka_unit_test(dummy_cost_follows_configuration),
	    cmocka_unit_test(client_keys),
	    cmocka_unit_test(pending_per_client),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
