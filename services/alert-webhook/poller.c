/* poller.c - Alertmanager's alerts polled, and retention. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>

#include "payload.h"
#include "poller.h"
#include "receiver.h"
#include "store.h"

#define POLL_TIMEOUT_MS 10000

struct poller {
	struct aw_app *app;
	struct event *poll, *prune;
	unsigned inflight;
	bool polling, pruning, stopping;
};

static bool
op_done(struct poller *p)
{
	p->inflight--;
	if (!p->stopping)
		return true;
	if (p->inflight == 0)
		free(p);
	return false;
}

static void
count_poll(struct poller *p, const char *result)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "result=\"%s\"", result);
	osh_metric_add(p->app->m_polls, labels, 1);
}

static void
on_poll_stored(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct poller *p = arg;

	(void)state;
	if (!op_done(p))
		return;
	p->polling = false;
	if (st != OSH_DB_OK) {
		count_poll(p, "db_error");
		osh_log_warn(NULL, "msg=\"alertmanager poll not stored\"");
		return;
	}
	count_poll(p, "ok");
	receiver_after_poll(p->app, json);
}

static void
on_alerts(
    int status, const char *body, size_t len, const char *error, void *arg)
{
	struct poller *p = arg;
	struct payload pl;
	struct osh_err err;
	char f[OSH_ERR_FIELD_MAX], m[OSH_ERR_MSG_MAX];

	if (!op_done(p))
		return;
	if (status != 200) {
		p->polling = false;
		count_poll(p, status == 0 ? "unreachable" : "http_error");
		osh_log_warn(NULL,
		    "msg=\"alertmanager poll failed\" status=%d error=\"%s\"",
		    status, osh_log_quote(error ? error : "", m, sizeof(m)));
		return;
	}
	if (payload_poll(body, len, &pl, &err) != 0) {
		p->polling = false;
		payload_release(&pl);
		count_poll(p, "invalid");
		osh_log_warn(NULL,
		    "msg=\"alertmanager poll answer refused\" field=\"%s\" "
		    "reason=\"%s\"",
		    osh_log_quote(err.field, f, sizeof(f)),
		    osh_log_quote(err.message, m, sizeof(m)));
		return;
	}
	p->inflight++;
	store_ingest(p->app->svc->db,
	    json_object_to_json_string_ext(pl.rows, JSON_C_TO_STRING_PLAIN),
	    STORE_SOURCE_POLL, 0, on_poll_stored, p);
	payload_release(&pl);
}

static void
on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
	struct poller *p = arg;
	char url[1024];
	static const char *const headers[] = {"Accept: application/json", NULL};

	(void)fd;
	(void)what;
	if (p->polling || p->stopping)
		return;
	snprintf(url, sizeof(url),
	    "%s/api/v2/alerts?active=true&silenced=true&inhibited=true"
	    "&unprocessed=false",
	    p->app->cfg.alertmanager_url);
	p->polling = true;
	p->inflight++;
	if (osh_httpc_request(p->app->http, "GET", url, headers, NULL, 0,
		POLL_TIMEOUT_MS, on_alerts, p) != 0)
		on_alerts(0, NULL, 0, "outgoing HTTP busy", p);
}

static void
on_pruned(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct poller *p = arg;
	struct json_object *o;
	int64_t n;

	(void)state;
	if (!op_done(p))
		return;
	p->pruning = false;
	if (st != OSH_DB_OK || (o = json_tokener_parse(json)) == NULL) {
		osh_log_warn(NULL, "msg=\"alert retention prune failed\"");
		return;
	}
	n = osh_json_int(o, "deleted", 0);
	json_object_put(o);
	if (n > 0) {
		osh_metric_add(p->app->m_pruned, "", (double)n);
		osh_log_info(NULL,
		    "msg=\"resolved alerts pruned\" deleted=%lld days=%lld",
		    (long long)n, (long long)p->app->cfg.retention_days);
	}
}

static void
on_prune_timer(evutil_socket_t fd, short what, void *arg)
{
	struct poller *p = arg;

	(void)fd;
	(void)what;
	if (p->pruning || p->stopping)
		return;
	p->pruning = true;
	p->inflight++;
	store_prune(p->app->svc->db, p->app->cfg.retention_days, on_pruned, p);
}

struct poller *
poller_new(struct aw_app *app)
{
	struct poller *p = calloc(1, sizeof(*p));
	struct timeval poll_tv = {(time_t)app->cfg.poll_interval_s, 0};
	struct timeval prune_tv = {(time_t)app->cfg.prune_interval_s, 0};

	if (p == NULL)
		return NULL;
	p->app = app;
	p->prune = event_new(app->svc->base, -1, EV_PERSIST, on_prune_timer, p);
	if (p->prune == NULL)
		goto out_free;
	event_add(p->prune, &prune_tv);
	/* A prune soon after start: a process that never lives an interval
	 * still keeps the history bounded. */
	event_active(p->prune, EV_TIMEOUT, 0);
	if (app->cfg.alertmanager_url[0] == '\0') {
		osh_log_info(NULL,
		    "msg=\"alertmanager poll off: "
		    "OSH_ALERTMANAGER_URL is not set\"");
		return p;
	}
	p->poll = event_new(app->svc->base, -1, EV_PERSIST, on_poll_timer, p);
	if (p->poll == NULL)
		goto out_prune;
	event_add(p->poll, &poll_tv);
	return p;
out_prune:
	event_free(p->prune);
out_free:
	free(p);
	return NULL;
}

void
poller_free(struct poller *p)
{
	if (p == NULL)
		return;
	if (p->poll != NULL)
		event_free(p->poll);
	event_free(p->prune);
	p->stopping = true;
	if (p->inflight == 0)
		free(p);
}
