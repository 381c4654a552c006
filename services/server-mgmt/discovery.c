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
	static const struct osh_field f[] = {
	    {"range", OSH_FIELD_STRING, true, false, 1, 4096, NULL},
	    {"port", OSH_FIELD_STRING, false, false, 1, 32, NULL},
	    {"credentials", OSH_FIELD_ARRAY, false, false, 0, SCAN_MAX_CREDS,
		NULL},
	    {"workarounds", OSH_FIELD_ARRAY, false, false, 0, 12, NULL},
	    {"timeout_ms", OSH_FIELD_INT, false, false, 100, 10000, NULL},
	};
	struct sm_app *app = osh_service_of(req)->app;
	struct json_object *o, *range, *port = NULL, *creds, *was;
	struct osh_err err;
	struct create_scan *cs;
	struct scan_allow allow;
	struct scan *s;
	char bad[128];
	size_t n;

	if ((o = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	osh_wipe(req->body, req->body_len);
	range = NULL;
	if (!json_object_is_type(o, json_type_object)) {
		osh_err_set(&err, 400, "validation_failed", NULL,
		    "request body must be a JSON object");
		goto out_err;
	}
	/* range and port take several shapes: check them by hand, the rest
	 * by the table. */
	range = json_object_object_get(o, "range");
	if (json_object_object_get_ex(o, "port", &port))
		json_object_get(port);
	json_object_get(range);
	json_object_object_del(o, "port");
	if (range != NULL && !json_object_is_type(range, json_type_string))
		json_object_object_add(o, "range", json_object_new_string("x"));
	if (osh_json_check(o, f, OSH_ARRAY_LEN(f), &err) != 0)
		goto out_err;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	s->app = app;
	s->timeout_ms =
	    (int)osh_json_int(o, "timeout_ms", app->cfg.scan_timeout_ms);
	if (json_object_object_get_ex(o, "workarounds", &was)) {
		for (size_t i = 0; i < json_object_array_length(was); i++) {
			unsigned w;
			struct json_object *v =
			    json_object_array_get_idx(was, i);
			if (!json_object_is_type(v, json_type_string) ||
			    !osh_ipmi_workarounds_parse(
				json_object_get_string(v), &w, bad,
				sizeof(bad))) {
				osh_err_set(&err, 400, "validation_failed",
				    "workarounds", "unknown workaround flag");
				goto out_free_scan;
			}
			s->workarounds |= w;
		}
	}
	if (json_object_object_get_ex(o, "credentials", &creds)) {
		for (size_t i = 0; i < json_object_array_length(creds); i++) {
			if (credentials_parse(
				json_object_array_get_idx(creds, i),
				s->creds[i].user, sizeof(s->creds[i].user),
				s->creds[i].pass, sizeof(s->creds[i].pass),
				&err) != 0)
				goto out_free_scan;
			s->ncreds++;
		}
	}
	if (!scan_allow_parse(app->cfg.scan_allow, &allow, bad, sizeof(bad))) {
		/* Checked at start; cannot happen. */
		osh_err_set(&err, 503, NULL, NULL, "bad OSH_SCAN_ALLOW");
		goto out_free_scan;
	}
	s->targets = scan_targets(
	    range, port, (size_t)app->cfg.scan_max_targets, &allow, &n, &err);
	if (s->targets == NULL)
		goto out_free_scan;
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
		goto out_free_scan;
	}
	app->scans_running++;
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		scan_free(s);
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	cs->req = req;
	cs->scan = s;
	/* What is kept of the request: never the credentials. */
	cs->spec = json_object_new_object();
	json_object_object_add(cs->spec, "range", json_object_get(range));
	json_object_object_add(cs->spec, "port",
	    port ? json_object_get(port) : json_object_new_int(623));
	if (json_object_object_get_ex(o, "workarounds", &was))
		json_object_object_add(
		    cs->spec, "workarounds", json_object_get(was));
	json_object_object_add(
	    cs->spec, "credentials_given", json_object_new_int((int)s->ncreds));
	store_scan_create(osh_service_of(req)->db,
	    json_object_to_json_string(cs->spec), (int)n, req->claims.name,
	    req->claims.user_id, on_scan_created, cs);
	json_object_put(range);
	json_object_put(port);
	json_wipe_passwords(o);
	json_object_put(o);
	return;
out_free_scan: /* before it took a place: see scan_free */
	osh_wipe(s->creds, sizeof(s->creds));
	free(s->targets);
	free(s);
out_err:
	json_object_put(range);
	json_object_put(port);
	json_wipe_passwords(o);
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
	int64_t *result_ids; /* by row */
	size_t n;
};

static void
on_row_imported(size_t row, int64_t server, void *arg)
{
	struct scan_import *si = arg;

	if (row == CREATE_ROWS_FINISHED) {
		free(si->result_ids);
		free(si);
		return;
	}
	if (row < si->n)
		store_scan_mark_imported(osh_service_of(si->req)->db,
		    si->result_ids[row], server, NULL, NULL);
}

static void
on_importable(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct scan_import *si = arg;
	struct sm_app *app = osh_service_of(si->req)->app;
	struct json_object *list, *rows;
	char ad[CREDS_AD_MAX], prefix[40];
	const char *p = osh_req_query(si->req, "name_prefix");

	(void)state;
	if (st != OSH_DB_OK || (list = json_tokener_parse(json)) == NULL) {
		osh_reply_error(
		    si->req, 503, NULL, NULL, "database unavailable");
		free(si);
		return;
	}
	osh_strlcpy(prefix, p && *p ? p : "bmc", sizeof(prefix));
	rows = json_object_new_array();
	si->n = json_object_array_length(list);
	si->result_ids = calloc(si->n + 1, sizeof(int64_t));
	for (size_t i = 0; i < si->n; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);
		struct json_object *b = json_object_new_object();
		const char *host = osh_json_str(r, "host", "");
		int port =
		    json_object_get_int(json_object_object_get(r, "port"));
		char name[160], addr[300], user[33], pass[65];

		si->result_ids[i] =
		    json_object_get_int64(json_object_object_get(r, "id"));
		snprintf(name, sizeof(name), "%s-%s-%d", prefix, host, port);
		for (char *c = name; *c; c++)
			if (*c == ':' || *c == '/')
				*c = '-';
		snprintf(addr, sizeof(addr),
		    strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
		json_object_object_add(b, "name", json_object_new_string(name));
		json_object_object_add(
		    b, "bmc_address", json_object_new_string(addr));
		if (json_object_object_get(r, "workarounds") != NULL)
			json_object_object_add(b, "workarounds",
			    json_object_get(
				json_object_object_get(r, "workarounds")));
		json_object_object_add(b, "ipmi_version",
		    json_object_new_string(
			json_object_get_boolean(
			    json_object_object_get(r, "ipmi20"))
			    ? "2.0"
			    : "1.5"));
		scan_ad(ad, sizeof(ad), si->scan, host, port);
		if (creds_open(app->keys,
			json_object_get_string(
			    json_object_object_get(r, "credentials")),
			ad, user, sizeof(user), pass, sizeof(pass))) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(
			    c, "username", json_object_new_string(user));
			json_object_object_add(
			    c, "password", json_object_new_string(pass));
			json_object_object_add(b, "credentials", c);
		}
		osh_wipe(pass, sizeof(pass));
		json_object_array_add(rows, b);
	}
	json_object_put(list);
	create_rows(si->req, rows, on_row_imported, si);
}

void
h_scan_import(struct osh_req *req)
{
	static const struct osh_field f[] = {
	    {"results", OSH_FIELD_ARRAY, false, false, 1, 4096, NULL},
	};
	struct scan_import *si;
	struct json_object *o;
	struct osh_err err;
	int64_t id;

	if (!osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id)) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	o = req->body_len
	    ? osh_json_parse(req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)
	    : json_object_new_object();
	if (o == NULL || osh_json_check(o, f, OSH_ARRAY_LEN(f), &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return;
	}
	if ((si = calloc(1, sizeof(*si))) == NULL) {
		json_object_put(o);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	si->req = req;
	si->scan = id;
	store_scan_importable(osh_service_of(req)->db, id,
	    osh_json_has(o, "results")
		? json_object_to_json_string(
		      json_object_object_get(o, "results"))
		: NULL,
	    on_importable, si);
	json_object_put(o);
}
