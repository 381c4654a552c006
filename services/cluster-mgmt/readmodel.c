/* readmodel.c - the read model of servers: full rebuilds from
 * server-mgmt's internal API, and server.* events in between. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/redis.h>
#include <osh/svctoken.h>
#include <osh/util.h>

#include "cm.h"
#include "readmodel.h"
#include "store.h"

#define RETRY_S 3 /* after a failed rebuild */
#define HTTP_TIMEOUT_MS 10000
#define MAX_QUEUED 10000 /* events waiting; beyond, rebuild instead */
#define EVENT_MAX 65536 /* bytes of one event */

struct queued {
	STAILQ_ENTRY(queued) next;
	char *text;
};
STAILQ_HEAD(queue, queued);

struct readmodel {
	struct cm_app *app;
	struct osh_redis *events; /* subscribed to osh:events */
	struct event *retry; /* a rebuild after a failure */
	struct event *period; /* the periodic rebuild */
	unsigned inflight; /* callbacks still to come */
	bool stopping;
	/* Rebuild. */
	bool running, again, synced;
	char gen[24];
	int64_t after; /* the last id of the page stored */
	size_t seen; /* servers stored by this rebuild */
	/* Events, applied one at a time. */
	struct queue queue;
	size_t queued;
	bool applying;
};

static void rebuild_start(struct readmodel *rm);
static void apply_next(struct readmodel *rm);

static struct osh_db *
db_of(struct readmodel *rm)
{
	return rm->app->svc->db;
}

static void
queue_clear(struct readmodel *rm)
{
	struct queued *q;

	while ((q = STAILQ_FIRST(&rm->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&rm->queue, next);
		free(q->text);
		free(q);
	}
	rm->queued = 0;
}

static void
rm_destroy(struct readmodel *rm)
{
	queue_clear(rm);
	free(rm);
}

/* Ends one asynchronous operation; true when rm is gone (the service
 * stopped and this was the last one): the caller returns at once. */
static bool
op_done(struct readmodel *rm)
{
	rm->inflight--;
	if (rm->stopping && rm->inflight == 0) {
		rm_destroy(rm);
		return true;
	}
	return rm->stopping;
}

/*
 * Full rebuilds.
 */

static void
rebuild_failed(struct readmodel *rm, const char *why)
{
	struct timeval tv = {RETRY_S, 0};
	char q[200];

	osh_log_warn(NULL,
	    "msg=\"server read model not rebuilt\" reason=\"%s\" "
	    "retry_s=%d",
	    osh_log_quote(why, q, sizeof(q)), RETRY_S);
	osh_metric_add(rm->app->m_sync, "result=\"failed\"", 1);
	rm->running = false;
	rm->again = false;
	evtimer_add(rm->retry, &tv);
}

static void
rebuild_finished(struct readmodel *rm)
{
	rm->running = false;
	rm->synced = true;
	osh_metric_add(rm->app->m_sync, "result=\"ok\"", 1);
	if (rm->again) {
		rm->again = false;
		rebuild_start(rm);
	}
}

static void
on_sync_end(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct readmodel *rm = arg;

	(void)state;
	if (op_done(rm))
		return;
	if (st != OSH_DB_OK) {
		rebuild_failed(rm, "database unavailable");
		return;
	}
	osh_log_info(NULL,
	    "msg=\"server read model rebuilt\" servers=%zu gone=%s", rm->seen,
	    json);
	rebuild_finished(rm);
}

static void fetch_page(struct readmodel *rm);

static void
on_page_stored(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct readmodel *rm = arg;

	(void)json;
	(void)state;
	if (op_done(rm))
		return;
	if (st != OSH_DB_OK) {
		rebuild_failed(rm, "database unavailable");
		return;
	}
	if (rm->after < 0) { /* that was the last page */
		rm->inflight++;
		store_sync_end(db_of(rm), rm->gen, on_sync_end, rm);
		return;
	}
	fetch_page(rm);
}

static void
on_page(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct readmodel *rm = arg;
	struct json_object *o = NULL, *items, *next;
	struct osh_err err;
	char why[160];

	if (op_done(rm))
		return;
	if (status != 200) {
		if (status == 401)
			osh_svctoken_invalidate(rm->app->token);
		snprintf(why, sizeof(why), "server-mgmt answered %d%s%s",
		    status, error ? ": " : "", error ? error : "");
		rebuild_failed(rm, why);
		return;
	}
	if ((o = osh_json_parse(body, len, OSH_JSON_MAX_DEPTH, &err)) == NULL ||
	    !json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(o);
		rebuild_failed(rm, "server-mgmt's answer is not a page");
		return;
	}
	rm->seen += json_object_array_length(items);
	next = json_object_object_get(o, "next_after");
	rm->after = next != NULL && json_object_is_type(next, json_type_int)
	    ? json_object_get_int64(next)
	    : -1;
	rm->inflight++;
	store_sync_page(db_of(rm), rm->gen,
	    json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN),
	    on_page_stored, rm);
	json_object_put(o);
}

static void
on_token(const char *token, void *arg)
{
	struct readmodel *rm = arg;
	char url[600], auth[2100];
	const char *headers[] = {auth, NULL};

	if (op_done(rm))
		return;
	if (token == NULL) {
		rebuild_failed(rm, "no service token from auth");
		return;
	}
	snprintf(url, sizeof(url), "%s/internal/servers?after=%lld&limit=%lld",
	    rm->app->cfg.server_mgmt_url, (long long)rm->after,
	    (long long)rm->app->cfg.sync_page);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	rm->inflight++;
	if (osh_httpc_request(rm->app->http, "GET", url, headers, NULL, 0,
		HTTP_TIMEOUT_MS, on_page, rm) != 0)
		on_page(0, NULL, 0, "cannot reach server-mgmt", rm);
	osh_wipe(auth, sizeof(auth));
}

static void
fetch_page(struct readmodel *rm)
{
	rm->inflight++;
	osh_svctoken_get(rm->app->token, on_token, rm);
}

static void
on_sync_begin(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct readmodel *rm = arg;

	(void)state;
	if (op_done(rm))
		return;
	if (st != OSH_DB_OK || !osh_strlcpy(rm->gen, json, sizeof(rm->gen))) {
		rebuild_failed(rm, "database unavailable");
		return;
	}
	rm->after = 0;
	rm->seen = 0;
	fetch_page(rm);
}

static void
rebuild_start(struct readmodel *rm)
{
	if (rm->stopping)
		return;
	if (rm->running) {
		rm->again = true;
		return;
	}
	evtimer_del(rm->retry);
	rm->running = true;
	rm->inflight++;
	store_sync_begin(db_of(rm), on_sync_begin, rm);
}

void
readmodel_rebuild(struct readmodel *rm)
{
	rebuild_start(rm);
}

bool
readmodel_synced(const struct readmodel *rm)
{
	return rm->synced;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rebuild_start(arg);
}

/*
 * Events.
 */

/* Publishes cluster.members_changed for each cluster in list ([{id,
 * name}]): server 'sid' joined (added) or left (removed) it. */
static void
publish_members(struct readmodel *rm, struct json_object *list, int64_t sid,
    bool added, const char *reason)
{
	size_t n = list ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(list, i);
		struct json_object *d = json_object_new_object();
		struct json_object *ids = json_object_new_array();
		struct json_object *none = json_object_new_array();
		json_object_array_add(ids, json_object_new_int64(sid));
		json_object_object_add(
		    d, "id", json_object_new_int64(osh_json_int(c, "id", 0)));
		json_object_object_add(d, "name",
		    json_object_new_string(osh_json_str(c, "name", "")));
		json_object_object_add(d, "added", added ? ids : none);
		json_object_object_add(d, "removed", added ? none : ids);
		json_object_object_add(
		    d, "reason", json_object_new_string(reason));
		events_publish(
		    rm->app->svc->redis, "cluster.members_changed", d);
	}
}

struct applying {
	struct readmodel *rm;
	int64_t id;
	char type[32];
};

static void
on_applied(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct applying *a = arg;
	struct readmodel *rm = a->rm;
	struct json_object *o;
	char labels[64];

	(void)state;
	if (op_done(rm)) {
		free(a);
		return;
	}
	snprintf(labels, sizeof(labels), "type=\"%s\"", a->type);
	osh_metric_add(rm->app->m_events, labels, 1);
	if (st == OSH_DB_ERROR) {
		/* This change is lost to the read model: rebuild. */
		readmodel_rebuild(rm);
	} else if (st == OSH_DB_OK && (o = json_tokener_parse(json)) != NULL) {
		if (strcmp(a->type, "server.deleted") == 0) {
			if (osh_json_bool(o, "deleted", false))
				publish_members(rm,
				    json_object_object_get(o, "clusters"),
				    a->id, false, "server_deleted");
		} else if (strcmp(a->type, "server.created") == 0 ||
		    strcmp(a->type, "server.updated") == 0) {
			publish_members(rm, json_object_object_get(o, "joined"),
			    a->id, true, "server_labels");
			publish_members(rm, json_object_object_get(o, "left"),
			    a->id, false, "server_labels");
		}
		json_object_put(o);
	}
	free(a);
	rm->applying = false;
	apply_next(rm);
}

/* Applies the event ev (parsed); false when it is none of ours (nothing
 * under way then). */
static bool
apply(struct readmodel *rm, struct json_object *ev)
{
	const char *type = osh_json_str(ev, "type", "");
	struct json_object *data = json_object_object_get(ev, "data");
	struct applying *a;
	int64_t id = osh_json_int(data, "id", 0);

	if (strncmp(type, "server.", 7) != 0 || id < 1 ||
	    !json_object_is_type(data, json_type_object))
		return false;
	if (strcmp(type, "server.created") != 0 &&
	    strcmp(type, "server.updated") != 0 &&
	    strcmp(type, "server.deleted") != 0 &&
	    strcmp(type, "server.power_changed") != 0 &&
	    strcmp(type, "server.status_changed") != 0)
		return false;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		readmodel_rebuild(rm);
		return false;
	}
	a->rm = rm;
	a->id = id;
	osh_strlcpy(a->type, type, sizeof(a->type));
	rm->inflight++;
	if (strcmp(type, "server.deleted") == 0)
		store_server_delete(db_of(rm), id, on_applied, a);
	else if (strcmp(type, "server.power_changed") == 0)
		store_server_power(db_of(rm), id,
		    osh_json_str(data, "to", "unknown"), on_applied, a);
	else if (strcmp(type, "server.status_changed") == 0)
		store_server_status(db_of(rm), id,
		    osh_json_str(data, "to", "unknown"), on_applied, a);
	else
		store_server_put(db_of(rm),
		    json_object_to_json_string_ext(
			data, JSON_C_TO_STRING_PLAIN),
		    on_applied, a);
	return true;
}

static void
apply_next(struct readmodel *rm)
{
	struct queued *q;
	struct json_object *ev;
	struct osh_err err;

	while (!rm->applying && (q = STAILQ_FIRST(&rm->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&rm->queue, next);
		rm->queued--;
		ev = osh_json_parse(
		    q->text, strlen(q->text), OSH_JSON_MAX_DEPTH, &err);
		free(q->text);
		free(q);
		if (ev == NULL)
			continue;
		rm->applying = apply(rm, ev);
		json_object_put(ev);
	}
}

static void
on_event(redisReply *reply, void *arg)
{
	struct readmodel *rm = arg;
	struct queued *q = NULL;
	const char *text;

	if (reply == NULL || rm->stopping)
		return; /* lost: the reconnection rebuilds */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	text = reply->element[2]->str;
	/* Cheap filter before queueing: only server events matter. */
	if (reply->element[2]->len > EVENT_MAX ||
	    strstr(text, "\"server.") == NULL)
		return;
	if (rm->queued >= MAX_QUEUED || (q = calloc(1, sizeof(*q))) == NULL ||
	    (q->text = strdup(text)) == NULL) {
		free(q);
		/* Too far behind: start afresh. */
		queue_clear(rm);
		readmodel_rebuild(rm);
		return;
	}
	STAILQ_INSERT_TAIL(&rm->queue, q, next);
	rm->queued++;
	apply_next(rm);
}

/* Subscribed again: what happened while away is not known, so rebuild. */
static void
on_events_connect(void *arg)
{
	struct readmodel *rm = arg;

	if (rm->stopping)
		return;
	osh_redis_subscribe(rm->events, "osh:events", on_event, rm);
	readmodel_rebuild(rm);
}

static void
on_period(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	readmodel_rebuild(arg);
}

struct readmodel *
readmodel_new(struct cm_app *app)
{
	struct readmodel *rm = calloc(1, sizeof(*rm));
	struct timeval period = {(time_t)app->cfg.resync_s, 0};

	if (rm == NULL)
		return NULL;
	rm->app = app;
	STAILQ_INIT(&rm->queue);
	rm->retry = evtimer_new(app->svc->base, on_retry, rm);
	rm->period = event_new(app->svc->base, -1, EV_PERSIST, on_period, rm);
	if (rm->retry == NULL || rm->period == NULL) {
		if (rm->retry)
			event_free(rm->retry);
		if (rm->period)
			event_free(rm->period);
		free(rm);
		return NULL;
	}
	evtimer_add(rm->period, &period);
	rm->events = osh_service_redis_new(app->svc, 0);
	if (rm->events != NULL)
		osh_redis_on_connect(rm->events, on_events_connect, rm);
	rebuild_start(rm);
	return rm;
}

void
readmodel_free(struct readmodel *rm)
{
	if (rm == NULL)
		return;
	rm->stopping = true;
	event_free(rm->retry);
	event_free(rm->period);
	osh_redis_free(rm->events);
	rm->events = NULL;
	if (rm->inflight == 0)
		rm_destroy(rm);
}
