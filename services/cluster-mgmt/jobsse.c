/* jobsse.c - HTTP <-> a job's events as Server-Sent Events (osh/sse.h):
 * POST /api/jobs/{id}/events/ticket (with the token, jobs:read) answers a
 * single-use ticket for that job, which GET /api/jobs/{id}/events takes
 * as ?ticket=. The stream replays the job's Redis stream (jobevents.h)
 * after Last-Event-ID (or from its start), follows it, and ends after the
 * job's final state. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/sse.h>

#include "handlers.h"
#include "jobevents.h"
#include "jobs.h"
#include "jobstore.h"

/* The ticket's scope: the job id. */
static void
scope_of(int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)id);
}

static void
on_job_for_ticket(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct osh_req *req = arg;
	enum cm_result r = jobs_result_of(st, sqlstate);
	char scope[32];
	int64_t id = 0;

	(void)json;
	if (r != CM_OK) {
		handlers_reply(req, r, NULL);
		return;
	}
	osh_req_id(req, "id", "job", &id); /* checked before the query */
	scope_of(id, scope, sizeof(scope));
	osh_sse_ticket(req, scope);
}

void
h_jobs_events_ticket(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "job", &id))
		jobstore_get(handlers_db(req), id, on_job_for_ticket, req);
}

/* A job event in a final state ends the stream. */
static bool
final_entry(const char *type, const char *data)
{
	struct json_object *o;
	const char *st;
	bool final;

	if (strcmp(type, "job") != 0)
		return false;
	o = json_tokener_parse(data);
	st = osh_json_str(o, "state", "");
	final = strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
	    strcmp(st, "cancelled") == 0;
	json_object_put(o);
	return final;
}

void
h_jobs_events(struct osh_req *req)
{
	char scope[32], key[64], from[64];
	struct osh_sse_stream st = {.scope = scope,
	    .key = key,
	    .ticket_from = from,
	    .from_now = false,
	    .final = final_entry};
	int64_t id;

	if (!osh_req_id(req, "id", "job", &id))
		return;
	scope_of(id, scope, sizeof(scope));
	jobevents_key(id, key, sizeof(key));
	snprintf(from, sizeof(from), "POST /api/jobs/%lld/events/ticket",
	    (long long)id);
	osh_sse_serve(req, &st);
}
