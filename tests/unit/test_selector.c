/* Unit tests: selector.c */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/selector.h"
#include "osh/util.h"

/* Parses, prints back canonically, and parses that again: the same. */
static void
parses_to_canonical(void **state)
{
	static const struct {
		const char *in, *canon;
		size_t nterms;
	} cases[] = {
	    {"", "", 0},
	    {"   ", "", 0},
	    {"rack=r12", "rack=r12", 1},
	    {"rack==r12", "rack=r12", 1},
	    {" rack = r12 , env != lab ", "rack=r12,env!=lab", 2},
	    {"rack=r12,env!=lab", "rack=r12,env!=lab", 2},
	    {"role in (db,web)", "role in (db,web)", 1},
	    {"role in(db, web )", "role in (db,web)", 1},
	    {"role notin (db)", "role notin (db)", 1},
	    {"maintenance", "maintenance", 1},
	    {"!maintenance", "!maintenance", 1},
	    {"! maintenance,x", "!maintenance,x", 2},
	    {"k=", "k=", 1},
	    {"k!=", "k!=", 1},
	    {"in=notin", "in=notin", 1},
	    {"in in (in)", "in in (in)", 1},
	    {"a.b/c-d_e=v.1-2_3", "a.b/c-d_e=v.1-2_3", 1},
	    {"\tzone=\xc3\xa9t\xc3\xa9", "zone=\xc3\xa9t\xc3\xa9", 1},
	};
	struct osh_selector_err err;
	char buf[256], buf2[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct osh_selector *s =
		    osh_selector_parse(cases[i].in, strlen(cases[i].in), &err);
		if (s == NULL)
			fail_msg("\"%s\": %s at %zu", cases[i].in, err.message,
			    err.pos);
		assert_int_equal(s->nterms, cases[i].nterms);
		assert_int_equal(osh_selector_format(s, buf, sizeof(buf)),
		    strlen(cases[i].canon));
		assert_string_equal(buf, cases[i].canon);
		osh_selector_free(s);
		s = osh_selector_parse(buf, strlen(buf), &err);
		assert_non_null(s);
		osh_selector_format(s, buf2, sizeof(buf2));
		assert_string_equal(buf, buf2);
		osh_selector_free(s);
	}
}

/* Errors name the position and what was expected there. */
static void
errors_name_the_position(void **state)
{
	static const struct {
		const char *in;
		size_t pos;
		const char *says;
	} cases[] = {
	    {",", 0, "expected a label key"},
	    {"a,", 2, "expected a label key"},
	    {"a,,b", 2, "expected a label key"},
	    {"=v", 0, "expected a label key"},
	    {"-a", 0, "expected a label key"},
	    {"!", 1, "after '!'"},
	    {"!=v", 1, "after '!'"},
	    {"a b", 2, "expected '=', '==', '!='"},
	    {"a inn (x)", 2, "expected '='"},
	    {"a=b c", 4, "expected ',' or the end"},
	    {"a=b=c", 3, "expected ',' or the end"},
	    {"a===b", 3, "expected ',' or the end"},
	    {"a in x", 5, "expected '(' after 'in'"},
	    {"a notin", 7, "expected '(' after 'notin'"},
	    {"a in ()", 6, "expected a value"},
	    {"a in (x,)", 8, "expected a value"},
	    {"a in (x y)", 8, "expected ',' or ')'"},
	    {"a in (x", 7, "expected ',' or ')'"},
	    {"a=(x)", 2, "expected ',' or the end"},
	    {"!a=b", 2, "expected ',' or the end"},
	    {"a=\xff", 2, "not valid UTF-8"},
	    {"a=b\x01", 3, "expected ',' or the end"},
	};
	struct osh_selector_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct osh_selector *s =
		    osh_selector_parse(cases[i].in, strlen(cases[i].in), &err);
		if (s != NULL)
			fail_msg("\"%s\" parsed", cases[i].in);
		if (err.pos != cases[i].pos ||
		    strstr(err.message, cases[i].says) == NULL)
			fail_msg("\"%s\": \"%s\" at %zu", cases[i].in,
			    err.message, err.pos);
	}
	/* A NUL byte inside. */
	assert_null(osh_selector_parse("a\0b", 3, &err));
	assert_int_equal(err.pos, 1);
}

static void
bounds(void **state)
{
	struct osh_selector_err err;
	struct osh_selector *s;
	char big[OSH_SELECTOR_MAX_LEN + 2];
	char key[OSH_SELECTOR_KEY_MAX + 2], val[OSH_SELECTOR_VALUE_MAX + 4];
	struct osh_buf b;

	(void)state;
	/* Length. */
	memset(big, 'a', sizeof(big));
	assert_null(osh_selector_parse(big, OSH_SELECTOR_MAX_LEN + 1, &err));
	assert_int_equal(err.pos, OSH_SELECTOR_MAX_LEN);
	assert_non_null(strstr(err.message, "longer than"));
	/* Keys. */
	memset(key, 'k', sizeof(key));
	s = osh_selector_parse(key, OSH_SELECTOR_KEY_MAX, &err);
	assert_non_null(s);
	osh_selector_free(s);
	assert_null(osh_selector_parse(key, OSH_SELECTOR_KEY_MAX + 1, &err));
	assert_non_null(strstr(err.message, "label key longer"));
	/* Values. */
	memcpy(val, "k=", 2);
	memset(val + 2, 'v', sizeof(val) - 2);
	s = osh_selector_parse(val, 2 + OSH_SELECTOR_VALUE_MAX, &err);
	assert_non_null(s);
	osh_selector_free(s);
	assert_null(
	    osh_selector_parse(val, 2 + OSH_SELECTOR_VALUE_MAX + 1, &err));
	assert_int_equal(err.pos, 2);
	/* Terms. */
	osh_buf_init(&b, 8192);
	for (int i = 0; i < OSH_SELECTOR_MAX_TERMS; i++)
		osh_buf_printf(&b, "%sk%d", i ? "," : "", i);
	s = osh_selector_parse(b.data, b.len, &err);
	assert_non_null(s);
	assert_int_equal(s->nterms, OSH_SELECTOR_MAX_TERMS);
	osh_selector_free(s);
	osh_buf_puts(&b, ",x");
	assert_null(osh_selector_parse(b.data, b.len, &err));
	assert_non_null(strstr(err.message, "more than 32 terms"));
	assert_int_equal(err.pos, b.len - 1);
	osh_buf_release(&b);
	/* Values in a set. */
	osh_buf_init(&b, 8192);
	osh_buf_puts(&b, "k in (");
	for (int i = 0; i < OSH_SELECTOR_MAX_VALUES; i++)
		osh_buf_printf(&b, "%sv%d", i ? "," : "", i);
	s = osh_selector_parse(b.data, b.len, &err);
	assert_null(s);
	osh_buf_puts(&b, ")");
	s = osh_selector_parse(b.data, b.len, &err);
	assert_non_null(s);
	assert_int_equal(s->terms[0].nvalues, OSH_SELECTOR_MAX_VALUES);
	osh_selector_free(s);
	b.len--;
	osh_buf_puts(&b, ",x)");
	assert_null(osh_selector_parse(b.data, b.len, &err));
	assert_non_null(strstr(err.message, "more than 64 values"));
	osh_buf_release(&b);
}

static bool
matches(const char *sel, const char *labels)
{
	struct osh_selector_err err;
	struct osh_selector *s = osh_selector_parse(sel, strlen(sel), &err);
	struct json_object *l = labels ? json_tokener_parse(labels) : NULL;
	bool m;

	if (s == NULL)
		fail_msg("\"%s\": %s", sel, err.message);
	m = osh_selector_match(s, l);
	json_object_put(l);
	osh_selector_free(s);
	return m;
}

static void
matching(void **state)
{
	static const struct {
		const char *sel, *labels;
		bool want;
	} cases[] = {
	    {"", "{}", true},
	    {"", NULL, true},
	    {"rack=r12", "{\"rack\":\"r12\"}", true},
	    {"rack=r12", "{\"rack\":\"r13\"}", false},
	    {"rack=r12", "{}", false},
	    {"rack=r12", NULL, false},
	    {"rack=r12", "[]", false},
	    {"rack!=r12", "{}", true},
	    {"rack!=r12", "{\"rack\":\"r12\"}", false},
	    {"rack!=r12", "{\"rack\":\"r1\"}", true},
	    {"rack=r12,env!=lab", "{\"rack\":\"r12\",\"env\":\"prod\"}", true},
	    {"rack=r12,env!=lab", "{\"rack\":\"r12\",\"env\":\"lab\"}", false},
	    {"role in (db,web)", "{\"role\":\"web\"}", true},
	    {"role in (db,web)", "{\"role\":\"dns\"}", false},
	    {"role in (db,web)", "{}", false},
	    {"role notin (db,web)", "{}", true},
	    {"role notin (db,web)", "{\"role\":\"db\"}", false},
	    {"role notin (db,web)", "{\"role\":\"dns\"}", true},
	    {"maintenance", "{\"maintenance\":\"\"}", true},
	    {"maintenance", "{}", false},
	    {"!maintenance", "{}", true},
	    {"!maintenance", "{\"maintenance\":\"yes\"}", false},
	    {"k=", "{\"k\":\"\"}", true},
	    {"k=", "{}", false},
	    /* Values of other types: present, equal to nothing. */
	    {"n=1", "{\"n\":1}", false},
	    {"n!=1", "{\"n\":1}", true},
	    {"n", "{\"n\":null}", true},
	    {"!n", "{\"n\":1}", false},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++)
		if (matches(cases[i].sel, cases[i].labels) != cases[i].want)
			fail_msg("\"%s\" on %s: not %d", cases[i].sel,
			    cases[i].labels ? cases[i].labels : "NULL",
			    cases[i].want);
}

static void
as_json(void **state)
{
	struct osh_selector_err err;
	const char *in = "a=1,b!=2,c in (x,y),d notin (z),e,!f";
	struct osh_selector *s = osh_selector_parse(in, strlen(in), &err);
	struct json_object *j;

	(void)state;
	assert_non_null(s);
	j = osh_selector_json(s);
	assert_string_equal(
	    json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
	    "[{\"key\":\"a\",\"op\":\"eq\",\"values\":[\"1\"]},"
	    "{\"key\":\"b\",\"op\":\"ne\",\"values\":[\"2\"]},"
	    "{\"key\":\"c\",\"op\":\"in\",\"values\":[\"x\",\"y\"]},"
	    "{\"key\":\"d\",\"op\":\"notin\",\"values\":[\"z\"]},"
	    "{\"key\":\"e\",\"op\":\"exists\",\"values\":[]},"
	    "{\"key\":\"f\",\"op\":\"notexists\",\"values\":[]}]");
	json_object_put(j);
	osh_selector_free(s);
}

static void
format_cuts_safely(void **state)
{
	struct osh_selector_err err;
	struct osh_selector *s = osh_selector_parse("abc=def", 7, &err);
	char buf[4];

	(void)state;
	assert_int_equal(osh_selector_format(s, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "abc");
	assert_int_equal(osh_selector_format(s, NULL, 0), 7);
	osh_selector_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_to_canonical),
	    cmocka_unit_test(errors_name_the_position),
	    cmocka_unit_test(bounds),
	    cmocka_unit_test(matching),
	    cmocka_unit_test(as_json),
	    cmocka_unit_test(format_cuts_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
