/* scheduler.c - the jobs scheduler: ticks, sends, and the results
 * consumer. One tick and one batch of results are in flight at a time. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osh/db.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/redis.h>
#include <osh/service.h>
#include <osh/util.h>

#include "cm.h"
#include "jobevents.h"
#include "jobstore.h"
#include "scheduler.h"
#include "store.h"

#define BATCH "100"
#define BLOCK_MS 1000
#define PRUNE_EVERY_MS (3600 * 1000)
#define MAX_HELD 4096

struct held;

struct scheduler {
	struct cm_app *app;
	struct osh_service *svc;
	struct osh_redis *r; /* the results consumer's own connection */
	struct event *tick;
	struct event *retry; /* consumer after an error */
	char name[160];
	bool loaded; /* the transitions are in the database */
	bool ticking; /* a tick is with the database */
	bool kicked; /* tick again right after */
	bool storing; /* results are with the database */
	bool closing;
	char **ids; /* stream ids of the results being stored */
	size_t nids;
	unsigned idle_reads;
	uint64_t last_prune_ms;
	struct held *held; /* requests waiting for their jitter */
	size_t nheld;
};

/* A request held back for jitter. */
struct held {
	struct scheduler *s;
	struct event *ev;
	struct json_object *req;
	struct held *next, *prev;
	bool releasing; /* asking the database */
};

static void tick_soon(struct scheduler *s, int ms);
static bool maybe_release(struct scheduler *s);
static void read_pending(struct scheduler *s);
static void read_new(struct scheduler *s);

/*
 * Sending.
 */

static void
send_request(struct scheduler *s, struct json_object *req)
{
	static const char *const keys[] = {"request_id", "job_id", "task_id",
	    "attempt", "server_id", "action", "deadline_ms", "requested_by"};
	const char *argv[6 + 2 * (OSH_ARRAY_LEN(keys) + 2)];
	char vals[OSH_ARRAY_LEN(keys)][128];
	int argc = 0;

	argv[argc++] = "XADD";
	argv[argc++] = POWER_REQUESTS;
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = "1000000";
	argv[argc++] = "*";
	argv[argc++] = "v";
	argv[argc++] = "1";
	for (size_t i = 0; i < OSH_ARRAY_LEN(keys); i++) {
		struct json_object *v = json_object_object_get(req, keys[i]);

		osh_strlcpy(vals[i], v ? json_object_get_string(v) : "",
		    sizeof(vals[i]));
		argv[argc++] = keys[i];
		argv[argc++] = vals[i];
	}
	argv[argc++] = "trace";
	argv[argc++] = vals[0];
	/* No callback: an XADD lost with the connection is an attempt
	 * without a result, which the next ticks count as lost and retry. */
	osh_redis_argv(s->svc->redis, NULL, NULL, argc, argv, NULL);
	osh_metric_add(s->app->m_requests, "", 1);
	jobevents_request(s->svc->redis, req);
}

static void
held_free(struct held *h)
{
	struct scheduler *s = h->s;

	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		s->held = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	s->nheld--;
	event_free(h->ev);
	json_object_put(h->req);
	free(h);
}

static void
on_released(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct held *h = arg;
	struct json_object *o = NULL;

	(void)sqlstate;
	h->releasing = false;
	if (h->s->closing) {
		struct scheduler *s = h->s;

		held_free(h);
		maybe_release(s);
		return;
	}
	if (st == OSH_DB_OK && (o = json_tokener_parse(json)) != NULL &&
	    osh_json_bool(o, "send", false))
		send_request(h->s, h->req);
	/* On a database error nothing is sent: the attempt is lost and
	 * retried, never sent behind a cancel. */
	json_object_put(o);
	held_free(h);
}

static void
on_held(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;

	(void)fd;
	(void)what;
	h->releasing = true;
	jobstore_release(h->s->svc->db, osh_json_int(h->req, "task_id", 0),
	    osh_json_int(h->req, "attempt", 0), on_released, h);
}

/* Sends now, or after its jitter once the database confirms that its job
 * still runs (a pause or cancel stored meanwhile recalls it). */
static void
dispatch(struct scheduler *s, struct json_object *req)
{
	int64_t delay = osh_json_int(req, "delay_ms", 0);
	struct timeval tv;
	struct held *h;

	if (delay <= 0 || s->nheld >= MAX_HELD) {
		send_request(s, req);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->ev = evtimer_new(s->svc->base, on_held, h)) == NULL) {
		free(h);
		send_request(s, req);
		return;
	}
	h->s = s;
	h->req = json_object_get(req);
	h->next = s->held;
	if (s->held != NULL)
		s->held->prev = h;
	s->held = h;
	s->nheld++;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(h->ev, &tv);
}

/*
 * Ticks.
 */

static void
publish_jobs(struct scheduler *s, struct json_object *jobs)
{
	size_t n = jobs ? json_object_array_length(jobs) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);
		const char *ev = osh_json_str(j, "event", "");
		char type[48];

		snprintf(type, sizeof(type), "job.%s",
		    strcmp(ev, "start") == 0		   ? "started"
			: strcmp(ev, "canary_failed") == 0 ? "paused"
							   : "finished");
		events_publish(s->svc->redis, type, json_object_get(j));
		jobevents_job(s->svc->redis, j);
	}
}

static void
on_ticked(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct scheduler *s = arg;
	struct json_object *o = NULL, *reqs;
	size_t n = 0;

	s->ticking = false;
	if (maybe_release(s))
		return;
	if (st != OSH_DB_OK) {
		osh_log_warn(NULL, "msg=\"scheduler tick failed\" sqlstate=%s",
		    sqlstate ? sqlstate : "");
		tick_soon(s, 1000);
		return;
	}
	if ((o = json_tokener_parse(json)) != NULL) {
		reqs = json_object_object_get(o, "requests");
		n = reqs ? json_object_array_length(reqs) : 0;
		for (size_t i = 0; i < n; i++)
			dispatch(s, json_object_array_get_idx(reqs, i));
		publish_jobs(s, json_object_object_get(o, "jobs"));
	}
	json_object_put(o);
	/* Picks left over for budgets or a full batch: go on quickly. */
	tick_soon(s, s->kicked || n > 0 ? 20 : (int)s->app->cfg.job_tick_ms);
	s->kicked = false;
}

static void
on_pruned(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	(void)arg;
	(void)sqlstate;
	if (st == OSH_DB_OK)
		osh_log_info(NULL, "msg=\"jobs pruned\" result=%s", json);
}

static void
on_loaded(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct scheduler *s = arg;

	(void)json;
	s->ticking = false;
	if (maybe_release(s))
		return;
	if (st != OSH_DB_OK) {
		osh_log_warn(NULL,
		    "msg=\"job transitions not stored, will retry\" "
		    "sqlstate=%s",
		    sqlstate ? sqlstate : "");
		tick_soon(s, 1000);
		return;
	}
	s->loaded = true;
	tick_soon(s, 0);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	uint64_t now = osh_wall_ms();

	(void)fd;
	(void)what;
	if (s->ticking || s->closing)
		return;
	s->ticking = true;
	if (!s->loaded) {
		jobstore_load_transitions(s->svc->db, on_loaded, s);
		return;
	}
	if (now - s->last_prune_ms > PRUNE_EVERY_MS) {
		s->last_prune_ms = now;
		jobstore_prune(s->svc->db, s->app->cfg.job_retention_days,
		    on_pruned, NULL);
	}
	jobstore_tick(s->svc->db, (int)s->app->cfg.job_max_picks,
	    (int)s->app->cfg.job_grace_ms, on_ticked, s);
}

static void
tick_soon(struct scheduler *s, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(s->tick, &tv);
}

void
scheduler_kick(struct scheduler *s)
{
	if (s == NULL)
		return;
	if (s->ticking)
		s->kicked = true;
	else
		tick_soon(s, 0);
}

/*
 * Results.
 */

static void
ids_free(struct scheduler *s)
{
	for (size_t i = 0; i < s->nids; i++)
		free(s->ids[i]);
	free(s->ids);
	s->ids = NULL;
	s->nids = 0;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	read_pending(arg);
}

static void
retry_later(struct scheduler *s)
{
	struct timeval tv = {1, 0};

	ids_free(s);
	evtimer_add(s->retry, &tv);
}

static void
on_acked(redisReply *reply, void *arg)
{
	struct scheduler *s = arg;

	ids_free(s);
	if (reply == NULL)
		return; /* the reconnection restarts the loop */
	read_new(s);
}

static void
on_stored(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct scheduler *s = arg;
	struct json_object *o;
	const char **argv;
	size_t argc = 0;

	s->storing = false;
	if (maybe_release(s)) /* the entries stay pending for the next run */
		return;
	if (st != OSH_DB_OK) {
		osh_log_warn(NULL,
		    "msg=\"power results not stored, will retry\" count=%zu "
		    "sqlstate=%s",
		    s->nids, sqlstate ? sqlstate : "");
		retry_later(s);
		return;
	}
	if ((o = json_tokener_parse(json)) != NULL) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n; i++)
			jobevents_task(
			    s->svc->redis, json_object_array_get_idx(o, i));
		json_object_put(o);
	}
	if ((argv = calloc(s->nids + 3, sizeof(*argv))) == NULL) {
		retry_later(s);
		return;
	}
	argv[argc++] = "XACK";
	argv[argc++] = POWER_RESULTS;
	argv[argc++] = POWER_GROUP;
	for (size_t i = 0; i < s->nids; i++)
		argv[argc++] = s->ids[i];
	osh_redis_argv(s->r, on_acked, s, (int)argc, argv, NULL);
	free(argv);
	scheduler_kick(s); /* a result frees room for the next picks */
}

/* One result entry as a JSON object of its fields. */
static struct json_object *
entry_json(const redisReply *fields)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i];
		const redisReply *v = fields->element[i + 1];
		char *key, *val;

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		key = osh_utf8_clean(k->str, k->len, 31);
		val = osh_utf8_clean(v->str, v->len, 1024);
		if (key != NULL && val != NULL)
			json_object_object_add(
			    o, key, json_object_new_string(val));
		free(key);
		free(val);
	}
	return o;
}

static size_t
take_batch(struct scheduler *s, const redisReply *reply)
{
	const redisReply *entries;
	struct json_object *arr;
	size_t n;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_ARRAY ||
	    reply->element[0]->elements != 2)
		return 0;
	entries = reply->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
		return 0;
	n = entries->elements;
	if ((s->ids = calloc(n, sizeof(*s->ids))) == NULL)
		return 0;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = entries->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		if ((s->ids[s->nids] = strdup(e->element[0]->str)) == NULL)
			continue;
		s->nids++;
		if (e->element[1]->type == REDIS_REPLY_ARRAY)
			json_object_array_add(arr, entry_json(e->element[1]));
	}
	osh_metric_add(
	    s->app->m_results, "", (double)json_object_array_length(arr));
	s->storing = true;
	jobstore_results(s->svc->db,
	    json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN),
	    on_stored, s);
	json_object_put(arr);
	return n;
}

static void
on_read(redisReply *reply, void *arg, bool pending)
{
	struct scheduler *s = arg;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		osh_log_warn(NULL,
		    "msg=\"power results read failed\" error=\"%s\"",
		    reply->str);
		retry_later(s);
		return;
	}
	if (take_batch(s, reply) > 0)
		return;
	if (pending || ++s->idle_reads % 15 != 0) {
		read_new(s);
		return;
	}
	read_pending(s);
}

static void
on_read_pending(redisReply *reply, void *arg)
{
	on_read(reply, arg, true);
}

static void
on_read_new(redisReply *reply, void *arg)
{
	on_read(reply, arg, false);
}

static void
read_new(struct scheduler *s)
{
	osh_redis_cmd(s->r, on_read_new, s,
	    "XREADGROUP GROUP " POWER_GROUP " %s COUNT " BATCH " BLOCK %d "
	    "STREAMS " POWER_RESULTS " >",
	    s->name, BLOCK_MS);
}

static void
on_claimed(redisReply *reply, void *arg)
{
	struct scheduler *s = arg;

	if (reply == NULL)
		return;
	osh_redis_cmd(s->r, on_read_pending, s,
	    "XREADGROUP GROUP " POWER_GROUP " %s COUNT " BATCH
	    " STREAMS " POWER_RESULTS " 0",
	    s->name);
}

/* Claims results idle with dead consumers, then reads our own pending. */
static void
read_pending(struct scheduler *s)
{
	osh_redis_cmd(s->r, on_claimed, s,
	    "XAUTOCLAIM " POWER_RESULTS " " POWER_GROUP
	    " %s %lld 0-0 COUNT " BATCH " JUSTID",
	    s->name, (long long)s->app->cfg.power_claim_idle_ms);
}

static void
on_group(redisReply *reply, void *arg)
{
	if (reply == NULL)
		return;
	read_pending(arg); /* BUSYGROUP: it exists, which is fine */
}

static void
on_connect(void *arg)
{
	struct scheduler *s = arg;

	osh_redis_cmd(s->r, on_group, s,
	    "XGROUP CREATE " POWER_RESULTS " " POWER_GROUP " 0 MKSTREAM");
}

struct scheduler *
scheduler_new(struct cm_app *app)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	char host[64] = "host";

	if (s == NULL)
		return NULL;
	s->app = app;
	s->svc = app->svc;
	s->last_prune_ms = 0;
	gethostname(host, sizeof(host) - 1);
	snprintf(
	    s->name, sizeof(s->name), "%s:%lld", host, (long long)getpid());
	s->tick = evtimer_new(s->svc->base, on_tick, s);
	s->retry = evtimer_new(s->svc->base, on_retry, s);
	if (s->tick == NULL || s->retry == NULL ||
	    (s->r = osh_service_redis_new(s->svc, BLOCK_MS)) == NULL) {
		scheduler_free(s);
		return NULL;
	}
	osh_redis_on_connect(s->r, on_connect, s);
	tick_soon(s, 0);
	return s;
}

/* Frees a closing scheduler once nothing of it is with the database;
 * true when it is closing (freed or not). */
static bool
maybe_release(struct scheduler *s)
{
	if (!s->closing)
		return false;
	if (s->storing || s->ticking || s->nheld > 0)
		return true;
	osh_redis_free(s->r);
	ids_free(s);
	free(s);
	return true;
}

void
scheduler_free(struct scheduler *s)
{
	struct held *h, *next;

	if (s == NULL)
		return;
	s->closing = true;
	for (h = s->held; h != NULL; h = next) {
		next = h->next;
		if (h->releasing)
			event_del(h->ev); /* freed by on_released */
		else
			held_free(h);
	}
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->retry != NULL)
		event_free(s->retry);
	s->tick = s->retry = NULL;
	osh_redis_free(s->r);
	s->r = NULL;
	maybe_release(s);
}
