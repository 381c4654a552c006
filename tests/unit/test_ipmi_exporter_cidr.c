/* Unit tests: allowed_targets ranges (libcommon proxy.c, as the exporter uses them), edge cases first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <osh/util.h>

#include <osh/proxy.h>

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		fail_msg("bad test address %s", s);
	return ss;
}

static void
parsing(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	    {"10.0.0.0/8", "10.0.0.0/8"},
	    {"10.1.2.3/8", "10.0.0.0/8"}, /* host bits cleared */
	    {"10.1.2.3", "10.1.2.3/32"},
	    {"0.0.0.0/0", "0.0.0.0/0"},
	    {"192.168.1.129/25", "192.168.1.128/25"},
	    {"fd00::/8", "fd00::/8"},
	    {"fd12:3456::1/64", "fd12:3456::/64"},
	    {"::1", "::1/128"},
	    {"::/0", "::/0"},
	    {"FD00::7/127", "fd00::6/127"},
	    {"10.0.0.0/33", NULL},
	    {"fd00::/129", NULL},
	    {"10.0.0.0/", NULL},
	    {"10.0.0.0/-1", NULL},
	    {"10.0.0.0/8x", NULL},
	    {"/8", NULL},
	    {"", NULL},
	    {"10.0.0", NULL},
	    {"[fd00::1]", NULL},
	    {"bmc.example.com", NULL},
	    {"10.0.0.0/8/8", NULL},
	    {"1.2.3.4 ", NULL},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct osh_cidr c;
		bool ok = osh_cidr_parse(cases[i].in, &c);

		if (cases[i].out == NULL) {
			if (ok)
				fail_msg("\"%s\" accepted", cases[i].in);
			continue;
		}
		if (!ok)
			fail_msg("\"%s\" refused", cases[i].in);
		osh_cidr_format(&c, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
}

static void
matching(void **state)
{
	static const struct {
		const char *range, *addr;
		bool in;
	} cases[] = {
	    {"10.0.0.0/8", "10.255.255.255", true},
	    {"10.0.0.0/8", "11.0.0.0", false},
	    {"10.0.0.0/8", "9.255.255.255", false},
	    {"192.168.1.128/25", "192.168.1.128", true},
	    {"192.168.1.128/25", "192.168.1.127", false},
	    {"192.168.1.128/25", "192.168.1.255", true},
	    {"127.0.0.1", "127.0.0.1", true},
	    {"127.0.0.1", "127.0.0.2", false},
	    {"0.0.0.0/0", "203.0.113.9", true},
	    {"0.0.0.0/0", "::1", false}, /* another family */
	    {"::/0", "10.0.0.1", false},
	    {"fd00::/8", "fd12::7", true},
	    {"fd00::/8", "fe80::1", false},
	    {"fd00::6/127", "fd00::7", true},
	    {"fd00::6/127", "fd00::8", false},
	    {"::1", "::1", true},
	    /* An IPv4-mapped IPv6 address is its IPv4 address. */
	    {"10.0.0.0/8", "::ffff:10.1.2.3", true},
	    {"10.0.0.0/8", "::ffff:11.1.2.3", false},
	    {"::ffff:0:0/96", "::ffff:10.1.2.3", true},
	    {"10.1.2.3/31", "10.1.2.2", true},
	    {"10.1.2.3/31", "10.1.2.4", false},
	    {"128.0.0.0/1", "127.255.255.255", false},
	    {"128.0.0.0/1", "128.0.0.0", true},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct osh_cidr c;
		struct sockaddr_storage a = addr(cases[i].addr);

		assert_true(osh_cidr_parse(cases[i].range, &c));
		if (osh_cidr_array_has_sa(&c, 1, (struct sockaddr *)&a) !=
		    cases[i].in)
			fail_msg("%s in %s: expected %d", cases[i].addr,
			    cases[i].range, cases[i].in);
	}
}

static void
lists(void **state)
{
	struct osh_cidr l[3];
	struct sockaddr_storage a;
	struct sockaddr un;

	(void)state;
	assert_true(osh_cidr_parse("10.0.0.0/8", &l[0]));
	assert_true(osh_cidr_parse("fd00::/8", &l[1]));
	assert_true(osh_cidr_parse("192.0.2.7", &l[2]));
	a = addr("192.0.2.7");
	assert_true(osh_cidr_array_has_sa(l, 3, (struct sockaddr *)&a));
	a = addr("fd99::1");
	assert_true(osh_cidr_array_has_sa(l, 3, (struct sockaddr *)&a));
	a = addr("192.0.2.8");
	assert_false(osh_cidr_array_has_sa(l, 3, (struct sockaddr *)&a));
	/* An empty list allows nothing; an unknown family is never in. */
	assert_false(osh_cidr_array_has_sa(l, 0, (struct sockaddr *)&a));
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	assert_false(osh_cidr_array_has_sa(l, 3, &un));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parsing),
	    cmocka_unit_test(matching),
	    cmocka_unit_test(lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
