/* Unit tests: alert-webhook's silences (silence.c): the bodies of
 * POST /api/monitoring/silences and /maintenance checked and turned into
 * Alertmanager's silences, the silence of an ack, and Alertmanager's
 * answers in the API's form. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert-webhook/silence.h"
#include "osh/json.h"
#include "osh/util.h"

#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */
#define DAY_S 86400LL

static struct json_object *
checked(
    const char *text, const struct osh_field *f, size_t n, struct osh_err *err)
{
	struct json_object *o = osh_json_parse(text, strlen(text), 8, err);

	if (o != NULL && osh_json_check(o, f, n, err) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The field a silence body is refused for, "" when accepted (out then
 * holds Alertmanager's silence, or NULL). */
static const char *
silence(const char *text, struct json_object **out, char *field, size_t len)
{
	struct osh_err err = {0};
	struct json_object *o =
	    checked(text, silence_fields, silence_nfields, &err);

	*out =
	    o ? silence_from_body(o, "alice", NOW_MS, 30 * DAY_S, &err) : NULL;
	json_object_put(o);
	if (*out == NULL)
		assert_int_equal(err.status, 400);
	osh_strlcpy(field, *out ? "" : err.field, len);
	return field;
}

#define M(name, value) "{\"name\":\"" name "\",\"value\":\"" value "\"}"
#define S(matchers, rest)                                                      \
	"{\"matchers\":[" matchers "],\"ends_at\":\"2026-01-01T02:00:00Z\","   \
	"\"comment\":\"c\"" rest "}"

static void
silence_bodies(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {S(M("alertname", "X"), ""), ""},
	    {S(M("server_id", "1|2") ",{\"name\":\"a\",\"value\":\"b\","
				     "\"is_regex\":true}",
		 ""),
		""},
	    {"{\"matchers\":[],\"ends_at\":\"2026-01-01T02:00:00Z\","
	     "\"comment\":\"c\"}",
		"matchers"},
	    {"{\"ends_at\":\"2026-01-01T02:00:00Z\",\"comment\":\"c\"}",
		"matchers"},
	    {S(M("alertname", "X"), ",\"createdBy\":\"mallory\""), "createdBy"},
	    {S(M("9lives", "X"), ""), "matchers[0]"},
	    {S(M("a-b", "X"), ""), "matchers[0]"},
	    {S(M("a", "X") ",{\"name\":\"b\"}", ""), "matchers[1].value"},
	    {S("{\"name\":\"a\",\"value\":\"(x\",\"is_regex\":true}", ""),
		"matchers[0]"},
	    /* Nothing that must be there: a silence of everything. */
	    {S(M("a", ""), ""), "matchers"},
	    {S("{\"name\":\"a\",\"value\":\".*\",\"is_regex\":true}", ""),
		"matchers"},
	    {S("{\"name\":\"a\",\"value\":\"x\",\"is_equal\":false}", ""),
		"matchers"},
	    {"{\"matchers\":[" M("a", "x") "],\"comment\":\"c\"}", "ends_at"},
	    {"{\"matchers\":[" M("a", "x") "],\"ends_at\":\"2025-12-31T00:00:"
					   "00Z\",\"comment\":\"c\"}",
		"ends_at"},
	    {"{\"matchers\":[" M("a", "x") "],\"ends_at\":\"2026-03-01T00:00:"
					   "00Z\",\"comment\":\"c\"}",
		"ends_at"},
	    {S(M("a", "x"), ",\"starts_at\":\"2026-01-01T03:00:00Z\""),
		"ends_at"},
	    {S(M("a", "x"), ",\"starts_at\":\"yesterday\""), "starts_at"},
	    {"{\"matchers\":[" M("a", "x") "],\"ends_at\":\"2026-01-01T02:00:"
					   "00Z\"}",
		"comment"},
	    {S(M("a", "x"), ",\"id\":\"../../x\""), "id"},
	};
	char field[OSH_ERR_FIELD_MAX];
	struct json_object *s;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		silence(cases[i].body, &s, field, sizeof(field));
		if (strcmp(field, cases[i].field) != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\"", i,
			    field, cases[i].field);
		json_object_put(s);
	}
}

static void
silence_is_alertmanagers(void **state)
{
	struct json_object *s, *m;
	char field[OSH_ERR_FIELD_MAX];

	(void)state;
	silence(S(M("alertname", "X"), ",\"id\":\"ab-12\""), &s, field,
	    sizeof(field));
	assert_non_null(s);
	/* The caller made it, starting now (a past start is now). */
	assert_string_equal(osh_json_str(s, "createdBy", ""), "alice");
	assert_string_equal(
	    osh_json_str(s, "startsAt", ""), "2026-01-01T00:00:00.000Z");
	assert_string_equal(
	    osh_json_str(s, "endsAt", ""), "2026-01-01T02:00:00.000Z");
	assert_string_equal(osh_json_str(s, "id", ""), "ab-12");
	m = json_object_array_get_idx(json_object_object_get(s, "matchers"), 0);
	assert_string_equal(osh_json_str(m, "name", ""), "alertname");
	assert_true(osh_json_bool(m, "isEqual", false));
	assert_false(osh_json_bool(m, "isRegex", true));
	json_object_put(s);
}

static void
ack_silence_matches_every_label(void **state)
{
	struct json_object *labels = json_tokener_parse(
	    "{\"alertname\":\"A\",\"server_id\":\"7\",\"name\":\"CPU\"}");
	struct json_object *s, *ms, *bad = json_tokener_parse("{\"a\":1}");
	struct json_object *none = json_object_new_object();

	(void)state;
	s = silence_for_labels(labels, NOW_MS, NOW_MS + 1000, "bob", "c", NULL);
	ms = json_object_object_get(s, "matchers");
	assert_int_equal(json_object_array_length(ms), 3);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *m = json_object_array_get_idx(ms, i);

		assert_true(osh_json_bool(m, "isEqual", false));
		assert_false(osh_json_bool(m, "isRegex", true));
	}
	assert_false(osh_json_has(s, "id"));
	json_object_put(s);
	assert_null(silence_for_labels(bad, 0, 1, "b", "c", NULL));
	assert_null(silence_for_labels(none, 0, 1, "b", "c", NULL));
	json_object_put(labels);
	json_object_put(bad);
	json_object_put(none);
}

/* The matcher value of a maintenance body's silence, or the field it is
 * refused for (prefixed with '!'). */
static void
maint(const char *text, char *out, size_t len)
{
	struct osh_err err = {0};
	struct json_object *o =
	    checked(text, maint_fields, maint_nfields, &err);
	struct maint_input m;
	struct json_object *s, *mt;

	if (o == NULL || maint_from_body(o, NOW_MS, 7 * DAY_S, &m, &err) != 0) {
		snprintf(out, len, "!%s", err.field);
		json_object_put(o);
		return;
	}
	s = silence_for_maint(&m, "carol");
	mt =
	    json_object_array_get_idx(json_object_object_get(s, "matchers"), 0);
	snprintf(out, len, "%s=~%s", osh_json_str(mt, "name", ""),
	    osh_json_str(mt, "value", ""));
	assert_true(osh_json_bool(mt, "isRegex", false));
	assert_string_equal(osh_json_str(s, "comment", ""), "maintenance: r");
	json_object_put(s);
	json_object_put(o);
}

#define W(target)                                                              \
	"{" target ",\"ends_at\":\"2026-01-01T04:00:00Z\",\"reason\":\"r\"}"

static void
maintenance_bodies(void **state)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
	    {W("\"server_ids\":[3,1]"), "server_id=~3|1"},
	    {W("\"cluster\":\"web\""), "clusters=~.*,web,.*"},
	    {W("\"cluster\":\"a.b (c)|d\""),
		"clusters=~.*,a\\.b \\(c\\)\\|d,.*"},
	    {W("\"server_ids\":[1],\"cluster\":\"web\""), "!server_ids"},
	    {"{\"ends_at\":\"2026-01-01T04:00:00Z\",\"reason\":\"r\"}",
		"!server_ids"},
	    {W("\"server_ids\":[1,1]"), "!server_ids[1]"},
	    {W("\"server_ids\":[0]"), "!server_ids[0]"},
	    {W("\"server_ids\":[\"1\"]"), "!server_ids[0]"},
	    {W("\"server_ids\":[]"), "!server_ids"},
	    {W("\"cluster\":\"a,b\""), "!cluster"},
	    {W("\"cluster\":\"a/b\""), "!cluster"},
	    {"{\"server_ids\":[1],\"ends_at\":\"2026-02-01T00:00:00Z\","
	     "\"reason\":\"r\"}",
		"!ends_at"},
	    {"{\"server_ids\":[1],\"ends_at\":\"2026-01-01T04:00:00Z\"}",
		"!reason"},
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		maint(cases[i].body, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, got,
			    cases[i].want);
	}
}

#define AM_SILENCE(id, state, matchers)                                        \
	"{\"id\":\"" id "\",\"status\":{\"state\":\"" state "\"},"             \
	"\"updatedAt\":\"2026-01-01T00:00:00.123456Z\",\"comment\":\"c\","     \
	"\"createdBy\":\"alice\",\"startsAt\":\"2026-01-01T00:00:00Z\","       \
	"\"endsAt\":\"2026-01-01T01:00:00Z\",\"matchers\":[" matchers "]}"
#define AM_M                                                                   \
	"{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false,\"isEqual\":true}"

static void
alertmanager_answers(void **state)
{
	const char *list = "[" AM_SILENCE(
	    "aa-1", "active", AM_M) "," AM_SILENCE("bb-2", "expired", "") "]";
	struct json_object *o, *m;
	char id[SILENCE_ID_MAX];

	(void)state;
	o = silence_answer(list, strlen(list), true, NULL);
	assert_int_equal(json_object_array_length(o), 2);
	json_object_put(o);
	o = silence_answer(list, strlen(list), true, "expired");
	assert_int_equal(json_object_array_length(o), 1);
	assert_string_equal(
	    osh_json_str(json_object_array_get_idx(o, 0), "id", ""), "bb-2");
	json_object_put(o);
	o = silence_answer(AM_SILENCE("aa-1", "active", AM_M),
	    strlen(AM_SILENCE("aa-1", "active", AM_M)), false, NULL);
	assert_string_equal(osh_json_str(o, "created_by", ""), "alice");
	assert_string_equal(
	    osh_json_str(o, "updated_at", ""), "2026-01-01T00:00:00.123Z");
	m = json_object_array_get_idx(json_object_object_get(o, "matchers"), 0);
	assert_true(osh_json_bool(m, "is_equal", false));
	json_object_put(o);
	/* Malformed: refused whole. */
	assert_null(silence_answer("{}", 2, true, NULL));
	assert_null(silence_answer("[{}]", 4, true, NULL));
	assert_null(silence_answer(AM_SILENCE("x/y", "active", ""),
	    strlen(AM_SILENCE("x/y", "active", "")), false, NULL));
	assert_null(silence_answer(AM_SILENCE("aa", "gone", ""),
	    strlen(AM_SILENCE("aa", "gone", "")), false, NULL));
	/* The id of a POST. */
	assert_true(silence_id_of("{\"silenceID\":\"ab-3\"}", 20, id, 64));
	assert_string_equal(id, "ab-3");
	assert_false(silence_id_of("{\"silenceID\":\"../x\"}", 20, id, 64));
	assert_false(silence_id_of("[]", 2, id, 64));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(silence_bodies),
	    cmocka_unit_test(silence_is_alertmanagers),
	    cmocka_unit_test(ack_silence_matches_every_label),
	    cmocka_unit_test(maintenance_bodies),
	    cmocka_unit_test(alertmanager_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
