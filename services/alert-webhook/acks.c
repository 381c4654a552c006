/* acks.c - HTTP <-> acknowledgements. An ack is an Alertmanager silence
 * of exactly the alert (every label an equality matcher), made first;
 * then it is recorded (ackstore.h), and a silence whose record fails is
 * expired again. ackkeeper.c extends it while the alert fires and
 * expires it when the alert resolves. DELETE expires it and records the
 * ack as undone. */
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
#include "store.h"

static const struct osh_field ack_fields[] = {
    {"comment", OSH_FIELD_STRING, true, false, 1, SILENCE_COMMENT_MAX, NULL},
    {"ends_at", OSH_FIELD_STRING, false, true, 1, 40, NULL},
};

/* An ack (or its undoing) under way. */
struct ack_op {
	struct aw_op o; /* first: handlers_op_new */
	int64_t alert_id, ack_id;
	int64_t until_ms; /* -1: until the alert resolves */
	int64_t ends_ms; /* the silence's first end */
	char *comment;
};

static void
op_free(struct ack_op *op)
{
	free(op->comment);
	free(op);
}

static struct ack_op *
op_new(struct osh_req *req)
{
	struct ack_op *op = handlers_op_new(req, sizeof(*op));

	if (op != NULL)
		op->until_ms = -1;
	return op;
}

/* Audits the op's outcome and answers: json (AW_OK, AW_CREATED) or why. */
static void
finish(struct ack_op *op, const char *action, enum aw_result r,
    const char *json, const char *why)
{
	char target[32];

	snprintf(target, sizeof(target), "alert:%lld", (long long)op->alert_id);
	handlers_op_end(&op->o, action, target, r, json, why);
	op_free(op);
}

/* After an ack was recorded or ended (json: {"ack", "event"}): publishes
 * event 'type', then answers the ack (r) and audits 'action'. */
static void
publish_finish(struct ack_op *op, const char *action, const char *type,
    enum aw_result r, const char *json)
{
	struct json_object *o = json_tokener_parse(json), *ev, *ack;
	const char *text = NULL;

	if (json_object_object_get_ex(o, "event", &ev))
		events_publish(
		    op->o.app->svc->redis, type, json_object_get(ev));
	if (json_object_object_get_ex(o, "ack", &ack))
		text =
		    json_object_to_json_string_ext(ack, JSON_C_TO_STRING_PLAIN);
	finish(op, action, r, text, NULL);
	json_object_put(o);
}

static void
on_recorded(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ack_op *op = arg;
	enum aw_result r = handlers_result_of(st);

	(void)state;
	if (st == OSH_DB_CONFLICT)
		r = AW_CONFLICT;
	else if (st == OSH_DB_NOT_FOUND)
		r = AW_CONFLICT; /* it resolved meanwhile */
	if (r != AW_OK) {
		am_silence_drop(op->o.app, op->o.silence);
		finish(op, "alert.ack", r, NULL,
		    r == AW_CONFLICT ? "the alert resolved or was "
				       "acknowledged meanwhile"
				     : NULL);
		return;
	}
	publish_finish(op, "alert.ack", "alert.acknowledged", AW_CREATED, json);
}

static void
on_silenced(const struct am_answer *a, void *arg)
{
	struct ack_op *op = arg;
	char until[OSH_TIME_LEN], ends[OSH_TIME_LEN];

	if (a->result != AW_OK) {
		finish(op, "alert.ack", a->result, NULL, a->reason);
		return;
	}
	if (!silence_id_of(
		a->body, a->len, op->o.silence, sizeof(op->o.silence))) {
		finish(op, "alert.ack", AW_AM_UNAVAILABLE, NULL, NULL);
		return;
	}
	ackstore_insert(handlers_db(op->o.req), op->alert_id, op->o.silence,
	    op->comment, op->o.req->claims.name,
	    op->until_ms >= 0 ? osh_time_format(op->until_ms, until, 32) : NULL,
	    osh_time_format(op->ends_ms, ends, sizeof(ends)), on_recorded, op);
}

static void
on_target(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ack_op *op = arg;
	struct json_object *o, *silence;
	char comment[SILENCE_COMMENT_MAX * 4 + 64];
	enum aw_result r = handlers_result_of(st);
	int64_t now = osh_wall_ms();

	(void)state;
	if (r != AW_OK || (o = json_tokener_parse(json)) == NULL) {
		finish(op, "alert.ack", r == AW_OK ? AW_UNAVAILABLE : r, NULL,
		    NULL);
		return;
	}
	if (strcmp(osh_json_str(o, "state", ""), "resolved") == 0 ||
	    osh_json_bool(o, "acked", false)) {
		finish(op, "alert.ack", AW_CONFLICT, NULL,
		    osh_json_bool(o, "acked", false)
			? "the alert is acknowledged already"
			: "the alert is resolved");
		json_object_put(o);
		return;
	}
	op->ends_ms = now + op->o.app->cfg.ack_extend_s * 1000;
	if (op->until_ms >= 0 && op->until_ms < op->ends_ms)
		op->ends_ms = op->until_ms;
	snprintf(comment, sizeof(comment), "ack of alert %lld: %s",
	    (long long)op->alert_id, op->comment);
	silence = silence_for_labels(json_object_object_get(o, "labels"), now,
	    op->ends_ms, op->o.req->claims.name, comment, NULL);
	json_object_put(o);
	if (silence == NULL) {
		finish(op, "alert.ack", AW_CONFLICT, NULL,
		    "the alert has no labels to silence");
		return;
	}
	am_silence_post(op->o.app,
	    json_object_to_json_string_ext(silence, JSON_C_TO_STRING_PLAIN),
	    on_silenced, op);
	json_object_put(silence);
}

/* POST /api/monitoring/alerts/{id}/ack {"comment", "ends_at"?}. */
void
h_alerts_ack(struct osh_req *req)
{
	struct json_object *body;
	struct ack_op *op;
	const char *until;
	int64_t id, max_ms;

	if (!osh_req_id(req, "id", "alert", &id))
		return;
	if ((body = osh_req_json(req, ack_fields, OSH_ARRAY_LEN(ack_fields))) ==
	    NULL)
		return;
	if ((op = op_new(req)) == NULL)
		goto out_put;
	op->alert_id = id;
	max_ms = osh_wall_ms() + op->o.app->cfg.silence_max_s * 1000;
	if ((until = osh_json_str(body, "ends_at", NULL)) != NULL &&
	    (!osh_time_parse(until, &op->until_ms) ||
		op->until_ms <= osh_wall_ms() || op->until_ms > max_ms)) {
		osh_reply_error(req, 400, "validation_failed", "ends_at",
		    "ends_at must be a time in the future, within %lld days",
		    (long long)(op->o.app->cfg.silence_max_s / 86400));
		op_free(op);
		goto out_put;
	}
	if ((op->comment = strdup(osh_json_str(body, "comment", ""))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		op_free(op);
		goto out_put;
	}
	ackstore_target(handlers_db(req), id, on_target, op);
out_put:
	json_object_put(body);
}

/*
 * DELETE .../ack.
 */

static void
on_undone(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ack_op *op = arg;
	enum aw_result r = handlers_result_of(st);

	(void)state;
	if (r != AW_OK) {
		finish(op, "alert.unack", r == AW_NOT_FOUND ? AW_CONFLICT : r,
		    NULL, "the ack ended meanwhile");
		return;
	}
	publish_finish(op, "alert.unack", "alert.unacknowledged", AW_OK, json);
}

static void
on_expired(const struct am_answer *a, void *arg)
{
	struct ack_op *op = arg;

	if (!am_gone(a)) {
		finish(op, "alert.unack", a->result, NULL, a->reason);
		return;
	}
	ackstore_end(handlers_db(op->o.req), op->ack_id, "undone",
	    op->o.req->claims.name, on_undone, op);
}

static void
on_active(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ack_op *op = arg;
	enum aw_result r = handlers_result_of(st);
	struct json_object *o;
	char why[64];

	(void)state;
	if (r != AW_OK || (o = json_tokener_parse(json)) == NULL) {
		snprintf(why, sizeof(why), "alert %lld has no active ack",
		    (long long)op->alert_id);
		finish(op, "alert.unack", r == AW_OK ? AW_UNAVAILABLE : r, NULL,
		    r == AW_NOT_FOUND ? why : NULL);
		return;
	}
	op->ack_id = osh_json_int(o, "id", 0);
	osh_strlcpy(op->o.silence, osh_json_str(o, "silence_id", ""),
	    sizeof(op->o.silence));
	json_object_put(o);
	am_silence_expire(op->o.app, op->o.silence, on_expired, op);
}

/* DELETE /api/monitoring/alerts/{id}/ack. */
void
h_alerts_unack(struct osh_req *req)
{
	struct ack_op *op;
	int64_t id;

	if (!osh_req_id(req, "id", "alert", &id) || (op = op_new(req)) == NULL)
		return;
	op->alert_id = id;
	ackstore_active(handlers_db(req), id, on_active, op);
}
