/* metrics.c - HTTP <-> the metrics API: a server's named series over a
 * range, the fleet's hottest servers and power draw, and raw PromQL for
 * admins (audited), each one query to Prometheus (prom.h) built by
 * promql.h, answered within one deadline per request. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/util.h>

#include "handlers.h"
#include "prom.h"
#include "promql.h"
#include "serverknown.h"

/* A request under way: one deadline (OSH_PROMETHEUS_TIMEOUT_MS from the
 * request's start) for everything it waits on. Prometheus and, for a
 * server's series, server-mgmt (does the server exist?) are asked at the
 * same time; the answer goes when both have answered, at once when
 * server-mgmt says there is no such server or Prometheus fails, and at
 * the deadline with what there is: Prometheus' answer (server-mgmt
 * unsure) or a 504. The op lives until every call has called back. */
struct mq_op {
	struct osh_req *req; /* NULL once replied */
	struct event *deadline;
	char *head; /* members put before the answer's ("name": ...,), or
		       NULL */
	bool audited; /* a raw query: audited when it ends */
	char *query; /* the raw query, for the audit */
	int pending; /* calls that have not called back */
	bool prom_done, ask_known, known_done;
	enum aw_result r; /* Prometheus' answer, once prom_done */
	char *json, *why;
	enum server_known known;
	int64_t deadline_ms;
};

/* Only these query parameters; anything else is a 400 naming it. */
struct allowed {
	const char *const *names;
	const char *bad;
};

static bool
check_param(const char *key, const char *value, void *arg)
{
	struct allowed *a = arg;

	(void)value;
	for (const char *const *n = a->names; *n != NULL; n++)
		if (strcmp(*n, key) == 0)
			return true;
	a->bad = key;
	return false;
}

static bool
params_ok(struct osh_req *req, const char *const *names)
{
	struct allowed a = {names, NULL};

	osh_req_query_each(req, check_param, &a);
	if (a.bad == NULL)
		return true;
	osh_reply_error(
	    req, 400, "validation_failed", a.bad, "unknown query parameter");
	return false;
}

/* "a, b or c" of a NULL-terminated list. */
static const char *
listed(const char *const *l, char *buf, size_t len)
{
	struct osh_buf b;

	osh_buf_init(&b, len - 1);
	for (size_t i = 0; l[i] != NULL; i++)
		osh_buf_printf(&b, "%s%s",
		    i == 0 ? "" : (l[i + 1] == NULL ? " or " : ", "), l[i]);
	osh_strlcpy(buf, b.data ? b.data : "", len);
	osh_buf_release(&b);
	return buf;
}

static void
op_free(struct mq_op *op)
{
	if (op->deadline != NULL)
		event_free(op->deadline);
	free(op->head);
	free(op->query);
	free(op->json);
	free(op->why);
	free(op);
}

/* Sends Prometheus' answer (r, json, why), or a 504 when Prometheus has
 * not answered (timeout). */
static void
reply(struct mq_op *op, bool timeout)
{
	struct osh_req *req = op->req;
	enum aw_result r = timeout ? AW_PROM_TIMEOUT : op->r;
	struct osh_buf b;
	struct json_object *d;

	op->req = NULL;
	if (op->deadline != NULL)
		evtimer_del(op->deadline);
	if (op->audited) {
		d = json_object_new_object();
		json_object_object_add(
		    d, "query", json_object_new_string(op->query));
		handlers_audit(req, "monitoring.query", "promql", r, d);
	}
	if (timeout) {
		osh_reply_error(req, 504, NULL, NULL,
		    "prometheus did not answer within %lld ms",
		    (long long)op->deadline_ms);
	} else if (r == AW_OK && op->head != NULL && op->json != NULL &&
	    op->json[0] == '{') {
		osh_buf_init(&b, 16 * 1024 * 1024);
		if (osh_buf_puts(&b, op->head) == 0 &&
		    osh_buf_puts(&b, op->json + 1) == 0)
			handlers_reply(req, AW_OK, b.data);
		else
			handlers_fail(req, AW_PROM_UNAVAILABLE, NULL);
		osh_buf_release(&b);
	} else if (r == AW_OK) {
		handlers_reply(req, AW_OK, op->json);
	} else {
		handlers_fail(req, r, op->why);
	}
}

/* Replies when what has come in decides the answer; frees the op once
 * replied and every call has called back. */
static void
settle(struct mq_op *op)
{
	if (op->req != NULL) {
		if (op->ask_known && op->known_done &&
		    op->known == SERVER_UNKNOWN) {
			if (op->deadline != NULL)
				evtimer_del(op->deadline);
			osh_reply_error(
			    op->req, 404, NULL, NULL, "no such server");
			op->req = NULL;
		} else if (op->prom_done &&
		    (!op->ask_known || op->known_done || op->r != AW_OK)) {
			reply(op, false);
		}
	}
	if (op->req == NULL && op->pending == 0)
		op_free(op);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mq_op *op = arg;

	(void)fd;
	(void)what;
	if (op->req == NULL)
		return;
	/* server-mgmt still silent: as when it cannot say */
	reply(op, !op->prom_done);
	if (op->pending == 0)
		op_free(op);
}

static void
on_result(enum aw_result r, const char *json, const char *why, void *arg)
{
	struct mq_op *op = arg;

	op->pending--;
	op->prom_done = true;
	op->r = r;
	if ((json != NULL && (op->json = strdup(json)) == NULL) ||
	    (why != NULL && (op->why = strdup(why)) == NULL))
		op->r = AW_PROM_UNAVAILABLE;
	settle(op);
}

static void
on_known(enum server_known k, void *arg)
{
	struct mq_op *op = arg;

	op->pending--;
	op->known_done = true;
	op->known = k;
	settle(op);
}

/* Sends query (over range when not NULL), its answer preceded by the
 * members of head (JSON members with a trailing comma, or NULL); asks
 * server-mgmt first whether server id exists when id > 0 (404 when it
 * does not). */
static void
run(struct osh_req *req, const char *query, const struct promql_range *range,
    const char *head, const char *audit_query, int64_t id)
{
	struct aw_app *app = handlers_app(req);
	struct mq_op *op = calloc(1, sizeof(*op));
	struct timeval tv;

	if (op == NULL || (head != NULL && (op->head = strdup(head)) == NULL) ||
	    (audit_query != NULL &&
		(op->query = strdup(audit_query)) == NULL) ||
	    (op->deadline = evtimer_new(app->svc->base, on_deadline, op)) ==
		NULL) {
		if (op != NULL)
			op_free(op);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	op->req = req;
	op->audited = audit_query != NULL;
	op->deadline_ms = app->cfg.prometheus_timeout_ms;
	tv.tv_sec = (time_t)(op->deadline_ms / 1000);
	tv.tv_usec = (suseconds_t)(op->deadline_ms % 1000 * 1000);
	evtimer_add(op->deadline, &tv);
	/* Both counted before either may call back (at once, even). */
	op->pending = id > 0 ? 2 : 1;
	op->ask_known = id > 0;
	if (id > 0)
		server_known(app, id, on_known, op);
	prom_query(app, query, range, on_result, op);
}

/* The members an answer starts with: "query" (the PromQL run) after
 * members (JSON members with a trailing comma). */
static char *
head_with_query(const char *members, const char *query)
{
	struct json_object *q = json_object_new_string(query);
	struct osh_buf b;
	char *out = NULL;

	osh_buf_init(&b, 2 * PROMQL_QUERY_MAX + 512);
	if (q != NULL &&
	    osh_buf_printf(&b, "%s\"query\":%s,", members,
		json_object_to_json_string_ext(q,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) ==
		0)
		out = b.data;
	else
		osh_buf_release(&b);
	json_object_put(q);
	return out;
}

/* Runs query with the answer's members (a JSON object's start with a
 * trailing comma) and the query itself put first. */
static void
run_named(struct osh_req *req, const char *query,
    const struct promql_range *range, const char *members, int64_t id)
{
	char *head = head_with_query(members, query);

	if (head == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	run(req, query, range, head, NULL, id);
	free(head);
}

/* GET /api/monitoring/servers/{id}/metrics?name=&range=&step=&end=: 404
 * for an id server-mgmt has no server for (asked beside Prometheus; when
 * it cannot say in time, Prometheus' answer goes). */
void
h_metrics_server(struct osh_req *req)
{
	static const char *const allowed[] = {
	    "name", "range", "step", "end", NULL};
	const char *name = osh_req_query(req, "name");
	struct promql_range range;
	struct osh_err err;
	char names[256], q[PROMQL_QUERY_MAX], head[256];
	int64_t id;

	if (!osh_req_id(req, "id", "server", &id) || !params_ok(req, allowed))
		return;
	if (name == NULL || !promql_server_query(name, id, q, sizeof(q))) {
		osh_reply_error(req, 400, "validation_failed", "name",
		    "name must be %s",
		    listed(promql_names, names, sizeof(names)));
		return;
	}
	if (promql_range_parse(osh_req_query(req, "range"),
		osh_req_query(req, "step"), osh_req_query(req, "end"),
		osh_wall_s(), &range, &err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	/* name is one of promql_names: nothing to escape. */
	snprintf(head, sizeof(head),
	    "{\"server_id\":%lld,\"name\":\"%s\",\"start\":%lld,\"end\":%lld,"
	    "\"step\":%lld,",
	    (long long)id, name, (long long)range.start, (long long)range.end,
	    (long long)range.step);
	run_named(req, q, &range, head, id);
}

/* GET /api/monitoring/fleet/hottest?kind=&n= */
void
h_fleet_hottest(struct osh_req *req)
{
	static const char *const allowed[] = {"kind", "n", NULL};
	const char *kind = osh_req_query(req, "kind");
	const char *ns = osh_req_query(req, "n");
	char q[PROMQL_QUERY_MAX], head[128], kinds[128];
	int64_t n = 10;

	if (!params_ok(req, allowed))
		return;
	if (kind == NULL)
		kind = "temperature";
	if (ns != NULL && !osh_parse_int(ns, 1, PROMQL_MAX_TOP, &n)) {
		osh_reply_error(req, 400, "validation_failed", "n",
		    "n must be an integer from 1 to %d", PROMQL_MAX_TOP);
		return;
	}
	if (!promql_hottest_query(kind, n, q, sizeof(q))) {
		osh_reply_error(req, 400, "validation_failed", "kind",
		    "kind must be %s",
		    listed(promql_kinds, kinds, sizeof(kinds)));
		return;
	}
	snprintf(head, sizeof(head), "{\"kind\":\"%s\",\"n\":%lld,", kind,
	    (long long)n);
	run_named(req, q, NULL, head, 0);
}

/* GET /api/monitoring/fleet/power?by=total|cluster|server */
void
h_fleet_power(struct osh_req *req)
{
	static const char *const allowed[] = {"by", NULL};
	const char *by = osh_req_query(req, "by");
	char q[PROMQL_QUERY_MAX], head[64];

	if (!params_ok(req, allowed))
		return;
	if (by == NULL)
		by = "total";
	if (!promql_power_query(by, q, sizeof(q))) {
		osh_reply_error(req, 400, "validation_failed", "by",
		    "by must be total, cluster or server");
		return;
	}
	snprintf(head, sizeof(head), "{\"by\":\"%s\",", by);
	run_named(req, q, NULL, head, 0);
}

static const struct osh_field query_fields[] = {
    {"query", OSH_FIELD_STRING, true, false, 1, PROMQL_QUERY_MAX, NULL},
    {"range", OSH_FIELD_STRING, false, true, 1, 32, NULL},
    {"step", OSH_FIELD_STRING, false, true, 1, 32, NULL},
    {"end", OSH_FIELD_STRING, false, true, 1, 40, NULL},
};

static const char *
member(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* POST /api/monitoring/query {"query", "range", "step", "end"}: raw
 * PromQL (monitoring:query, admins), at now or over a bounded range;
 * audited as monitoring.query with the query. */
void
h_metrics_query(struct osh_req *req)
{
	struct json_object *body;
	struct promql_range r;
	struct osh_err err;
	const char *range, *step, *end;
	bool ranged;

	body = osh_req_json(req, query_fields, OSH_ARRAY_LEN(query_fields));
	if (body == NULL)
		return;
	range = member(body, "range");
	step = member(body, "step");
	end = member(body, "end");
	ranged = range != NULL || step != NULL;
	if (ranged &&
	    promql_range_parse(range, step, end, osh_wall_s(), &r, &err) != 0) {
		osh_reply_err(req, &err);
		goto out_put;
	}
	if (!ranged && end != NULL) {
		osh_reply_error(
		    req, 400, "validation_failed", "end", "end needs a range");
		goto out_put;
	}
	run(req, member(body, "query"), ranged ? &r : NULL, NULL,
	    member(body, "query"), 0);
out_put:
	json_object_put(body);
}
