/* sse.c - Server-Sent Events over a Redis stream, opened with a
 * single-use ticket (see sse.h). */
#include <event2/event.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/http.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/service.h>
#include <osh/sse.h>
#include <osh/util.h>

#define TICKET_BYTES 24
#define TICKET_LEN 32 /* base64url of TICKET_BYTES */
#define POLL_MS 250
#define HEARTBEAT_MS 15000
#define MAX_STREAM_MS (3600 * 1000)
#define ID_MAX 48
#define KEY_MAX 128

static unsigned nstreams;

/*
 * Tickets.
 */

struct ticket {
	struct osh_req *req;
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
		    o, "expires_in", json_object_new_int(OSH_SSE_TICKET_TTL_S));
		/* The ticket opens the stream: wiped once sent. */
		osh_reply_json_secret(t->req, 201, o);
	}
	sodium_memzero(t->ticket, sizeof(t->ticket));
	free(t);
}

void
osh_sse_ticket(struct osh_req *req, const char *scope)
{
	struct ticket *t;
	char val[OSH_SSE_SCOPE_MAX + OSH_NAME_MAX + 2];

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	t->req = req;
	osh_random_token(t->ticket, sizeof(t->ticket), TICKET_BYTES);
	snprintf(val, sizeof(val), "%s %s", scope, req->claims.name);
	if (osh_redis_cmd(osh_service_of(req)->redis, on_ticket_stored, t,
		"SET osh:sse-ticket:%s %s EX %d", t->ticket, val,
		OSH_SSE_TICKET_TTL_S) != 0) {
		osh_reply_error(req, 503, NULL, NULL, "redis unavailable");
		sodium_memzero(t->ticket, sizeof(t->ticket));
		free(t);
	}
}

/*
 * The stream.
 */

struct sse {
	struct osh_req *req;
	struct osh_service *svc;
	struct osh_redis *redis;
	struct event *timer;
	bool (*final)(const char *type, const char *data);
	char key[KEY_MAX];
	char last[ID_MAX]; /* the last stream id sent; "" to learn it */
	uint64_t started_ms, beat_ms;
	bool reading; /* a Redis command is under way */
	bool done; /* a final entry went out: close after this batch */
	bool closing; /* freed once the command answers */
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

/* Whether the stream goes on: its client is there, and the service is
 * not stopping (a stream ends then, so that the drain of requests in
 * flight is not held up to its deadline; clients reconnect). */
static bool
open_still(const struct sse *s)
{
	return osh_req_alive(s->req) && !s->svc->stopping;
}

static void
arm(struct sse *s, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(s->timer, &tv);
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
	if (s->final != NULL && s->final(type, data))
		s->done = true;
}

static bool
entry_ok(const redisReply *e)
{
	return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
	    e->element[0]->type == REDIS_REPLY_STRING &&
	    e->element[1]->type == REDIS_REPLY_ARRAY;
}

/* Answers XREVRANGE key + - COUNT 1: the stream's newest id is where a
 * stream from now on starts ("0" when it is empty). */
static void
on_tail(redisReply *reply, void *arg)
{
	struct sse *s = arg;

	s->reading = false;
	if (s->closing) {
		free(s);
		return;
	}
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		arm(s, 1000);
		return;
	}
	if (reply->elements == 1 && entry_ok(reply->element[0]))
		osh_strlcpy(s->last, reply->element[0]->element[0]->str,
		    sizeof(s->last));
	else
		osh_strlcpy(s->last, "0", sizeof(s->last));
	arm(s, 0);
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
	if (!open_still(s)) {
		sse_end(s);
		return;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == 1 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2 &&
	    (entries = reply->element[0]->element[1])->type ==
		REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < entries->elements && !s->done; i++)
			if (entry_ok(entries->element[i]))
				send_entry(s, entries->element[i]);
		if (entries->elements > 0 && !s->done) {
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
	int rc;

	(void)fd;
	(void)what;
	if (!open_still(s)) {
		sse_end(s);
		return;
	}
	s->reading = true;
	if (s->last[0] == '\0')
		rc = osh_redis_cmd(
		    s->redis, on_tail, s, "XREVRANGE %s + - COUNT 1", s->key);
	else
		rc = osh_redis_cmd(s->redis, on_read, s,
		    "XREAD COUNT 200 STREAMS %s %s", s->key, s->last);
	if (rc != 0) {
		s->reading = false;
		arm(s, 1000);
	}
}

bool
osh_sse_id_ok(const char *v)
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

/* A stream waiting for its ticket to be taken. */
struct opening {
	struct osh_req *req;
	char scope[OSH_SSE_SCOPE_MAX];
	struct sse *s;
};

static void
on_ticket_taken(redisReply *reply, void *arg)
{
	struct opening *op = arg;
	struct osh_req *req = op->req;
	struct sse *s = op->s;
	size_t n = strlen(op->scope);

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		osh_reply_error(req, 503, NULL, NULL, "redis unavailable");
		goto out_free;
	}
	if (reply->type != REDIS_REPLY_STRING ||
	    strncmp(reply->str, op->scope, n) != 0 || reply->str[n] != ' ') {
		osh_reply_error(req, 401, "unauthorized", "ticket",
		    "the ticket is unknown, used or expired, or for another "
		    "stream");
		goto out_free;
	}
	if (nstreams >= OSH_SSE_MAX_STREAMS) {
		osh_resp_header(req, "Retry-After", "5");
		osh_reply_error(req, 503, NULL, NULL, "too many event streams");
		goto out_free;
	}
	s->req = req;
	s->started_ms = s->beat_ms = osh_wall_ms();
	nstreams++;
	osh_resp_header(req, "Cache-Control", "no-cache");
	osh_resp_header(req, "X-Accel-Buffering", "no");
	osh_reply_start(req, 200, "text/event-stream");
	osh_reply_chunk(req, "retry: 2000\n\n", 13);
	arm(s, 0);
	free(op);
	return;
out_free:
	event_free(s->timer);
	free(s);
	free(op);
}

void
osh_sse_serve(struct osh_req *req, const struct osh_sse_stream *st)
{
	struct osh_service *svc = osh_service_of(req);
	const char *ticket = osh_req_query(req, "ticket");
	const char *last = osh_req_header(req, "Last-Event-ID");
	const char *last_name = "Last-Event-ID";
	struct opening *op;
	struct sse *s;
	size_t n;

	if (ticket == NULL || (n = strlen(ticket)) != TICKET_LEN ||
	    strspn(ticket,
		"0123456789abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != n) {
		osh_reply_error(req, 401, "unauthorized", "ticket",
		    "a ticket from %s is required", st->ticket_from);
		return;
	}
	/* A page opening a new EventSource (its ticket is spent) cannot set
	 * the header: it says where it was in the URL. */
	if (last == NULL &&
	    (last = osh_req_query(req, "last_event_id")) != NULL)
		last_name = "last_event_id";
	if (last != NULL && !osh_sse_id_ok(last)) {
		osh_reply_error(req, 400, "validation_failed", last_name,
		    "%s is an event id this stream sent", last_name);
		return;
	}
	op = calloc(1, sizeof(*op));
	s = calloc(1, sizeof(*s));
	if (op == NULL || s == NULL ||
	    (s->timer = evtimer_new(svc->base, on_timer, s)) == NULL) {
		free(op);
		free(s);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	op->req = req;
	op->s = s;
	osh_strlcpy(op->scope, st->scope, sizeof(op->scope));
	s->svc = svc;
	s->redis = svc->redis;
	s->final = st->final;
	osh_strlcpy(s->key, st->key, sizeof(s->key));
	/* "" asks the stream's newest id first (on_tail). */
	osh_strlcpy(s->last,
	    last	       ? last
		: st->from_now ? ""
			       : "0",
	    sizeof(s->last));
	if (osh_redis_cmd(svc->redis, on_ticket_taken, op,
		"GETDEL osh:sse-ticket:%s", ticket) != 0) {
		event_free(s->timer);
		free(s);
		free(op);
		osh_reply_error(req, 503, NULL, NULL, "redis unavailable");
	}
}
