/* create.c - HTTP <-> creating servers: one (POST /api/servers), or many
 * by batches, one transaction each, with a result per row (bulk import
 * from CSV or JSON, and what a discovery scan found). */
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

/* Answers the create: with server (err NULL), or with err. */
static void
create_finish(
    struct create *c, const struct osh_err *err, struct json_object *server)
{
	handlers_audit(c->req, "server.create", c->id,
	    err == NULL ? "success" : "failure", osh_audit_fields(c->body));
	if (err == NULL) {
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
	create_finish(c, &err, NULL);
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
		create_finish(c, &err, NULL);
		return;
	}
	server = json_object_object_get(r, "server");
	create_finish(c, NULL, server);
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
		create_finish(c, &err, NULL);
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
			create_finish(c, &err, NULL);
			return;
		}
	}
	store_server_insert(osh_service_of(c->req)->db, c->id, &c->in,
	    c->sealed, on_inserted, c);
}

/* Starts creating a server from a body (taken). Returns -1 with err set,
 * the body put, when it could not start (out of memory). */
static int
create_start(struct osh_req *req, struct json_object *body, struct osh_err *err)
{
	struct create *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		osh_json_wipe_named(body, "password");
		json_object_put(body);
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	}
	c->req = req;
	c->body = body;
	if (server_in_parse(body, true, &c->in, err) != 0) {
		create_finish(c, err, NULL);
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
	if (create_start(req, body, &err) != 0)
		osh_reply_err(req, &err);
}

/*
 * Bulk import: rows are checked, then created by batches of IMPORT_BATCH,
 * each one INSERT statement (one transaction) after one query for their
 * ids; each row gets a result. A dry run (?dry_run=true) checks the rows
 * the same way and asks the database only which names and addresses are
 * taken (one read per batch): a row is "valid" or gets the error the
 * import would give it, and nothing is written.
 */

#define IMPORT_BATCH 500

struct import {
	struct osh_req *req;
	struct json_object *rows;
	struct json_object *results; /* one per row, by row number */
	size_t next; /* first row of the next batch */
	int created, failed, valid;
	bool dry_run;
	struct json_object *seen; /* dry run: valid rows of earlier batches */
	struct create_rows_hooks hooks;
	/* The batch in flight: rows[i] of the import is checked into
	 * in[k] with row[k] == i; id[k] once the ids came. */
	size_t n;
	size_t row[IMPORT_BATCH];
	int64_t id[IMPORT_BATCH];
	struct server_in in[IMPORT_BATCH];
};

static void import_next(struct import *im);

/* Records row i's result: created as server (err NULL), or err. */
static void
row_answer(struct import *im, size_t i, const struct osh_err *err,
    struct json_object *server)
{
	struct json_object *r = json_object_new_object(), *e;

	json_object_object_add(r, "row", json_object_new_int((int)i));
	if (err == NULL && im->dry_run) {
		im->valid++;
		json_object_object_add(
		    r, "status", json_object_new_string("valid"));
	} else if (err == NULL) {
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
	json_object_array_put_idx(im->results, i, r);
}

/* Answers row k as refused for a name (name) or BMC address taken. */
static void
row_taken(struct import *im, size_t k, bool name)
{
	struct osh_err err;

	if (name)
		osh_err_set(&err, 409, "name_taken", "name",
		    "a server named \"%s\" exists already", im->in[k].name);
	else
		osh_err_set(&err, 409, "bmc_address_taken", "bmc_address",
		    "a server with this BMC address exists already");
	row_answer(im, im->row[k], &err, NULL);
}

static void
batch_release(struct import *im)
{
	for (size_t k = 0; k < im->n; k++)
		server_in_release(&im->in[k]);
	im->n = 0;
}

/* Answers the import once every row has its result. */
static void
import_finish(struct import *im)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "created", json_object_new_int(im->created));
	json_object_object_add(o, "failed", json_object_new_int(im->failed));
	if (im->dry_run) {
		json_object_object_add(
		    o, "dry_run", json_object_new_boolean(1));
		json_object_object_add(
		    o, "valid", json_object_new_int(im->valid));
	}
	json_object_object_add(o, "rows", im->results);
	osh_reply_json(im->req, 200, o);
	if (im->hooks.created != NULL)
		im->hooks.created(CREATE_ROWS_FINISHED, 0, im->hooks.arg);
	batch_release(im);
	json_object_put(im->seen);
	osh_json_wipe_named(im->rows, "password");
	json_object_put(im->rows);
	free(im);
}

/* Every row of the batch failed the same way. */
static void
batch_fail(struct import *im, const struct osh_err *err)
{
	for (size_t k = 0; k < im->n; k++)
		row_answer(im, im->row[k], err, NULL);
	batch_release(im);
	import_next(im);
}

static void
on_batch_inserted(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct import *im = arg;
	struct json_object *r, *created, *taken;
	struct osh_err err;

	(void)state;
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		osh_err_set(&err, st == OSH_DB_INVALID ? 400 : 503,
		    st == OSH_DB_INVALID ? "validation_failed" : NULL, NULL,
		    st == OSH_DB_INVALID ? "the database refused a value"
					 : "database unavailable");
		batch_fail(im, &err);
		return;
	}
	created = json_object_object_get(r, "created");
	taken = json_object_object_get(r, "name_taken");
	for (size_t k = 0; k < im->n; k++) {
		struct json_object *body =
		    json_object_array_get_idx(im->rows, im->row[k]);
		struct json_object *server;
		char sid[24];
		bool name = false;

		snprintf(sid, sizeof(sid), "%lld", (long long)im->id[k]);
		if (json_object_object_get_ex(created, sid, &server)) {
			handlers_audit(im->req, "server.create", im->id[k],
			    "success", osh_audit_fields(body));
			handlers_publish(im->req, "server.created", server);
			if (im->hooks.created != NULL)
				im->hooks.created(
				    im->row[k], im->id[k], im->hooks.arg);
			row_answer(im, im->row[k], NULL, server);
			continue;
		}
		for (size_t j = 0; j < json_object_array_length(taken); j++)
			if (json_object_get_int64(json_object_array_get_idx(
				taken, j)) == (int64_t)k)
				name = true;
		row_taken(im, k, name);
	}
	json_object_put(r);
	batch_release(im);
	import_next(im);
}

/* One row of the batch as the insert takes it; credentials sealed for
 * the id and endpoint the row will have. NULL when out of memory. */
static struct json_object *
batch_row(struct import *im, size_t k)
{
	struct server_in *in = &im->in[k];
	struct json_object *o = json_object_new_object();
	struct bmc_endpoint e = {0};
	char ad[CREDS_AD_MAX], *sealed;

	json_object_object_add(o, "ord", json_object_new_int((int)k));
	json_object_object_add(o, "id", json_object_new_int64(im->id[k]));
	json_object_object_add(o, "name", json_object_new_string(in->name));
	json_object_object_add(o, "host", json_object_new_string(in->host));
	json_object_object_add(o, "port", json_object_new_int(in->port));
	if (in->ipmi_version != NULL)
		json_object_object_add(o, "ipmi_version",
		    json_object_new_string(in->ipmi_version));
	if (in->privilege != NULL)
		json_object_object_add(
		    o, "privilege", json_object_new_string(in->privilege));
	if (in->has_cipher)
		json_object_object_add(
		    o, "cipher_suite", json_object_new_int(in->cipher_suite));
	if (in->has_workarounds)
		json_object_object_add(
		    o, "workarounds", json_object_new_string(in->workarounds));
	if (in->labels != NULL)
		json_object_object_add(
		    o, "labels", json_tokener_parse(in->labels));
	if (in->description != NULL)
		json_object_object_add(
		    o, "description", json_object_new_string(in->description));
	if (in->monitoring >= 0)
		json_object_object_add(
		    o, "monitoring", json_object_new_boolean(in->monitoring));
	if (in->cluster != NULL)
		json_object_object_add(
		    o, "cluster", json_object_new_string(in->cluster));
	if (!in->has_credentials)
		return o;
	osh_strlcpy(e.host, in->host, sizeof(e.host));
	e.port = in->port;
	osh_strlcpy(e.ipmi_version, in->ipmi_version ? in->ipmi_version : "2.0",
	    sizeof(e.ipmi_version));
	creds_ad(ad, sizeof(ad), im->id[k], &e);
	sealed = creds_seal(
	    handlers_app(im->req)->keys, in->username, in->password, ad);
	osh_wipe(in->password, sizeof(in->password));
	if (sealed == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(
	    o, "credentials", json_object_new_string(sealed));
	osh_free_secret(sealed);
	return o;
}

static void
on_batch_ids(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct import *im = arg;
	struct json_object *ids = NULL, *rows;
	struct osh_err err;

	(void)state;
	if (st != OSH_DB_OK || (ids = json_tokener_parse(json)) == NULL ||
	    !json_object_is_type(ids, json_type_array) ||
	    json_object_array_length(ids) != im->n) {
		json_object_put(ids);
		osh_err_set(&err, 503, NULL, NULL, "database unavailable");
		batch_fail(im, &err);
		return;
	}
	rows = json_object_new_array();
	for (size_t k = 0; k < im->n; k++) {
		struct json_object *row;

		im->id[k] =
		    json_object_get_int64(json_object_array_get_idx(ids, k));
		if ((row = batch_row(im, k)) == NULL) {
			json_object_put(ids);
			json_object_put(rows);
			osh_err_set(&err, 503, NULL, NULL, "out of memory");
			batch_fail(im, &err);
			return;
		}
		json_object_array_add(rows, row);
	}
	json_object_put(ids);
	store_server_insert_batch(handlers_db(im->req),
	    json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN),
	    on_batch_inserted, im);
	json_object_put(rows);
}

/* A dry run's batch row as store_server_conflicts takes it. */
static struct json_object *
check_row(const struct server_in *in, int ord)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ord", json_object_new_int(ord));
	json_object_object_add(o, "name", json_object_new_string(in->name));
	json_object_object_add(o, "host", json_object_new_string(in->host));
	json_object_object_add(o, "port", json_object_new_int(in->port));
	return o;
}

static void
on_batch_checked(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct import *im = arg;
	struct json_object *r, *why;
	struct osh_err err;

	(void)state;
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		osh_err_set(&err, 503, NULL, NULL, "database unavailable");
		batch_fail(im, &err);
		return;
	}
	for (size_t k = 0; k < im->n; k++) {
		char ord[24];

		snprintf(ord, sizeof(ord), "%zu", k);
		if (!json_object_object_get_ex(r, ord, &why)) {
			json_object_array_add(
			    im->seen, check_row(&im->in[k], 0));
			row_answer(im, im->row[k], NULL, NULL);
			continue;
		}
		row_taken(
		    im, k, strcmp(json_object_get_string(why), "name") == 0);
	}
	json_object_put(r);
	batch_release(im);
	import_next(im);
}

/* A dry run's batch: asks which rows' names or addresses are taken. */
static void
batch_check(struct import *im)
{
	struct json_object *rows = json_object_new_array();

	for (size_t k = 0; k < im->n; k++)
		json_object_array_add(rows, check_row(&im->in[k], (int)k));
	store_server_conflicts(handlers_db(im->req),
	    json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN),
	    json_object_to_json_string_ext(im->seen, JSON_C_TO_STRING_PLAIN),
	    on_batch_checked, im);
	json_object_put(rows);
}

/* Checks the rows of the next batch, answering those refused at once,
 * and asks ids for the others; answers the import after the last. */
static void
import_next(struct import *im)
{
	size_t total = json_object_array_length(im->rows);

	while (im->next < total) {
		size_t end = im->next + IMPORT_BATCH;

		im->n = 0;
		for (; im->next < total && im->next < end; im->next++) {
			struct json_object *body =
			    json_object_array_get_idx(im->rows, im->next);
			struct osh_err err;

			memset(&err, 0, sizeof(err));
			if (im->hooks.refuse != NULL &&
			    im->hooks.refuse(im->next, &err, im->hooks.arg)) {
				row_answer(im, im->next, &err, NULL);
				continue;
			}
			if (server_in_parse(body, true, &im->in[im->n], &err) !=
			    0) {
				server_in_release(&im->in[im->n]);
				row_answer(im, im->next, &err, NULL);
				continue;
			}
			im->row[im->n++] = im->next;
		}
		if (im->n > 0 && im->dry_run) {
			batch_check(im);
			return;
		}
		if (im->n > 0) {
			store_next_ids(
			    handlers_db(im->req), (int)im->n, on_batch_ids, im);
			return;
		}
	}
	import_finish(im);
}

static void import_start(struct osh_req *req, struct json_object *rows,
    const struct create_rows_hooks *hooks, bool dry_run);

void
h_import(struct osh_req *req)
{
	const char *ct = osh_req_header(req, "Content-Type");
	const char *dry = osh_req_query(req, "dry_run");
	struct osh_err err;
	struct json_object *rows;
	bool dry_run = false;

	if (dry != NULL && (strcmp(dry, "true") == 0 || strcmp(dry, "1") == 0))
		dry_run = true;
	else if (dry != NULL && strcmp(dry, "false") != 0 &&
	    strcmp(dry, "0") != 0) {
		osh_wipe(req->body, req->body_len);
		osh_reply_error(req, 400, "validation_failed", "dry_run",
		    "dry_run is true or false");
		return;
	}
	if (ct != NULL && strncasecmp(ct, "text/csv", 8) == 0)
		rows = import_csv(req->body, req->body_len, &err);
	else
		rows = import_json(req->body, req->body_len, &err);
	osh_wipe(req->body, req->body_len);
	if (rows == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	import_start(req, rows, NULL, dry_run);
}

void
create_rows(struct osh_req *req, struct json_object *rows,
    const struct create_rows_hooks *hooks)
{
	import_start(req, rows, hooks, false);
}

static void
import_start(struct osh_req *req, struct json_object *rows,
    const struct create_rows_hooks *hooks, bool dry_run)
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
	im->dry_run = dry_run;
	im->seen = json_object_new_array();
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
