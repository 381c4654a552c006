/* discovery.c - HTTP <-> discovery scans: start one (the request checked
 * and turned into a scan, see scan.c), read its progress and findings,
 * and import what it found as servers. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>

#include "handlers.h"
#include "input.h"
#include "scan.h"
#include "scan_targets.h"
#include "sm.h"
#include "store.h"

#define RETRY_AFTER_S "30"

struct create_scan {
	struct osh_req *req;
	struct scan *scan;
	struct json_object *spec;
};

static void
on_scan_created(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct create_scan *cs = arg;
	struct scan *s = cs->scan;
	struct json_object *o;
	char target[64];

	(void)state;
	if (st != OSH_DB_OK || !osh_parse_int(json, 1, INT64_MAX, &s->id)) {
		if (st == OSH_DB_CONFLICT)
			osh_reply_error(cs->req, 409, "scan_running", NULL,
			    "a scan of yours is running already: wait until "
			    "it is done");
		else
			osh_reply_error(
			    cs->req, 503, NULL, NULL, "database unavailable");
		scan_free(s);
		json_object_put(cs->spec);
		free(cs);
		return;
	}
	snprintf(target, sizeof(target), "scan:%lld", (long long)s->id);
	osh_audit_req(osh_service_of(cs->req)->audit, cs->req, "discovery.scan",
	    target, "success", json_object_get(cs->spec));
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "status", json_object_new_string("running"));
	json_object_object_add(
	    o, "total", json_object_new_int64((int64_t)s->n));
	snprintf(target, sizeof(target), "/api/discovery/scans/%lld",
	    (long long)s->id);
	osh_resp_header(cs->req, "Location", target);
	osh_reply_json(cs->req, 202, o);
	json_object_put(cs->spec);
	free(cs);
	scan_launch(s);
}

void
h_scan_create(struct osh_req *req)
{
	struct sm_app *app = osh_service_of(req)->app;
	struct json_object *o;
	struct scan_request in;
	struct osh_err err;
	struct create_scan *cs;
	struct scan_allow allow;
	struct scan *s = NULL;
	char bad[128];
	size_t n;

	if ((o = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	osh_wipe(req->body, req->body_len);
	if (input_scan(o, (int)app->cfg.scan_timeout_ms, &in, &err) != 0)
		goto out_err;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	s->app = app;
	s->timeout_ms = in.timeout_ms;
	s->workarounds = in.workaround_flags;
	memcpy(s->creds, in.creds, sizeof(s->creds));
	s->ncreds = in.ncreds;
	if (!scan_allow_parse(app->cfg.scan_allow, &allow, bad, sizeof(bad))) {
		/* Checked at start; cannot happen. */
		osh_err_set(&err, 503, NULL, NULL, "bad OSH_SCAN_ALLOW");
		goto out_err;
	}
	s->targets = scan_targets(in.range, in.port,
	    (size_t)app->cfg.scan_max_targets, &allow, &n, &err);
	if (s->targets == NULL)
		goto out_err;
	s->n = n;
	/* The service-wide cap, counted here: a place is taken now and
	 * given back by scan_free. One scan per user is the database's
	 * (a unique index over running scans): 409 on insert. */
	if (app->scans_running >= (size_t)app->cfg.scan_max_running) {
		osh_resp_header(req, "Retry-After", RETRY_AFTER_S);
		osh_err_set(&err, 503, "too_many_scans", NULL,
		    "%lld scans are running, the most at once: try again "
		    "later",
		    (long long)app->cfg.scan_max_running);
		goto out_err;
	}
	app->scans_running++;
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		scan_free(s);
		s = NULL;
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	cs->req = req;
	cs->scan = s;
	/* What is kept of the request: never the credentials. */
	cs->spec = json_object_new_object();
	json_object_object_add(cs->spec, "range", json_object_get(in.range));
	json_object_object_add(cs->spec, "port",
	    in.port ? json_object_get(in.port) : json_object_new_int(623));
	if (in.workarounds != NULL)
		json_object_object_add(
		    cs->spec, "workarounds", json_object_get(in.workarounds));
	json_object_object_add(
	    cs->spec, "credentials_given", json_object_new_int((int)s->ncreds));
	store_scan_create(osh_service_of(req)->db,
	    json_object_to_json_string(cs->spec), (int)n, req->claims.name,
	    req->claims.user_id, on_scan_created, cs);
	input_scan_release(&in);
	osh_json_wipe_named(o, "password");
	json_object_put(o);
	return;
out_err:
	if (s != NULL) { /* before it took a place: see scan_free */
		osh_wipe(s->creds, sizeof(s->creds));
		free(s->targets);
		free(s);
	}
	input_scan_release(&in);
	osh_json_wipe_named(o, "password");
	json_object_put(o);
	osh_reply_err(req, &err);
}

static void
on_scan(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct osh_req *req = arg;

	(void)state;
	if (st == OSH_DB_NOT_FOUND) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	if (st != OSH_DB_OK) {
		osh_reply_error(req, 503, NULL, NULL, "database unavailable");
		return;
	}
	osh_reply(req, 200, "application/json", json, strlen(json));
}

void
h_scan_get(struct osh_req *req)
{
	int64_t id;

	if (!osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id)) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	store_scan_get(osh_service_of(req)->db, id, on_scan, req);
}

struct scan_import {
	struct osh_req *req;
	int64_t scan;
	char prefix[40]; /* of the names made */
	int64_t *result_ids; /* by row */
	bool *unreadable; /* by row: its credentials do not open */
	size_t n;
};

static void
scan_import_free(struct scan_import *si)
{
	free(si->result_ids);
	free(si->unreadable);
	free(si);
}

static bool
on_row_refuse(size_t row, struct osh_err *err, void *arg)
{
	struct scan_import *si = arg;

	if (row >= si->n || !si->unreadable[row])
		return false;
	osh_err_set(err, 409, "credentials_unreadable", "credentials",
	    "credentials of this scan result cannot be opened; scan again");
	return true;
}

static void
on_row_imported(size_t row, int64_t server, void *arg)
{
	struct scan_import *si = arg;

	if (row == CREATE_ROWS_FINISHED) {
		scan_import_free(si);
		return;
	}
	if (row < si->n)
		store_scan_mark_imported(osh_service_of(si->req)->db,
		    si->result_ids[row], server, NULL, NULL);
}

/* The body creating the server a scan result (r) stands for; its
 * credentials come along when the scan sealed some, opened for the
 * address the scan found them at. *unreadable when there are some that
 * do not open (another key, or sealed by a release that did not bind
 * them to the address): the row is refused then, never imported without
 * them. */
static struct json_object *
row_of_result(struct scan_import *si, struct json_object *r, bool *unreadable)
{
	struct sm_app *app = osh_service_of(si->req)->app;
	struct json_object *b = json_object_new_object(), *c, *w;
	const char *host = osh_json_str(r, "host", "");
	const char *sealed = osh_json_str(r, "credentials", NULL);
	int port = (int)osh_json_int(r, "port", 0);
	char name[160], addr[300], ad[CREDS_AD_MAX], user[33], pass[65];

	snprintf(name, sizeof(name), "%s-%s-%d", si->prefix, host, port);
	for (char *ch = name; *ch; ch++)
		if (*ch == ':' || *ch == '/')
			*ch = '-';
	snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	    host, port);
	json_object_object_add(b, "name", json_object_new_string(name));
	json_object_object_add(b, "bmc_address", json_object_new_string(addr));
	if (json_object_object_get_ex(r, "workarounds", &w) && w != NULL)
		json_object_object_add(b, "workarounds", json_object_get(w));
	json_object_object_add(b, "ipmi_version",
	    json_object_new_string(
		osh_json_bool(r, "ipmi20", false) ? "2.0" : "1.5"));
	*unreadable = false;
	if (sealed == NULL)
		return b;
	scan_ad(ad, sizeof(ad), si->scan, host, port);
	if (!creds_open(app->keys, sealed, ad, user, sizeof(user), pass,
		sizeof(pass))) {
		*unreadable = true;
		return b;
	}
	c = json_object_new_object();
	json_object_object_add(c, "username", json_object_new_string(user));
	json_object_object_add(c, "password", json_object_new_string(pass));
	json_object_object_add(b, "credentials", c);
	osh_wipe(pass, sizeof(pass));
	return b;
}

static void
on_importable(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct scan_import *si = arg;
	struct json_object *list, *rows;
	struct create_rows_hooks hooks = {
	    .refuse = on_row_refuse,
	    .created = on_row_imported,
	    .arg = si,
	};

	(void)state;
	if (st != OSH_DB_OK || (list = json_tokener_parse(json)) == NULL) {
		osh_reply_error(
		    si->req, 503, NULL, NULL, "database unavailable");
		scan_import_free(si);
		return;
	}
	si->n = json_object_array_length(list);
	si->result_ids = calloc(si->n + 1, sizeof(*si->result_ids));
	si->unreadable = calloc(si->n + 1, sizeof(*si->unreadable));
	rows = json_object_new_array();
	if (si->result_ids == NULL || si->unreadable == NULL || rows == NULL) {
		json_object_put(rows);
		json_object_put(list);
		osh_reply_error(si->req, 503, NULL, NULL, "out of memory");
		scan_import_free(si);
		return;
	}
	for (size_t i = 0; i < si->n; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);
		si->result_ids[i] = osh_json_int(r, "id", 0);
		json_object_array_add(
		    rows, row_of_result(si, r, &si->unreadable[i]));
	}
	json_object_put(list);
	create_rows(si->req, rows, &hooks);
}

void
h_scan_import(struct osh_req *req)
{
	struct input_param p[INPUT_MAX_PARAMS + 1];
	struct scan_import_request in;
	struct scan_import *si;
	struct json_object *o;
	struct osh_err err;
	int64_t id;

	if (!osh_req_id(req, "id", "scan", &id) ||
	    (o = handlers_body_or_empty(req)) == NULL)
		return;
	if (input_scan_import(o, p, handlers_params(req, p, OSH_ARRAY_LEN(p)),
		&in, &err) != 0) {
		json_object_put(o);
		free(in.ids_json);
		osh_reply_err(req, &err);
		return;
	}
	json_object_put(o);
	if ((si = calloc(1, sizeof(*si))) == NULL) {
		free(in.ids_json);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	si->req = req;
	si->scan = id;
	osh_strlcpy(si->prefix, in.prefix, sizeof(si->prefix));
	store_scan_importable(
	    osh_service_of(req)->db, id, in.ids_json, on_importable, si);
	free(in.ids_json);
}
