/* Unit tests: selector_sql.c, a parsed label selector (libcommon's
 * osh/selector.h) as SQL parameters for the labels index. Parsing itself
 * is tested in test_selector.c. */
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
#include "server-mgmt/selector_sql.h"

static void
expect(const char *got, const char *want, const char *what, const char *in)
{
	if (want == NULL && got != NULL)
		fail_msg("\"%s\": %s \"%s\", wanted none", in, what, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("\"%s\": %s \"%s\", wanted \"%s\"", in, what,
		    got ? got : "(none)", want);
}

/* Translates the selectors a and b (b may be NULL) and compares. */
static void
check(const char *a, const char *b, const char *eq, const char *keys,
    const char *rest)
{
	struct osh_selector *own[2];
	const struct osh_selector *sels[2];
	struct osh_selector_err err;
	char *e, *k, *r;
	size_t n = 0;

	sels[n] = own[n] = osh_selector_parse(a, strlen(a), &err);
	assert_non_null(own[n++]);
	if (b != NULL) {
		sels[n] = own[n] = osh_selector_parse(b, strlen(b), &err);
		assert_non_null(own[n++]);
	}
	assert_int_equal(selector_sql(sels, n, &e, &k, &r), 0);
	expect(e, eq, "eq", a);
	expect(k, keys, "keys", a);
	expect(r, rest, "rest", a);
	free(e);
	free(k);
	free(r);
	for (size_t i = 0; i < n; i++)
		osh_selector_free(own[i]);
}

static void
translates(void **state)
{
	(void)state;
	check("rack=r1,role=web", NULL, "{\"rack\":\"r1\",\"role\":\"web\"}",
	    NULL, NULL);
	check("rack in (r1)", NULL, "{\"rack\":\"r1\"}", NULL, NULL);
	check("gpu,!legacy", NULL, NULL, "{\"gpu\"}",
	    "[{\"k\":\"legacy\",\"op\":\"!exists\",\"v\":[]}]");
	check("role in (a,b)", NULL, NULL, "{\"role\"}",
	    "[{\"k\":\"role\",\"op\":\"in\",\"v\":[\"a\",\"b\"]}]");
	check("role!=lab", NULL, NULL, NULL,
	    "[{\"k\":\"role\",\"op\":\"notin\",\"v\":[\"lab\"]}]");
	check("role notin (a,b)", NULL, NULL, NULL,
	    "[{\"k\":\"role\",\"op\":\"notin\",\"v\":[\"a\",\"b\"]}]");
	check("a=\"q\\", NULL, "{\"a\":\"\\\"q\\\\\"}", NULL, NULL);
	check("a=", NULL, "{\"a\":\"\"}", NULL, NULL);
	/* A second, other value for a key: no longer in the object. */
	check("a=1,a=2", NULL, "{\"a\":\"1\"}", "{\"a\"}",
	    "[{\"k\":\"a\",\"op\":\"in\",\"v\":[\"2\"]}]");
	check("a=1,a in (1)", NULL, "{\"a\":\"1\"}", NULL, NULL);
	/* Keys are quoted: an unquoted NULL is a null, which ?& skips. */
	check("NULL,null,x", NULL, NULL, "{\"NULL\",\"null\",\"x\"}", NULL);
	/* label=key=value comes as a second selector. */
	check("rack=r0", "role=web", "{\"rack\":\"r0\",\"role\":\"web\"}", NULL,
	    NULL);
	check("rack=r0", "rack=r1", "{\"rack\":\"r0\"}", "{\"rack\"}",
	    "[{\"k\":\"rack\",\"op\":\"in\",\"v\":[\"r1\"]}]");
}

static void
nothing(void **state)
{
	char *e, *k, *r;

	(void)state;
	assert_int_equal(selector_sql(NULL, 0, &e, &k, &r), 0);
	assert_null(e);
	assert_null(k);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(translates),
	    cmocka_unit_test(nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
