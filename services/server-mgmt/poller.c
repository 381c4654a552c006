/* poller.c - the background status poller. One round lists the servers,
 * then keeps at most poll_concurrency BMC requests in flight until every
 * server has been asked; the next round starts an interval after this one
 * started (or at once, if a round took longer). */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/ipmi.h>
#include <osh/log.h>
#include <osh/util.h>

#include "poller.h"
#include "store.h"

struct item {
	int64_t id;
	char name[132];
	struct osh_ipmi_target target;
	bool usable;
	bool identify; /* read the FRU too: the product is not known yet */
};

struct poller {
	struct sm_app *app;
	struct event *timer;
	struct item *items;
	size_t n, next, in_flight;
	uint64_t round_start_us;
	bool running;
};

struct observe {
	struct sm_app *app;
	int64_t id;
	char name[132];
	void (*done)(const char *, void *);
	void *arg;
};

/* Tells other services (cluster-mgmt's read model) that a poll changed a
 * server's status: server.status_changed {id, name, from, to}. */
static void
status_changed(struct observe *o, const char *from, const char *to)
{
	struct json_object *d;

	if (from == NULL || to == NULL || strcmp(from, to) == 0)
		return;
	d = json_object_new_object();
	json_object_object_add(d, "id", json_object_new_int64(o->id));
	json_object_object_add(d, "name", json_object_new_string(o->name));
	json_object_object_add(d, "from", json_object_new_string(from));
	json_object_object_add(d, "to", json_object_new_string(to));
	events_publish(sm_svc(o->app)->redis, "server.status_changed", d);
}

static void
on_observed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct observe *o = arg;
	struct json_object *r = NULL, *server = NULL;
	const char *old_power, *new_power;

	(void)state;
	if (st == OSH_DB_OK && (r = json_tokener_parse(json)) != NULL &&
	    json_object_object_get_ex(r, "server", &server)) {
		struct json_object *np;
		old_power = json_object_get_string(
		    json_object_object_get(r, "old_power"));
		np = json_object_object_get(server, "power_state");
		new_power = json_object_get_string(np);
		if (old_power && new_power &&
		    strcmp(old_power, new_power) != 0 &&
		    strcmp(new_power, "unknown") != 0) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(
			    d, "id", json_object_new_int64(o->id));
			json_object_object_add(
			    d, "name", json_object_new_string(o->name));
			json_object_object_add(
			    d, "from", json_object_new_string(old_power));
			json_object_object_add(
			    d, "to", json_object_new_string(new_power));
			events_publish(
			    sm_svc(o->app)->redis, "server.power_changed", d);
			osh_log_info(NULL,
			    "msg=\"power changed\" server=%lld "
			    "from=%s to=%s",
			    (long long)o->id, old_power, new_power);
		}
	}
	if (server != NULL)
		status_changed(o,
		    json_object_get_string(
			json_object_object_get(r, "old_status")),
		    json_object_get_string(
			json_object_object_get(server, "status")));
	if (o->done != NULL)
		o->done(server ? json_object_to_json_string_ext(
				     server, JSON_C_TO_STRING_PLAIN)
			       : NULL,
		    o->arg);
	json_object_put(r);
	free(o);
}

void
poller_observe(struct sm_app *app, int64_t id, const char *name,
    const struct osh_ipmi_request *rq, const struct osh_ipmi_result *r,
    void (*done)(const char *, void *), void *arg)
{
	struct observation ob = {0};
	struct observe *o = calloc(1, sizeof(*o));
	bool reached = r->err == OSH_IPMI_OK || r->done != 0 ||
	    (r->err != OSH_IPMI_TIMEOUT && r->err != OSH_IPMI_UNREACHABLE &&
		r->err != OSH_IPMI_AUTH_FAILED && r->err != OSH_IPMI_PRIVILEGE);
	char firmware[16] = "";

	if (o == NULL) {
		if (done)
			done(NULL, arg);
		return;
	}
	o->app = app;
	o->id = id;
	o->done = done;
	o->arg = arg;
	osh_strlcpy(o->name, name, sizeof(o->name));
	/* A session was had: the BMC is online even if one part failed. */
	ob.status = reached ? "online" : status_of(r->err);
	ob.seen = reached;
	ob.error = r->err == OSH_IPMI_OK ? NULL : r->message;
	if (r->done & OSH_IPMI_WANT_CHASSIS)
		ob.power = r->chassis.power_on ? "on" : "off";
	else if (!reached)
		ob.power = "unknown";
	if (r->done & OSH_IPMI_WANT_DEVICE_ID) {
		ob.manufacturer = vendor_name(r->device.manufacturer_id);
		osh_strlcpy(firmware, r->device.firmware, sizeof(firmware));
		ob.firmware = firmware;
	}
	if (r->done & OSH_IPMI_WANT_FRU) {
		if (r->fru.product_mfg[0]) {
			ob.manufacturer = r->fru.product_mfg;
			ob.from_fru = true;
		}
		ob.product = r->fru.product_name;
		ob.serial = r->fru.product_serial;
	}
	(void)rq;
	store_server_observe(sm_svc(app)->db, id, &ob, on_observed, o);
}

static void next_round(struct poller *p);
static void launch(struct poller *p);

struct poll_call {
	struct poller *p;
	size_t index;
};

static void
on_polled(const struct osh_ipmi_result *r, void *arg)
{
	struct poll_call *pc = arg;
	struct poller *p = pc->p;
	struct item *it = &p->items[pc->index];

	poller_observe(p->app, it->id, it->name, NULL, r, NULL, NULL);
	free(pc);
	p->in_flight--;
	launch(p);
}

/* Keeps poll_concurrency requests in flight. */
static void
launch(struct poller *p)
{
	while (p->next < p->n &&
	    p->in_flight < (size_t)p->app->cfg.poll_concurrency) {
		struct item *it = &p->items[p->next];
		struct poll_call *pc;

		if (!it->usable || (pc = calloc(1, sizeof(*pc))) == NULL) {
			p->next++;
			continue;
		}
		struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS |
			OSH_IPMI_WANT_DEVICE_ID |
			(it->identify ? OSH_IPMI_WANT_FRU : 0)};
		pc->p = p;
		pc->index = p->next++;
		p->in_flight++;
		if (osh_ipmi_submit(p->app->ipmi, &it->target, &rq,
			(int)p->app->cfg.bmc_timeout_ms, on_polled, pc) != 0) {
			p->in_flight--;
			free(pc);
		}
	}
	if (p->next >= p->n && p->in_flight == 0 && p->running) {
		p->running = false;
		next_round(p);
	}
}

static void
clear_items(struct poller *p)
{
	for (size_t i = 0; i < p->n; i++)
		osh_ipmi_target_wipe(&p->items[i].target);
	free(p->items);
	p->items = NULL;
	p->n = p->next = 0;
}

static void
on_rows(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	struct poller *p = arg;

	clear_items(p);
	if (st != OSH_DB_OK || n == 0 ||
	    (p->items = calloc(n, sizeof(*p->items))) == NULL) {
		p->running = false;
		next_round(p);
		return;
	}
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		struct osh_err err;
		p->items[i].id = rows[i].id;
		osh_strlcpy(
		    p->items[i].name, rows[i].name, sizeof(p->items[i].name));
		p->items[i].usable =
		    server_target(p->app, &rows[i], &p->items[i].target, &err);
		p->items[i].identify =
		    rows[i].product == NULL || rows[i].product[0] == '\0';
	}
	launch(p);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct poller *p = arg;

	(void)fd;
	(void)what;
	if (p->running)
		return;
	p->running = true;
	p->round_start_us = osh_now_us();
	store_server_rows(sm_svc(p->app)->db, on_rows, p);
}

static void
next_round(struct poller *p)
{
	uint64_t interval = (uint64_t)p->app->cfg.poll_interval_s * 1000000u;
	uint64_t spent = osh_now_us() - p->round_start_us;
	uint64_t wait = spent >= interval ? 0 : interval - spent;
	struct timeval tv = {
	    (time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};

	evtimer_add(p->timer, &tv);
}

struct poller *
poller_new(struct sm_app *app)
{
	struct poller *p = calloc(1, sizeof(*p));
	struct timeval first = {1, 0};

	if (p == NULL)
		return NULL;
	p->app = app;
	p->timer = evtimer_new(sm_svc(app)->base, on_timer, p);
	if (p->timer == NULL) {
		free(p);
		return NULL;
	}
	evtimer_add(p->timer, &first);
	return p;
}

void
poller_free(struct poller *p)
{
	if (p == NULL)
		return;
	event_free(p->timer);
	clear_items(p);
	free(p);
}
