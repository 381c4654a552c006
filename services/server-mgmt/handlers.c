/* handlers.c - HTTP <-> server records as they are read: list (with its
 * filters and sorting), get and statistics; and what every handler of the
 * service shares (bodies, database errors, audit entries, events). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/json.h>

#include "handlers.h"
#include "input.h"
#include "pagecache.h"
#include "sm.h"
#include "store.h"

struct json_object *
handlers_body_or_empty(struct osh_req *req)
{
	return req->body_len == 0 ? json_object_new_object()
				  : handlers_body(req);
}

struct json_object *
handlers_body(struct osh_req *req)
{
	struct osh_err err;
	struct json_object *o;

	if ((o = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL)
		osh_reply_err(req, &err);
	return o;
}

void
handlers_reply_db(struct osh_req *req, enum osh_db_status st, int64_t id)
{
	switch (st) {
	case OSH_DB_NOT_FOUND:
		if (id == 0) /* the caller did not say: the path does */
			osh_parse_int(
			    osh_req_param(req, "id"), 1, INT64_MAX, &id);
		osh_reply_error(req, 404, NULL, "id", "server %lld not found",
		    (long long)id);
		break;
	case OSH_DB_INVALID:
		osh_reply_error(req, 400, "validation_failed", NULL,
		    "the database refused a value");
		break;
	case OSH_DB_BUSY:
		osh_reply_error(
		    req, 503, NULL, NULL, "database busy; try again");
		break;
	default:
		osh_reply_error(req, 503, NULL, NULL, "database unavailable");
		break;
	}
}

void
handlers_audit(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details)
{
	char target[32];

	snprintf(target, sizeof(target), "server:%lld", (long long)id);
	osh_audit_req(
	    osh_service_of(req)->audit, req, action, target, result, details);
}

void
handlers_publish(
    struct osh_req *req, const char *type, struct json_object *server)
{
	struct json_object *id = NULL;

	/* Every change of servers made here publishes: answers kept of
	 * lists and statistics are stale from now on, and so is the
	 * server's own (all of them, when the event does not say which). */
	pagecache_clear(handlers_app(req)->pages);
	if (json_object_object_get_ex(server, "id", &id))
		pagecache_drop_server(
		    handlers_app(req)->items, json_object_get_int64(id));
	else
		pagecache_clear(handlers_app(req)->items);
	events_publish(
	    osh_service_of(req)->redis, type, json_object_get(server));
}

void
handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct osh_req *req = arg;

	(void)state;
	if (st != OSH_DB_OK) {
		handlers_reply_db(req, st, 0);
		return;
	}
	osh_reply(req, 200, "application/json", json, strlen(json));
}

struct params {
	struct input_param *p;
	size_t n, max;
};

static bool
add_param(const char *key, const char *value, void *arg)
{
	struct params *ps = arg;

	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value;
	return ++ps->n < ps->max;
}

size_t
handlers_params(struct osh_req *req, struct input_param *p, size_t max)
{
	struct params ps = {p, 0, max};

	if (max > 0)
		osh_req_query_each(req, add_param, &ps);
	return ps.n;
}

/*
 * List, get.
 */

/* A list query failed: a cursor key the database cannot read as its
 * sort's type is the only value it may refuse. */
static void
on_list(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct osh_req *req = arg;

	if (st == OSH_DB_INVALID) {
		osh_reply_error(req, 400, "validation_failed", "cursor",
		    "cursor must be the next_cursor of a page with the same "
		    "sort");
		return;
	}
	handlers_on_json(st, json, state, arg);
}

/* The cache's key of a list query: its parameters in order, each as
 * length:text, so that no two queries share one. */
static bool
cache_key(const char *what, const struct input_param *p, size_t n, char *out,
    size_t len)
{
	size_t at = 0;
	int w = snprintf(out, len, "%s?", what);

	if (w < 0 || (size_t)w >= len)
		return false;
	at = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		w = snprintf(out + at, len - at, "%zu:%s%zu:%s",
		    strlen(p[i].key), p[i].key, strlen(p[i].value), p[i].value);
		if (w < 0 || (size_t)w >= len - at)
			return false;
		at += (size_t)w;
	}
	return true;
}

void
h_servers_list(struct osh_req *req)
{
	struct input_param p[INPUT_MAX_PARAMS + 1];
	struct servers_query q;
	struct osh_err err;
	size_t n = handlers_params(req, p, OSH_ARRAY_LEN(p));
	struct pagecache_entry *fill = NULL;
	char key[8192];

	if (input_servers_query(p, n, &q, &err) != 0) {
		osh_reply_err(req, &err);
		goto out_release;
	}
	if (!cache_key("list", p, n, key, sizeof(key)) ||
	    !pagecache_lookup(
		handlers_app(req)->pages, key, req, on_list, &fill))
		store_server_list(handlers_db(req), &q.f, &q.page,
		    fill != NULL ? pagecache_filled : on_list,
		    fill != NULL ? (void *)fill : (void *)req);
out_release:
	input_servers_query_release(&q);
}

void
h_servers_get(struct osh_req *req)
{
	struct pagecache_entry *fill = NULL;
	char key[PAGECACHE_SERVER_KEY_LEN];
	int64_t id;

	/* The same answer for everyone allowed servers:read (the router
	 * checked): server_text has no field that depends on who asks. */
	if (!osh_req_id(req, "id", "server", &id) ||
	    pagecache_lookup(handlers_app(req)->items,
		pagecache_server_key(id, key), req, handlers_on_json, &fill))
		return;
	store_server_get(handlers_db(req), id,
	    fill != NULL ? pagecache_filled : handlers_on_json,
	    fill != NULL ? (void *)fill : (void *)req);
}

void
h_stats(struct osh_req *req)
{
	struct pagecache_entry *fill = NULL;

	if (!pagecache_lookup(handlers_app(req)->pages, "stats", req,
		handlers_on_json, &fill))
		store_stats(handlers_db(req),
		    fill != NULL ? pagecache_filled : handlers_on_json,
		    fill != NULL ? (void *)fill : (void *)req);
}
