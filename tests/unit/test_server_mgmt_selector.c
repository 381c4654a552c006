/* Unit tests: label selectors (selector.c): what is taken, what is
 * refused, writing back, and the SQL parameters for the labels index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/util.h"
#include "server-mgmt/selector.h"

/* Parses text and writes it back (NULL: refused). */
static const char *
canon(const char *text, char *out, size_t len)
{
	struct selector s;
	char why[160];
	const char *r = NULL;

	selector_init(&s);
	if (selector_parse(text, &s, why, sizeof(why)) == 0 &&
	    selector_format(&s, out, len))
		r = out;
	else
		assert_true(why[0] != '\0');
	selector_release(&s);
	return r;
}

static void
parses(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	    /* edge cases first */
	    {"", NULL},
	    {"   ", NULL},
	    {",", NULL},
	    {"a,", NULL},
	    {",a", NULL},
	    {"a,,b", NULL},
	    {"=x", NULL},
	    {"!", NULL},
	    {"!=x", NULL},
	    {"a in ()", NULL},
	    {"a in (b", NULL},
	    {"a in (b,)", NULL},
	    {"a notin b", NULL},
	    {"a in", NULL},
	    {"a b", NULL},
	    {"a=b c", NULL},
	    {"a=b=c", NULL},
	    {"a=(b)", NULL},
	    {"1a=b", NULL},
	    {"a-b=c", NULL},
	    {"a.b=c", NULL},
	    {"a=\x01", NULL},
	    {"a=\xc2\x85", NULL},
	    {"a=\xff", NULL},
	    {"a", "a"},
	    {"!a", "!a"},
	    {" ! a ", "!a"},
	    {"a=", "a="},
	    {"a!=", "a!="},
	    {"a==b", "a=b"},
	    {"a = b , c != d", "a=b,c!=d"},
	    {"rack=r12,role!=lab", "rack=r12,role!=lab"},
	    {"env in (a, b),tier notin(x)", "env in (a,b),tier notin (x)"},
	    {"in in (in),notin", "in in (in),notin"},
	    {"a=b.c-d_e:f/g", "a=b.c-d_e:f/g"},
	    {"a=\xc3\xa9t\xc3\xa9", "a=\xc3\xa9t\xc3\xa9"},
	    {"_x=1", "_x=1"},
	};
	char out[512];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		const char *got = canon(cases[i].in, out, sizeof(out));
		if (cases[i].out == NULL && got != NULL)
			fail_msg("case %zu \"%s\" taken as \"%s\"", i,
			    cases[i].in, got);
		if (cases[i].out != NULL &&
		    (got == NULL || strcmp(got, cases[i].out) != 0))
			fail_msg("case %zu \"%s\": got \"%s\"", i, cases[i].in,
			    got ? got : "(refused)");
	}
}

static void
bounds(void **state)
{
	char text[SELECTOR_MAX_TEXT + 64], out[8192];
	size_t n = 0;

	(void)state;
	/* 63-byte keys are label names; 64 are not. */
	memset(text, 'k', 63);
	text[63] = '\0';
	assert_non_null(canon(text, out, sizeof(out)));
	text[63] = 'k';
	text[64] = '\0';
	assert_null(canon(text, out, sizeof(out)));
	/* 256-byte values; 257 are refused. */
	memcpy(text, "a=", 2);
	memset(text + 2, 'v', 256);
	text[258] = '\0';
	assert_non_null(canon(text, out, sizeof(out)));
	memcpy(text + 258, "v", 2);
	assert_null(canon(text, out, sizeof(out)));
	/* SELECTOR_MAX_REQS requirements, then one too many. */
	for (int i = 0; i < SELECTOR_MAX_REQS; i++)
		n += (size_t)snprintf(
		    text + n, sizeof(text) - n, "%sk%d", i ? "," : "", i);
	assert_non_null(canon(text, out, sizeof(out)));
	snprintf(text + n, sizeof(text) - n, ",x");
	assert_null(canon(text, out, sizeof(out)));
	/* SELECTOR_MAX_VALUES values in a set, then one too many. */
	n = (size_t)snprintf(text, sizeof(text), "a in (");
	for (int i = 0; i < SELECTOR_MAX_VALUES; i++)
		n += (size_t)snprintf(
		    text + n, sizeof(text) - n, "%sv%d", i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ")");
	assert_non_null(canon(text, out, sizeof(out)));
	snprintf(text + n, sizeof(text) - n, ",w)");
	assert_null(canon(text, out, sizeof(out)));
	/* The whole text is bounded. */
	memset(text, ' ', SELECTOR_MAX_TEXT + 1);
	text[0] = 'a';
	text[SELECTOR_MAX_TEXT + 1] = '\0';
	assert_null(canon(text, out, sizeof(out)));
}

static void
sql(void **state)
{
	static const struct {
		const char *in, *eq, *keys, *rest;
	} cases[] = {
	    {"rack=r1,role=web", "{\"rack\":\"r1\",\"role\":\"web\"}", NULL,
		NULL},
	    {"gpu,!legacy", NULL, "{gpu}",
		"[{\"k\":\"legacy\",\"op\":\"!exists\",\"v\":[]}]"},
	    {"role in (a,b)", NULL, "{role}",
		"[{\"k\":\"role\",\"op\":\"in\",\"v\":[\"a\",\"b\"]}]"},
	    {"role!=lab", NULL, NULL,
		"[{\"k\":\"role\",\"op\":\"notin\",\"v\":[\"lab\"]}]"},
	    {"a=\"q\\", "{\"a\":\"\\\"q\\\\\"}", NULL, NULL},
	    /* a second, other value for a key: no longer in the object */
	    {"a=1,a=2", "{\"a\":\"1\"}", "{a}",
		"[{\"k\":\"a\",\"op\":\"in\",\"v\":[\"2\"]}]"},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct selector s;
		char why[160], *eq, *keys, *rest;

		selector_init(&s);
		assert_int_equal(
		    selector_parse(cases[i].in, &s, why, sizeof(why)), 0);
		assert_int_equal(selector_sql(&s, &eq, &keys, &rest), 0);
		if (cases[i].eq)
			assert_string_equal(eq, cases[i].eq);
		else
			assert_null(eq);
		if (cases[i].keys)
			assert_string_equal(keys, cases[i].keys);
		else
			assert_null(keys);
		if (cases[i].rest)
			assert_string_equal(rest, cases[i].rest);
		else
			assert_null(rest);
		free(eq);
		free(keys);
		free(rest);
		selector_release(&s);
	}
}

static void
appends(void **state)
{
	struct selector s;
	char why[160], out[128];

	(void)state;
	selector_init(&s);
	assert_int_equal(selector_parse("a=1", &s, why, sizeof(why)), 0);
	assert_int_equal(selector_add_eq(&s, "b", "2"), 0);
	/* A refusal keeps what was there. */
	assert_int_equal(selector_parse("c in (", &s, why, sizeof(why)), -1);
	assert_int_equal(s.n, 2);
	assert_true(selector_format(&s, out, sizeof(out)));
	assert_string_equal(out, "a=1,b=2");
	assert_false(selector_format(&s, out, 4));
	selector_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses),
	    cmocka_unit_test(bounds),
	    cmocka_unit_test(sql),
	    cmocka_unit_test(appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
