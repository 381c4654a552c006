/* handlers.c - HTTP <-> server records: list, create, read, change,
 * delete, credentials, statistics, bulk import, Prometheus service
 * discovery and the internal credential lookups for the exporter. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/ipmi.h>
#include <osh/json.h>
#include <osh/log.h>

#include "handlers.h"
#include "import.h"
#include "rowcache.h"
#include "sm.h"
#include "store.h"

static struct sm_app *
app_of(struct osh_req *req)
{
	return osh_service_of(req)->app;
}

static struct osh_db *
db_of(struct osh_req *req)
{
	return osh_service_of(req)->db;
}

static struct json_object *
body_of(struct osh_req *req)
{
	struct osh_err err;
	struct json_object *o;

	if ((o = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL)
		osh_reply_err(req, &err);
	return o;
}

static void
reply_db(struct osh_req *req, enum osh_db_status st, int64_t id)
{
	switch (st) {
	case OSH_DB_NOT_FOUND:
		osh_reply_error(req, 404, NULL, "id", "server %lld not found",
		    (long long)id);
		break;
	case OSH_DB_INVALID:
		osh_reply_error(req, 400, "validation_failed", NULL,
		    "the database refused a value");
		break;
	default:
		osh_reply_error(req, 503, NULL, NULL, "database unavailable");
		break;
	}
}

static void
audit_server(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details)
{
	char target[32];

	snprintf(target, sizeof(target), "server:%lld", (long long)id);
	osh_audit_req(
	    osh_service_of(req)->audit, req, action, target, result, details);
}

/* Publishes server.<what> with the server's JSON as data. */
static void
publish(struct osh_req *req, const char *type, struct json_object *server)
{
	events_publish(
	    osh_service_of(req)->redis, type, json_object_get(server));
}

/* Answers with JSON text from the store. */
static void
on_raw(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct osh_req *req = arg;

	(void)state;
	if (st != OSH_DB_OK) {
		reply_db(req, st, 0);
		return;
	}
	osh_reply(req, 200, "application/json", json, strlen(json));
}

/*
 * List, get.
 */

static const struct {
	const char *name, *asc, *desc;
} sorts[] = {
    {"id", "id", "id DESC"},
    {"name", "lower(name), id", "lower(name) DESC, id"},
    {"status", "status, id", "status DESC, id"},
    {"power_state", "power_state, id", "power_state DESC, id"},
    {"last_seen", "last_seen NULLS FIRST, id", "last_seen DESC NULLS LAST, id"},
    {"created_at", "created_at, id", "created_at DESC, id"},
};

static bool
known_param(const char *key, const char *value, void *arg)
{
	static const char *const known[] = {"limit", "offset", "sort", "name",
	    "status", "power_state", "cluster", "manufacturer", "label",
	    "monitoring", NULL};
	const char **bad = arg;

	(void)value;
	for (const char *const *k = known; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	*bad = key;
	return false;
}

void
h_servers_list(struct osh_req *req)
{
	static const char *const statuses[] = {
	    "unknown", "online", "offline", "auth_failed", "error", NULL};
	static const char *const powers[] = {"on", "off", "unknown", NULL};
	struct server_filter f = {0};
	const char *bad = NULL, *v, *order = "id";
	int64_t limit = 50, offset = 0;
	struct json_object *label = NULL;
	char *label_json = NULL;

	osh_req_query_each(req, known_param, &bad);
	if (bad != NULL) {
		char *clean = osh_utf8_clean(bad, strlen(bad), 64);
		osh_reply_error(req, 400, "validation_failed", clean,
		    "unknown query parameter \"%s\"", clean);
		free(clean);
		return;
	}
	if ((v = osh_req_query(req, "limit")) &&
	    !osh_parse_int(v, 1, 1000, &limit)) {
		osh_reply_error(req, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to 1000");
		return;
	}
	if ((v = osh_req_query(req, "offset")) &&
	    !osh_parse_int(v, 0, 100000000, &offset)) {
		osh_reply_error(req, 400, "validation_failed", "offset",
		    "offset must be a non-negative integer");
		return;
	}
	if ((v = osh_req_query(req, "sort")) != NULL) {
		bool desc = v[0] == '-', found = false;
		for (size_t i = 0; i < OSH_ARRAY_LEN(sorts); i++) {
			if (strcmp(sorts[i].name, desc ? v + 1 : v) == 0) {
				order = desc ? sorts[i].desc : sorts[i].asc;
				found = true;
			}
		}
		if (!found) {
			osh_reply_error(req, 400, "validation_failed", "sort",
			    "sort must be id, name, status, power_state, "
			    "last_seen or created_at, '-' first for "
			    "descending");
			return;
		}
	}
	f.status = osh_req_query(req, "status");
	f.power_state = osh_req_query(req, "power_state");
	for (const char *const *s = statuses; f.status && *s; s++)
		if (strcmp(*s, f.status) == 0)
			goto status_ok;
	if (f.status) {
		osh_reply_error(req, 400, "validation_failed", "status",
		    "status must be unknown, online, offline, auth_failed or "
		    "error");
		return;
	}
status_ok:
	for (const char *const *s = powers; f.power_state && *s; s++)
		if (strcmp(*s, f.power_state) == 0)
			goto power_ok;
	if (f.power_state) {
		osh_reply_error(req, 400, "validation_failed", "power_state",
		    "power_state must be on, off or unknown");
		return;
	}
power_ok:
	f.name = osh_req_query(req, "name");
	f.cluster = osh_req_query(req, "cluster");
	f.manufacturer = osh_req_query(req, "manufacturer");
	f.monitoring = osh_req_query(req, "monitoring");
	if (f.monitoring && strcmp(f.monitoring, "true") != 0 &&
	    strcmp(f.monitoring, "false") != 0) {
		osh_reply_error(req, 400, "validation_failed", "monitoring",
		    "monitoring must be true or false");
		return;
	}
	const char *texts[] = {f.name, f.cluster, f.manufacturer};
	for (size_t i = 0; i < OSH_ARRAY_LEN(texts); i++) {
		const char *t = texts[i];
		if (t != NULL &&
		    (strlen(t) > 256 || !osh_utf8_valid(t, strlen(t)))) {
			osh_reply_error(req, 400, "validation_failed", NULL,
			    "filters must be text of at most 256 bytes");
			return;
		}
	}
	if ((v = osh_req_query(req, "label")) != NULL) {
		const char *eq = strchr(v, '=');
		if (eq == NULL || eq == v || strlen(v) > 320 ||
		    !osh_utf8_valid(v, strlen(v))) {
			osh_reply_error(req, 400, "validation_failed", "label",
			    "label must be key=value");
			return;
		}
		label = json_object_new_object();
		{
			char key[80];
			size_t kl = (size_t)(eq - v);
			if (kl >= sizeof(key))
				kl = sizeof(key) - 1;
			memcpy(key, v, kl);
			key[kl] = '\0';
			json_object_object_add(
			    label, key, json_object_new_string(eq + 1));
		}
		label_json = strdup(json_object_to_json_string(label));
		json_object_put(label);
		f.label = label_json;
	}
	store_server_list(db_of(req), &f, limit, offset, order, on_raw, req);
	free(label_json);
}

void
h_servers_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "server", &id))
		store_server_get(db_of(req), id, on_raw, req);
}

void
h_stats(struct osh_req *req)
{
	store_stats(db_of(req), on_raw, req);
}

/* Prometheus http_sd_configs: internal, loopback only. */
void
h_sd_targets(struct osh_req *req)
{
	store_sd_targets(db_of(req), on_raw, req);
}

/*
 * Create.
 */

struct create {
	struct osh_req *req;
	struct json_object *body;
	struct server_in in;
	int64_t id;
	char *sealed;
	/* for imports: */
	void (*done)(struct create *c, int status, struct osh_err *err,
	    struct json_object *server);
	void *arg;
};

static void
create_free(struct create *c)
{
	server_in_release(&c->in);
	osh_free_secret(c->sealed);
	json_wipe_passwords(c->body);
	json_object_put(c->body);
	free(c);
}

static void
create_finish(struct create *c, int status, struct osh_err *err,
    struct json_object *server)
{
	if (c->done != NULL) {
		c->done(c, status, err, server);
		create_free(c);
		return;
	}
	audit_server(c->req, "server.create", c->id,
	    status == 201 ? "success" : "failure", osh_audit_fields(c->body));
	if (status == 201) {
		publish(c->req, "server.created", server);
		osh_reply_json(c->req, 201, json_object_get(server));
	} else {
		osh_reply_err(c->req, err);
	}
	create_free(c);
}

static void
on_which_conflict(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct create *c = arg;
	struct osh_err err;

	(void)state;
	if (st == OSH_DB_OK && strcmp(json, "name") == 0)
		osh_err_set(&err, 409, "name_taken", "name",
		    "a server named \"%s\" exists already", c->in.name);
	else
		osh_err_set(&err, 409, "bmc_address_taken", "bmc_address",
		    "a server with this BMC address exists already");
	create_finish(c, 409, &err, NULL);
}

static void
on_inserted(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct create *c = arg;
	struct json_object *r, *server;
	struct osh_err err;

	(void)state;
	if (st == OSH_DB_CONFLICT) {
		const char *v[] = {c->in.name};
		osh_db_json(osh_service_of(c->req)->db,
		    "SELECT CASE WHEN EXISTS (SELECT 1 FROM servers WHERE "
		    "lower(name) = lower($1)) THEN 'name' ELSE 'bmc' END",
		    1, v, on_which_conflict, c);
		return;
	}
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		osh_err_set(&err, st == OSH_DB_INVALID ? 400 : 503,
		    st == OSH_DB_INVALID ? "validation_failed" : NULL, NULL,
		    st == OSH_DB_INVALID ? "the database refused a value"
					 : "database unavailable");
		create_finish(c, err.status, &err, NULL);
		return;
	}
	server = json_object_object_get(r, "server");
	create_finish(c, 201, NULL, server);
	json_object_put(r);
}

static void
on_next_id(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct create *c = arg;
	struct osh_err err;
	struct bmc_endpoint e = {0};
	char ad[CREDS_AD_MAX];

	(void)state;
	if (st != OSH_DB_OK || !osh_parse_int(json, 1, INT64_MAX, &c->id)) {
		osh_err_set(&err, 503, NULL, NULL, "database unavailable");
		create_finish(c, 503, &err, NULL);
		return;
	}
	if (c->in.has_credentials) {
		/* Bound to where the server will be (the version as the
		 * insert defaults it). */
		osh_strlcpy(e.host, c->in.host, sizeof(e.host));
		e.port = c->in.port;
		osh_strlcpy(e.ipmi_version,
		    c->in.ipmi_version ? c->in.ipmi_version : "2.0",
		    sizeof(e.ipmi_version));
		creds_ad(ad, sizeof(ad), c->id, &e);
		c->sealed = creds_seal(
		    app_of(c->req)->keys, c->in.username, c->in.password, ad);
		osh_wipe(c->in.password, sizeof(c->in.password));
		if (c->sealed == NULL) {
			osh_err_set(&err, 503, NULL, NULL, "out of memory");
			create_finish(c, 503, &err, NULL);
			return;
		}
	}
	store_server_insert(osh_service_of(c->req)->db, c->id, &c->in,
	    c->sealed, on_inserted, c);
}

/* Starts creating a server from a checked body (taken). */
static void
create_start(struct osh_req *req, struct json_object *body,
    void (*done)(struct create *, int, struct osh_err *, struct json_object *),
    void *arg)
{
	struct create *c = calloc(1, sizeof(*c));
	struct osh_err err;

	if (c == NULL) {
		json_wipe_passwords(body);
		json_object_put(body);
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		if (done == NULL)
			osh_reply_err(req, &err);
		return;
	}
	c->req = req;
	c->body = body;
	c->done = done;
	c->arg = arg;
	if (server_in_parse(body, true, &c->in, &err) != 0) {
		create_finish(c, err.status, &err, NULL);
		return;
	}
	store_next_id(osh_service_of(req)->db, on_next_id, c);
}

void
h_servers_create(struct osh_req *req)
{
	struct json_object *body = body_of(req);

	if (body != NULL) {
		osh_wipe(req->body, req->body_len);
		create_start(req, body, NULL, NULL);
	}
}

/*
 * Change and delete.
 *
 * A change that touches the BMC endpoint (address, port, IPMI version) or
 * the credentials reads the row first: credentials are sealed for the
 * endpoint the server will have, and stored ones are never carried to a
 * new endpoint (400 naming credentials unless new ones come along). The
 * update then applies only while the endpoint is still the one read.
 */

struct change {
	struct osh_req *req;
	struct json_object *body;
	struct server_in in;
	int64_t id;
	char *sealed;
	const char *action;
	bool expecting; /* the update is conditional on 'was' */
	bool endpoint_changed;
	struct bmc_endpoint was, will;
};

static void
change_free(struct change *c)
{
	server_in_release(&c->in);
	osh_free_secret(c->sealed);
	json_wipe_passwords(c->body);
	json_object_put(c->body);
	free(c);
}

/* What the audit entry says: the fields set (never their values) and, for
 * a new endpoint, where from and to, and that the credentials were
 * replaced. (Member names must not look like secrets: the audit module
 * drops those.) */
static struct json_object *
change_details(struct change *c)
{
	struct json_object *d = osh_audit_fields(c->body);
	char text[320];

	if (c->endpoint_changed) {
		json_object_object_add(
		    d, "endpoint_changed", json_object_new_boolean(true));
		endpoint_text(&c->was, text, sizeof(text));
		json_object_object_add(
		    d, "endpoint_from", json_object_new_string(text));
		endpoint_text(&c->will, text, sizeof(text));
		json_object_object_add(
		    d, "endpoint_to", json_object_new_string(text));
		if (c->in.has_credentials)
			json_object_object_add(d, "replaced",
			    json_object_new_string("credentials"));
	}
	return d;
}

static void
on_updated(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct change *c = arg;
	struct json_object *r = NULL, *server;
	struct sm_app *app = app_of(c->req);

	(void)state;
	audit_server(c->req, c->action, c->id,
	    st == OSH_DB_OK ? "success" : "failure", change_details(c));
	if (st == OSH_DB_CONFLICT) {
		osh_reply_error(c->req, 409, "conflict",
		    c->in.name ? "name" : "bmc_address",
		    "another server has this %s already",
		    c->in.name ? "name or BMC address" : "BMC address");
		change_free(c);
		return;
	}
	if (st == OSH_DB_NOT_FOUND && c->expecting) {
		osh_reply_error(c->req, 409, "conflict", NULL,
		    "server %lld changed or went away meanwhile: read it and "
		    "try again",
		    (long long)c->id);
		change_free(c);
		return;
	}
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		reply_db(c->req, st, c->id);
		change_free(c);
		return;
	}
	server = json_object_object_get(r, "server");
	rowcache_drop(app->rows, c->id);
	/* Sessions of the old address or credentials are of no more use. */
	if (c->in.has_addr || c->in.has_credentials || c->in.ipmi_version ||
	    c->in.privilege || c->in.has_cipher || c->in.has_workarounds)
		osh_ipmi_forget(app->ipmi,
		    json_object_get_string(
			json_object_object_get(r, "old_host")),
		    (uint16_t)json_object_get_int(
			json_object_object_get(r, "old_port")));
	publish(c->req, "server.updated", server);
	osh_reply_json(c->req, 200, json_object_get(server));
	json_object_put(r);
	change_free(c);
}

static void
change_run(struct osh_req *req, struct change *c)
{
	store_server_update(db_of(req), c->id, &c->in, c->sealed,
	    c->expecting ? &c->was : NULL, on_updated, c);
}

/* The row as it is: checks the endpoint rule, seals new credentials for
 * the endpoint the server will have, then updates on condition. */
static void
on_change_row(enum osh_db_status st, const struct server_row *row, void *arg)
{
	struct change *c = arg;
	char ad[CREDS_AD_MAX];

	if (st != OSH_DB_OK) {
		reply_db(c->req, st, c->id);
		change_free(c);
		return;
	}
	endpoint_of_row(row, &c->was);
	c->will = c->was;
	if (c->in.has_addr) {
		osh_strlcpy(c->will.host, c->in.host, sizeof(c->will.host));
		c->will.port = c->in.port;
	}
	if (c->in.ipmi_version != NULL)
		osh_strlcpy(c->will.ipmi_version, c->in.ipmi_version,
		    sizeof(c->will.ipmi_version));
	c->endpoint_changed = !endpoint_same(&c->was, &c->will);
	c->expecting = true;
	if (c->endpoint_changed && row->credentials != NULL &&
	    !c->in.has_credentials) {
		audit_server(
		    c->req, c->action, c->id, "failure", change_details(c));
		osh_reply_error(c->req, 400, "validation_failed", "credentials",
		    "changing the BMC address, port or IPMI version needs "
		    "the BMC credentials for the new endpoint in the same "
		    "request: the stored ones are never sent elsewhere");
		change_free(c);
		return;
	}
	if (c->in.has_credentials) {
		creds_ad(ad, sizeof(ad), c->id, &c->will);
		c->sealed = creds_seal(
		    app_of(c->req)->keys, c->in.username, c->in.password, ad);
		osh_wipe(c->in.password, sizeof(c->in.password));
		if (c->sealed == NULL) {
			osh_reply_error(
			    c->req, 503, NULL, NULL, "out of memory");
			change_free(c);
			return;
		}
	}
	change_run(c->req, c);
}

/* Runs a change, reading the row first when it touches the endpoint or
 * the credentials. */
static void
change_start(struct change *c)
{
	if (c->in.has_addr || c->in.ipmi_version != NULL ||
	    c->in.has_credentials)
		store_server_row(db_of(c->req), c->id, on_change_row, c);
	else
		change_run(c->req, c);
}

/* The change a PATCH-like request asks for, with its body read and the
 * raw body wiped (it may hold a password); NULL when it was answered. */
static struct change *
change_new(struct osh_req *req, const char *action)
{
	struct change *c;
	struct json_object *body;
	int64_t id;

	if (!osh_req_id(req, "id", "server", &id) ||
	    (body = body_of(req)) == NULL)
		return NULL;
	osh_wipe(req->body, req->body_len);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		json_wipe_passwords(body);
		json_object_put(body);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return NULL;
	}
	c->req = req;
	c->body = body;
	c->id = id;
	c->action = action;
	return c;
}

void
h_servers_patch(struct osh_req *req)
{
	struct change *c;
	struct osh_err err;

	if ((c = change_new(req, "server.update")) == NULL)
		return;
	if (server_in_parse(c->body, false, &c->in, &err) != 0) {
		osh_reply_err(req, &err);
		change_free(c);
		return;
	}
	change_start(c);
}

void
h_credentials(struct osh_req *req)
{
	struct change *c;
	struct osh_err err;

	if ((c = change_new(req, "server.credentials")) == NULL)
		return;
	c->in.monitoring = -1;
	if (credentials_parse(c->body, c->in.username, sizeof(c->in.username),
		c->in.password, sizeof(c->in.password), &err) != 0) {
		/* Name the field as this endpoint sees it. */
		const char *dot = strchr(err.field, '.');
		if (dot != NULL)
			memmove(err.field, dot + 1, strlen(dot));
		osh_reply_err(req, &err);
		change_free(c);
		return;
	}
	c->in.has_credentials = true;
	change_start(c);
}

struct del {
	struct osh_req *req;
	int64_t id;
};

static void
on_deleted(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct del *d = arg;
	struct json_object *r;

	(void)state;
	audit_server(d->req, "server.delete", d->id,
	    st == OSH_DB_OK ? "success" : "failure", NULL);
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		reply_db(d->req, st, d->id);
		free(d);
		return;
	}
	osh_ipmi_forget(app_of(d->req)->ipmi,
	    json_object_get_string(json_object_object_get(r, "host")),
	    (uint16_t)json_object_get_int(json_object_object_get(r, "port")));
	publish(d->req, "server.deleted", r);
	json_object_put(r);
	osh_reply_json(d->req, 204, NULL);
	free(d);
}

void
h_servers_delete(struct osh_req *req)
{
	struct del *d;
	int64_t id;

	if (!osh_req_id(req, "id", "server", &id))
		return;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	d->req = req;
	d->id = id;
	store_server_delete(db_of(req), id, on_deleted, d);
}

/*
 * Bulk import: rows are created one after the other; each gets a result.
 */

struct import {
	struct osh_req *req;
	struct json_object *rows;
	struct json_object *results;
	size_t next;
	int created, failed;
	void (*on_created)(size_t row, int64_t id, void *arg);
	void *arg;
};

static void import_next(struct import *im);

static void
row_done(struct create *c, int status, struct osh_err *err,
    struct json_object *server)
{
	struct import *im = c->arg;
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "row", json_object_new_int((int)im->next));
	if (status == 201) {
		im->created++;
		json_object_object_add(
		    r, "status", json_object_new_string("created"));
		json_object_object_add(r, "id",
		    json_object_get(json_object_object_get(server, "id")));
		audit_server(im->req, "server.create", c->id, "success",
		    osh_audit_fields(c->body));
		publish(im->req, "server.created", server);
		if (im->on_created != NULL)
			im->on_created(im->next, c->id, im->arg);
	} else {
		im->failed++;
		json_object_object_add(
		    r, "status", json_object_new_string("error"));
		struct json_object *e = osh_err_json(err, NULL);
		json_object_object_add(r, "error",
		    json_object_get(json_object_object_get(e, "error")));
		json_object_put(e);
	}
	json_object_array_add(im->results, r);
	im->next++;
	import_next(im);
}

static void
import_next(struct import *im)
{
	struct json_object *o;

	if (im->next >= json_object_array_length(im->rows)) {
		o = json_object_new_object();
		json_object_object_add(
		    o, "created", json_object_new_int(im->created));
		json_object_object_add(
		    o, "failed", json_object_new_int(im->failed));
		json_object_object_add(o, "rows", im->results);
		osh_reply_json(im->req, 200, o);
		if (im->on_created != NULL)
			im->on_created(IMPORT_FINISHED, 0, im->arg);
		json_object_put(im->rows);
		free(im);
		return;
	}
	create_start(im->req,
	    json_object_get(json_object_array_get_idx(im->rows, im->next)),
	    row_done, im);
}

void
h_import(struct osh_req *req)
{
	const char *ct = osh_req_header(req, "Content-Type");
	struct osh_err err;
	struct json_object *rows;

	if (ct != NULL && strncasecmp(ct, "text/csv", 8) == 0)
		rows = import_csv(req->body, req->body_len, &err);
	else
		rows = import_json(req->body, req->body_len, &err);
	osh_wipe(req->body, req->body_len);
	if (rows == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	import_run(req, rows, NULL, NULL);
}

void
import_run(struct osh_req *req, struct json_object *rows,
    void (*on_created)(size_t row, int64_t id, void *arg), void *arg)
{
	struct import *im;

	if ((im = calloc(1, sizeof(*im))) == NULL) {
		json_wipe_passwords(rows);
		json_object_put(rows);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	im->req = req;
	im->rows = rows;
	im->results = json_object_new_array();
	im->on_created = on_created;
	im->arg = arg;
	import_next(im);
}

void
h_import_template(struct osh_req *req)
{
	const char *t = import_template();

	osh_resp_header(req, "Content-Disposition",
	    "attachment; filename=\"servers-template.csv\"");
	osh_reply(req, 200, "text/csv; charset=utf-8", t, strlen(t));
}

/*
 * Credentials for services (the exporter's module=osh).
 */

static void
on_cred_row(enum osh_db_status st, const struct server_row *row, void *arg)
{
	struct osh_req *req = arg;
	struct osh_ipmi_target t;
	struct osh_err err;
	struct json_object *o;
	const char *text;
	char wa[300], target[32];

	if (st != OSH_DB_OK) {
		if (st == OSH_DB_NOT_FOUND)
			osh_reply_error(req, 404, NULL, NULL, "no such server");
		else
			osh_reply_error(
			    req, 503, NULL, NULL, "database unavailable");
		return;
	}
	snprintf(target, sizeof(target), "server:%lld", (long long)row->id);
	if (!server_target(app_of(req), row, &t, &err)) {
		osh_reply_err(req, &err);
		return;
	}
	osh_ipmi_workarounds_format(t.workarounds, wa, sizeof(wa));
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(row->id));
	json_object_object_add(o, "name", json_object_new_string(row->name));
	json_object_object_add(o, "host", json_object_new_string(t.host));
	json_object_object_add(o, "port", json_object_new_int(t.port));
	json_object_object_add(o, "username", json_object_new_string(t.user));
	json_object_object_add(
	    o, "password", json_object_new_string(t.password));
	json_object_object_add(
	    o, "ipmi_version", json_object_new_string(row->ipmi_version));
	json_object_object_add(
	    o, "privilege", json_object_new_string(row->privilege));
	json_object_object_add(
	    o, "cipher_suite", json_object_new_int(row->cipher_suite));
	json_object_object_add(o, "workarounds", json_object_new_string(wa));
	osh_ipmi_target_wipe(&t);
	osh_audit_req(osh_service_of(req)->audit, req,
	    "server.credentials_read", target, "success", NULL);
	/* Serialized here so that the text and the password's string are
	 * wiped once the reply holds its copy. */
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	osh_reply(req, 200, "application/json", text, strlen(text));
	osh_wipe((void *)(uintptr_t)text, strlen(text));
	json_wipe_passwords(o);
	json_object_put(o);
}

void
h_internal_credentials(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "server", &id))
		store_server_row(db_of(req), id, on_cred_row, req);
}

void
h_internal_lookup(struct osh_req *req)
{
	const char *target = osh_req_query(req, "target");
	char host[256];
	uint16_t port;

	if (target == NULL ||
	    !osh_ipmi_parse_address(target, host, sizeof(host), &port)) {
		osh_reply_error(req, 400, "validation_failed", "target",
		    "target must be a BMC address (host[:port])");
		return;
	}
	store_server_row_by_addr(db_of(req), host, port, on_cred_row, req);
}
