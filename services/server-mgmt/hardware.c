/* hardware.c - HTTP handlers that reach a server's BMC: power, boot
 * device, identify, sensors, inventory, SEL and refresh. Each runs one
 * request through bmc_call (bmc.h: load, target, submit, record) within
 * the BMC deadline, and answers. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>

#include "bmc.h"
#include "handlers.h"
#include "input.h"
#include "poller.h"
#include "sm.h"

struct hw;
typedef void (*hw_done)(struct hw *c, const struct osh_ipmi_result *r);

struct hw {
	struct osh_req *req;
	struct sm_app *app;
	int64_t id;
	char name[132];
	struct osh_ipmi_request rq;
	hw_done done;
	const char *action; /* audited when set */
	bool reply_server; /* answer with the server once recorded */
	struct json_object *details;
	struct sel_around around; /* h_internal_sel */
};

static void
hw_free(struct hw *c)
{
	json_object_put(c->details);
	free(c);
}

static void
audit_hw(struct hw *c, const char *result)
{
	char target[32];

	if (c->action == NULL)
		return;
	snprintf(target, sizeof(target), "server:%lld", (long long)c->id);
	osh_audit_req(osh_service_of(c->req)->audit, c->req, c->action, target,
	    result, json_object_get(c->details));
}

static void
on_observed(const char *server_json, void *arg)
{
	struct hw *c = arg;

	if (server_json == NULL)
		osh_reply_error(
		    c->req, 503, NULL, NULL, "database unavailable");
	else
		osh_reply(c->req, 200, "application/json", server_json,
		    strlen(server_json));
	hw_free(c);
}

static void
on_call(const struct bmc_call_result *res, void *arg)
{
	struct hw *c = arg;
	const struct osh_ipmi_result *r = res->r;

	switch (res->st) {
	case BMC_CALL_NOT_FOUND:
		osh_reply_error(c->req, 404, NULL, "id",
		    "server %lld not found", (long long)c->id);
		break;
	case BMC_CALL_DB:
		osh_reply_error(
		    c->req, 503, NULL, NULL, "database unavailable");
		break;
	case BMC_CALL_TARGET:
		audit_hw(c, "failure");
		osh_reply_err(c->req, res->err);
		break;
	case BMC_CALL_BUSY:
		osh_reply_error(c->req, 503, NULL, NULL, "BMC engine busy");
		break;
	case BMC_CALL_OK:
		osh_strlcpy(c->name, res->name, sizeof(c->name));
		/* Whatever the request saw about the server is worth
		 * keeping. */
		if (c->reply_server) {
			poller_observe(
			    c->app, c->id, c->name, &c->rq, r, on_observed, c);
			return;
		}
		audit_hw(c, r->err == OSH_IPMI_OK ? "success" : "failure");
		if (r->err != OSH_IPMI_OK && r->done == 0)
			reply_ipmi_error(c->req, r, c->name);
		else
			c->done(c, r);
		break;
	}
	hw_free(c);
}

/* Starts the common path for the server named by the {id} parameter. */
static struct hw *
hw_start(struct osh_req *req, unsigned want, hw_done done)
{
	struct hw *c;
	int64_t id;

	if (!osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id)) {
		osh_reply_error(req, 404, NULL, "id", "server not found");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return NULL;
	}
	c->req = req;
	c->app = handlers_app(req);
	c->id = id;
	c->rq.want = want;
	c->done = done;
	return c;
}

static void
hw_go(struct hw *c)
{
	bmc_call(c->app, c->id, &c->rq, (int)c->app->cfg.bmc_timeout_ms,
	    !c->reply_server, on_call, c);
}

/*
 * Power.
 */

static void
power_done(struct hw *c, const struct osh_ipmi_result *r)
{
	struct json_object *o = json_object_new_object();

	if (!(r->done & OSH_IPMI_WANT_CONTROL)) {
		json_object_put(o);
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "action",
	    json_object_get(json_object_object_get(c->details, "action")));
	json_object_object_add(o, "result", json_object_new_string("ok"));
	json_object_object_add(o, "power_state",
	    c->rq.power == OSH_POWER_ON	       ? json_object_new_string("on")
		: c->rq.power == OSH_POWER_OFF ? json_object_new_string("off")
					       : NULL);
	osh_reply_json(c->req, 200, o);
}

void
h_power_action(struct osh_req *req)
{
	struct json_object *o = handlers_body_or_empty(req);
	struct osh_ipmi_request rq = {0};
	struct osh_err err;
	struct hw *c;

	if (o == NULL)
		return;
	if (input_power(o, &rq, &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return;
	}
	json_object_put(o);
	if ((c = hw_start(req, OSH_IPMI_WANT_CONTROL, power_done)) == NULL)
		return;
	c->rq.power = rq.power;
	c->action = "server.power";
	c->details = json_object_new_object();
	json_object_object_add(c->details, "action",
	    json_object_new_string(power_action_name(rq.power)));
	osh_metric_add(c->app->m_power_actions, "", 1);
	hw_go(c);
}

static void
status_done(struct hw *c, const struct osh_ipmi_result *r)
{
	struct json_object *o;

	if (!(r->done & OSH_IPMI_WANT_CHASSIS)) {
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	o = chassis_json(&r->chassis);
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	osh_reply_json(c->req, 200, o);
}

void
h_power_status(struct osh_req *req)
{
	struct hw *c = hw_start(req, OSH_IPMI_WANT_CHASSIS, status_done);

	if (c != NULL)
		hw_go(c);
}

/*
 * Boot device and identify.
 */

static void
ok_done(struct hw *c, const struct osh_ipmi_result *r)
{
	unsigned want = c->rq.want &
	    (OSH_IPMI_WANT_BOOT | OSH_IPMI_WANT_IDENTIFY |
		OSH_IPMI_WANT_SEL_CLEAR);
	struct json_object *o;

	if ((r->done & want) != want) {
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	if (want & OSH_IPMI_WANT_SEL_CLEAR) {
		osh_reply_json(c->req, 204, NULL);
		return;
	}
	o = json_object_get(c->details);
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "result", json_object_new_string("ok"));
	osh_reply_json(c->req, 200, o);
}

void
h_boot_device(struct osh_req *req)
{
	struct json_object *o = handlers_body_or_empty(req);
	struct osh_ipmi_request rq = {0};
	struct osh_err err;
	struct hw *c;

	if (o == NULL)
		return;
	if (input_boot(o, &rq, &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return;
	}
	if ((c = hw_start(req, OSH_IPMI_WANT_BOOT, ok_done)) == NULL) {
		json_object_put(o);
		return;
	}
	c->rq.boot = rq.boot;
	c->action = "server.boot_device";
	c->details = json_object_new_object();
	json_object_object_add(c->details, "device",
	    json_object_new_string(osh_json_str(o, "device", "none")));
	json_object_object_add(c->details, "persistent",
	    json_object_new_boolean(c->rq.boot.persistent));
	json_object_object_add(
	    c->details, "efi", json_object_new_boolean(c->rq.boot.efi));
	json_object_put(o);
	hw_go(c);
}

void
h_identify(struct osh_req *req)
{
	struct json_object *o = handlers_body_or_empty(req);
	struct osh_ipmi_request rq = {0};
	struct osh_err err;
	struct hw *c;

	if (o == NULL)
		return;
	if (input_identify(o, &rq, &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return;
	}
	json_object_put(o);
	if ((c = hw_start(req, OSH_IPMI_WANT_IDENTIFY, ok_done)) == NULL)
		return;
	c->rq.identify = rq.identify;
	c->action = "server.identify";
	c->details = json_object_new_object();
	json_object_object_add(c->details, "mode",
	    json_object_new_string(c->rq.identify.force ? "force"
		    : c->rq.identify.seconds		? "timed"
							: "off"));
	if (c->rq.identify.seconds)
		json_object_object_add(c->details, "seconds",
		    json_object_new_int(c->rq.identify.seconds));
	hw_go(c);
}

/*
 * Sensors, inventory, SEL, refresh.
 */

static void
sensors_done(struct hw *c, const struct osh_ipmi_result *r)
{
	struct json_object *o = json_object_new_object();

	if (!(r->done & OSH_IPMI_WANT_SENSORS)) {
		json_object_put(o);
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(
	    o, "items", sensors_json(r->sensors, r->nsensors));
	json_object_object_add(
	    o, "total", json_object_new_int64((int64_t)r->nsensors));
	json_object_object_add(
	    o, "skipped_records", json_object_new_int((int)r->skipped_records));
	osh_reply_json(c->req, 200, o);
}

void
h_sensors(struct osh_req *req)
{
	struct hw *c = hw_start(req, OSH_IPMI_WANT_SENSORS, sensors_done);

	if (c != NULL)
		hw_go(c);
}

static void
inventory_done(struct hw *c, const struct osh_ipmi_result *r)
{
	struct json_object *o;

	if (!(r->done & OSH_IPMI_WANT_DEVICE_ID)) {
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	o = inventory_json(r);
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	osh_reply_json(c->req, 200, o);
}

void
h_inventory(struct osh_req *req)
{
	struct hw *c = hw_start(
	    req, OSH_IPMI_WANT_DEVICE_ID | OSH_IPMI_WANT_FRU, inventory_done);

	if (c != NULL)
		hw_go(c);
}

/* A page of the SEL, newest first; next_cursor continues with the
 * entries older than the page. */
static void
sel_done(struct hw *c, const struct osh_ipmi_result *r)
{
	struct json_object *o, *items;

	if (!(r->done & OSH_IPMI_WANT_SEL)) {
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	if (r->sel_start_gone) {
		osh_reply_error(c->req, 400, "validation_failed", "cursor",
		    "no SEL entry %u any more (the log was cleared?): start "
		    "again without a cursor",
		    c->rq.sel.start);
		return;
	}
	o = json_object_new_object();
	items = json_object_new_array();
	for (size_t i = 0; i < r->nsel; i++)
		json_object_array_add(items, sel_entry_json(&r->sel[i]));
	json_object_object_add(o, "items", items);
	json_object_object_add(
	    o, "total", json_object_new_int64((int64_t)r->sel_total));
	json_object_object_add(o, "next_cursor",
	    r->sel_next != 0 ? json_object_new_int(r->sel_next) : NULL);
	if (r->done & OSH_IPMI_WANT_SEL_INFO) {
		json_object_object_add(o, "free_bytes",
		    json_object_new_int(r->sel_info.free_bytes));
	}
	osh_reply_json(c->req, 200, o);
}

/* GET /api/servers/{id}/sel?limit=&cursor=: the engine keeps each BMC's
 * log and reads only what was added since, so a page costs one Get SEL
 * Info when nothing changed. */
void
h_sel_list(struct osh_req *req)
{
	struct input_param p[INPUT_MAX_PARAMS + 1];
	struct osh_ipmi_request rq = {0};
	struct osh_err err;
	struct hw *c;
	size_t n = handlers_params(req, p, OSH_ARRAY_LEN(p));

	if (input_sel_query(p, n, &rq, &err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	if ((c = hw_start(req, OSH_IPMI_WANT_SEL_INFO | OSH_IPMI_WANT_SEL,
		 sel_done)) == NULL)
		return;
	c->rq.sel = rq.sel;
	hw_go(c);
}

/* The entries of the newest page within the window, at most limit of
 * them (the closest to 'around'), newest first. */
static void
sel_around_done(struct hw *c, const struct osh_ipmi_result *r)
{
	const struct sel_around *a = &c->around;
	struct json_object *o, *items;
	bool *keep;
	size_t kept = 0;
	char ts[OSH_TIME_LEN];

	if (!(r->done & OSH_IPMI_WANT_SEL)) {
		reply_ipmi_error(c->req, r, c->name);
		return;
	}
	if ((keep = calloc(r->nsel + 1, sizeof(*keep))) == NULL) {
		osh_reply_error(c->req, 503, NULL, NULL, "out of memory");
		return;
	}
	/* Closest first, limit times over at most a page (1000). */
	while (kept < a->limit) {
		size_t best = r->nsel;
		int64_t best_d = a->window_s + 1;

		for (size_t i = 0; i < r->nsel; i++) {
			int64_t d = r->sel[i].timestamp - a->around_s;

			if (d < 0)
				d = -d;
			if (!keep[i] && r->sel[i].timestamp >= 0 &&
			    d < best_d) {
				best = i;
				best_d = d;
			}
		}
		if (best == r->nsel)
			break;
		keep[best] = true;
		kept++;
	}
	o = json_object_new_object();
	items = json_object_new_array();
	for (size_t i = 0; i < r->nsel; i++)
		if (keep[i])
			json_object_array_add(
			    items, sel_entry_json(&r->sel[i]));
	free(keep);
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "around",
	    json_object_new_string(
		osh_time_format(a->around_s * 1000, ts, sizeof(ts))));
	json_object_object_add(
	    o, "window_s", json_object_new_int64(a->window_s));
	json_object_object_add(o, "items", items);
	json_object_object_add(
	    o, "scanned", json_object_new_int64((int64_t)r->nsel));
	osh_reply_json(c->req, 200, o);
}

/* GET /internal/servers/{id}/sel?around=&window_s=&limit= (service
 * token): the SEL entries around a time, for alert evidence. Reads the
 * newest page (OSH_IPMI_SEL_PAGE_MAX entries; the engine keeps the log,
 * so that costs a Get SEL Info when nothing changed): older entries are
 * not searched. */
void
h_internal_sel(struct osh_req *req)
{
	struct input_param p[INPUT_MAX_PARAMS + 1];
	struct sel_around a;
	struct osh_err err;
	struct hw *c;
	size_t n = handlers_params(req, p, OSH_ARRAY_LEN(p));

	if (input_sel_around(p, n, &a, &err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	if ((c = hw_start(req, OSH_IPMI_WANT_SEL, sel_around_done)) == NULL)
		return;
	c->around = a;
	c->rq.sel.limit = OSH_IPMI_SEL_PAGE_MAX;
	hw_go(c);
}

void
h_sel_clear(struct osh_req *req)
{
	struct hw *c = hw_start(req, OSH_IPMI_WANT_SEL_CLEAR, ok_done);

	if (c == NULL)
		return;
	c->action = "server.sel_clear";
	hw_go(c);
}

static void
refresh_done(struct hw *c, const struct osh_ipmi_result *r)
{
	(void)c;
	(void)r; /* on_observed answers */
}

void
h_refresh(struct osh_req *req)
{
	struct hw *c = hw_start(
	    req, OSH_IPMI_WANT_CHASSIS | OSH_IPMI_WANT_DEVICE_ID, refresh_done);

	if (c == NULL)
		return;
	/* Even a failed poll is an answer: the server's status says so. */
	c->reply_server = true;
	hw_go(c);
}
