/* create.c - HTTP <-> creating servers: one (POST /api/servers), or many,
 * one row after the other with a result per row (bulk import from CSV or
 * JSON, and what a discovery scan found). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>

#include "handlers.h"
#include "import.h"
#include "sm.h"
#include "store.h"

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
	osh_json_wipe_named(c->body, "password");
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
	handlers_audit(c->req, "server.create", c->id,
	    status == 201 ? "success" : "failure", osh_audit_fields(c->body));
	if (status == 201) {
		handlers_publish(c->req, "server.created", server);
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
		c->sealed = creds_seal(handlers_app(c->req)->keys,
		    c->in.username, c->in.password, ad);
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

/* Starts creating a server from a body (taken); done (NULL: answer the
 * request) hears how it went. Returns -1 with err set, the body put,
 * when it could not start (out of memory). */
static int
create_start(struct osh_req *req, struct json_object *body,
    void (*done)(struct create *, int, struct osh_err *, struct json_object *),
    void *arg, struct osh_err *err)
{
	struct create *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		osh_json_wipe_named(body, "password");
		json_object_put(body);
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	}
	c->req = req;
	c->body = body;
	c->done = done;
	c->arg = arg;
	if (server_in_parse(body, true, &c->in, err) != 0) {
		create_finish(c, err->status, err, NULL);
		return 0;
	}
	store_next_id(osh_service_of(req)->db, on_next_id, c);
	return 0;
}

void
h_servers_create(struct osh_req *req)
{
	struct json_object *body = handlers_body(req);
	struct osh_err err;

	if (body == NULL)
		return;
	osh_wipe(req->body, req->body_len);
	if (create_start(req, body, NULL, NULL, &err) != 0)
		osh_reply_err(req, &err);
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
	struct create_rows_hooks hooks;
	bool stepping; /* import_next's loop runs */
	bool again; /* a row was answered at once: go on */
};

static void import_next(struct import *im);

/* Adds row im->next's result and goes on with the next row. */
static void
row_answer(struct import *im, int status, const struct osh_err *err,
    struct json_object *server)
{
	struct json_object *r = json_object_new_object(), *e;

	json_object_object_add(r, "row", json_object_new_int((int)im->next));
	if (status == 201) {
		im->created++;
		json_object_object_add(
		    r, "status", json_object_new_string("created"));
		json_object_object_add(r, "id",
		    json_object_get(json_object_object_get(server, "id")));
	} else {
		im->failed++;
		json_object_object_add(
		    r, "status", json_object_new_string("error"));
		e = osh_err_json(err, NULL);
		json_object_object_add(r, "error",
		    json_object_get(json_object_object_get(e, "error")));
		json_object_put(e);
	}
	json_object_array_add(im->results, r);
	im->next++;
	import_next(im);
}

static void
row_done(struct create *c, int status, struct osh_err *err,
    struct json_object *server)
{
	struct import *im = c->arg;

	if (status == 201) {
		handlers_audit(im->req, "server.create", c->id, "success",
		    osh_audit_fields(c->body));
		handlers_publish(im->req, "server.created", server);
		if (im->hooks.created != NULL)
			im->hooks.created(im->next, c->id, im->hooks.arg);
	}
	row_answer(im, status, err, server);
}

/* Answers the import once every row has its result. */
static void
import_finish(struct import *im)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "created", json_object_new_int(im->created));
	json_object_object_add(o, "failed", json_object_new_int(im->failed));
	json_object_object_add(o, "rows", im->results);
	osh_reply_json(im->req, 200, o);
	if (im->hooks.created != NULL)
		im->hooks.created(CREATE_ROWS_FINISHED, 0, im->hooks.arg);
	osh_json_wipe_named(im->rows, "password");
	json_object_put(im->rows);
	free(im);
}

/* Starts the next row. A row refused, or failing its checks, is answered
 * at once and calls back in here: that only asks the loop to go on, so
 * that thousands of bad rows do not nest thousands of calls. */
static void
import_next(struct import *im)
{
	struct osh_err err;

	if (im->stepping) {
		im->again = true;
		return;
	}
	im->stepping = true;
	do {
		im->again = false;
		if (im->next >= json_object_array_length(im->rows)) {
			import_finish(im);
			return;
		}
		memset(&err, 0, sizeof(err));
		if (im->hooks.refuse != NULL &&
		    im->hooks.refuse(im->next, &err, im->hooks.arg))
			row_answer(im, err.status, &err, NULL);
		else if (create_start(im->req,
			     json_object_get(
				 json_object_array_get_idx(im->rows, im->next)),
			     row_done, im, &err) != 0)
			row_answer(im, err.status, &err, NULL);
	} while (im->again);
	im->stepping = false;
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
	create_rows(req, rows, NULL);
}

void
create_rows(struct osh_req *req, struct json_object *rows,
    const struct create_rows_hooks *hooks)
{
	struct import *im;

	if ((im = calloc(1, sizeof(*im))) == NULL) {
		osh_json_wipe_named(rows, "password");
		json_object_put(rows);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		if (hooks != NULL && hooks->created != NULL)
			hooks->created(CREATE_ROWS_FINISHED, 0, hooks->arg);
		return;
	}
	im->req = req;
	im->rows = rows;
	im->results = json_object_new_array();
	if (hooks != NULL)
		im->hooks = *hooks;
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
