/* Unit tests: cookie.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/cookie.h"

static void
get_cases(void **state)
{
	static const struct {
		const char *header;
		enum osh_cookie_result want;
		const char *value;
	} cases[] = {
	    {NULL, OSH_COOKIE_ABSENT, ""},
	    {"", OSH_COOKIE_ABSENT, ""},
	    {";;;", OSH_COOKIE_ABSENT, ""},
	    {"osh_refresh", OSH_COOKIE_ABSENT, ""},
	    {"OSH_REFRESH=abc", OSH_COOKIE_ABSENT, ""},
	    {"osh_refresh2=abc", OSH_COOKIE_ABSENT, ""},
	    {"xosh_refresh=abc", OSH_COOKIE_ABSENT, ""},
	    {"osh_refresh =abc", OSH_COOKIE_ABSENT, ""},
	    {"osh_refresh=abc", OSH_COOKIE_FOUND, "abc"},
	    {"osh_refresh=", OSH_COOKIE_FOUND, ""},
	    {"  osh_refresh=abc  ", OSH_COOKIE_FOUND, "abc"},
	    {"a=1; osh_refresh=abc; b=2", OSH_COOKIE_FOUND, "abc"},
	    {"a=1;osh_refresh=abc;b=2", OSH_COOKIE_FOUND, "abc"},
	    {"a=\"x y\"; osh_refresh=abc", OSH_COOKIE_FOUND, "abc"},
	    {"junk; ==; =x; osh_refresh=abc", OSH_COOKIE_FOUND, "abc"},
	    {"osh_refresh=\"abc\"", OSH_COOKIE_FOUND, "abc"},
	    {"osh_refresh=\"", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=a b", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=a,b", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=a\\b", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=a\x01", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=\xc3\xa9", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=abc; osh_refresh=abc", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=a b; osh_refresh=abc", OSH_COOKIE_BAD, ""},
	    {"osh_refresh=0123456789abcdef", OSH_COOKIE_BAD, ""}, /* > out */
	    {"osh_refresh=0123456789abcde", OSH_COOKIE_FOUND,
		"0123456789abcde"},
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'z', sizeof(out));
		if (osh_cookie_get(cases[i].header, "osh_refresh", out,
			sizeof(out)) != cases[i].want)
			fail_msg("case %zu: \"%s\"", i,
			    cases[i].header ? cases[i].header : "(null)");
		assert_string_equal(out, cases[i].value);
	}
}

static void
get_refuses_long_headers(void **state)
{
	size_t n = OSH_COOKIE_HEADER_MAX + 1;
	char *h = malloc(n + 1);
	char out[8];

	(void)state;
	assert_non_null(h);
	memset(h, 'a', n);
	memcpy(h, "osh_refresh=x;", 14);
	h[n] = '\0';
	assert_int_equal(
	    osh_cookie_get(h, "osh_refresh", out, sizeof(out)), OSH_COOKIE_BAD);
	h[n - 1] = '\0'; /* exactly the limit */
	assert_int_equal(osh_cookie_get(h, "osh_refresh", out, sizeof(out)),
	    OSH_COOKIE_FOUND);
	assert_string_equal(out, "x");
	free(h);
}

static void
format_cases(void **state)
{
	struct osh_cookie_attrs a = {"/api/auth", 3600, true, true, "Strict"};
	struct osh_cookie_attrs none = {NULL, 0, false, false, NULL};
	char out[128];

	(void)state;
	assert_int_equal(
	    osh_cookie_format(out, sizeof(out), "osh_refresh", "abc", &a), 0);
	assert_string_equal(out,
	    "osh_refresh=abc; Path=/api/auth; Max-Age=3600; Secure; HttpOnly; "
	    "SameSite=Strict");
	assert_int_equal(
	    osh_cookie_format(out, sizeof(out), "osh_refresh", "", &none), 0);
	assert_string_equal(out, "osh_refresh=; Max-Age=0");
	/* Refused: bad name, value, path, age; too small. */
	assert_int_equal(osh_cookie_format(out, sizeof(out), "", "x", &a), -1);
	assert_string_equal(out, "");
	assert_int_equal(
	    osh_cookie_format(out, sizeof(out), "a b", "x", &a), -1);
	assert_int_equal(
	    osh_cookie_format(out, sizeof(out), "a", "x;y", &a), -1);
	assert_int_equal(
	    osh_cookie_format(out, sizeof(out), "a", "\"x\"", &a), -1);
	a.path = "/a;b";
	assert_int_equal(osh_cookie_format(out, sizeof(out), "a", "x", &a), -1);
	a.path = "/";
	a.max_age = -1;
	assert_int_equal(osh_cookie_format(out, sizeof(out), "a", "x", &a), -1);
	a.max_age = 1;
	assert_int_equal(osh_cookie_format(out, 10, "a", "x", &a), -1);
	assert_string_equal(out, "");
}

/* What format writes, get reads back. */
static void
round_trip(void **state)
{
	struct osh_cookie_attrs a = {"/api/auth", 60, false, true, "Strict"};
	char set[128], out[80];
	const char *v = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

	(void)state;
	assert_int_equal(osh_cookie_format(set, sizeof(set), "s", v, &a), 0);
	*strchr(set, ';') = '\0';
	assert_int_equal(
	    osh_cookie_get(set, "s", out, sizeof(out)), OSH_COOKIE_FOUND);
	assert_string_equal(out, v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(get_cases),
	    cmocka_unit_test(get_refuses_long_headers),
	    cmocka_unit_test(format_cases),
	    cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests_name("cookie", tests, NULL, NULL);
}
