/* jobsse.c - HTTP <-> a job's events as Server-Sent Events.
 *
 * EventSource cannot send an Authorization header, and a long-lived token
 * must not go in a URL: POST /api/jobs/{id}/events/ticket (with the
 * token, jobs:read) answers a ticket that GET /api/jobs/{id}/events
 * accepts once, within OSH_SSE_TICKET_TTL_S seconds, as ?ticket=. The
 * ticket lives in Redis (osh:sse-ticket:<ticket> -> job id, user) and is
 * taken with GETDEL, so it works once whichever replica gets it.
 *
 * The stream replays the job's Redis stream (jobevents.h) after
 * Last-Event-ID (or from its start), then follows it by polling, with a
 * comment line as heartbeat; it ends after the job's final state, or
 * after OSH_SSE_MAX_S so that proxies and clients reconnect. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/util.h>

#include "handlers.h"
#include "jobevents.h"
#include "jobs.h"
#include "jobstore.h"

#define TICKET_BYTES 24
#define TICKET_LEN 32 /* base64url of TICKET_BYTES */
#define TICKET_TTL_S 30
#define POLL_MS 250
#define HEARTBEAT_MS 15000
#define MAX_STREAM_MS (3600 * 1000)
#define MAX_STREAMS 256
#define ID_MAX 48

static unsigned nstreams;

/*
 * Tickets.
 */

struct ticket {
	struct osh_req *req;
	int64_t id;
	char ticket[2 * TICKET_BYTES + 1];
};

static void
on_ticket_stored(redisReply *reply, void *arg)
{
	struct ticket *t = arg;
	struct json_object *o;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		osh_reply_error(t->req, 503, NULL, NULL, "redis unavailable");
	} else {
		o = json_object_new_object();
		json_object_object_add(
		    o, "ticket", json_object_new_string(t->ticket));
		json_object_object_add(
		    o, "expires_in", json_object_new_int(TICKET_TTL_S));
		/* The ticket opens the stream: wiped once sent. */
		osh_reply_json_secret(t->req, 201, o);
	}
	free(t);
}

static void
on_job_for_ticket(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct ticket *t = arg;
	enum cm_result r = jobs_result_of(st, sqlstate);
	char val[64 + OSH_NAME_MAX];

	(void)json;
	if (r != CM_OK) {
		handlers_reply(t->req, r, NULL);
		free(t);
		return;
	}
	osh_random_token(t->ticket, sizeof(t->ticket), TICKET_BYTES);
	snprintf(
	    val, sizeof(val), "%lld %s", (long long)t->id, t->req->claims.name);
	if (osh_redis_cmd(osh_service_of(t->req)->redis, on_ticket_stored, t,
		"SET osh:sse-ticket:%s %s EX %d", t->ticket, val,
		TICKET_TTL_S) != 0) {
		osh_reply_error(t->req, 503, NULL, NULL, "redis unavailable");
		free(t);
	}
}

void
h_jobs_events_ticket(struct osh_req *req)
{
	struct ticket *t;
	int64_t id;

	if (!osh_req_id(req, "id", "job", &id))
		return;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	t->req = req;
	t->id = id;
	jobstore_get(handlers_db(req), id, on_job_for_ticket, t);
}

/*
 * The stream.
 */

struct sse {
	struct osh_req *req;
	struct osh_redis *redis;
	struct event *timer;
	int64_t id;
	char key[64];
	char last[ID_MAX]; /* the last stream id sent */
	uint64_t started_ms, beat_ms;
	bool reading; /* an XREAD is under way */
	bool done; /* the job ended: close after this batch */
	bool closing; /* freed once the XREAD answers */
};

static void
sse_end(struct sse *s)
{
	if (s->timer != NULL) {
		event_free(s->timer);
		s->timer = NULL;
	}
	if (s->req != NULL) {
		osh_reply_end(s->req);
		s->req = NULL;
		nstreams--;
	}
	if (s->reading) {
		s->closing = true;
		return;
	}
	free(s);
}

static void
arm(struct sse *s, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(s->timer, &tv);
}

static bool
final_state(const char *st)
{
	return strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
	    strcmp(st, "cancelled") == 0;
}

/* Writes one entry as an event: id, event (its type), data. */
static void
send_entry(struct sse *s, const redisReply *e)
{
	const redisReply *f = e->element[1];
	const char *type = "message", *data = "{}";
	struct osh_buf b;

	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		if (f->element[i]->type != REDIS_REPLY_STRING ||
		    f->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(f->element[i]->str, "type") == 0)
			type = f->element[i + 1]->str;
		else if (strcmp(f->element[i]->str, "data") == 0)
			data = f->element[i + 1]->str;
	}
	/* data is one line of JSON (compact, no raw newline). */
	osh_buf_init(&b, 64 * 1024);
	osh_buf_printf(&b, "id: %s\nevent: %s\ndata: %s\n\n",
	    e->element[0]->str, type, data);
	if (!b.overflow && b.data != NULL)
		osh_reply_chunk(s->req, b.data, b.len);
	osh_buf_release(&b);
	osh_strlcpy(s->last, e->element[0]->str, sizeof(s->last));
	s->beat_ms = osh_wall_ms();
	if (strcmp(type, "job") == 0) {
		struct json_object *o = json_tokener_parse(data);

		if (final_state(osh_json_str(o, "state", "")))
			s->done = true;
		json_object_put(o);
	}
}

static void
on_read(redisReply *reply, void *arg)
{
	struct sse *s = arg;
	const redisReply *entries;

	s->reading = false;
	if (s->closing) {
		free(s);
		return;
	}
	if (!osh_req_alive(s->req)) {
		sse_end(s);
		return;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == 1 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2 &&
	    (entries = reply->element[0]->element[1])->type ==
		REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < entries->elements; i++) {
			const redisReply *e = entries->element[i];

			if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
			    e->element[0]->type == REDIS_REPLY_STRING &&
			    e->element[1]->type == REDIS_REPLY_ARRAY)
				send_entry(s, e);
		}
		if (entries->elements > 0) {
			arm(s, 0); /* more may be waiting */
			return;
		}
	}
	if (s->done || osh_wall_ms() - s->started_ms > MAX_STREAM_MS) {
		sse_end(s);
		return;
	}
	if (osh_wall_ms() - s->beat_ms >= HEARTBEAT_MS) {
		osh_reply_chunk(s->req, ": heartbeat\n\n", 13);
		s->beat_ms = osh_wall_ms();
	}
	arm(s, POLL_MS);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sse *s = arg;

	(void)fd;
	(void)what;
	if (!osh_req_alive(s->req)) {
		sse_end(s);
		return;
	}
	s->reading = true;
	if (osh_redis_cmd(s->redis, on_read, s, "XREAD COUNT 200 STREAMS %s %s",
		s->key, s->last) != 0) {
		s->reading = false;
		arm(s, 1000);
	}
}

/* A stream id as Redis writes them: digits, '-', digits. */
static bool
stream_id_ok(const char *v)
{
	size_t n = strlen(v), dash = 0;

	if (n == 0 || n >= ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '-')
			dash++;
		else if (v[i] < '0' || v[i] > '9')
			return false;
	}
	return dash <= 1 && v[0] != '-' && v[n - 1] != '-';
}

struct opening {
	struct osh_req *req;
	int64_t id;
	char last[ID_MAX];
};

static void
on_ticket_taken(redisReply *reply, void *arg)
{
	struct opening *op = arg;
	struct osh_req *req = op->req;
	struct osh_service *svc = osh_service_of(req);
	struct sse *s;
	long long job = 0;
	int user = 0;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		osh_reply_error(req, 503, NULL, NULL, "redis unavailable");
		goto out_free;
	}
	if (reply->type != REDIS_REPLY_STRING ||
	    sscanf(reply->str, "%lld %n", &job, &user) != 1 || job != op->id) {
		osh_reply_error(req, 401, "unauthorized", "ticket",
		    "the ticket is unknown, used or expired, or for another "
		    "job");
		goto out_free;
	}
	if (nstreams >= MAX_STREAMS) {
		osh_resp_header(req, "Retry-After", "5");
		osh_reply_error(req, 503, NULL, NULL, "too many event streams");
		goto out_free;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->timer = evtimer_new(svc->base, on_timer, s)) == NULL) {
		free(s);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		goto out_free;
	}
	s->req = req;
	s->redis = svc->redis;
	s->id = op->id;
	jobevents_key(op->id, s->key, sizeof(s->key));
	osh_strlcpy(s->last, op->last, sizeof(s->last));
	s->started_ms = s->beat_ms = osh_wall_ms();
	nstreams++;
	osh_resp_header(req, "Cache-Control", "no-cache");
	osh_resp_header(req, "X-Accel-Buffering", "no");
	osh_reply_start(req, 200, "text/event-stream");
	osh_reply_chunk(req, "retry: 2000\n\n", 13);
	arm(s, 0);
out_free:
	free(op);
}

void
h_jobs_events(struct osh_req *req)
{
	const char *ticket = NULL, *last;
	struct opening *op;
	int64_t id;
	size_t n;

	if (!osh_req_id(req, "id", "job", &id))
		return;
	ticket = osh_req_query(req, "ticket");
	last = osh_req_header(req, "Last-Event-ID");
	if (ticket == NULL || (n = strlen(ticket)) != TICKET_LEN ||
	    strspn(ticket,
		"0123456789abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != n) {
		osh_reply_error(req, 401, "unauthorized", "ticket",
		    "a ticket from POST /api/jobs/%lld/events/ticket is "
		    "required",
		    (long long)id);
		return;
	}
	if (last != NULL && !stream_id_ok(last)) {
		osh_reply_error(req, 400, "validation_failed", "Last-Event-ID",
		    "Last-Event-ID is an event id this stream sent");
		return;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	op->req = req;
	op->id = id;
	osh_strlcpy(op->last, last ? last : "0", sizeof(op->last));
	if (osh_redis_cmd(osh_service_of(req)->redis, on_ticket_taken, op,
		"GETDEL osh:sse-ticket:%s", ticket) != 0) {
		free(op);
		osh_reply_error(req, 503, NULL, NULL, "redis unavailable");
	}
}
