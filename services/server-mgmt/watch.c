/* watch.c - server.* events drop the kept answers of their servers. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/redis.h>

#include "pagecache.h"
#include "sm.h"
#include "watch.h"

#define EVENT_MAX (64 * 1024) /* larger messages are not server events */

struct watch {
	struct sm_app *app;
	struct osh_redis *events; /* subscribed to osh:events */
};

/* The server an event names: data.id of a server.* event; 0 when the
 * event is about something else, -1 when it is a server event that does
 * not say which (then every kept server goes). */
static int64_t
event_server(const char *text, size_t len)
{
	struct json_object *ev, *data, *id;
	struct osh_err err;
	const char *type;
	int64_t out = 0;

	if ((ev = osh_json_parse(text, len, OSH_JSON_MAX_DEPTH, &err)) == NULL)
		return 0;
	type = osh_json_str(ev, "type", "");
	if (strncmp(type, "server.", 7) == 0) {
		out = -1;
		if (json_object_object_get_ex(ev, "data", &data) &&
		    json_object_object_get_ex(data, "id", &id) &&
		    json_object_is_type(id, json_type_int) &&
		    json_object_get_int64(id) > 0)
			out = json_object_get_int64(id);
	}
	json_object_put(ev);
	return out;
}

static void
on_event(redisReply *reply, void *arg)
{
	struct watch *w = arg;
	redisReply *msg;
	int64_t id;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return;
	msg = reply->element[2];
	/* Cheap filter first: only server events matter. */
	if (msg->type != REDIS_REPLY_STRING || msg->len > EVENT_MAX ||
	    strstr(msg->str, "\"server.") == NULL)
		return;
	if ((id = event_server(msg->str, msg->len)) > 0)
		pagecache_drop_server(w->app->items, id);
	else if (id < 0)
		pagecache_clear(w->app->items);
}

/* Subscribed again: whatever was missed meanwhile expires by itself. */
static void
on_connect(void *arg)
{
	struct watch *w = arg;

	osh_redis_subscribe(w->events, "osh:events", on_event, w);
}

struct watch *
watch_new(struct sm_app *app)
{
	struct watch *w;

	if (app->svc->redis == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->app = app;
	if ((w->events = osh_service_redis_new(app->svc, 0)) == NULL) {
		free(w);
		return NULL;
	}
	osh_redis_on_connect(w->events, on_connect, w);
	return w;
}

void
watch_free(struct watch *w)
{
	if (w == NULL)
		return;
	osh_redis_free(w->events);
	free(w);
}
