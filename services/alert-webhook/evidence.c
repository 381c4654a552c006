/* evidence.c - fetches SEL evidence of new alerts from server-mgmt. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/svctoken.h>
#include <osh/util.h>

#include "evidence.h"
#include "store.h"

#define HTTP_TIMEOUT_MS 15000 /* a BMC's SEL read, through server-mgmt */

struct evidence {
	struct aw_app *app;
	struct event *timer;
	unsigned running; /* fetches under way */
	unsigned inflight; /* callbacks still to come (claims included) */
	bool claiming;
	bool again; /* a kick came during a claim */
	bool stopping;
};

struct fetch {
	struct evidence *ev;
	int64_t alert_id, server_id, attempts;
	char around[OSH_TIME_LEN];
};

static void claim(struct evidence *ev);

/* One callback came: false when the evidence holder is gone (the last
 * callback after evidence_free frees it). */
static bool
op_done(struct evidence *ev)
{
	ev->inflight--;
	if (!ev->stopping)
		return true;
	if (ev->inflight == 0)
		free(ev);
	return false;
}

static void
count(struct evidence *ev, const char *result)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "result=\"%s\"", result);
	osh_metric_add(ev->app->m_evidence, labels, 1);
}

static void
on_done(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct fetch *f = arg;
	struct evidence *ev = f->ev;

	(void)json;
	(void)state;
	if (st != OSH_DB_OK)
		osh_log_warn(NULL,
		    "msg=\"sel evidence not stored\" alert_id=%lld",
		    (long long)f->alert_id);
	free(f);
	if (!op_done(ev))
		return;
	ev->running--;
	claim(ev);
}

/* Ends a fetch: entries (JSON array text) or an error. */
static void
finish(struct fetch *f, const char *entries, const char *error)
{
	struct evidence *ev = f->ev;
	bool final = f->attempts >= EVIDENCE_ATTEMPTS;

	count(ev, entries != NULL ? "ok" : final ? "failed" : "retry");
	if (entries == NULL)
		osh_log_warn(NULL,
		    "msg=\"sel evidence not fetched\" alert_id=%lld "
		    "server_id=%lld attempt=%lld error=\"%s\"",
		    (long long)f->alert_id, (long long)f->server_id,
		    (long long)f->attempts, error);
	ev->inflight++;
	store_evidence_done(ev->app->svc->db, f->alert_id, entries, error,
	    final || entries != NULL, on_done, f);
}

static void
on_sel(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct fetch *f = arg;
	struct evidence *ev = f->ev;
	struct json_object *o, *items;
	struct osh_err err;
	char why[160];

	if (!op_done(ev)) {
		free(f);
		return;
	}
	if (ev->stopping || status == 0) {
		snprintf(why, sizeof(why), "server-mgmt unreachable: %s",
		    error ? error : "no answer");
		if (ev->stopping) {
			free(f);
			return;
		}
		finish(f, NULL, why);
		return;
	}
	if (status == 401)
		osh_svctoken_invalidate(ev->app->token);
	if (status == 404) {
		f->attempts = EVIDENCE_ATTEMPTS; /* no such server: final */
		finish(f, NULL, "server-mgmt has no such server");
		return;
	}
	if (status != 200) {
		snprintf(why, sizeof(why), "server-mgmt answered %d", status);
		finish(f, NULL, why);
		return;
	}
	if ((o = osh_json_parse(body, len, OSH_JSON_MAX_DEPTH, &err)) == NULL ||
	    !json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(o);
		finish(f, NULL, "server-mgmt's answer holds no items");
		return;
	}
	finish(f, json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN),
	    NULL);
	json_object_put(o);
}

static void
on_token(const char *token, void *arg)
{
	struct fetch *f = arg;
	struct evidence *ev = f->ev;
	const struct aw_config *cfg = &ev->app->cfg;
	char url[512], auth[2048];
	const char *headers[] = {auth, NULL};

	if (!op_done(ev)) {
		free(f);
		return;
	}
	if (token == NULL) {
		finish(f, NULL, "no service token from auth");
		return;
	}
	snprintf(url, sizeof(url),
	    "%s/internal/servers/%lld/sel?around=%s&window_s=%lld&limit=%lld",
	    cfg->server_mgmt_url, (long long)f->server_id, f->around,
	    (long long)cfg->sel_window_s, (long long)cfg->sel_limit);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	ev->inflight++;
	if (osh_httpc_request(ev->app->http, "GET", url, headers, NULL, 0,
		HTTP_TIMEOUT_MS, on_sel, f) != 0)
		on_sel(0, NULL, 0, "outgoing HTTP busy", f);
	osh_wipe(auth, sizeof(auth));
}

static void
on_claimed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct evidence *ev = arg;
	struct json_object *rows;
	size_t n;

	(void)state;
	if (!op_done(ev))
		return;
	ev->claiming = false;
	if (st != OSH_DB_OK || (rows = json_tokener_parse(json)) == NULL)
		return; /* the timer tries again */
	n = json_object_is_type(rows, json_type_array)
	    ? json_object_array_length(rows)
	    : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		struct fetch *f = calloc(1, sizeof(*f));

		if (f == NULL)
			break; /* claimed rows are reclaimed later */
		f->ev = ev;
		f->alert_id = osh_json_int(r, "alert_id", 0);
		f->server_id = osh_json_int(r, "server_id", 0);
		f->attempts = osh_json_int(r, "attempts", 1);
		osh_strlcpy(f->around, osh_json_str(r, "around", ""),
		    sizeof(f->around));
		ev->running++;
		ev->inflight++;
		osh_svctoken_get(ev->app->token, on_token, f);
	}
	json_object_put(rows);
	if (ev->again || n > 0) {
		ev->again = false;
		claim(ev);
	}
}

/* Claims as many rows as there is room for. */
static void
claim(struct evidence *ev)
{
	int64_t room = ev->app->cfg.evidence_concurrency - (int64_t)ev->running;

	if (ev->stopping)
		return;
	if (ev->claiming) {
		ev->again = true;
		return;
	}
	if (room <= 0)
		return; /* the end of a fetch claims again */
	ev->claiming = true;
	ev->inflight++;
	store_evidence_claim(ev->app->svc->db, room, on_claimed, ev);
}

void
evidence_kick(struct evidence *ev)
{
	if (ev != NULL)
		claim(ev);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	claim(arg);
}

struct evidence *
evidence_new(struct aw_app *app)
{
	struct evidence *ev = calloc(1, sizeof(*ev));
	struct timeval tv = {EVIDENCE_PERIOD_S, 0};

	if (ev == NULL)
		return NULL;
	ev->app = app;
	ev->timer = event_new(app->svc->base, -1, EV_PERSIST, on_timer, ev);
	if (ev->timer == NULL) {
		free(ev);
		return NULL;
	}
	event_add(ev->timer, &tv);
	return ev;
}

void
evidence_free(struct evidence *ev)
{
	if (ev == NULL)
		return;
	event_free(ev->timer);
	ev->stopping = true;
	if (ev->inflight == 0)
		free(ev);
}
