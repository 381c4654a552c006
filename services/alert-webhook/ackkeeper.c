/* ackkeeper.c - the silences of acks kept while their alerts fire and
 * expired when they resolve, one ack at a time. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/log.h>
#include <osh/util.h>

#include "ackkeeper.h"
#include "ackstore.h"
#include "am.h"
#include "silence.h"
#include "store.h"

struct ackkeeper {
	struct aw_app *app;
	struct event *timer;
	struct json_object *due; /* the batch being kept */
	size_t next; /* its next item */
	char silence[SILENCE_ID_MAX]; /* the new silence of an extension */
	bool busy, stopping;
};

static void step(struct ackkeeper *k);

static struct json_object *
item(struct ackkeeper *k)
{
	return json_object_array_get_idx(k->due, k->next);
}

/* The current item is done (whatever came of it): on to the next. */
static void
advance(struct ackkeeper *k)
{
	k->next++;
	step(k);
}

static void
on_ended(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ackkeeper *k = arg;
	struct json_object *o, *ev;

	(void)state;
	if (st == OSH_DB_OK && (o = json_tokener_parse(json)) != NULL) {
		/* An ack that ended at its end: the alert fires on,
		 * unacknowledged. */
		if (strcmp(osh_json_str(item(k), "action", ""), "end") == 0 &&
		    json_object_object_get_ex(o, "event", &ev))
			events_publish(k->app->svc->redis,
			    "alert.unacknowledged", json_object_get(ev));
		json_object_put(o);
	}
	advance(k);
}

static void
end_ack(struct ackkeeper *k, const char *state)
{
	ackstore_end(k->app->svc->db, osh_json_int(item(k), "id", 0), state,
	    NULL, on_ended, k);
}

static void
on_expired(const struct am_answer *a, void *arg)
{
	struct ackkeeper *k = arg;

	if (!am_gone(a)) {
		advance(k); /* claimed for a minute: tried again then */
		return;
	}
	end_ack(k, "expired");
}

static void
on_orphan(const struct am_answer *a, void *arg)
{
	(void)a;
	advance(arg);
}

static void
on_extended(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ackkeeper *k = arg;

	(void)json;
	(void)state;
	/* The ack ended while its silence was extended (undone, say): the
	 * new silence must not outlive it. */
	if (st == OSH_DB_NOT_FOUND) {
		am_silence_expire(k->app, k->silence, on_orphan, k);
		return;
	}
	advance(k);
}

static void
on_posted(const struct am_answer *a, void *arg)
{
	struct ackkeeper *k = arg;
	char why[256];

	if (a->result != AW_OK ||
	    !silence_id_of(a->body, a->len, k->silence, sizeof(k->silence))) {
		osh_log_warn(NULL,
		    "msg=\"ack silence not extended\" ack_id=%lld "
		    "reason=\"%s\"",
		    (long long)osh_json_int(item(k), "id", 0),
		    am_reason(a->body, a->len, why, sizeof(why)));
		advance(k);
		return;
	}
	ackstore_extended(k->app->svc->db, osh_json_int(item(k), "id", 0),
	    k->silence, osh_json_str(item(k), "ends_at", ""), on_extended, k);
}

static void
extend(struct ackkeeper *k)
{
	struct json_object *it = item(k), *s;
	char comment[SILENCE_COMMENT_MAX * 4 + 64];
	int64_t ends;

	if (!osh_time_parse(osh_json_str(it, "ends_at", ""), &ends)) {
		advance(k);
		return;
	}
	snprintf(comment, sizeof(comment), "ack of alert %lld: %s",
	    (long long)osh_json_int(it, "alert_id", 0),
	    osh_json_str(it, "comment", ""));
	s = silence_for_labels(json_object_object_get(it, "labels"),
	    osh_wall_ms(), ends, osh_json_str(it, "created_by", ""), comment,
	    osh_json_str(it, "silence_id", NULL));
	if (s == NULL) {
		advance(k);
		return;
	}
	am_silence_post(k->app,
	    json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
	    on_posted, k);
	json_object_put(s);
}

/* Keeps the next ack of the batch, or ends the batch. */
static void
step(struct ackkeeper *k)
{
	const char *action;

	if (k->stopping || k->next >= json_object_array_length(k->due)) {
		json_object_put(k->due);
		k->due = NULL;
		k->busy = false;
		if (k->stopping)
			free(k);
		return;
	}
	action = osh_json_str(item(k), "action", "");
	if (strcmp(action, "expire") == 0)
		am_silence_expire(k->app,
		    osh_json_str(item(k), "silence_id", ""), on_expired, k);
	else if (strcmp(action, "end") == 0)
		end_ack(k, "ended");
	else
		extend(k);
}

static void
on_due(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct ackkeeper *k = arg;

	(void)state;
	k->due = st == OSH_DB_OK ? json_tokener_parse(json) : NULL;
	if (!json_object_is_type(k->due, json_type_array)) {
		json_object_put(k->due);
		k->due = json_object_new_array();
	}
	k->next = 0;
	step(k);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ackkeeper *k = arg;

	(void)fd;
	(void)what;
	if (k->busy || k->stopping)
		return;
	k->busy = true;
	ackstore_due(k->app->svc->db, k->app->cfg.ack_extend_s, on_due, k);
}

struct ackkeeper *
ackkeeper_new(struct aw_app *app)
{
	struct ackkeeper *k = calloc(1, sizeof(*k));
	struct timeval tv = {(time_t)app->cfg.ack_check_s, 0};

	if (k == NULL)
		return NULL;
	k->app = app;
	if ((k->timer = event_new(
		 app->svc->base, -1, EV_PERSIST, on_timer, k)) == NULL) {
		free(k);
		return NULL;
	}
	event_add(k->timer, &tv);
	return k;
}

void
ackkeeper_free(struct ackkeeper *k)
{
	if (k == NULL)
		return;
	event_free(k->timer);
	k->stopping = true;
	if (!k->busy)
		free(k);
}
