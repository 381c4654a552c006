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
	assert_false(auth_username_valid(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(usernames),
	    cmocka_unit_test(password_policy),
	    cmocka_unit_test(paging),
	    cmocka_unit_test(csv),
	    cmocka_unit_test(throttle_keys),
	    cmocka_unit_test(throttle_keys_cut_between_characters),
	    cmocka_unit_test(inflight_caps_each_address),
	};
	return cmocka_run_group_tests_name("auth_domain", tests, NULL, NULL);
}
