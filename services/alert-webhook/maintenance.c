/* maintenance.c - HTTP <-> maintenance windows. A window is an
 * Alertmanager silence of its servers (server_id) or its cluster (the
 * clusters label), made first and then recorded (a silence whose record
 * fails is expired again); alerts whose time falls in a window say so
 * (alert_extra in the migrations). DELETE cancels a window: its silence
 * expired, the window ended at once. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/log.h>
#include <osh/util.h>

#include "ackstore.h"
#include "am.h"
#include "handlers.h"
#include "silence.h"

struct maint_op {
	struct aw_op o; /* first: handlers_op_new */
	struct json_object *body; /* the window asked (create) */
	struct maint_input in;
	int64_t id;
};

static void
finish(struct maint_op *op, const char *action, enum aw_result r,
    const char *json, const char *why)
{
	char target[40];

	snprintf(target, sizeof(target), "maintenance:%lld", (long long)op->id);
	handlers_op_end(&op->o, action, op->id > 0 ? target : "maintenance:new",
	    r, json, why);
	json_object_put(op->body);
	free(op);
}

static void
on_recorded(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct maint_op *op = arg;
	enum aw_result r = handlers_result_of(st);
	struct json_object *o;

	(void)state;
	if (r != AW_OK) {
		/* Not recorded: its silence must not stay. */
		am_silence_drop(op->o.app, op->o.silence);
		finish(op, "maintenance.create", r, NULL, NULL);
		return;
	}
	if ((o = json_tokener_parse(json)) != NULL) {
		op->id = osh_json_int(o, "id", 0);
		json_object_put(o);
	}
	finish(op, "maintenance.create", AW_CREATED, json, NULL);
}

static void
on_silenced(const struct am_answer *a, void *arg)
{
	struct maint_op *op = arg;
	char starts[OSH_TIME_LEN], ends[OSH_TIME_LEN];
	struct json_object *ids =
	    json_object_object_get(op->body, "server_ids");

	if (a->result != AW_OK) {
		finish(op, "maintenance.create", a->result, NULL, a->reason);
		return;
	}
	if (!silence_id_of(
		a->body, a->len, op->o.silence, sizeof(op->o.silence))) {
		finish(op, "maintenance.create", AW_AM_UNAVAILABLE, NULL, NULL);
		return;
	}
	maintstore_insert(handlers_db(op->o.req),
	    ids ? json_object_to_json_string_ext(ids, JSON_C_TO_STRING_PLAIN)
		: NULL,
	    op->in.cluster, osh_time_format(op->in.starts_ms, starts, 32),
	    osh_time_format(op->in.ends_ms, ends, 32), op->in.reason,
	    op->o.req->claims.name, op->o.silence, on_recorded, op);
}

/* POST /api/monitoring/maintenance {"server_ids" | "cluster",
 * "starts_at"?, "ends_at", "reason"}. */
void
h_maintenance_create(struct osh_req *req)
{
	struct maint_op *op;
	struct json_object *s;
	struct osh_err err;

	if ((op = handlers_op_new(req, sizeof(*op))) == NULL)
		return;
	if ((op->body = osh_req_json(req, maint_fields, maint_nfields)) ==
	    NULL) {
		free(op);
		return;
	}
	if (maint_from_body(op->body, osh_wall_ms(),
		op->o.app->cfg.maintenance_max_s, &op->in, &err) != 0) {
		handlers_audit(req, "maintenance.create", "maintenance:new",
		    AW_INVALID, NULL);
		osh_reply_err(req, &err);
		json_object_put(op->body);
		free(op);
		return;
	}
	s = silence_for_maint(&op->in, req->claims.name);
	am_silence_post(op->o.app,
	    json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
	    on_silenced, op);
	json_object_put(s);
}

/*
 * Reading.
 */

/* GET /api/monitoring/maintenance?state=&server_id=&limit=&offset=. */
void
h_maintenance_list(struct osh_req *req)
{
	static const char *const states[] = {
	    "active", "upcoming", "ended", "cancelled"};
	const char *state = osh_req_query(req, "state");
	const char *sid = osh_req_query(req, "server_id");
	const char *lim = osh_req_query(req, "limit");
	const char *off = osh_req_query(req, "offset");
	int64_t server_id = 0, limit = 50, offset = 0;
	bool known = state == NULL;

	for (size_t i = 0; !known && i < OSH_ARRAY_LEN(states); i++)
		known = strcmp(state, states[i]) == 0;
	if (!known) {
		osh_reply_error(req, 400, "validation_failed", "state",
		    "state must be active, upcoming, ended or cancelled");
		return;
	}
	if (sid != NULL && !osh_parse_int(sid, 1, INT64_MAX, &server_id)) {
		osh_reply_error(req, 400, "validation_failed", "server_id",
		    "server_id must be a server id");
		return;
	}
	if ((lim != NULL && !osh_parse_int(lim, 1, 500, &limit)) ||
	    (off != NULL && !osh_parse_int(off, 0, 1000000, &offset))) {
		osh_reply_error(req, 400, "validation_failed",
		    lim != NULL && !osh_parse_int(lim, 1, 500, &limit)
			? "limit"
			: "offset",
		    "limit is 1 to 500, offset 0 to 1000000");
		return;
	}
	maintstore_list(handlers_db(req), state, server_id, limit, offset,
	    handlers_on_json, req);
}

void
h_maintenance_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "maintenance window", &id))
		maintstore_get(handlers_db(req), id, handlers_on_json, req);
}

/*
 * Cancelling.
 */

static void
on_cancelled(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct maint_op *op = arg;
	enum aw_result r = handlers_result_of(st);

	(void)state;
	finish(op, "maintenance.cancel", r == AW_NOT_FOUND ? AW_CONFLICT : r,
	    json, "the window ended or was cancelled meanwhile");
}

static void
on_expired(const struct am_answer *a, void *arg)
{
	struct maint_op *op = arg;

	if (!am_gone(a)) {
		finish(op, "maintenance.cancel", a->result, NULL, a->reason);
		return;
	}
	maintstore_cancel(handlers_db(op->o.req), op->id,
	    op->o.req->claims.name, on_cancelled, op);
}

static void
on_window(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct maint_op *op = arg;
	enum aw_result r = handlers_result_of(st);
	struct json_object *o;
	const char *ws;

	(void)state;
	if (r != AW_OK || (o = json_tokener_parse(json)) == NULL) {
		finish(op, "maintenance.cancel",
		    r == AW_OK ? AW_UNAVAILABLE : r, NULL, NULL);
		return;
	}
	ws = osh_json_str(o, "state", "");
	osh_strlcpy(op->o.silence, osh_json_str(o, "silence_id", ""),
	    sizeof(op->o.silence));
	if (strcmp(ws, "ended") == 0 || strcmp(ws, "cancelled") == 0) {
		json_object_put(o);
		finish(op, "maintenance.cancel", AW_CONFLICT, NULL,
		    "the window has ended or is cancelled already");
		return;
	}
	json_object_put(o);
	am_silence_expire(op->o.app, op->o.silence, on_expired, op);
}

/* DELETE /api/monitoring/maintenance/{id}: cancels the window. */
void
h_maintenance_delete(struct osh_req *req)
{
	struct maint_op *op;
	int64_t id;

	if (!osh_req_id(req, "id", "maintenance window", &id) ||
	    (op = handlers_op_new(req, sizeof(*op))) == NULL)
		return;
	op->id = id;
	maintstore_get(handlers_db(req), id, on_window, op);
}
