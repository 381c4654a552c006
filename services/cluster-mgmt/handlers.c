/* handlers.c - HTTP <-> clusters (list, create, get, change, delete), and
 * what every handler of the service shares (results, audit, paging). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/json.h>
#include <osh/util.h>

#include "handlers.h"
#include "store.h"

enum cm_result
handlers_result_of(enum osh_db_status st)
{
	switch (st) {
	case OSH_DB_OK: return CM_OK;
	case OSH_DB_NOT_FOUND: return CM_NOT_FOUND;
	case OSH_DB_CONFLICT: return CM_CONFLICT;
	case OSH_DB_INVALID: return CM_INVALID;
	case OSH_DB_BUSY: return CM_BUSY;
	case OSH_DB_RAISED:
	case OSH_DB_ERROR: break;
	}
	return CM_UNAVAILABLE;
}

void
handlers_reply(struct osh_req *req, enum cm_result r, const char *json)
{
	int64_t id = 0;

	switch (r) {
	case CM_OK:
	case CM_CREATED:
		if (json == NULL)
			json = "{}";
		osh_reply(req, r == CM_OK ? 200 : 201, "application/json", json,
		    strlen(json));
		return;
	case CM_DELETED: osh_reply_json(req, 204, NULL); return;
	case CM_NOT_FOUND:
		osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id);
		osh_reply_error(req, 404, NULL, "id", "cluster %lld not found",
		    (long long)id);
		return;
	case CM_CONFLICT:
		osh_reply_error(req, 409, "conflict", "name",
		    "another cluster has this name already");
		return;
	case CM_INVALID:
		osh_reply_error(req, 400, "validation_failed", NULL,
		    "the database refused a value");
		return;
	case CM_UNKNOWN_SERVERS:
		osh_reply_error(req, 400, "validation_failed", "server_ids",
		    "no server has these ids: %s", json ? json : "[]");
		return;
	case CM_BUSY:
		osh_reply_error(
		    req, 503, NULL, NULL, "database busy; try again");
		return;
	case CM_JOB_NOT_FOUND:
		osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id);
		osh_reply_error(
		    req, 404, NULL, "id", "job %lld not found", (long long)id);
		return;
	case CM_JOB_REFUSED:
		osh_reply_error(req, 409, "conflict", "state",
		    "the job's state does not allow this");
		return;
	case CM_KEY_REUSED:
		osh_reply_error(req, 422, "idempotency_key_reused",
		    "Idempotency-Key",
		    "this key was used with another body in the last 24 h");
		return;
	case CM_NO_CLUSTER:
		osh_reply_error(req, 400, "validation_failed", "targets",
		    "no such cluster");
		return;
	case CM_NOTHING_FAILED:
		osh_reply_error(req, 409, "conflict", "id",
		    "the job has no failed task to retry");
		return;
	case CM_JOB_LIVE:
		osh_reply_error(req, 409, "conflict", "state",
		    "the job still runs: retry once it ended");
		return;
	case CM_UNAVAILABLE: break;
	}
	osh_reply_error(req, 503, NULL, NULL, "database unavailable");
}

void
handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	(void)state;
	handlers_reply(arg, handlers_result_of(st), json);
}

void
handlers_audit(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details)
{
	char target[32];

	snprintf(target, sizeof(target), "cluster:%lld", (long long)id);
	osh_audit_req(osh_service_of(req)->audit, req, action,
	    id > 0 ? target : NULL, result, details);
}

struct paging {
	struct osh_req *req;
	int64_t *limit, *offset;
	const char *const *extra;
	const char **vals;
	bool ok;
};

static bool
one_param(const char *key, const char *value, void *arg)
{
	struct paging *p = arg;

	if (strcmp(key, "limit") == 0) {
		if (!osh_parse_int(value, 1, 1000, p->limit))
			goto bad;
		return true;
	}
	if (strcmp(key, "offset") == 0) {
		if (!osh_parse_int(value, 0, INT32_MAX, p->offset))
			goto bad;
		return true;
	}
	for (size_t i = 0; p->extra != NULL && p->extra[i] != NULL; i++) {
		if (strcmp(key, p->extra[i]) == 0) {
			p->vals[i] = value;
			return true;
		}
	}
	osh_reply_error(
	    p->req, 400, "validation_failed", key, "unknown query parameter");
	p->ok = false;
	return false;
bad:
	osh_reply_error(p->req, 400, "validation_failed", key, "%s must be %s",
	    key,
	    strcmp(key, "limit") == 0 ? "an integer from 1 to 1000"
				      : "a non-negative integer");
	p->ok = false;
	return false;
}

bool
handlers_paging(struct osh_req *req, int64_t *limit, int64_t *offset,
    const char *const *extra, const char **vals)
{
	struct paging p = {req, limit, offset, extra, vals, true};

	*limit = 100;
	*offset = 0;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		vals[i] = NULL;
	osh_req_query_each(req, one_param, &p);
	return p.ok;
}

/*
 * Clusters.
 */

void
h_clusters_list(struct osh_req *req)
{
	static const char *const extra[] = {"name", NULL};
	const char *vals[1] = {NULL};
	int64_t limit = 100, offset = 0;

	if (handlers_paging(req, &limit, &offset, extra, vals))
		store_cluster_list(handlers_db(req), vals[0], limit, offset,
		    handlers_on_json, req);
}

void
h_clusters_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "cluster", &id))
		store_cluster_get(handlers_db(req), id, handlers_on_json, req);
}

/* A create, change or delete under way. */
struct change {
	struct osh_req *req;
	struct json_object *body;
	struct cluster_in in;
	int64_t id;
	const char *action; /* audit */
	const char *event; /* cluster.created, ... */
};

static void
change_free(struct change *c)
{
	cluster_in_release(&c->in);
	json_object_put(c->body);
	free(c);
}

static void
on_changed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct change *c = arg;
	enum cm_result r = handlers_result_of(st);
	struct json_object *o = NULL;

	(void)state;
	if (r == CM_OK && (o = json_tokener_parse(json)) != NULL && c->id == 0)
		c->id = osh_json_int(o, "id", 0);
	handlers_audit(c->req, c->action, c->id,
	    r == CM_OK ? "success" : "failure",
	    c->body ? osh_audit_fields(c->body) : NULL);
	if (o != NULL)
		events_publish(osh_service_of(c->req)->redis, c->event,
		    json_object_get(o));
	if (r == CM_OK && strcmp(c->event, "cluster.created") == 0)
		r = CM_CREATED;
	if (r == CM_OK && strcmp(c->event, "cluster.deleted") == 0)
		r = CM_DELETED;
	handlers_reply(c->req, r, json);
	json_object_put(o);
	change_free(c);
}

/* Reads and checks the body; NULL when it was answered. */
static struct change *
change_new(struct osh_req *req, bool create)
{
	struct change *c = calloc(1, sizeof(*c));
	struct osh_err err;

	if (c == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return NULL;
	}
	c->req = req;
	if (req->body_len == 0)
		c->body = json_object_new_object();
	else
		c->body = osh_json_parse(
		    req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err);
	if (c->body == NULL ||
	    cluster_in_parse(c->body, create, &c->in, &err) != 0) {
		osh_reply_err(req, &err);
		change_free(c);
		return NULL;
	}
	return c;
}

void
h_clusters_create(struct osh_req *req)
{
	struct change *c = change_new(req, true);

	if (c == NULL)
		return;
	c->action = "cluster.create";
	c->event = "cluster.created";
	store_cluster_insert(handlers_db(req), &c->in, on_changed, c);
}

void
h_clusters_patch(struct osh_req *req)
{
	struct change *c;
	int64_t id;

	if (!osh_req_id(req, "id", "cluster", &id) ||
	    (c = change_new(req, false)) == NULL)
		return;
	c->id = id;
	c->action = "cluster.update";
	c->event = "cluster.updated";
	store_cluster_update(handlers_db(req), id, &c->in, on_changed, c);
}

void
h_clusters_delete(struct osh_req *req)
{
	struct change *c;
	int64_t id;

	if (!osh_req_id(req, "id", "cluster", &id))
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	c->req = req;
	c->id = id;
	c->action = "cluster.delete";
	c->event = "cluster.deleted";
	store_cluster_delete(handlers_db(req), id, on_changed, c);
}
