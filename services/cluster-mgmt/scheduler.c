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
#include <osh/stream_consumer.h>
#include <osh/util.h>

#include "cm.h"
#include "jobevents.h"
#include "jobstore.h"
#include "scheduler.h"
#include "store.h"

#define BATCH 100
#define BLOCK_MS 1000
#define PRUNE_EVERY_MS (3600 * 1000)
#define MAX_HELD 4096
#define KICK_GAP_MS 15

struct held;

struct scheduler {
	struct cm_app *app;
	struct osh_service *svc;
	struct osh_stream_consumer *sc; /* the results consumer */
	struct event *tick;
	char name[160];
	bool loaded; /* the transitions are in the database */
	bool ticking; /* a tick is with the database */
	bool kicked; /* tick again right after */
	bool storing; /* results are with the database */
	bool closing;
	struct json_object *results; /* the batch being read */
	size_t nresults; /* entries of the batch (deleted ones too) */
	uint64_t last_prune_ms;
	struct held *held; /* requests waiting for their jitter */
	size_t nheld;
	uint64_t tick_sent_ms; /* monotonic ms: when the tick went out */
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

/* The delay before the next tick: ms, or less when a stagger window
 * frees a start sooner (the tick's wake_ms, counted from when the tick
 * went out), so that staggered starts keep their rate. */
static int
next_tick_ms(struct scheduler *s, struct json_object *o, int ms)
{
	struct json_object *w = json_object_object_get(o, "wake_ms");
	int64_t wake, spent;

	if (w == NULL || !json_object_is_type(w, json_type_int))
		return ms;
	spent = (int64_t)(osh_now_us() / 1000 - s->tick_sent_ms);
	wake = json_object_get_int64(w) - spent;
	if (wake < 0)
		wake = 0;
	return wake < ms ? (int)wake : ms;
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
	/* Picks left over for budgets or a full batch: go on quickly. */
	tick_soon(s,
	    next_tick_ms(
		s, o, s->kicked || n > 0 ? 20 : (int)s->app->cfg.job_tick_ms));
	json_object_put(o);
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
	/* A tick stores its picks as sent: with Redis away their requests
	 * would be lost, and sent again only once counted lost. */
	if (!osh_redis_connected(s->svc->redis)) {
		tick_soon(s, (int)s->app->cfg.job_tick_ms);
		return;
	}
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
	s->tick_sent_ms = osh_now_us() / 1000;
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
	int64_t gap;
	struct timeval due, now;

	if (s == NULL)
		return;
	if (s->ticking) {
		s->kicked = true;
		return;
	}
	/* Results come a few at a time: ticks at most every KICK_GAP_MS let
	 * one tick pick for several of them. A tick due sooner stays. */
	gap = (int64_t)(s->tick_sent_ms + KICK_GAP_MS) -
	    (int64_t)(osh_now_us() / 1000);
	if (gap < 0)
		gap = 0;
	if (evtimer_pending(s->tick, &due)) {
		event_base_gettimeofday_cached(s->svc->base, &now);
		if ((int64_t)(due.tv_sec - now.tv_sec) * 1000 +
			(due.tv_usec - now.tv_usec) / 1000 <=
		    gap)
			return;
	}
	tick_soon(s, (int)gap);
}

/*
 * Results.
 */

static void
on_stored(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct scheduler *s = arg;
	struct json_object *o;

	s->storing = false;
	if (s->closing) { /* the entries stay pending for the next run */
		osh_stream_consumer_done_all(s->sc, OSH_STREAM_LEAVE);
		return;
	}
	if (st != OSH_DB_OK) {
		osh_log_warn(NULL,
		    "msg=\"power results not stored, will retry\" count=%zu "
		    "sqlstate=%s",
		    s->nresults, sqlstate ? sqlstate : "");
		s->nresults = 0;
		osh_stream_consumer_done_all(s->sc, OSH_STREAM_RETRY);
		return;
	}
	s->nresults = 0;
	if ((o = json_tokener_parse(json)) != NULL) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n; i++)
			jobevents_task(
			    s->svc->redis, json_object_array_get_idx(o, i));
		json_object_put(o);
	}
	osh_stream_consumer_done_all(s->sc, OSH_STREAM_STORED);
	scheduler_kick(s); /* a result frees room for the next picks */
}

/* One result entry as a JSON object of its fields. */
static struct json_object *
entry_json(const struct osh_stream_msg *m)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < m->nfields; i++) {
		const char *k = m->fields[i].name;
		char *key, *val;

		key = osh_utf8_clean(k, strlen(k), 31);
		val = osh_utf8_clean(m->fields[i].value, m->lens[i], 1024);
		if (key != NULL && val != NULL)
			json_object_object_add(
			    o, key, json_object_new_string(val));
		free(key);
		free(val);
	}
	return o;
}

/* Adds a result to the batch; a deleted one still pending has no fields
 * and is only acknowledged. */
static void
on_result(struct osh_stream_msg *m, void *arg)
{
	struct scheduler *s = arg;

	if (s->results == NULL)
		s->results = json_object_new_array();
	s->nresults++;
	if (!m->deleted)
		json_object_array_add(s->results, entry_json(m));
}

/* Stores the batch just read in one statement. */
static void
on_results_read(void *arg)
{
	struct scheduler *s = arg;

	osh_metric_add(s->app->m_results, "",
	    s->results != NULL ? (double)json_object_array_length(s->results)
			       : 0);
	s->storing = true;
	jobstore_results(s->svc->db,
	    s->results != NULL ? json_object_to_json_string_ext(
				     s->results, JSON_C_TO_STRING_PLAIN)
			       : "[]",
	    on_stored, s);
	json_object_put(s->results);
	s->results = NULL;
}

static void
on_consumer_gone(void *arg)
{
	struct scheduler *s = arg;

	s->sc = NULL;
	maybe_release(s);
}

struct scheduler *
scheduler_new(struct cm_app *app)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	char host[64] = "host";
	struct osh_stream_consumer_config cfg = {
	    .stream = POWER_RESULTS,
	    .group = POWER_GROUP,
	    .what = "power results",
	    .count = BATCH,
	    .one_batch = true,
	    .block_ms = BLOCK_MS,
	    .retry_ms = 1000,
	};
	static const struct osh_stream_consumer_ops ops = {
	    .entry = on_result,
	    .batch_end = on_results_read,
	    .released = on_consumer_gone,
	};

	if (s == NULL)
		return NULL;
	s->app = app;
	s->svc = app->svc;
	s->last_prune_ms = 0;
	gethostname(host, sizeof(host) - 1);
	/* The same name after a restart: the new process reads the results
	 * the old one had taken and not stored at once (read_pending), long
	 * before a claim would, and before their attempts count as lost. */
	snprintf(s->name, sizeof(s->name), "cluster-mgmt-%s-%lld", host,
	    (long long)s->svc->cfg.port);
	cfg.consumer = s->name;
	cfg.claim_idle_ms = app->cfg.power_claim_idle_ms;
	s->tick = evtimer_new(s->svc->base, on_tick, s);
	if (s->tick == NULL ||
	    (s->sc = osh_stream_consumer_new(s->svc->base,
		 osh_service_redis_new(s->svc, BLOCK_MS), NULL, &cfg, &ops,
		 s)) == NULL) {
		scheduler_free(s);
		return NULL;
	}
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
	if (s->storing || s->ticking || s->nheld > 0 || s->sc != NULL)
		return true;
	json_object_put(s->results);
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
	s->tick = NULL;
	/* Last: s may go with the consumer (on_consumer_gone). */
	if (s->sc != NULL)
		osh_stream_consumer_close(s->sc);
	else
		maybe_release(s);
}
