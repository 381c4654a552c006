/* change.c - HTTP <-> changing servers (PATCH, new credentials) and
 * deleting them. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/ipmi.h>
#include <osh/json.h>

#include "handlers.h"
#include "rowcache.h"
#include "sm.h"
#include "store.h"

/* A change that touches the BMC endpoint (address, port, IPMI version) or
 * the credentials reads the row first: credentials are sealed for the
 * endpoint the server will have, and stored ones are never carried to a
 * new endpoint (400 naming credentials unless new ones come along). The
 * update then applies only while the endpoint is still the one read. */

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
	osh_json_wipe_named(c->body, "password");
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
	struct sm_app *app = handlers_app(c->req);

	(void)state;
	handlers_audit(c->req, c->action, c->id,
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
		handlers_reply_db(c->req, st, c->id);
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
	handlers_publish(c->req, "server.updated", server);
	osh_reply_json(c->req, 200, json_object_get(server));
	json_object_put(r);
	change_free(c);
}

static void
change_run(struct osh_req *req, struct change *c)
{
	store_server_update(handlers_db(req), c->id, &c->in, c->sealed,
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
		handlers_reply_db(c->req, st, c->id);
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
		handlers_audit(
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
		c->sealed = creds_seal(handlers_app(c->req)->keys,
		    c->in.username, c->in.password, ad);
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
		store_server_row(handlers_db(c->req), c->id, on_change_row, c);
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
	    (body = handlers_body(req)) == NULL)
		return NULL;
	osh_wipe(req->body, req->body_len);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_json_wipe_named(body, "password");
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
		/* Name the field as this endpoint sees it (none when the
		 * body is not an object). */
		const char *dot = strchr(err.field, '.');
		if (dot != NULL)
			memmove(err.field, dot + 1, strlen(dot));
		else
			err.field[0] = '\0';
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
	handlers_audit(d->req, "server.delete", d->id,
	    st == OSH_DB_OK ? "success" : "failure", NULL);
	if (st != OSH_DB_OK || (r = json_tokener_parse(json)) == NULL) {
		handlers_reply_db(d->req, st, d->id);
		free(d);
		return;
	}
	osh_ipmi_forget(handlers_app(d->req)->ipmi,
	    json_object_get_string(json_object_object_get(r, "host")),
	    (uint16_t)json_object_get_int(json_object_object_get(r, "port")));
	handlers_publish(d->req, "server.deleted", r);
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
	store_server_delete(handlers_db(req), id, on_deleted, d);
}
