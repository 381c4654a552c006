/* bmc.c - one request to a server's BMC: load, target, submit, record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/metrics.h>

#include "bmc.h"
#include "poller.h"
#include "rowcache.h"
#include "sm.h"
#include "store.h"

struct call {
	struct sm_app *app;
	int64_t id;
	char name[132];
	struct osh_ipmi_request rq;
	int deadline_ms;
	bool record;
	char was_status[16]; /* as recorded before this request */
	char was_power[16];
	bmc_call_cb cb;
	void *arg;
};

static void
finish(struct call *c, enum bmc_call_status st, const struct osh_ipmi_result *r,
    const struct osh_err *err)
{
	struct bmc_call_result res = {
	    .st = st, .name = c->name, .rq = &c->rq, .r = r, .err = err};

	c->cb(&res, c->arg);
	free(c);
}

/* Whether a read saw something the record does not say yet. */
static bool
observation_differs(const struct call *c, const struct osh_ipmi_result *r)
{
	const char *status =
	    r->err == OSH_IPMI_OK || r->done ? "online" : status_of(r->err);

	if (strcmp(status, c->was_status) != 0)
		return true;
	return (r->done & OSH_IPMI_WANT_CHASSIS) &&
	    strcmp(r->chassis.power_on ? "on" : "off", c->was_power) != 0;
}

static void
record(struct call *c, const struct osh_ipmi_result *r)
{
	if ((c->rq.want & OSH_IPMI_WANT_CONTROL) &&
	    (r->done & OSH_IPMI_WANT_CONTROL) &&
	    (c->rq.power == OSH_POWER_ON || c->rq.power == OSH_POWER_OFF)) {
		/* BMCs apply power actions after answering: record the state
		 * asked for; the poller confirms it. */
		struct osh_ipmi_result seen = *r;
		seen.done |= OSH_IPMI_WANT_CHASSIS;
		seen.chassis.power_on = c->rq.power == OSH_POWER_ON;
		poller_observe(
		    c->app, c->id, c->name, &c->rq, &seen, NULL, NULL);
	} else if (!(c->rq.want & OSH_IPMI_WANT_CONTROL) &&
	    observation_differs(c, r)) {
		/* Reads record only news: the poller keeps the timestamps. */
		poller_observe(c->app, c->id, c->name, &c->rq, r, NULL, NULL);
		rowcache_note(c->app->rows, c->id,
		    r->err == OSH_IPMI_OK || r->done ? "online"
						     : status_of(r->err),
		    (r->done & OSH_IPMI_WANT_CHASSIS)
			? (r->chassis.power_on ? "on" : "off")
			: NULL);
	}
}

static void
on_ipmi(const struct osh_ipmi_result *r, void *arg)
{
	struct call *c = arg;

	if (c->record)
		record(c, r);
	finish(c, BMC_CALL_OK, r, NULL);
}

/* Notes that a power change went to server id's BMC: the alert rule
 * ChassisPoweredOffUnexpectedly (deploy/prometheus/rules/) stays quiet
 * for a power-off asked for here, by the API or by a job. Whole seconds
 * (the exposition writes them exactly); one series per server that had
 * one, kept for the life of the process. */
static void
note_power_requested(struct sm_app *app, int64_t id)
{
	char labels[48];

	if (app->m_power_requested == NULL)
		return;
	snprintf(labels, sizeof(labels), "server_id=\"%lld\"", (long long)id);
	osh_metric_set(
	    app->m_power_requested, labels, (double)(osh_wall_ms() / 1000));
}

static void
on_row(enum osh_db_status st, const struct server_row *row, void *arg)
{
	struct call *c = arg;
	struct osh_ipmi_target t;
	struct osh_err err;
	struct sm_app *app;
	int64_t id;
	bool control;

	if (st != OSH_DB_OK) {
		finish(c,
		    st == OSH_DB_NOT_FOUND ? BMC_CALL_NOT_FOUND : BMC_CALL_DB,
		    NULL, NULL);
		return;
	}
	osh_strlcpy(c->name, row->name, sizeof(c->name));
	osh_strlcpy(c->was_status, row->status, sizeof(c->was_status));
	osh_strlcpy(c->was_power, row->power_state, sizeof(c->was_power));
	if (!server_target(c->app, row, &t, &err)) {
		finish(c, BMC_CALL_TARGET, NULL, &err);
		return;
	}
	/* Noted once it is on its way, whatever the BMC answers later (it
	 * may act on a command whose answer times out). c may be gone once
	 * submitted. */
	app = c->app;
	id = c->id;
	control = (c->rq.want & OSH_IPMI_WANT_CONTROL) != 0;
	if (osh_ipmi_submit(
		c->app->ipmi, &t, &c->rq, c->deadline_ms, on_ipmi, c) != 0)
		finish(c, BMC_CALL_BUSY, NULL, NULL);
	else if (control)
		note_power_requested(app, id);
	osh_ipmi_target_wipe(&t);
}

static void
on_loaded(enum osh_db_status st, const struct server_row *row, void *arg)
{
	struct call *c = arg;

	if (st == OSH_DB_OK)
		rowcache_put(c->app->rows, row);
	on_row(st, row, c);
}

void
bmc_call(struct sm_app *app, int64_t id, const struct osh_ipmi_request *rq,
    int deadline_ms, bool record_it, bmc_call_cb cb, void *arg)
{
	struct call *c = calloc(1, sizeof(*c));
	struct server_row row;

	if (c == NULL) {
		struct bmc_call_result res = {
		    .st = BMC_CALL_BUSY, .name = "", .rq = rq};
		cb(&res, arg);
		return;
	}
	c->app = app;
	c->id = id;
	c->rq = *rq;
	c->deadline_ms = deadline_ms;
	c->record = record_it;
	c->cb = cb;
	c->arg = arg;
	if (rowcache_get(app->rows, id, &row)) {
		on_row(OSH_DB_OK, &row, c);
		return;
	}
	store_server_row(sm_svc(app)->db, id, on_loaded, c);
}
