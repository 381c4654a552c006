/* jobs.c - HTTP <-> jobs: create (or plan), list, get, tasks, cancel,
 * pause, resume and retry. Every change is audited and published as a
 * job.* event; the scheduler (scheduler.c) sees it in the database. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/json.h>
#include <osh/util.h>

#include "handlers.h"
#include "jobinput.h"
#include "jobs.h"
#include "jobevents.h"
#include "jobstore.h"
#include "scheduler.h"
#include "store.h"

#define IDEMPOTENCY_KEY_MAX 128

enum cm_result
jobs_result_of(enum osh_db_status st, const char *sqlstate)
{
	static const struct {
		const char *state;
		enum cm_result r;
	} raised[] = {
	    {"OSJ01", CM_JOB_REFUSED},
	    {"OSJ02", CM_NO_CLUSTER},
	    {"OSJ03", CM_KEY_REUSED},
	    {"OSJ04", CM_NOTHING_FAILED},
	    {"OSJ05", CM_JOB_LIVE},
	};

	if (st == OSH_DB_NOT_FOUND)
		return CM_JOB_NOT_FOUND;
	if (st == OSH_DB_RAISED && sqlstate != NULL)
		for (size_t i = 0; i < OSH_ARRAY_LEN(raised); i++)
			if (strcmp(sqlstate, raised[i].state) == 0)
				return raised[i].r;
	return handlers_result_of(st);
}

static void
audit(struct osh_req *req, const char *action, int64_t id, bool ok,
    struct json_object *details)
{
	char target[32];

	snprintf(target, sizeof(target), "job:%lld", (long long)id);
	osh_audit_req(osh_service_of(req)->audit, req, action,
	    id > 0 ? target : NULL, ok ? "success" : "failure", details);
}

/* job.* on osh:events with the job's id, state and action. */
static void
publish(struct osh_req *req, const char *type, struct json_object *job)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(
	    d, "id", json_object_new_int64(osh_json_int(job, "id", 0)));
	json_object_object_add(
	    d, "state", json_object_new_string(osh_json_str(job, "state", "")));
	json_object_object_add(d, "action",
	    json_object_new_string(osh_json_str(job, "action", "")));
	json_object_object_add(
	    d, "by", json_object_new_string(req->claims.name));
	events_publish(osh_service_of(req)->redis, type, d);
}

static void
on_json(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	handlers_reply(arg, jobs_result_of(st, sqlstate), json);
}

/*
 * Create, or plan.
 */

struct create {
	struct osh_req *req;
	struct json_object *details; /* for the audit */
	int64_t retry_of;
};

static void
on_created(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct create *c = arg;
	enum cm_result r = jobs_result_of(st, sqlstate);
	struct json_object *o = NULL, *job = NULL;
	bool existing = false;

	if (r == CM_OK && (o = json_tokener_parse(json)) != NULL) {
		job = json_object_object_get(o, "job");
		existing = osh_json_bool(o, "existing", false);
	}
	if (r == CM_OK && job == NULL)
		r = CM_UNAVAILABLE;
	if (r == CM_JOB_NOT_FOUND && c->retry_of == 0)
		r = CM_UNAVAILABLE;
	if (!existing) {
		int64_t id = job ? osh_json_int(job, "id", 0) : 0;

		if (c->retry_of > 0) {
			json_object_object_add(
			    c->details, "new_job", json_object_new_int64(id));
			id = c->retry_of;
		}
		audit(c->req, c->retry_of ? "job.retry" : "job.create", id,
		    job != NULL, json_object_get(c->details));
		if (job != NULL) {
			publish(c->req, "job.created", job);
			scheduler_kick(handlers_app(c->req)->sched);
		}
	}
	if (job == NULL) {
		handlers_reply(c->req, r, json);
	} else {
		if (existing)
			osh_resp_header(c->req, "Idempotency-Replayed", "true");
		handlers_reply(c->req, existing ? CM_OK : CM_CREATED,
		    json_object_to_json_string_ext(
			job, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(o);
	json_object_put(c->details);
	free(c);
}

static bool
key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x21 || k[i] > 0x7e)
			return false;
	return true;
}

void
h_jobs_create(struct osh_req *req)
{
	const char *key = osh_req_header(req, "Idempotency-Key");
	struct json_object *body, *spec = NULL;
	struct osh_err err;
	struct create *c;
	const char *text;

	if (key != NULL && !key_ok(key)) {
		osh_reply_error(req, 400, "validation_failed",
		    "Idempotency-Key",
		    "Idempotency-Key is 1 to %d visible ASCII characters",
		    IDEMPOTENCY_KEY_MAX);
		return;
	}
	body = osh_json_parse(req->body ? req->body : "",
	    req->body ? req->body_len : 0, OSH_JSON_MAX_DEPTH, &err);
	if (body == NULL || job_in_parse(body, &spec, &err) != 0) {
		osh_reply_err(req, &err);
		json_object_put(body);
		return;
	}
	text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
	if (osh_json_bool(spec, "dry_run", false)) {
		jobstore_plan(handlers_db(req), text, on_json, req);
		goto out_put;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		goto out_put;
	}
	c->req = req;
	c->details = osh_audit_fields(body);
	json_object_object_add(c->details, "action",
	    json_object_new_string(osh_json_str(spec, "action", "")));
	jobstore_create(
	    handlers_db(req), text, req->claims.name, key, on_created, c);
out_put:
	json_object_put(spec);
	json_object_put(body);
}

void
h_jobs_retry(struct osh_req *req)
{
	struct create *c;
	int64_t id;

	if (!osh_req_id(req, "id", "job", &id))
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	c->req = req;
	c->retry_of = id;
	c->details = json_object_new_object();
	jobstore_retry(handlers_db(req), id, req->claims.name, on_created, c);
}

/*
 * Reading.
 */

void
h_jobs_list(struct osh_req *req)
{
	static const char *const extra[] = {
	    "state", "action", "creator", "cluster", "since", "until", NULL};
	const char *vals[6];
	struct jobstore_filter f = {0};
	int64_t n, ms;

	if (!handlers_paging(req, &f.limit, &f.offset, extra, vals))
		return;
	f.state = vals[0];
	f.action = vals[1];
	f.creator = vals[2];
	f.cluster = vals[3];
	f.since = vals[4];
	f.until = vals[5];
	if (f.state != NULL && jobstate_job_parse(f.state) < 0) {
		osh_reply_error(req, 400, "validation_failed", "state",
		    "state is queued, running, paused, succeeded, failed or "
		    "cancelled");
		return;
	}
	if (f.cluster != NULL && !osh_parse_int(f.cluster, 1, INT64_MAX, &n)) {
		osh_reply_error(req, 400, "validation_failed", "cluster",
		    "cluster is a cluster id");
		return;
	}
	if ((f.since != NULL && !osh_time_parse(f.since, &ms)) ||
	    (f.until != NULL && !osh_time_parse(f.until, &ms))) {
		osh_reply_error(req, 400, "validation_failed",
		    f.since != NULL && !osh_time_parse(f.since, &ms) ? "since"
								     : "until",
		    "since and until are RFC 3339 times");
		return;
	}
	if (f.action != NULL && strlen(f.action) > 32) {
		osh_reply_error(req, 400, "validation_failed", "action",
		    "action is too long");
		return;
	}
	if (f.creator != NULL && strlen(f.creator) > 256) {
		osh_reply_error(req, 400, "validation_failed", "creator",
		    "creator is too long");
		return;
	}
	jobstore_list(handlers_db(req), &f, on_json, req);
}

void
h_jobs_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "job", &id))
		jobstore_get(handlers_db(req), id, on_json, req);
}

void
h_jobs_tasks(struct osh_req *req)
{
	static const char *const extra[] = {"state", NULL};
	const char *vals[1];
	int64_t id, limit = 100, offset = 0;

	if (!osh_req_id(req, "id", "job", &id) ||
	    !handlers_paging(req, &limit, &offset, extra, vals))
		return;
	if (vals[0] != NULL && jobstate_task_parse(vals[0]) < 0) {
		osh_reply_error(
		    req, 400, "validation_failed", "state", "not a task state");
		return;
	}
	jobstore_tasks(
	    handlers_db(req), id, vals[0], limit, offset, on_json, req);
}

/*
 * Cancel, pause, resume.
 */

struct control {
	struct osh_req *req;
	int64_t id;
	const char *event; /* cancel, pause, resume */
};

static void
on_controlled(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct control *c = arg;
	enum cm_result r = jobs_result_of(st, sqlstate);
	struct json_object *job = NULL, *d = json_object_new_object();
	char action[32], type[32];

	snprintf(action, sizeof(action), "job.%s", c->event);
	snprintf(type, sizeof(type), "job.%s",
	    strcmp(c->event, "cancel") == 0	 ? "cancelled"
		: strcmp(c->event, "pause") == 0 ? "paused"
						 : "resumed");
	if (r != CM_OK)
		json_object_object_add(d, "refused",
		    json_object_new_string(
			r == CM_JOB_REFUSED ? "state" : "other"));
	audit(c->req, action, c->id, r == CM_OK, d);
	if (r == CM_OK && (job = json_tokener_parse(json)) != NULL) {
		struct json_object *e = json_object_new_object();

		publish(c->req, type, job);
		json_object_object_add(e, "id", json_object_new_int64(c->id));
		json_object_object_add(e, "state",
		    json_object_new_string(osh_json_str(job, "state", "")));
		json_object_object_add(
		    e, "event", json_object_new_string(c->event));
		jobevents_job(osh_service_of(c->req)->redis, e);
		json_object_put(e);
		scheduler_kick(handlers_app(c->req)->sched);
	}
	handlers_reply(c->req, r, json);
	json_object_put(job);
	free(c);
}

static void
control(struct osh_req *req, const char *event)
{
	struct control *c;
	int64_t id;

	if (!osh_req_id(req, "id", "job", &id))
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	c->req = req;
	c->id = id;
	c->event = event;
	jobstore_control(handlers_db(req), id, event, on_controlled, c);
}

void
h_jobs_cancel(struct osh_req *req)
{
	control(req, "cancel");
}

void
h_jobs_pause(struct osh_req *req)
{
	control(req, "pause");
}

void
h_jobs_resume(struct osh_req *req)
{
	control(req, "resume");
}
