/* Unit tests: util.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/util.h"

static void
parse_int_edges(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t want;
	} cases[] = {
	    {"", false, 0},
	    {" 1", false, 0},
	    {"\t1", false, 0},
	    {"\n1", false, 0},
	    {"- 1", false, 0},
	    {"-\t1", false, 0},
	    {"+1", false, 0},
	    {"1x", false, 0},
	    {"x", false, 0},
	    {"-", false, 0},
	    {"9223372036854775808", false, 0},
	    {"101", false, 0},
	    {"-1", true, -1},
	    {"0", true, 0},
	    {"100", true, 100},
	};
	int64_t v;

	(void)state;
	assert_false(osh_parse_int(NULL, 0, 1, &v));
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		bool ok = osh_parse_int(cases[i].in, -10, 100, &v);
		assert_int_equal(ok, cases[i].ok);
		if (ok)
			assert_int_equal(v, cases[i].want);
	}
}

static void
time_round_trip(void **state)
{
	char buf[OSH_TIME_LEN];
	int64_t ms;

	(void)state;
	assert_string_equal(
	    osh_time_format(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
	assert_string_equal(osh_time_format(1795290276123, buf, sizeof(buf)),
	    "2026-11-21T19:44:36.123Z");
	assert_true(osh_time_parse("2026-11-21T19:44:36.123Z", &ms));
	assert_int_equal(ms, 1795290276123);
	assert_true(osh_time_parse("2026-11-21T20:44:36+01:00", &ms));
	assert_int_equal(ms, 1795290276000);
	assert_true(osh_time_parse("2026-11-21T19:44:36.1234567Z", &ms));
	assert_int_equal(ms, 1795290276123);
	assert_true(osh_time_parse("2028-02-29T00:00:00Z", &ms));
	assert_int_equal(ms, 1835395200000);
	assert_true(osh_time_parse("2000-02-29T00:00:00Z", &ms));
	assert_int_equal(ms, 951782400000);
}

static void
time_parse_rejects(void **state)
{
	static const char *const bad[] = {"", "2026-11-21", "2026-11-21T19:44",
	    "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
	    "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
	    "2249-02-29 00:00:00-00:00", "2026-11-21T24:00:00Z",
	    "2026-11-21T19:44:36", "yesterday", "2026-11-21T19:44:36.Z",
	    "2026-11-21T19:44:36Zjunk"};
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++)
		assert_false(osh_time_parse(bad[i], &ms));
}

static void
buf_bounded(void **state)
{
	struct osh_buf b;

	(void)state;
	osh_buf_init(&b, 8);
	assert_int_equal(osh_buf_puts(&b, "1234"), 0);
	assert_int_equal(osh_buf_printf(&b, "%d", 5678), 0);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(osh_buf_puts(&b, "9"), -1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 8);
	osh_buf_release(&b);
}

static void
utf8_validation(void **state)
{
	(void)state;
	assert_true(osh_utf8_valid("plain", 5));
	assert_true(osh_utf8_valid("\xc3\xa9\xf0\x9f\x9a\x80", 6));
	assert_false(osh_utf8_valid("\xc0\xaf", 2)); /* overlong */
	assert_false(osh_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(osh_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(osh_utf8_valid("\xe2\x82", 2)); /* truncated */
	assert_int_equal(osh_utf8_len("\xc3\xa9t\xc3\xa9", 5), 3);
}

static void
utf8_clean(void **state)
{
	char *s;

	(void)state;
	s = osh_utf8_clean("a\xffz", 3, 64);
	assert_string_equal(s, "a\xef\xbf\xbdz");
	free(s);
	s = osh_utf8_clean("x\ny\tz", 5, 64);
	assert_string_equal(s, "x y\tz");
	free(s);
	/* Cut on a character boundary, never inside one. */
	s = osh_utf8_clean("ab\xc3\xa9", 4, 3);
	assert_string_equal(s, "ab");
	free(s);
	s = osh_utf8_clean("ab\0cd", 5, 64);
	assert_string_equal(s, "ab");
	free(s);
}

static void
strlcpy_cuts(void **state)
{
	char small[4];

	(void)state;
	assert_false(osh_strlcpy(small, "abcdef", sizeof(small)));
	assert_string_equal(small, "abc");
	assert_true(osh_strlcpy(small, "ab", sizeof(small)));
}

/* "h\u00e9\u20ac\U0001F600" is h, 2, 3 and 4 bytes: every cut point. */
#define MIXED "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"

static void
utf8_copy_cuts_between_characters(void **state)
{
	static const struct {
		size_t len;
		const char *want;
	} cases[] = {
	    {1, ""},
	    {2, "h"},
	    {3, "h"},
	    {4, "h\xc3\xa9"},
	    {5, "h\xc3\xa9"},
	    {6, "h\xc3\xa9"},
	    {7, "h\xc3\xa9\xe2\x82\xac"},
	    {8, "h\xc3\xa9\xe2\x82\xac"},
	    {10, "h\xc3\xa9\xe2\x82\xac"},
	    {11, MIXED},
	};
	char buf[16];

	(void)state;
	assert_false(osh_utf8_copy(buf, "abc", 0));
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		bool whole = osh_utf8_copy(buf, MIXED, cases[i].len);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("len %zu: got \"%s\"", cases[i].len, buf);
		assert_int_equal(whole, cases[i].len == 11);
		assert_true(osh_utf8_valid(buf, strlen(buf)));
	}
	/* Not UTF-8 at all: still cut within the buffer. */
	assert_false(osh_utf8_copy(buf, "\x80\x80\x80\x80\x80\x80", 4));
	assert_true(strlen(buf) <= 3);
	assert_false(osh_utf8_copy(buf, "abcdef", 4));
	assert_string_equal(buf, "abc");
}

static void
utf8_complete_drops_a_cut_character(void **state)
{
	static const struct {
		const char *s;
		size_t want;
	} cases[] = {
	    {"", 0}, {"abc", 3}, {"a\xc3", 1}, {"a\xc3\xa9", 3},
	    {"a\xe2\x82", 1}, {"a\xe2", 1}, {"a\xf0\x9f\x98", 1},
	    {"a\xf0\x9f\x98\x80", 5},
	    {"\x80\x80", 2}, /* no lead byte: left alone */
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++)
		assert_int_equal(
		    osh_utf8_complete(cases[i].s, strlen(cases[i].s)),
		    cases[i].want);
}

static void
log_quote_cuts_between_characters(void **state)
{
	char out[8];

	(void)state;
	/* Three bytes would fit, but the second e-acute would be cut. */
	assert_string_equal(
	    osh_log_quote("\xc3\xa9\xc3\xa9\xc3\xa9", out, 4), "\xc3\xa9");
	assert_string_equal(
	    osh_log_quote(MIXED, out, sizeof(out)), "h\xc3\xa9\xe2\x82\xac");
	assert_string_equal(osh_log_quote("a\"b", out, sizeof(out)), "a\\\"b");
}

static void
host_names(void **state)
{
	static const struct {
		const char *in;
		bool ok;
	} cases[] = {
	    {"10.0.0.1", true}, {"fe80::1", true}, {"::ffff:10.1.2.3", true},
	    {"bmc-r12-u07.dc1.example.com", true}, {"BMC7", true}, {"a", true},
	    {"1e100.net", true}, {"", false},
	    {"10.0.0.300", false}, /* not an address, and all digits */
	    {"1.2.3", false}, {"-bmc", false}, {"bmc-", false},
	    {"bmc..dc1", false}, {".bmc", false}, {"bmc.", false},
	    {"bmc_1", false}, {"bmc 1", false}, {"bmc\"x", false},
	    {"bmc\n1", false}, {"b\xc3\xa9mc", false}, {"[::1]", false},
	    {"fe80::1%eth0", false},
	    {"0123456789012345678901234567890123456789012345678901234567890123"
	     ".x",
		false}, /* a 64-byte label */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (osh_host_valid(cases[i].in) != cases[i].ok)
			fail_msg("osh_host_valid(\"%s\")", cases[i].in);
	}
}

/* One key per client as per-address limits count them: IPv4 as is,
 * IPv4-mapped IPv6 as IPv4, other IPv6 by its /64, whatever the spelling;
 * anything else as it is. */
static void
client_keys(void **state)
{
	static const struct {
		const char *in;
		bool addr;
		const char *key;
	} cases[] = {
	    /* Edges first: not addresses, copied as they are. */
	    {"", false, ""},
	    {"unknown", false, "unknown"},
	    {"[2001:db8::1]", false, "[2001:db8::1]"},
	    {"fe80::1%eth0", false, "fe80::1%eth0"},
	    {"10.0.0.300", false, "10.0.0.300"},
	    {"2001:db8::/64", false, "2001:db8::/64"}, /* a key stays a key */
	    /* IPv4. */
	    {"192.0.2.7", true, "192.0.2.7"},
	    {"0.0.0.0", true, "0.0.0.0"},
	    {"255.255.255.255", true, "255.255.255.255"},
	    /* IPv4-mapped IPv6: the IPv4 address, in any spelling. */
	    {"::ffff:192.0.2.7", true, "192.0.2.7"},
	    {"::FFFF:c000:0207", true, "192.0.2.7"},
	    {"0:0:0:0:0:ffff:192.0.2.7", true, "192.0.2.7"},
	    /* Not mapped: IPv4-compatible and NAT64 stay IPv6. */
	    {"::192.0.2.7", true, "::/64"},
	    {"64:ff9b::192.0.2.7", true, "64:ff9b::/64"},
	    {"::ffff:0:192.0.2.7", true, "::/64"},
	    /* IPv6: the /64, whatever the spelling. */
	    {"::1", true, "::/64"},
	    {"::", true, "::/64"},
	    {"2001:db8::1", true, "2001:db8::/64"},
	    {"2001:db8::ffff:1", true, "2001:db8::/64"},
	    {"2001:DB8:0:0:1:2:3:4", true, "2001:db8::/64"},
	    {"2001:0db8:0000:0000:ffff:ffff:ffff:ffff", true, "2001:db8::/64"},
	    {"2001:db8:1:2:3:4:5:6", true, "2001:db8:1:2::/64"},
	    {"2001:db8:1:2::", true, "2001:db8:1:2::/64"},
	    {"2001:db8:1:3::1", true, "2001:db8:1:3::/64"},
	    {"2001::2:0:0:0:1", true, "2001:0:0:2::/64"},
	    {"fe80::1", true, "fe80::/64"},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true,
		"ffff:ffff:ffff:ffff::/64"},
	};
	char key[OSH_CLIENT_KEY_LEN], small[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(key, 'x', sizeof(key));
		if (osh_client_key(cases[i].in, key, sizeof(key)) !=
		    cases[i].addr)
			fail_msg("osh_client_key(\"%s\")", cases[i].in);
		if (strcmp(key, cases[i].key) != 0)
			fail_msg("osh_client_key(\"%s\") = \"%s\", not \"%s\"",
			    cases[i].in, key, cases[i].key);
		/* The key of a key is itself. */
		osh_client_key(cases[i].key, key, sizeof(key));
		assert_string_equal(key, cases[i].key);
	}
	/* The longest address fits; a small buffer is cut, terminated. */
	assert_true(osh_client_key("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255."
				   "255",
	    key, sizeof(key)));
	assert_string_equal(key, "ffff:ffff:ffff:ffff::/64");
	assert_true(osh_client_key("2001:db8::1", small, sizeof(small)));
	assert_string_equal(small, "2001:db");
	/* Text is cut between characters (found by fuzz_auth_bodies). */
	assert_false(
	    osh_client_key("abcdef\xf0\x9f\x98\x80", small, sizeof(small)));
	assert_string_equal(small, "abcdef");
}

static void
bmc_addresses(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		const char *host;
		uint16_t port;
	} cases[] = {
	    {"10.0.0.7", true, "10.0.0.7", 623},
	    {"10.0.0.7:9001", true, "10.0.0.7", 9001},
	    {"bmc7.dc1:623", true, "bmc7.dc1", 623},
	    {"[fd00::7]:9001", true, "fd00::7", 9001},
	    {"[fd00::7]", true, "fd00::7", 623},
	    {"fd00::7", true, "fd00::7", 623},
	    {"", false, NULL, 0},
	    {"10.0.0.7:0", false, NULL, 0},
	    {"10.0.0.7:65536", false, NULL, 0},
	    {"10.0.0.7:", false, NULL, 0},
	    {"[bmc7]:623", false, NULL, 0},
	    {"[]:623", false, NULL, 0},
	    {"[fd00::7]x", false, NULL, 0},
	    {"fd00::zz", false, NULL, 0},
	    {"bmc\"7", false, NULL, 0},
	    {"bmc 7:623", false, NULL, 0},
	    {"bmc7;rm -rf:623", false, NULL, 0},
	    {"10.0.0.300", false, NULL, 0},
	};
	char host[256];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = osh_ipmi_parse_address(
		    cases[i].in, host, sizeof(host), &port);
		if (ok != cases[i].ok)
			fail_msg("osh_ipmi_parse_address(\"%s\")", cases[i].in);
		if (!ok)
			continue;
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_int_edges),
	    cmocka_unit_test(time_round_trip),
	    cmocka_unit_test(time_parse_rejects),
	    cmocka_unit_test(buf_bounded),
	    cmocka_unit_test(utf8_validation),
	    cmocka_unit_test(utf8_clean),
	    cmocka_unit_test(strlcpy_cuts),
	    cmocka_unit_test(utf8_copy_cuts_between_characters),
	    cmocka_unit_test(utf8_complete_drops_a_cut_character),
	    cmocka_unit_test(log_quote_cuts_between_characters),
	    cmocka_unit_test(host_names),
	    cmocka_unit_test(client_keys),
	    cmocka_unit_test(bmc_addresses),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
