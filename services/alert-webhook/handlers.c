/* handlers.c - HTTP <-> alerts (list, one alert), and what every handler
 * of the service shares (results). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "query.h"
#include "store.h"

enum aw_result
handlers_result_of(enum osh_db_status st)
{
	switch (st) {
	case OSH_DB_OK: return AW_OK;
	case OSH_DB_NOT_FOUND: return AW_NOT_FOUND;
	case OSH_DB_BUSY: return AW_BUSY;
	case OSH_DB_CONFLICT:
	case OSH_DB_INVALID:
	case OSH_DB_RAISED:
	case OSH_DB_ERROR: break;
	}
	return AW_UNAVAILABLE;
}

/* What the path's id names, for a 404. */
static const char *
noun(const struct osh_req *req)
{
	const char *p = req->route != NULL ? req->route->pattern : "";

	if (strstr(p, "/silences") != NULL)
		return "silence";
	if (strstr(p, "/maintenance") != NULL)
		return "maintenance window";
	return "alert";
}

static void
answer(struct osh_req *req, enum aw_result r, const char *json, const char *why)
{
	const char *id = osh_req_param(req, "id");

	switch (r) {
	case AW_OK:
	case AW_CREATED:
		if (json == NULL)
			json = "{}";
		osh_reply(req, r == AW_OK ? 200 : 201, "application/json", json,
		    strlen(json));
		return;
	case AW_NOT_FOUND:
		if (why != NULL)
			osh_reply_error(req, 404, NULL, "id", "%s", why);
		else
			osh_reply_error(req, 404, NULL, "id", "%s %s not found",
			    noun(req), id ? id : "");
		return;
	case AW_INVALID:
		osh_reply_error(req, 400, "validation_failed", NULL, "%s",
		    why ? why : "invalid");
		return;
	case AW_CONFLICT:
		osh_reply_error(
		    req, 409, NULL, NULL, "%s", why ? why : "conflict");
		return;
	case AW_BUSY:
		osh_reply_error(
		    req, 503, NULL, NULL, "database busy; try again");
		return;
	case AW_AM_UNAVAILABLE:
		osh_reply_error(
		    req, 503, NULL, NULL, "alertmanager unavailable");
		return;
	case AW_AM_TIMEOUT:
		osh_reply_error(req, 504, NULL, NULL,
		    "alertmanager did not answer in time");
		return;
	case AW_PROM_UNAVAILABLE:
		osh_reply_error(req, 503, NULL, NULL, "prometheus unavailable");
		return;
	case AW_PROM_TIMEOUT:
		osh_reply_error(
		    req, 504, NULL, NULL, "prometheus did not answer in time");
		return;
	case AW_UNAVAILABLE: break;
	}
	osh_reply_error(req, 503, NULL, NULL, "database unavailable");
}

void
handlers_reply(struct osh_req *req, enum aw_result r, const char *json)
{
	answer(req, r, json, NULL);
}

void
handlers_fail(struct osh_req *req, enum aw_result r, const char *why)
{
	answer(req, r, NULL, why);
}

void
handlers_audit(struct osh_req *req, const char *action, const char *target,
    enum aw_result r, struct json_object *details)
{
	osh_audit_req(osh_service_of(req)->audit, req, action, target,
	    r == AW_OK || r == AW_CREATED ? "success" : "failure", details);
}

void
handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	(void)state;
	handlers_reply(arg, handlers_result_of(st), json);
}

void *
handlers_op_new(struct osh_req *req, size_t size)
{
	struct aw_op *op = calloc(1, size);

	if (op == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return NULL;
	}
	op->req = req;
	op->app = handlers_app(req);
	return op;
}

void
handlers_op_end(struct aw_op *op, const char *action, const char *target,
    enum aw_result r, const char *json, const char *why)
{
	struct json_object *d;

	if (action != NULL) {
		d = json_object_new_object();
		if (op->silence[0] != '\0')
			json_object_object_add(d, "silence_id",
			    json_object_new_string(op->silence));
		handlers_audit(op->req, action, target, r, d);
	}
	if (r == AW_OK || r == AW_CREATED)
		handlers_reply(op->req, r, json);
	else
		handlers_fail(op->req, r, why);
}

#define MAX_PARAMS 16

struct params {
	struct query_param p[MAX_PARAMS];
	size_t n;
	bool overflow;
};

static bool
collect(const char *key, const char *value, void *arg)
{
	struct params *ps = arg;

	if (ps->n == MAX_PARAMS) {
		ps->overflow = true;
		return false;
	}
	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value;
	ps->n++;
	return true;
}

/* GET /api/monitoring/alerts: filters, sort and a keyset cursor
 * (query.h). */
void
h_alerts_list(struct osh_req *req)
{
	struct params ps = {.n = 0};
	struct alert_query q;
	struct osh_err err;

	osh_req_query_each(req, collect, &ps);
	if (ps.overflow) {
		osh_reply_error(req, 400, "validation_failed", NULL,
		    "too many query parameters");
		return;
	}
	if (query_parse(ps.p, ps.n, &q, &err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	store_alert_list(handlers_db(req), &q, handlers_on_json, req);
}

void
h_alerts_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "alert", &id))
		store_alert_get(handlers_db(req), id, handlers_on_json, req);
}
