/* Unit tests: cluster-mgmt's pure rules for cluster input (cluster.c):
 * names, labels, selectors in canonical form and as JSON terms, and lists
 * of server ids. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-mgmt/cm.h"
#include "osh/util.h"

/* Parses body text; returns the field named by the error, "" when it
 * parsed. */
static const char *
parse(const char *body, bool create, struct cluster_in *in, char *field,
    size_t len)
{
	struct json_object *o = json_tokener_parse(body);
	struct osh_err err = {0};
	int rc;

	assert_non_null(o);
	rc = cluster_in_parse(o, create, in, &err);
	osh_strlcpy(field, rc == 0 ? "" : err.field, len);
	if (rc != 0)
		assert_int_equal(err.status, 400);
	/* Strings of in point into o: the caller's tests read them first. */
	json_object_put(o);
	return field;
}

static void
bodies_name_the_field(void **state)
{
	static const struct {
		const char *body;
		bool create;
		const char *field;
	} cases[] = {
	    {"{\"name\":\"web\"}", true, ""},
	    {"{}", true, "name"},
	    {"{}", false, ""},
	    {"{\"name\":\"\"}", true, "name"},
	    {"{\"name\":\"a/b\"}", true, "name"},
	    {"{\"name\":\" a\"}", true, "name"},
	    {"{\"name\":\"a\\u0001\"}", true, "name"},
	    {"{\"name\":1}", true, "name"},
	    {"{\"name\":\"a\",\"x\":1}", true, "x"},
	    {"{\"description\":1}", false, "description"},
	    {"{\"labels\":{\"ok_1\":\"v\"}}", false, ""},
	    {"{\"labels\":{\"1k\":\"v\"}}", false, "labels"},
	    {"{\"labels\":{\"a-b\":\"v\"}}", false, "labels"},
	    {"{\"labels\":{\"k\":1}}", false, "labels"},
	    {"{\"labels\":[]}", false, "labels"},
	    {"{\"selector\":null}", false, ""},
	    {"{\"selector\":\"a=b\"}", false, ""},
	    {"{\"selector\":\"\"}", false, "selector"},
	    {"{\"selector\":\"  \"}", false, "selector"},
	    {"{\"selector\":\"a in (\"}", false, "selector"},
	    {"{\"selector\":5}", false, "selector"},
	};
	struct cluster_in in;
	char field[OSH_ERR_FIELD_MAX];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		parse(
		    cases[i].body, cases[i].create, &in, field, sizeof(field));
		if (strcmp(field, cases[i].field) != 0)
			fail_msg("%s: field \"%s\", not \"%s\"", cases[i].body,
			    field, cases[i].field);
		cluster_in_release(&in);
	}
}

static void
selector_is_canonical_with_terms(void **state)
{
	struct json_object *o = json_tokener_parse(
	    "{\"selector\":\" rack == r12 , role in ( db , web ),!m\"}");
	struct cluster_in in;
	struct osh_err err;

	(void)state;
	assert_int_equal(cluster_in_parse(o, false, &in, &err), 0);
	assert_true(in.has_selector);
	assert_string_equal(in.selector, "rack=r12,role in (db,web),!m");
	assert_string_equal(in.selector_terms,
	    "[{\"key\":\"rack\",\"op\":\"eq\",\"values\":[\"r12\"]},"
	    "{\"key\":\"role\",\"op\":\"in\",\"values\":[\"db\",\"web\"]},"
	    "{\"key\":\"m\",\"op\":\"notexists\",\"values\":[]}]");
	cluster_in_release(&in);
	json_object_put(o);
	/* null removes it; absent leaves it. */
	o = json_tokener_parse("{\"selector\":null}");
	assert_int_equal(cluster_in_parse(o, false, &in, &err), 0);
	assert_true(in.has_selector);
	assert_null(in.selector);
	assert_null(in.selector_terms);
	cluster_in_release(&in);
	json_object_put(o);
	o = json_tokener_parse("{\"name\":\"x\"}");
	assert_int_equal(cluster_in_parse(o, false, &in, &err), 0);
	assert_false(in.has_selector);
	cluster_in_release(&in);
	json_object_put(o);
	/* The error names the position. */
	o = json_tokener_parse("{\"selector\":\"a=b c\"}");
	assert_int_equal(cluster_in_parse(o, false, &in, &err), -1);
	assert_non_null(strstr(err.message, "at position 4"));
	cluster_in_release(&in);
	json_object_put(o);
}

static void
too_many_labels(void **state)
{
	struct json_object *o = json_object_new_object();
	struct json_object *body = json_object_new_object();
	struct cluster_in in;
	struct osh_err err;
	char k[8];

	(void)state;
	for (int i = 0; i <= CLUSTER_LABELS_MAX; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		json_object_object_add(o, k, json_object_new_string("v"));
	}
	json_object_object_add(body, "labels", o);
	assert_int_equal(cluster_in_parse(body, false, &in, &err), -1);
	assert_string_equal(err.field, "labels");
	cluster_in_release(&in);
	json_object_put(body);
}

static void
server_ids(void **state)
{
	static const struct {
		const char *body;
		const char *want; /* NULL: refused */
	} cases[] = {
	    {"{\"server_ids\":[1]}", "{1}"},
	    {"{\"server_ids\":[3,1,3]}", "{3,1,3}"},
	    {"{\"server_ids\":[9223372036854775807]}", "{9223372036854775807}"},
	    {"{\"server_ids\":[]}", NULL},
	    {"{\"server_ids\":[0]}", NULL},
	    {"{\"server_ids\":[-1]}", NULL},
	    {"{\"server_ids\":[1.5]}", NULL},
	    {"{\"server_ids\":[\"1\"]}", NULL},
	    {"{\"server_ids\":[null]}", NULL},
	    {"{\"server_ids\":1}", NULL},
	    {"{}", NULL},
	    {"{\"server_ids\":[1],\"x\":1}", NULL},
	};
	struct osh_err err;
	char *ids;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *o = json_tokener_parse(cases[i].body);
		int rc = cluster_ids_parse(o, &ids, &err);
		if (cases[i].want == NULL) {
			if (rc == 0)
				fail_msg("%s: accepted", cases[i].body);
			assert_null(ids);
			assert_int_equal(err.status, 400);
		} else {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].body, err.message);
			assert_string_equal(ids, cases[i].want);
		}
		free(ids);
		json_object_put(o);
	}
}

static void
too_many_ids(void **state)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct osh_err err;
	char *ids;

	(void)state;
	for (int i = 1; i <= CLUSTER_IDS_MAX; i++)
		json_object_array_add(arr, json_object_new_int64(i));
	json_object_object_add(o, "server_ids", arr);
	assert_int_equal(cluster_ids_parse(o, &ids, &err), 0);
	free(ids);
	json_object_array_add(arr, json_object_new_int64(1));
	assert_int_equal(cluster_ids_parse(o, &ids, &err), -1);
	assert_string_equal(err.field, "server_ids");
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bodies_name_the_field),
	    cmocka_unit_test(selector_is_canonical_with_terms),
	    cmocka_unit_test(too_many_labels),
	    cmocka_unit_test(server_ids),
	    cmocka_unit_test(too_many_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
