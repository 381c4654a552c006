/* Unit tests: proxy.c (trusted proxy ranges, the client behind them) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/proxy.h"

static void
cidr_parse_cases(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		const char *formatted;
	} cases[] = {
	    {"", false, NULL},
	    {"/", false, NULL},
	    {"/8", false, NULL},
	    {"10.0.0.0/", false, NULL},
	    {"10.0.0.0/33", false, NULL},
	    {"10.0.0.0/-1", false, NULL},
	    {"10.0.0.0/+8", false, NULL},
	    {"10.0.0.0/ 8", false, NULL},
	    {"10.0.0.0/8 ", false, NULL},
	    {"10.0.0.0/8x", false, NULL},
	    {"10.0.0.0/08", true, "10.0.0.0/8"},
	    {"10.0.0.0//8", false, NULL},
	    {"10.0.0", false, NULL},
	    {"10.0.0.256", false, NULL},
	    {"localhost", false, NULL},
	    {"[::1]", false, NULL},
	    {"::1/129", false, NULL},
	    {"fe80::1%eth0", false, NULL},
	    {"10.0.0.1:80", false, NULL},
	    {"10.1.2.3", true, "10.1.2.3/32"},
	    {"10.1.2.3/8", true, "10.0.0.0/8"},
	    {"0.0.0.0/0", true, "0.0.0.0/0"},
	    {"172.16.0.0/12", true, "172.16.0.0/12"},
	    {"192.168.1.77/23", true, "192.168.0.0/23"},
	    {"::1", true, "::1/128"},
	    {"::/0", true, "::/0"},
	    {"FD00::AB/8", true, "fd00::/8"},
	    {"2001:db8::1/33", true, "2001:db8::/33"},
	    {"::ffff:10.1.2.3", true, "10.1.2.3/32"},
	    {"::ffff:10.1.2.3/104", true, "10.0.0.0/8"},
	    {"::ffff:10.1.2.3/95", true, "::fffe:0:0/95"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct osh_cidr c;
		char out[OSH_ADDR_TEXT_MAX];
		bool ok = osh_cidr_parse(cases[i].in, &c);

		if (ok != cases[i].ok)
			fail_msg("\"%s\": %d", cases[i].in, ok);
		if (!ok)
			continue;
		osh_cidr_format(&c, out, sizeof(out));
		assert_string_equal(out, cases[i].formatted);
	}
}

static void
list_parse_cases(void **state)
{
	struct osh_cidr_list l;
	char err[160], big[4096];
	size_t n = 0;

	(void)state;
	assert_int_equal(osh_cidr_list_parse("", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(osh_cidr_list_parse(" ,, ", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(osh_cidr_list_parse("10.0.0.0/8, fd00::/8\t127.0.0.1"
					     "\n::1,,192.168.0.0/16",
			     &l, err, sizeof(err)),
	    0);
	assert_int_equal(l.n, 5);
	assert_int_equal(
	    osh_cidr_list_parse("10.0.0.0/8,bogus", &l, err, sizeof(err)), -1);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(err, "\"bogus\""));
	assert_int_equal(
	    osh_cidr_list_parse("10.0.0.0/8;10.0.0.1", &l, err, sizeof(err)),
	    -1);
	/* A control byte in the entry is not echoed raw. */
	assert_int_equal(
	    osh_cidr_list_parse("a\x01", &l, err, sizeof(err)), -1);
	assert_null(strchr(err, '\x01'));
	/* Too long an entry, too many entries. */
	memset(big, '1', 200);
	big[200] = '\0';
	assert_int_equal(osh_cidr_list_parse(big, &l, err, sizeof(err)), -1);
	big[0] = '\0';
	for (int i = 0; i <= OSH_CIDR_LIST_MAX; i++)
		n += (size_t)snprintf(
		    big + n, sizeof(big) - n, "10.0.%d.0/24,", i);
	assert_int_equal(osh_cidr_list_parse(big, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
}

static void
list_membership(void **state)
{
	static const struct {
		const char *addr;
		bool in;
	} cases[] = {
	    {"10.0.0.1", true},
	    {"10.255.255.255", true},
	    {"11.0.0.0", false},
	    {"192.168.7.1", true},
	    {"192.168.8.1", false},
	    {"::ffff:10.9.9.9", true},
	    {"::ffff:11.9.9.9", false},
	    {"fd12:3456::1", true},
	    {"fe80::1", false},
	    {"::1", true},
	    {"::2", false},
	    {"127.0.0.1", false},
	    {"unix", false},
	    {"", false},
	    {"10.0.0.1 ", false},
	};
	struct osh_cidr_list l;
	char err[160];

	(void)state;
	assert_int_equal(osh_cidr_list_parse("10.0.0.0/8 192.168.0.0/21 "
					     "fd00::/8 ::1",
			     &l, err, sizeof(err)),
	    0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		bool in = osh_cidr_list_has(&l, cases[i].addr);

		if (in != cases[i].in)
			fail_msg("\"%s\": %d", cases[i].addr, in);
		/* The same answer for the socket address. */
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, cases[i].addr,
			&((struct sockaddr_in *)&ss)->sin_addr) == 1)
			ss.ss_family = AF_INET;
		else if (inet_pton(AF_INET6, cases[i].addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
			ss.ss_family = AF_INET6;
		else
			ss.ss_family = AF_UNIX;
		assert_int_equal(
		    osh_cidr_list_has_sa(&l, (struct sockaddr *)&ss), in);
	}
}

static void
client_cases(void **state)
{
	static const struct {
		const char *peer;
		bool peer_trusted;
		const char *xff[3];
		const char *xreal;
		const char *want;
	} cases[] = {
	    /* Not a trusted peer: whatever it says, the peer. */
	    {"203.0.113.9", false, {"198.51.100.1"}, "198.51.100.2",
		"203.0.113.9"},
	    /* Trusted, nothing said. */
	    {"10.0.0.2", true, {NULL}, NULL, "10.0.0.2"},
	    /* X-Real-IP alone. */
	    {"10.0.0.2", true, {NULL}, "198.51.100.2", "198.51.100.2"},
	    {"10.0.0.2", true, {NULL}, "not-an-address", "10.0.0.2"},
	    {"10.0.0.2", true, {NULL}, "::FFFF:198.51.100.2", "198.51.100.2"},
	    /* X-Forwarded-For wins over X-Real-IP. */
	    {"10.0.0.2", true, {"198.51.100.1"}, "198.51.100.2",
		"198.51.100.1"},
	    /* A forged left part: the rightmost untrusted entry. */
	    {"10.0.0.2", true, {"1.1.1.1, 198.51.100.1, 10.0.0.7"}, NULL,
		"198.51.100.1"},
	    {"10.0.0.2", true, {"1.1.1.1", "198.51.100.1,10.0.0.7"}, NULL,
		"198.51.100.1"},
	    {"10.0.0.2", true, {"1.1.1.1, 198.51.100.1", "10.0.0.7"}, NULL,
		"198.51.100.1"},
	    /* Every entry trusted: the leftmost. */
	    {"10.0.0.2", true, {"10.0.0.5, 10.0.0.7"}, NULL, "10.0.0.5"},
	    /* A malformed entry: stop at the last trusted one read. */
	    {"10.0.0.2", true, {"198.51.100.1, unknown, 10.0.0.7"}, NULL,
		"10.0.0.7"},
	    {"10.0.0.2", true, {"198.51.100.1, unknown"}, NULL, "10.0.0.2"},
	    {"10.0.0.2", true, {"198.51.100.1:4711"}, "198.51.100.2",
		"10.0.0.2"},
	    /* Empty elements and white space. */
	    {"10.0.0.2", true, {" ,198.51.100.1 , ,\t"}, NULL, "198.51.100.1"},
	    {"10.0.0.2", true, {""}, "198.51.100.2", "198.51.100.2"},
	    {"10.0.0.2", true, {" , "}, "198.51.100.2", "198.51.100.2"},
	    /* IPv6, canonical. */
	    {"fd00::2", true, {"2001:DB8::0:1, fd00::9"}, NULL, "2001:db8::1"},
	    {"fd00::2", true, {"::ffff:10.0.0.3, ::ffff:198.51.100.4"}, NULL,
		"198.51.100.4"},
	    /* A unix socket peer (trusted, not an address). */
	    {"unix", true, {"198.51.100.1"}, NULL, "198.51.100.1"},
	    {"unix", true, {"10.0.0.9"}, NULL, "10.0.0.9"},
	    {"unix", true, {NULL}, NULL, "unix"},
	};
	struct osh_cidr_list l;
	char err[160];

	(void)state;
	assert_int_equal(
	    osh_cidr_list_parse("10.0.0.0/8 fd00::/8", &l, err, sizeof(err)),
	    0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[OSH_ADDR_TEXT_MAX];
		size_t n = 0;

		while (n < 3 && cases[i].xff[n] != NULL)
			n++;
		osh_proxy_client(&l, cases[i].peer, cases[i].peer_trusted,
		    cases[i].xff, n, cases[i].xreal, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, out,
			    cases[i].want);
	}
}

static void
client_long_entries(void **state)
{
	struct osh_cidr_list l;
	char err[160], xff[2048], out[OSH_ADDR_TEXT_MAX];
	const char *fields[1] = {xff};

	(void)state;
	assert_int_equal(
	    osh_cidr_list_parse("10.0.0.0/8", &l, err, sizeof(err)), 0);
	/* An entry too long to be an address stops the walk. */
	memset(xff, 'a', 1000);
	snprintf(xff + 1000, sizeof(xff) - 1000, ", 10.1.1.1");
	osh_proxy_client(
	    &l, "10.0.0.2", true, fields, 1, NULL, out, sizeof(out));
	assert_string_equal(out, "10.1.1.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cidr_parse_cases),
	    cmocka_unit_test(list_parse_cases),
	    cmocka_unit_test(list_membership),
	    cmocka_unit_test(client_cases),
	    cmocka_unit_test(client_long_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
