/* Unit tests: alert-webhook's metrics queries (promql.c): durations,
 * the bounds of ranges and steps (Prometheus' 11,000 points per series),
 * the named and fleet queries; and Prometheus' answers read into the
 * API's form (promans.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert-webhook/promans.h"
#include "alert-webhook/promql.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

static void
durations(void **state)
{
	static const struct {
		const char *s;
		int64_t want; /* 0: refused */
	} cases[] = {
	    {"", 0},
	    {"0", 0},
	    {"0s", 0},
	    {"-1", 0},
	    {"1", 1},
	    {"90s", 90},
	    {"1h", 3600},
	    {"1h30m", 5400},
	    {"1d", 86400},
	    {"1w", 604800},
	    {"2w3d", 17 * 86400},
	    {"31d", 31 * 86400},
	    {"32d", 0}, /* past the bound */
	    {"30m1h", 0}, /* units largest first */
	    {"1h1h", 0},
	    {"1ms", 0},
	    {"1.5h", 0},
	    {"h", 0},
	    {"1x", 0},
	    {"1h ", 0},
	    {"99999999999999999999s", 0},
	    {"2678400", 2678400},
	    {"2678401", 0},
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = promql_duration(cases[i].s, PROMQL_MAX_RANGE_S, &v);
		if (cases[i].want == 0) {
			assert_false(ok);
		} else {
			assert_true(ok);
			assert_int_equal(v, cases[i].want);
		}
	}
	assert_false(promql_duration(NULL, 10, &v));
}

static void
ranges(void **state)
{
	static const struct {
		const char *range, *step, *end;
		const char *field; /* NULL: accepted */
		int64_t span, step_s;
	} cases[] = {
	    {NULL, NULL, NULL, NULL, 3600, 8}, /* 1 h at ~500 points */
	    {"1h", "15s", NULL, NULL, 3600, 15},
	    {"7d", NULL, NULL, NULL, 7 * 86400, 1210},
	    {"31d", NULL, NULL, NULL, 31 * 86400, 5357},
	    {"5m", NULL, NULL, NULL, 300, 1},
	    /* 11,000 points exactly: 10,999 steps. */
	    {"10999s", "1s", NULL, NULL, 10999, 1},
	    {"11000s", "1s", NULL, "step", 0, 0},
	    {"1d", "1s", NULL, "step", 0, 0},
	    {"31d", "4m", NULL, "step", 0, 0},
	    {"31d", "5m", NULL, NULL, 31 * 86400, 300},
	    {"32d", NULL, NULL, "range", 0, 0},
	    {"1y", NULL, NULL, "range", 0, 0},
	    {"1h", "0s", NULL, "step", 0, 0},
	    {"1h", "2d", NULL, "step", 0, 0},
	    {"1h", "abc", NULL, "step", 0, 0},
	    {"1h", NULL, "yesterday", "end", 0, 0},
	    {"1h", NULL, "2025-12-31T00:00:00Z", NULL, 3600, 8},
	    {"1h", NULL, "1767139200", NULL, 3600, 8},
	};
	struct promql_range r;
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		int rc = promql_range_parse(
		    cases[i].range, cases[i].step, cases[i].end, NOW, &r, &err);
		if (cases[i].field != NULL) {
			assert_int_equal(rc, -1);
			assert_int_equal(err.status, 400);
			assert_string_equal(err.field, cases[i].field);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(r.end - r.start, cases[i].span);
		assert_int_equal(r.step, cases[i].step_s);
		assert_true(
		    (r.end - r.start) / r.step + 1 <= PROMQL_MAX_POINTS);
		if (cases[i].end == NULL)
			assert_int_equal(r.end, NOW);
		else
			assert_int_equal(r.end, 1767139200LL);
	}
}

static void
named_queries(void **state)
{
	char q[PROMQL_QUERY_MAX];

	(void)state;
	assert_true(promql_server_query("temperature", 3, q, sizeof(q)));
	assert_string_equal(q,
	    "{__name__=~\"ipmi_temperature_celsius|"
	    "ipmi_temperature_threshold_celsius\",server_id=\"3\"}");
	assert_true(promql_server_query("power", 12, q, sizeof(q)));
	assert_non_null(strstr(q, "ipmi_dcmi_power_consumption_watts"));
	assert_non_null(strstr(q, "server_id=\"12\""));
	for (size_t i = 0; promql_names[i] != NULL; i++)
		assert_true(
		    promql_server_query(promql_names[i], 1, q, sizeof(q)));
	assert_false(promql_server_query("temp", 1, q, sizeof(q)));
	assert_false(promql_server_query("up\"}", 1, q, sizeof(q)));
	assert_false(promql_server_query(NULL, 1, q, sizeof(q)));
	assert_false(promql_server_query("up", 0, q, sizeof(q)));
	assert_false(promql_server_query("temperature", 3, q, 20));
}

static void
fleet_queries(void **state)
{
	char q[PROMQL_QUERY_MAX];

	(void)state;
	assert_true(promql_hottest_query("temperature", 10, q, sizeof(q)));
	assert_string_equal(q,
	    "sort_desc(topk(10, max by (server_id, server_name, cluster) "
	    "(ipmi_temperature_celsius)))");
	for (size_t i = 0; promql_kinds[i] != NULL; i++)
		assert_true(
		    promql_hottest_query(promql_kinds[i], 1, q, sizeof(q)));
	assert_false(promql_hottest_query("temperature", 0, q, sizeof(q)));
	assert_false(promql_hottest_query(
	    "temperature", PROMQL_MAX_TOP + 1, q, sizeof(q)));
	assert_false(promql_hottest_query("voltage", 5, q, sizeof(q)));
	assert_true(promql_power_query("total", q, sizeof(q)));
	assert_true(strncmp(q, "sum((max by", 11) == 0);
	assert_true(promql_power_query("cluster", q, sizeof(q)));
	assert_non_null(strstr(q, "sum by (cluster)"));
	assert_true(promql_power_query("server", q, sizeof(q)));
	/* Each PSU once: DCMI, else the sensors that are not outputs, else
	 * the outputs (tests/integration/test_power_draw.py runs it). */
	assert_string_equal(q,
	    "sort_desc((max by (server_id, server_name, cluster) "
	    "(ipmi_dcmi_power_consumption_watts) or sum by (server_id, "
	    "server_name, cluster) (ipmi_power_watts{name!~\"(?i).*out.*\"}) "
	    "or sum by (server_id, server_name, cluster) "
	    "(ipmi_power_watts{name=~\"(?i).*out.*\"})))");
	assert_false(promql_power_query("rack", q, sizeof(q)));
	assert_false(promql_power_query(NULL, q, sizeof(q)));
}

/* promans_read of text: its kind, *out compared with want when OK. */
static void
answer(const char *text, size_t max, enum promans_kind kind, const char *want,
    const char *why)
{
	char w[128], *out = NULL;

	assert_int_equal(
	    promans_read(text, strlen(text), max, &out, w, sizeof(w)), kind);
	if (kind == PROMANS_OK) {
		assert_non_null(out);
		assert_string_equal(out, want);
	} else {
		assert_null(out);
	}
	if (why != NULL)
		assert_string_equal(w, why);
	free(out);
}

static void
prometheus_answers(void **state)
{
	(void)state;
	answer(
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	    "\"result\":[{\"metric\":{\"__name__\":\"ipmi_up\",\"server_id\":"
	    "\"3\"},\"values\":[[1767225600,\"1\"],[1767225615.5,\"NaN\"],"
	    "[1767225630,\"2.5e+01\"],[1767225645,\"+Inf\"]]}]}}",
	    10, PROMANS_OK,
	    "{\"result_type\":\"matrix\",\"series\":[{\"labels\":{\"__name__\":"
	    "\"ipmi_up\",\"server_id\":\"3\"},\"points\":[[1767225600,1],"
	    "[1767225615.5,null],[1767225630,2.5e+01],[1767225645,null]]}],"
	    "\"truncated\":false}",
	    NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	       "\"result\":[{\"metric\":{\"a\":\"1\"},\"value\":[1,\"1\"]},"
	       "{\"metric\":{\"a\":\"2\"},\"value\":[1,\"2\"]}]}}",
	    1, PROMANS_OK,
	    "{\"result_type\":\"vector\",\"series\":[{\"labels\":{\"a\":\"1\"},"
	    "\"points\":[[1,1]]}],\"truncated\":true}",
	    NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	       "\"result\":[1,\"3\"]}}",
	    1, PROMANS_OK,
	    "{\"result_type\":\"scalar\",\"series\":[{\"labels\":{},"
	    "\"points\":[[1,3]]}],\"truncated\":false}",
	    NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
	       "\"result\":[1,\"hi\"]}}",
	    1, PROMANS_OK,
	    "{\"result_type\":\"string\",\"series\":[{\"labels\":{},"
	    "\"points\":[[1,\"hi\"]]}],\"truncated\":false}",
	    NULL);
	/* Values Prometheus would not write are not numbers here either. */
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	       "\"result\":[{\"metric\":{},\"value\":[1,\"0x10\"]}]}}",
	    1, PROMANS_OK,
	    "{\"result_type\":\"vector\",\"series\":[{\"labels\":{},"
	    "\"points\":[[1,16.0]]}],\"truncated\":false}",
	    NULL);
	answer("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	       "\"parse error\"}",
	    1, PROMANS_BAD_QUERY, NULL, "parse error");
	answer("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":"
	       "\"query timed out\"}",
	    1, PROMANS_TIMEOUT, NULL, "query timed out");
	answer("{\"status\":\"error\",\"errorType\":\"execution\"}", 1,
	    PROMANS_FAILED, NULL, NULL);
	/* Malformed: not Prometheus'. */
	answer("", 1, PROMANS_FAILED, NULL, NULL);
	answer("[]", 1, PROMANS_FAILED, NULL, NULL);
	answer("{\"status\":\"success\"}", 1, PROMANS_FAILED, NULL, NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	       "\"result\":[{\"metric\":{\"a\":1},\"values\":[]}]}}",
	    1, PROMANS_FAILED, NULL, NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	       "\"result\":[{\"metric\":{},\"values\":[[1,2]]}]}}",
	    1, PROMANS_FAILED, NULL, NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	       "\"result\":[{\"metric\":{},\"value\":[1,\"1x\"]}]}}",
	    1, PROMANS_FAILED, NULL, NULL);
	answer("{\"status\":\"success\",\"data\":{\"resultType\":\"blob\","
	       "\"result\":[]}}",
	    1, PROMANS_FAILED, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(durations),
	    cmocka_unit_test(ranges),
	    cmocka_unit_test(named_queries),
	    cmocka_unit_test(fleet_queries),
	    cmocka_unit_test(prometheus_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
