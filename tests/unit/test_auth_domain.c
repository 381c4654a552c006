/* Unit tests: the auth service's domain rules (services/auth/domain.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "auth/inflight.h"
#include "osh/util.h"

static void
usernames(void **state)
{
	(void)state;
	assert_true(auth_username_valid("ada.lovelace@example.org"));
	assert_true(auth_username_valid("op-1_x"));
	assert_false(auth_username_valid(""));
	assert_false(auth_username_valid("has space"));
	assert_false(auth_username_valid("semi;colon"));
	assert_false(auth_username_valid("\xc3\xa9"));
	/* Letters some locales fold onto ASCII ones: never part of a name. */
	assert_false(auth_username_valid("\xe2\x84\xaa"
					 "evin")); /* Kelvin */
	assert_false(auth_username_valid("adm\xc4\xb0n")); /* I with dot */
	assert_false(auth_username_valid("\xc5\xbf"
					 "am")); /* long s */
	assert_false(auth_username_valid("tab\there"));
	assert_true(auth_username_valid(
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
	assert_false(auth_username_valid(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* One folding rule for every comparison of names: ASCII letters only,
 * whatever the locale; anything else stays as it is. */
static void
username_keys(void **state)
{
	static const struct {
		const char *in, *key;
	} cases[] = {
	    {"", ""}, {"ada", "ada"}, {"Ada", "ada"},
	    {"ADA.Love_lace-1@EXAMPLE.ORG", "ada.love_lace-1@example.org"},
	    {"@._-09", "@._-09"},
	    /* Not ASCII: left alone, so that no name folds onto another
	     * that a locale-aware lower() would not tell apart. */
	    {"\xe2\x84\xaa"
	     "EVIN",
		"\xe2\x84\xaa"
		"evin"},
	    {"ADM\xc4\xb0N", "adm\xc4\xb0n"}, {"\xc3\x89RIC", "\xc3\x89ric"},
	    {"[\\]^`{|}~", "[\\]^`{|}~"}, /* neighbours of the letters */
	};
	char key[AUTH_USERNAME_KEY_LEN], again[AUTH_USERNAME_KEY_LEN];
	char small[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(auth_username_key(cases[i].in, key, sizeof(key)));
		assert_string_equal(key, cases[i].key);
		/* A key is its own key. */
		assert_true(auth_username_key(key, again, sizeof(again)));
		assert_string_equal(again, key);
	}
	/* Cut between characters, and told. */
	assert_false(auth_username_key("AB\xc3\x89", small, sizeof(small)));
	assert_string_equal(small, "ab");
	assert_false(auth_username_key("ABCD", small, sizeof(small)));
	assert_string_equal(small, "abc");
}

static void
password_policy(void **state)
{
	struct osh_err err;

	(void)state;
	assert_true(
	    auth_password_acceptable("long enough pw", "ada", "pw", &err));
	assert_false(auth_password_acceptable("short", "ada", "pw", &err));
	assert_string_equal(err.field, "pw");
	assert_false(auth_password_acceptable(
	    "AdaLovelace1", "adalovelace1", "pw", &err));
	/* Ten characters, not ten bytes. */
	assert_true(auth_password_acceptable(
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    NULL, "pw", &err));
	assert_false(auth_password_acceptable("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					      "\xc3\xa9",
	    NULL, "pw", &err));
}

static void
paging(void **state)
{
	static const struct auth_sort_key keys[] = {
	    {"id", "id", "id DESC"},
	    {"name", "name", "name DESC"},
	};
	struct auth_page p;
	struct osh_err err;

	(void)state;
	assert_int_equal(
	    auth_page_parse(NULL, NULL, NULL, keys, 2, 100, &p, &err), 0);
	assert_int_equal(p.limit, 50);
	assert_string_equal(p.order, "id");
	assert_int_equal(
	    auth_page_parse("100", "5", "-name", keys, 2, 100, &p, &err), 0);
	assert_int_equal(p.limit, 100);
	assert_int_equal(p.offset, 5);
	assert_string_equal(p.order, "name DESC");
	assert_int_equal(
	    auth_page_parse("101", NULL, NULL, keys, 2, 100, &p, &err), -1);
	assert_string_equal(err.field, "limit");
	assert_int_equal(
	    auth_page_parse(NULL, "-1", NULL, keys, 2, 100, &p, &err), -1);
	assert_string_equal(err.field, "offset");
	assert_int_equal(
	    auth_page_parse(NULL, NULL, "id; DROP", keys, 2, 100, &p, &err),
	    -1);
	assert_string_equal(err.field, "sort");
}

static void
csv(void **state)
{
	struct osh_buf b;

	(void)state;
	osh_buf_init(&b, 0);
	auth_csv_field(&b, "plain", false);
	auth_csv_field(&b, "a,b", false);
	auth_csv_field(&b, "say \"hi\"", false);
	auth_csv_field(&b, "=SUM(A1)", false);
	auth_csv_field(&b, NULL, true);
	assert_string_equal(
	    b.data, "plain,\"a,b\",\"say \"\"hi\"\"\",\"'=SUM(A1)\",\r\n");
	osh_buf_release(&b);
}

static void
throttle_keys(void **state)
{
	char u[320], a[160];

	(void)state;
	auth_throttle_keys("Ada", "10.0.0.1", u, sizeof(u), a, sizeof(a));
	assert_string_equal(u, "osh:login:fail:user:ada");
	assert_string_equal(a, "osh:login:fail:addr:10.0.0.1");
	/* An IPv6 client counts by its /64, a mapped one as IPv4. */
	auth_throttle_keys(
	    "ADA", "2001:db8:0:1:aaaa::1", u, sizeof(u), a, sizeof(a));
	assert_string_equal(u, "osh:login:fail:user:ada");
	assert_string_equal(a, "osh:login:fail:addr:2001:db8:0:1::/64");
	auth_throttle_keys("ada", "2001:DB8:0:1:ffff:ffff:ffff:ffff", u,
	    sizeof(u), a, sizeof(a));
	assert_string_equal(a, "osh:login:fail:addr:2001:db8:0:1::/64");
	auth_throttle_keys(
	    "ada", "::ffff:10.0.0.1", u, sizeof(u), a, sizeof(a));
	assert_string_equal(a, "osh:login:fail:addr:10.0.0.1");
	/* The Kelvin sign is not a 'k': another name, another counter. */
	auth_throttle_keys("\xe2\x84\xaa"
			   "evin",
	    "10.0.0.1", u, sizeof(u), a, sizeof(a));
	assert_string_equal(u,
	    "osh:login:fail:user:\xe2\x84\xaa"
	    "evin");
	/* Small buffers: cut, terminated, valid UTF-8. */
	auth_throttle_keys("\xc3\xa9\xc3\xa9", "2001:db8::1", u, 23, a, 30);
	assert_string_equal(u, "osh:login:fail:user:\xc3\xa9");
	assert_string_equal(a, "osh:login:fail:addr:2001:db8:");
}

static void
throttle_keys_cut_between_characters(void **state)
{
	char name[600], u[320], a[160];
	size_t n = 0;

	(void)state;
	/* 'x' then e-acute (2 bytes) until past the key's room. */
	name[n++] = 'X';
	while (n + 2 < sizeof(name)) {
		name[n++] = '\xc3';
		name[n++] = '\xa9';
	}
	name[n] = '\0';
	auth_throttle_keys(name, "::1", u, sizeof(u), a, sizeof(a));
	assert_true(osh_utf8_valid(u, strlen(u)));
	assert_memory_equal(u, "osh:login:fail:user:x\xc3\xa9", 23);
}

static void
inflight_caps_each_address(void **state)
{
	struct inflight *t = inflight_new(2);

	(void)state;
	assert_non_null(t);
	assert_true(inflight_enter(t, "10.0.0.1"));
	assert_true(inflight_enter(t, "10.0.0.1"));
	assert_false(inflight_enter(t, "10.0.0.1"));
	assert_int_equal(inflight_count(t, "10.0.0.1"), 2);
	/* Other addresses are not affected. */
	assert_true(inflight_enter(t, "10.0.0.2"));
	assert_int_equal(inflight_addresses(t), 2);
	inflight_leave(t, "10.0.0.1");
	assert_true(inflight_enter(t, "10.0.0.1"));
	inflight_leave(t, "10.0.0.1");
	inflight_leave(t, "10.0.0.1");
	inflight_leave(t, "10.0.0.2");
	/* Idle addresses are forgotten; leaving one unknown is harmless. */
	assert_int_equal(inflight_addresses(t), 0);
	assert_int_equal(inflight_count(t, "10.0.0.1"), 0);
	inflight_leave(t, "10.0.0.9");
	/* Many addresses at once, all forgotten again. */
	for (int i = 0; i < 1000; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		assert_true(inflight_enter(t, addr));
	}
	assert_int_equal(inflight_addresses(t), 1000);
	for (int i = 0; i < 1000; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		inflight_leave(t, addr);
	}
	assert_int_equal(inflight_addresses(t), 0);
	inflight_free(t);
}

/* A client cycling through its /64 (or through spellings of one address)
 * holds no more slots than one address. */
static void
inflight_counts_ipv6_by_64(void **state)
{
	struct inflight *t = inflight_new(2);

	(void)state;
	assert_non_null(t);
	assert_true(inflight_enter(t, "2001:db8:0:1::1"));
	assert_true(inflight_enter(t, "2001:db8:0:1:ffff::2"));
	assert_false(inflight_enter(t, "2001:db8:0:1:1:2:3:4"));
	assert_false(inflight_enter(t, "2001:DB8:0:1::1"));
	assert_int_equal(inflight_count(t, "2001:db8:0:1::77"), 2);
	/* The next /64 is another client. */
	assert_true(inflight_enter(t, "2001:db8:0:2::1"));
	assert_int_equal(inflight_addresses(t), 2);
	/* A mapped address is its IPv4 address. */
	assert_true(inflight_enter(t, "10.0.0.1"));
	assert_true(inflight_enter(t, "::ffff:10.0.0.1"));
	assert_false(inflight_enter(t, "::ffff:a00:1"));
	assert_int_equal(inflight_addresses(t), 3);
	/* Leaving under another address of the same /64 leaves the same
	 * slot. */
	inflight_leave(t, "2001:db8:0:1::9");
	assert_int_equal(inflight_count(t, "2001:db8:0:1::1"), 1);
	inflight_leave(t, "2001:db8:0:1::1");
	inflight_leave(t, "2001:db8:0:2::1");
	inflight_leave(t, "10.0.0.1");
	inflight_leave(t, "::ffff:10.0.0.1");
	assert_int_equal(inflight_addresses(t), 0);
	inflight_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(usernames),
	    cmocka_unit_test(username_keys),
	    cmocka_unit_test(password_policy),
	    cmocka_unit_test(paging),
	    cmocka_unit_test(csv),
	    cmocka_unit_test(throttle_keys),
	    cmocka_unit_test(throttle_keys_cut_between_characters),
	    cmocka_unit_test(inflight_caps_each_address),
	    cmocka_unit_test(inflight_counts_ipv6_by_64),
	};
	return cmocka_run_group_tests_name("auth_domain", tests, NULL, NULL);
}
