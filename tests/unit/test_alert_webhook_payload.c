/* Unit tests: alert-webhook's pure parts: Alertmanager's webhook body and
 * /api/v2/alerts answer (payload.c), the alert list's query string
 * (query.c) and the bearer secret check (receiver.c). */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert-webhook/payload.h"
#include "alert-webhook/query.h"
#include "alert-webhook/receiver.h"
#include "alert-webhook/store.h"
#include "osh/crypto.h"
#include "osh/util.h"

#define ALERT(status, extra)                                                   \
	"{\"status\":\"" status "\",\"labels\":{\"alertname\":\"A\","          \
	"\"server_id\":\"7\"},\"annotations\":{\"summary\":\"s\"},"            \
	"\"startsAt\":\"2026-01-02T03:04:05.123456789Z\",\"endsAt\":"          \
	"\"0001-01-01T00:00:00Z\",\"fingerprint\":\"0123abcd\"" extra "}"

#define BODY(alerts, extra)                                                    \
	"{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"osh\","       \
	"\"alerts\":[" alerts "]" extra "}"

/* Parses a webhook body; returns the field named by the error, "" when
 * it parsed. */
static const char *
webhook(const char *body, struct payload *p, char *field, size_t len)
{
	struct osh_err err = {0};
	int rc = payload_webhook(body, strlen(body), p, &err);

	if (rc != 0)
		assert_int_equal(err.status, 400);
	osh_strlcpy(field, rc == 0 ? "" : err.field, len);
	return field;
}

static void
webhook_names_the_field(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {BODY(ALERT("firing", ""), ""), ""},
	    {BODY("", ""), ""},
	    {"[]", "body"},
	    {"{\"status\":\"firing\",\"alerts\":[]}", "version"},
	    {"{\"version\":\"3\",\"status\":\"firing\",\"alerts\":[]}",
		"version"},
	    {"{\"version\":4,\"status\":\"firing\",\"alerts\":[]}", "version"},
	    {"{\"version\":\"4\",\"status\":\"x\",\"alerts\":[]}", "status"},
	    {"{\"version\":\"4\",\"status\":\"firing\"}", "alerts"},
	    {"{\"version\":\"4\",\"status\":\"firing\",\"alerts\":{}}",
		"alerts"},
	    {BODY(ALERT("firing", ""), ",\"truncatedAlerts\":-1"),
		"truncatedAlerts"},
	    {BODY(ALERT("firing", ""), ",\"truncatedAlerts\":\"1\""),
		"truncatedAlerts"},
	    {BODY(ALERT("firing", ""), ",\"commonLabels\":[]"), "commonLabels"},
	    {BODY(ALERT("firing", ""), ",\"receiver\":1"), "receiver"},
	    {BODY(ALERT("firing", ""), ",\"unknownField\":1"), ""},
	    {BODY("1", ""), "alerts[0]"},
	    {BODY(ALERT("firing", "") "," ALERT("nope", ""), ""),
		"alerts[1].status"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"startsAt\":"
		  "\"2026-01-02T03:04:05Z\"}",
		 ""),
		"alerts[0].fingerprint"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"startsAt\":"
		  "\"2026-01-02T03:04:05Z\",\"fingerprint\":\"xyz\"}",
		 ""),
		"alerts[0].fingerprint"},
	    {BODY("{\"status\":\"firing\",\"startsAt\":"
		  "\"2026-01-02T03:04:05Z\",\"fingerprint\":\"ab\"}",
		 ""),
		"alerts[0].labels"},
	    {BODY("{\"status\":\"firing\",\"labels\":{\"a\":1},\"startsAt\":"
		  "\"2026-01-02T03:04:05Z\",\"fingerprint\":\"ab\"}",
		 ""),
		"alerts[0].labels"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"annotations\":[],"
		  "\"startsAt\":\"2026-01-02T03:04:05Z\",\"fingerprint\":"
		  "\"ab\"}",
		 ""),
		"alerts[0].annotations"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"fingerprint\":"
		  "\"ab\"}",
		 ""),
		"alerts[0].startsAt"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"startsAt\":"
		  "\"yesterday\",\"fingerprint\":\"ab\"}",
		 ""),
		"alerts[0].startsAt"},
	    {BODY("{\"status\":\"firing\",\"labels\":{},\"startsAt\":"
		  "\"0001-01-01T00:00:00Z\",\"fingerprint\":\"ab\"}",
		 ""),
		"alerts[0].startsAt"},
	    {BODY("{\"status\":\"resolved\",\"labels\":{},\"startsAt\":"
		  "\"2026-01-02T03:04:05Z\",\"endsAt\":"
		  "\"2026-01-01T03:04:05Z\",\"fingerprint\":\"ab\"}",
		 ""),
		"alerts[0].endsAt"},
	    {BODY(ALERT("firing", ",\"generatorURL\":5"), ""),
		"alerts[0].generatorURL"},
	    {"{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[] x", ""},
	};
	char field[OSH_ERR_FIELD_MAX];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct payload p;

		webhook(cases[i].body, &p, field, sizeof(field));
		payload_release(&p);
		if (strcmp(cases[i].body + strlen(cases[i].body) - 1, "x") == 0)
			continue; /* invalid JSON: no field */
		if (strcmp(field, cases[i].field) != 0)
			fail_msg("case %zu: field '%s', want '%s'", i, field,
			    cases[i].field);
	}
}

static void
webhook_rows(void **state)
{
	struct payload p;
	struct json_object *r;
	char field[OSH_ERR_FIELD_MAX];
	const char *body = BODY(ALERT("firing", "") "," ALERT("resolved",
				    ",\"status\":\"resolved\",\"endsAt\":"
				    "\"2026-01-02T04:00:00Z\""),
	    ",\"truncatedAlerts\":3");

	(void)state;
	/* The second alert's later members win (json-c keeps the last). */
	assert_string_equal(webhook(body, &p, field, sizeof(field)), "");
	assert_int_equal(p.nalerts, 2);
	assert_int_equal(p.truncated, 3);
	assert_string_equal(p.status, "firing");
	assert_string_equal(p.receiver, "osh");
	r = json_object_array_get_idx(p.rows, 0);
	assert_string_equal(
	    json_object_get_string(json_object_object_get(r, "fp")),
	    "0123abcd");
	assert_string_equal(
	    json_object_get_string(json_object_object_get(r, "starts_at")),
	    "2026-01-02T03:04:05.123Z");
	/* A firing alert's endsAt (a timeout, or Go's zero) is not kept. */
	assert_null(json_object_object_get(r, "ends_at"));
	assert_int_equal(
	    json_object_get_int64(json_object_object_get(r, "server_id")), 7);
	r = json_object_array_get_idx(p.rows, 1);
	assert_string_equal(
	    json_object_get_string(json_object_object_get(r, "state")),
	    "resolved");
	assert_string_equal(
	    json_object_get_string(json_object_object_get(r, "ends_at")),
	    "2026-01-02T04:00:00.000Z");
	payload_release(&p);
}

static void
poll_states(void **state)
{
	static const struct {
		const char *status, *state;
	} cases[] = {
	    {"{\"state\":\"active\",\"silencedBy\":[],\"inhibitedBy\":[]}",
		"firing"},
	    {"{\"state\":\"suppressed\",\"silencedBy\":[\"s1\"],"
	     "\"inhibitedBy\":[]}",
		"silenced"},
	    {"{\"state\":\"suppressed\",\"silencedBy\":[],"
	     "\"inhibitedBy\":[\"x\"]}",
		"inhibited"},
	    {"{\"state\":\"gone\"}", NULL},
	    {"{\"state\":\"active\",\"silencedBy\":{}}", NULL},
	    {"\"active\"", NULL},
	};
	char body[1024];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct payload p;
		struct osh_err err = {0};
		int rc;

		snprintf(body, sizeof(body),
		    "[{\"labels\":{\"alertname\":\"A\"},\"annotations\":{},"
		    "\"startsAt\":\"2026-01-02T03:04:05Z\",\"endsAt\":"
		    "\"2026-01-02T03:09:05Z\",\"fingerprint\":\"ab\","
		    "\"receivers\":[{\"name\":\"osh\"}],\"status\":%s}]",
		    cases[i].status);
		rc = payload_poll(body, strlen(body), &p, &err);
		if (cases[i].state == NULL) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.field, "[0].status");
		} else {
			struct json_object *r;

			assert_int_equal(rc, 0);
			r = json_object_array_get_idx(p.rows, 0);
			assert_string_equal(
			    json_object_get_string(
				json_object_object_get(r, "state")),
			    cases[i].state);
			assert_null(json_object_object_get(r, "ends_at"));
		}
		payload_release(&p);
	}
}

/* Parses "k=v&k=v" (no escapes) into params. */
static int
query(char *text, struct alert_query *q, char *field, size_t len)
{
	struct query_param p[16];
	struct osh_err err = {0};
	size_t n = 0;
	int rc;

	for (char *s = text, *save = NULL; *s != '\0' && n < 16; s = save) {
		char *amp = strchr(s, '&'), *eq;

		save = amp ? amp + 1 : s + strlen(s);
		if (amp)
			*amp = '\0';
		eq = strchr(s, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		p[n].key = s;
		p[n].value = eq + 1;
		n++;
	}
	rc = query_parse(p, n, q, &err);
	osh_strlcpy(field, rc == 0 ? "" : err.field, len);
	return rc;
}

static void
query_names_the_field(void **state)
{
	static const struct {
		const char *q, *field;
	} cases[] = {
	    {"", ""},
	    {"state=firing&severity=critical&server_id=3&cluster=c&"
	     "alertname=A&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z"
	     "&q=cpu&sort=starts_at&limit=500",
		""},
	    {"state=acknowledged", ""},
	    {"state=open", "state"},
	    {"severity=fatal", "severity"},
	    {"server_id=0", "server_id"},
	    {"server_id=x", "server_id"},
	    {"since=yesterday", "since"},
	    {"since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
	    {"sort=name", "sort"},
	    {"limit=0", "limit"},
	    {"limit=501", "limit"},
	    {"q=", "q"},
	    {"offset=10", "offset"},
	    {"state=firing&state=resolved", "state"},
	    {"cursor=d123_4", ""},
	    {"cursor=a123_4", "cursor"},
	    {"sort=starts_at&cursor=a123_4", ""},
	    {"cursor=a123_4&sort=starts_at", ""},
	    {"cursor=d123", "cursor"},
	    {"cursor=d_4", "cursor"},
	    {"cursor=d12_0", "cursor"},
	    {"cursor=dx_1", "cursor"},
	};
	char field[OSH_ERR_FIELD_MAX], text[512];
	struct alert_query q;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		osh_strlcpy(text, cases[i].q, sizeof(text));
		query(text, &q, field, sizeof(field));
		if (strcmp(field, cases[i].field) != 0)
			fail_msg("case %zu (%s): field '%s', want '%s'", i,
			    cases[i].q, field, cases[i].field);
	}
}

static void
query_cursor_round_trip(void **state)
{
	char cur[QUERY_CURSOR_MAX], text[128], field[OSH_ERR_FIELD_MAX];
	struct alert_query q;

	(void)state;
	query_cursor_format(false, 1767323045123456LL, 42, cur, sizeof(cur));
	assert_string_equal(cur, "d1767323045123456_42");
	snprintf(text, sizeof(text), "cursor=%s&limit=10", cur);
	assert_int_equal(query(text, &q, field, sizeof(field)), 0);
	assert_true(q.has_cursor);
	assert_int_equal(q.cursor_us, 1767323045123456LL);
	assert_int_equal(q.cursor_id, 42);
	assert_int_equal(q.limit, 10);
	assert_false(q.ascending);
}

/* A result shaped like the list statement's: 20 columns, rows of
 * values (NULL: SQL NULL). */
static PGresult *
list_result(const char *const (*rows)[20], int n)
{
	PGresAttDesc att[20];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(att, 0, sizeof(att));
	for (int c = 0; c < 20; c++)
		att[c].name = (char *)(uintptr_t) "c";
	assert_true(PQsetResultAttrs(res, 20, att));
	for (int r = 0; r < n; r++)
		for (int c = 0; c < 20; c++)
			assert_true(
			    PQsetvalue(res, r, c, (char *)(uintptr_t)rows[r][c],
				rows[r][c] ? (int)strlen(rows[r][c]) : -1));
	return res;
}

static void
list_render(void **state)
{
	static const char *const rows[][20] = {
	    {"1234", "7", "fp\"1", "Cpu", "critical", "firing", "t", "3",
		"node\n1", NULL, "s\\um\001", "{\"a\": \"b\"}",
		"2026-01-01T00:00:00.000Z", NULL, "2026-01-01T00:00:01.000Z",
		"2026-01-01T00:00:02.000Z", "0", "2", "1767225600000123", NULL},
	    {"1234", "6", "fp2", "Cpu", "info", "resolved", "f", NULL, NULL,
		NULL, NULL, "{}", "2026-01-01T00:00:00.000Z",
		"2026-01-01T00:00:03.000Z", "2026-01-01T00:00:00.000Z",
		"2026-01-01T00:00:00.000Z", "1", "1", "1767225600000000",
		"{\"id\": 1}"},
	};
	static const char *const empty[][20] = {{"0"}};
	struct osh_buf out;
	PGresult *res;

	(void)state;
	/* A page of one with a row past it: the cursor is the first's. */
	res = list_result(rows, 2);
	osh_buf_init(&out, 1 << 16);
	store_list_render(res, 1, false, &out);
	assert_string_equal(out.data,
	    "{\"items\":[{\"id\":7,\"fingerprint\":\"fp\\\"1\","
	    "\"alertname\":\"Cpu\",\"severity\":\"critical\","
	    "\"state\":\"firing\",\"acknowledged\":true,\"server_id\":3,"
	    "\"server_name\":\"node\\n1\",\"cluster\":null,"
	    "\"summary\":\"s\\\\um\\u0001\",\"labels\":{\"a\": \"b\"},"
	    "\"starts_at\":\"2026-01-01T00:00:00.000Z\",\"ends_at\":null,"
	    "\"first_seen_at\":\"2026-01-01T00:00:01.000Z\","
	    "\"last_seen_at\":\"2026-01-01T00:00:02.000Z\",\"repeats\":0,"
	    "\"fires\":2,\"maintenance\":null}],"
	    "\"next_cursor\":\"d1767225600000123_7\",\"total\":1000,"
	    "\"total_capped\":true}");
	osh_buf_release(&out);
	/* Both fit: no cursor. */
	osh_buf_init(&out, 1 << 16);
	store_list_render(res, 2, true, &out);
	assert_non_null(strstr(out.data,
	    "\"fires\":1,\"maintenance\":{\"id\": 1}}],\"next_cursor\":null"));
	osh_buf_release(&out);
	PQclear(res);
	/* No alert: the count's row alone. */
	res = list_result(empty, 1);
	osh_buf_init(&out, 1 << 16);
	store_list_render(res, 50, false, &out);
	assert_string_equal(out.data,
	    "{\"items\":[],\"next_cursor\":null,\"total\":0,"
	    "\"total_capped\":false}");
	osh_buf_release(&out);
	PQclear(res);
}

static void
bearer(void **state)
{
	unsigned char h[AW_SECRET_HASH_LEN];

	(void)state;
	receiver_secret_hash("s3cret", 6, h);
	assert_true(receiver_bearer_ok("Bearer s3cret", h));
	assert_true(receiver_bearer_ok("bearer s3cret", h));
	assert_false(receiver_bearer_ok("Bearer s3cre", h));
	assert_false(receiver_bearer_ok("Bearer s3cret ", h));
	assert_false(receiver_bearer_ok("Bearer ", h));
	assert_false(receiver_bearer_ok("Basic s3cret", h));
	assert_false(receiver_bearer_ok("s3cret", h));
	assert_false(receiver_bearer_ok(NULL, h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(webhook_names_the_field),
	    cmocka_unit_test(webhook_rows),
	    cmocka_unit_test(poll_states),
	    cmocka_unit_test(query_names_the_field),
	    cmocka_unit_test(query_cursor_round_trip),
	    cmocka_unit_test(list_render),
	    cmocka_unit_test(bearer),
	};

	osh_crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
