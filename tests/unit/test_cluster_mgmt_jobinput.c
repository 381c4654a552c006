/* Unit tests: the body of POST /api/jobs (jobinput.c): refusals naming
 * their field, and the normalized spec with its defaults. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-mgmt/jobinput.h"
#include "osh/json.h"

/* Parses body; answers the spec (caller puts) or NULL with field set. */
static struct json_object *
parse(const char *body, char *field, size_t len)
{
	struct json_object *o = json_tokener_parse(body), *spec = NULL;
	struct osh_err err = {0};

	assert_non_null(o);
	field[0] = '\0';
	if (job_in_parse(o, &spec, &err) != 0) {
		assert_int_equal(err.status, 400);
		assert_null(spec);
		snprintf(field, len, "%s", err.field);
	}
	json_object_put(o);
	return spec;
}

static void
refusals_name_the_field(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {"{\"targets\": {\"server_ids\": [1]}}", "action"},
	    {"{\"action\": \"melt\", \"targets\": {\"server_ids\": [1]}}",
		"action"},
	    {"{\"action\": \"on\"}", "targets"},
	    {"{\"action\": \"on\", \"targets\": {}}", "targets"},
	    {"{\"action\": \"on\", \"targets\": {\"server_ids\": [0]}}",
		"targets"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1, "
	     "\"selector\": \"a\"}}",
		"targets"},
	    {"{\"action\": \"on\", \"targets\": {\"selector\": \"a in (\"}}",
		"targets"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"concurrency\": 0}",
		"concurrency"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"concurrency\": 257}",
		"concurrency"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"max_failures\": \"101%\"}",
		"max_failures"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"max_failures\": -1}",
		"max_failures"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"max_failures\": true}",
		"max_failures"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"stagger\": {\"count\": 1, \"label\": \"rack\"}}",
		"stagger"},
	    {"{\"action\": \"diag\", \"targets\": {\"cluster\": 1}, "
	     "\"verify\": true}",
		"verify"},
	    {"{\"action\": \"status\", \"targets\": {\"cluster\": 1}, "
	     "\"verify\": true}",
		"verify"},
	    {"{\"action\": \"boot\", \"targets\": {\"cluster\": 1}}", "boot"},
	    {"{\"action\": \"on\", \"boot\": {\"device\": \"pxe\"}, "
	     "\"targets\": {\"cluster\": 1}}",
		"boot"},
	    {"{\"action\": \"on\", \"identify_seconds\": 5, "
	     "\"targets\": {\"cluster\": 1}}",
		"identify_seconds"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"not_before\": \"2026-12-01T10:00:00Z\", "
	     "\"not_after\": \"2026-12-01T09:00:00Z\"}",
		"not_after"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"on_conflict\": \"steal\"}",
		"on_conflict"},
	    {"{\"action\": \"on\", \"targets\": {\"cluster\": 1}, "
	     "\"color\": 1}",
		"color"},
	};
	char field[OSH_ERR_FIELD_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *spec =
		    parse(cases[i].body, field, sizeof(field));

		if (spec != NULL || strcmp(field, cases[i].field) != 0)
			fail_msg("%s: got field '%s', want '%s'", cases[i].body,
			    field, cases[i].field);
	}
}

static void
defaults_and_normal_form(void **state)
{
	char field[OSH_ERR_FIELD_MAX];
	struct json_object *s, *st;

	(void)state;
	s = parse("{\"action\": \"soft\", \"targets\": {\"server_ids\": "
		  "[3, 1]}}",
	    field, sizeof(field));
	assert_non_null(s);
	assert_string_equal(osh_json_str(s, "action", ""), "soft");
	assert_string_equal(osh_json_str(s, "target_state", ""), "off");
	assert_true(osh_json_bool(s, "verify", false));
	assert_int_equal(osh_json_int(s, "concurrency", 0), 32);
	assert_int_equal(osh_json_int(s, "retries", -1), 2);
	assert_int_equal(osh_json_int(s, "timeout_s", 0), 30);
	assert_string_equal(osh_json_str(s, "on_conflict", ""), "wait");
	assert_true(json_object_object_get_ex(s, "stagger", &st));
	assert_null(st);
	json_object_put(s);

	s = parse("{\"action\": \"boot\", \"boot\": {\"device\": \"pxe\", "
		  "\"efi\": true}, \"targets\": {\"selector\": "
		  "\"role  in (db , web)\"}, \"max_failures\": \"10%\", "
		  "\"stagger\": {\"count\": 4, \"label\": \"rack\", "
		  "\"label_count\": 1}, \"not_before\": "
		  "\"2026-12-01T11:00:00+01:00\"}",
	    field, sizeof(field));
	assert_non_null(s);
	assert_string_equal(osh_json_str(s, "action", ""), "boot:pxe:efi");
	assert_null(osh_json_str(s, "target_state", NULL));
	assert_false(osh_json_bool(s, "verify", true));
	assert_string_equal(
	    osh_json_str(json_object_object_get(s, "targets"), "selector", ""),
	    "role in (db,web)");
	assert_int_equal(osh_json_int(s, "max_failures_percent", 0), 10);
	st = json_object_object_get(s, "stagger");
	assert_int_equal(osh_json_int(st, "interval_ms", 0), 1000);
	assert_int_equal(osh_json_int(st, "label_count", 0), 1);
	assert_string_equal(
	    osh_json_str(s, "not_before", ""), "2026-12-01T10:00:00.000Z");
	json_object_put(s);

	s = parse("{\"action\": \"identify\", \"identify_seconds\": 0, "
		  "\"targets\": {\"cluster\": 7}, \"max_failures\": 3}",
	    field, sizeof(field));
	assert_non_null(s);
	assert_string_equal(osh_json_str(s, "action", ""), "identify:off");
	assert_int_equal(osh_json_int(s, "max_failures", 0), 3);
	json_object_put(s);

	/* status reads the power state: no target, nothing to verify. */
	s = parse("{\"action\": \"status\", \"targets\": {\"cluster\": 7}, "
		  "\"verify\": false}",
	    field, sizeof(field));
	assert_non_null(s);
	assert_string_equal(osh_json_str(s, "action", ""), "status");
	assert_string_equal(osh_json_str(s, "kind", ""), "status");
	assert_null(osh_json_str(s, "target_state", NULL));
	assert_false(osh_json_bool(s, "verify", true));
	json_object_put(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refusals_name_the_field),
	    cmocka_unit_test(defaults_and_normal_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
