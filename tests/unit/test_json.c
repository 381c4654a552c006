/* Unit tests: json.c and error.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/audit.h"
#include "osh/json.h"
#include "osh/util.h"

static const char *const colors[] = {"red", "green", NULL};

static const struct osh_field fields[] = {
    {"name", OSH_FIELD_STRING, true, false, 1, 5, NULL},
    {"count", OSH_FIELD_INT, false, false, 0, 10, NULL},
    {"on", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"color", OSH_FIELD_ENUM, false, true, 0, 0, colors},
    {"tags", OSH_FIELD_ARRAY, false, false, 0, 2, NULL},
};

static void
check(const char *text, int status, const char *field)
{
	struct osh_err err = {0};
	struct json_object *o = osh_json_parse(text, strlen(text), 4, &err);
	int rc =
	    o ? osh_json_check(o, fields, OSH_ARRAY_LEN(fields), &err) : -1;

	if (status == 0) {
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(rc, -1);
		assert_int_equal(err.status, status);
		assert_string_equal(err.field, field);
	}
	json_object_put(o);
}

static void
validation_table(void **state)
{
	(void)state;
	check("{\"name\": \"ab\"}", 0, "");
	check("{\"name\": \"ab\", \"count\": 10, \"on\": true, \"color\": null,"
	      " \"tags\": [1, 2]}",
	    0, "");
	check("{}", 400, "name");
	check("{\"name\": \"\"}", 400, "name");
	check("{\"name\": \"abcdef\"}", 400, "name");
	check(
	    "{\"name\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", 0, "");
	check("{\"name\": 5}", 400, "name");
	check("{\"name\": \"a\", \"count\": 11}", 400, "count");
	check("{\"name\": \"a\", \"count\": 1.5}", 400, "count");
	check("{\"name\": \"a\", \"count\": \"1\"}", 400, "count");
	check("{\"name\": \"a\", \"on\": 1}", 400, "on");
	check("{\"name\": \"a\", \"color\": \"blue\"}", 400, "color");
	check("{\"name\": \"a\", \"tags\": [1, 2, 3]}", 400, "tags");
	check("{\"name\": \"a\", \"extra\": 1}", 400, "extra");
	check("{\"name\": \"a\\u0000b\"}", 400, "name");
	check("[]", 400, "");
}

static void
parse_errors(void **state)
{
	static const char *const bad[] = {"", "{", "{\"a\":}", "{} x",
	    "[[[[[[1]]]]]]", "{'a': 1}", "{\"a\": 1,}", "\xff"};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++) {
		memset(&err, 0, sizeof(err));
		assert_null(osh_json_parse(bad[i], strlen(bad[i]), 4, &err));
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_json");
	}
}

static void
accessors_and_error_body(void **state)
{
	struct osh_err err;
	struct json_object *o, *e;
	const char *text = "{\"s\": \"x\", \"i\": 7, \"b\": true, \"n\": null}";

	(void)state;
	o = osh_json_parse(text, strlen(text), 4, &err);
	assert_non_null(o);
	assert_string_equal(osh_json_str(o, "s", "d"), "x");
	assert_string_equal(osh_json_str(o, "n", "d"), "d");
	assert_int_equal(osh_json_int(o, "i", 0), 7);
	assert_true(osh_json_bool(o, "b", false));
	assert_true(osh_json_has(o, "n"));
	assert_false(osh_json_has(o, "zz"));
	json_object_put(o);

	osh_err_set(&err, 404, NULL, NULL, "server %d not found", 42);
	e = osh_err_json(&err, "rid-1");
	assert_string_equal(
	    json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
	    "{\"error\":{\"code\":\"not_found\",\"message\":\"server 42 not "
	    "found\",\"request_id\":\"rid-1\"}}");
	json_object_put(e);
}

static void
wipe_secret_in_place(void **state)
{
	const char *text = "{\"user\": \"ada\", \"password\": "
			   "\"correct horse battery staple\", \"n\": 5}";
	struct osh_err err;
	struct json_object *o, *v;
	const char *p;
	size_t len;

	(void)state;
	o = osh_json_parse(text, strlen(text), 4, &err);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "password", &v));
	p = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	assert_int_equal(len, 28);
	osh_json_wipe_secret(o, "password");
	/* The very bytes json-c holds are zero, before it frees them. */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
	assert_string_equal(osh_json_str(o, "password", "x"), "");
	assert_string_equal(osh_json_str(o, "user", ""), "ada");
	/* Absent members and other types are left alone. */
	osh_json_wipe_secret(o, "nothing");
	osh_json_wipe_secret(o, "n");
	osh_json_wipe_secret(NULL, "password");
	assert_int_equal(osh_json_int(o, "n", 0), 5);
	json_object_put(o);
}

static void
error_message_cut_keeps_utf8(void **state)
{
	char name[OSH_ERR_MSG_MAX * 2];
	struct osh_err err;
	size_t n = 0;

	(void)state;
	/* "e-acute" repeated, shifted by one byte so every cut lands
	 * inside a character once. */
	for (int shift = 0; shift < 3; shift++) {
		n = 0;
		for (int i = 0; i < shift; i++)
			name[n++] = 'x';
		while (n + 2 < sizeof(name)) {
			name[n++] = '\xc3';
			name[n++] = '\xa9';
		}
		name[n] = '\0';
		osh_err_set(
		    &err, 400, NULL, name, "no server named \"%s\"", name);
		assert_true(osh_utf8_valid(err.message, strlen(err.message)));
		assert_true(strlen(err.message) >= OSH_ERR_MSG_MAX - 3);
		assert_true(osh_utf8_valid(err.field, strlen(err.field)));
		assert_true(strlen(err.field) >= OSH_ERR_FIELD_MAX - 3);
	}
}

/* Audit details name a body's fields whatever JSON the body is. */
static void
audit_fields_of_any_body(void **state)
{
	static const char *const bodies[] = {
	    "[1,2]", "\"x\"", "3", "null", "true", "{}", "{\"a\":1,\"b\":2}"};
	static const size_t want[] = {0, 0, 0, 0, 0, 0, 2};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct json_object *b = json_tokener_parse(bodies[i]), *f, *d;

		d = osh_audit_fields(b);
		assert_true(json_object_object_get_ex(d, "fields", &f));
		assert_int_equal(json_object_array_length(f), want[i]);
		json_object_put(d);
		json_object_put(b);
	}
}

/* Blanks between tokens go; blanks, quotes and escapes inside strings
 * stay; unfinished text is copied within its length. */
static void
compact_keeps_strings(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"{\"a\" : 1, \"b\" : [1, 2]}", "{\"a\":1,\"b\":[1,2]}"},
	    {" {\"a b\" :\t\"c , d\"}\r\n", "{\"a b\":\"c , d\"}"},
	    {"[\"x\\\" y\", \"\\\\\", 1]", "[\"x\\\" y\",\"\\\\\",1]"},
	    {"\"open string , \\", "\"open string , \\"},
	    {"not json at all", "notjsonatall"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		char *out = malloc(len + 1);
		size_t n = osh_json_compact(out, cases[i].in, len);

		out[n] = '\0';
		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(validation_table),
	    cmocka_unit_test(parse_errors),
	    cmocka_unit_test(accessors_and_error_body),
	    cmocka_unit_test(audit_fields_of_any_body),
	    cmocka_unit_test(wipe_secret_in_place),
	    cmocka_unit_test(error_message_cut_keeps_utf8),
	    cmocka_unit_test(compact_keeps_strings),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
