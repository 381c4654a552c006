/* silences.c - HTTP <-> Alertmanager's silences: listed and read as
 * Alertmanager has them (silence.h's form), created or edited after
 * validation with createdBy the caller, expired. Silences that keep an
 * ack or a maintenance window are changed through those, not here
 * (409). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/util.h>

#include "ackstore.h"
#include "am.h"
#include "handlers.h"
#include "silence.h"

/* A call under way. */
struct sil_op {
	struct aw_op o; /* first: handlers_op_new; o.silence is the path's
			   id, or the body's to edit */
	struct json_object *posted; /* what is posted (create, edit) */
	const char *state; /* the list's filter (the request's) */
	const char *action; /* audited as (NULL: reading) */
};

static struct sil_op *
op_new(struct osh_req *req, const char *action)
{
	struct sil_op *op = handlers_op_new(req, sizeof(*op));

	if (op != NULL)
		op->action = action;
	return op;
}

/* Answers (audited when the op changes something) and frees op. */
static void
finish(struct sil_op *op, enum aw_result r, const char *json, const char *why)
{
	char target[16 + SILENCE_ID_MAX];

	snprintf(target, sizeof(target), "silence:%s",
	    op->o.silence[0] ? op->o.silence : "new");
	handlers_op_end(&op->o, op->action, target, r, json, why);
	json_object_put(op->posted);
	free(op);
}

static void
on_got(const struct am_answer *a, void *arg)
{
	struct sil_op *op = arg;
	struct json_object *s, *out;

	if (a->result != AW_OK) {
		finish(op, a->result, NULL, a->reason);
		return;
	}
	if ((s = silence_answer(a->body, a->len, op->o.silence[0] == '\0',
		 op->state)) == NULL) {
		finish(op, AW_AM_UNAVAILABLE, NULL, NULL);
		return;
	}
	if (op->o.silence[0] == '\0') {
		out = json_object_new_object();
		json_object_object_add(out, "total",
		    json_object_new_int64(
			(int64_t)json_object_array_length(s)));
		json_object_object_add(out, "items", s);
	} else {
		out = s;
	}
	finish(op, AW_OK,
	    json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN), NULL);
	json_object_put(out);
}

/* GET /api/monitoring/silences?state=active|pending|expired. */
void
h_silences_list(struct osh_req *req)
{
	const char *state = osh_req_query(req, "state");
	struct sil_op *op;

	if (state != NULL && strcmp(state, "active") != 0 &&
	    strcmp(state, "pending") != 0 && strcmp(state, "expired") != 0) {
		osh_reply_error(req, 400, "validation_failed", "state",
		    "state must be active, pending or expired");
		return;
	}
	if ((op = op_new(req, NULL)) == NULL)
		return;
	op->state = state;
	am_silences_get(op->o.app, NULL, on_got, op);
}

/* The path's silence id, checked (404 when it cannot be one). */
static bool
path_id(struct osh_req *req, char *buf, size_t len)
{
	const char *id = osh_req_param(req, "id");

	if (id == NULL || !silence_id_ok(id)) {
		osh_reply_error(req, 404, NULL, "id", "silence not found");
		return false;
	}
	osh_strlcpy(buf, id, len);
	return true;
}

void
h_silences_get(struct osh_req *req)
{
	struct sil_op *op;
	char id[SILENCE_ID_MAX];

	if (!path_id(req, id, sizeof(id)) || (op = op_new(req, NULL)) == NULL)
		return;
	osh_strlcpy(op->o.silence, id, sizeof(op->o.silence));
	am_silences_get(op->o.app, op->o.silence, on_got, op);
}

/*
 * Changes: the silence's owner checked first.
 */

static void
on_posted(const struct am_answer *a, void *arg)
{
	struct sil_op *op = arg;
	struct json_object *out;
	char id[SILENCE_ID_MAX];

	if (a->result != AW_OK) {
		finish(op, a->result, NULL, a->reason);
		return;
	}
	if (!silence_id_of(a->body, a->len, id, sizeof(id))) {
		finish(op, AW_AM_UNAVAILABLE, NULL, NULL);
		return;
	}
	/* The id Alertmanager answers is the silence's from now on (an
	 * edit may have replaced the silence). */
	out = json_object_new_object();
	json_object_object_add(out, "id", json_object_new_string(id));
	if (op->o.silence[0] != '\0')
		json_object_object_add(
		    out, "replaced_id", json_object_new_string(op->o.silence));
	osh_strlcpy(op->o.silence, id, sizeof(op->o.silence));
	finish(op, AW_CREATED,
	    json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN), NULL);
	json_object_put(out);
}

static void
on_expired(const struct am_answer *a, void *arg)
{
	finish(arg, a->result, NULL, a->reason);
}

static void
on_owner(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct sil_op *op = arg;
	struct json_object *o;
	char why[160];

	(void)state;
	if (st == OSH_DB_OK && (o = json_tokener_parse(json)) != NULL) {
		bool ack = strcmp(osh_json_str(o, "kind", ""), "ack") == 0;

		snprintf(why, sizeof(why),
		    ack ? "the silence keeps the ack of alert %lld: use "
			  "/api/monitoring/alerts/%lld/ack"
			: "the silence keeps maintenance window %lld: use "
			  "/api/monitoring/maintenance/%lld",
		    (long long)osh_json_int(o, "id", 0),
		    (long long)osh_json_int(o, "id", 0));
		json_object_put(o);
		finish(op, AW_CONFLICT, NULL, why);
		return;
	}
	if (st != OSH_DB_NOT_FOUND) {
		finish(op, handlers_result_of(st), NULL, NULL);
		return;
	}
	if (op->posted != NULL)
		am_silence_post(op->o.app,
		    json_object_to_json_string_ext(
			op->posted, JSON_C_TO_STRING_PLAIN),
		    on_posted, op);
	else
		am_silence_expire(op->o.app, op->o.silence, on_expired, op);
}

/* POST /api/monitoring/silences: create, or edit the body's id. */
void
h_silences_create(struct osh_req *req)
{
	struct json_object *body;
	struct sil_op *op;
	struct osh_err err;

	if ((body = osh_req_json(req, silence_fields, silence_nfields)) == NULL)
		return;
	if ((op = op_new(req, "silence.create")) == NULL)
		goto out_put;
	op->posted = silence_from_body(body, req->claims.name, osh_wall_ms(),
	    op->o.app->cfg.silence_max_s, &err);
	if (op->posted == NULL) {
		handlers_audit(
		    req, op->action, "silence:new", AW_INVALID, NULL);
		osh_reply_err(req, &err);
		free(op);
		goto out_put;
	}
	if (osh_json_has(body, "id")) {
		op->action = "silence.update";
		osh_strlcpy(op->o.silence, osh_json_str(body, "id", ""),
		    sizeof(op->o.silence));
		ackstore_silence_owner(
		    handlers_db(req), op->o.silence, on_owner, op);
	} else {
		on_owner(OSH_DB_NOT_FOUND, NULL, "", op);
	}
out_put:
	json_object_put(body);
}

/* DELETE /api/monitoring/silences/{id}: expires it. */
void
h_silences_delete(struct osh_req *req)
{
	struct sil_op *op;
	char id[SILENCE_ID_MAX];

	if (!path_id(req, id, sizeof(id)) ||
	    (op = op_new(req, "silence.expire")) == NULL)
		return;
	osh_strlcpy(op->o.silence, id, sizeof(op->o.silence));
	ackstore_silence_owner(handlers_db(req), op->o.silence, on_owner, op);
}
