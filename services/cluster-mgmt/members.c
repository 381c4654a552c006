/* members.c - HTTP <-> a cluster's servers: the list (explicit members and
 * those its selector matches, with power state and status) and the
 * explicit members added or removed by server id. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/json.h>
#include <osh/util.h>

#include "handlers.h"
#include "store.h"

static const char *const power_states[] = {"on", "off", "unknown", NULL};
static const char *const statuses[] = {
    "unknown", "online", "offline", "auth_failed", "error", NULL};

static bool
one_of(const char *v, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

void
h_cluster_servers(struct osh_req *req)
{
	static const char *const extra[] = {"power_state", "status", NULL};
	const char *vals[2] = {NULL, NULL};
	int64_t id, limit = 100, offset = 0;

	if (!osh_req_id(req, "id", "cluster", &id) ||
	    !handlers_paging(req, &limit, &offset, extra, vals))
		return;
	if (vals[0] != NULL && !one_of(vals[0], power_states)) {
		osh_reply_error(req, 400, "validation_failed", "power_state",
		    "power_state must be on, off or unknown");
		return;
	}
	if (vals[1] != NULL && !one_of(vals[1], statuses)) {
		osh_reply_error(req, 400, "validation_failed", "status",
		    "status must be unknown, online, offline, auth_failed or "
		    "error");
		return;
	}
	store_cluster_servers(handlers_db(req), id, vals[0], vals[1], limit,
	    offset, handlers_on_json, req);
}

struct members {
	struct osh_req *req;
	int64_t id;
	bool add;
	char *ids; /* PostgreSQL array text */
};

static void
members_free(struct members *m)
{
	free(m->ids);
	free(m);
}

static void
on_members(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct members *m = arg;
	enum cm_result r = handlers_result_of(st);
	struct json_object *o = NULL, *unknown, *changed, *d;
	const char *key = m->add ? "added" : "removed";

	(void)state;
	if (r == CM_OK && (o = json_tokener_parse(json)) == NULL)
		r = CM_UNAVAILABLE;
	if (r == CM_OK && m->add &&
	    json_object_object_get_ex(o, "unknown", &unknown) &&
	    json_object_array_length(unknown) > 0) {
		handlers_audit(m->req, "cluster.members_add", m->id, "failure",
		    json_object_get(o));
		handlers_reply(m->req, CM_UNKNOWN_SERVERS,
		    json_object_to_json_string_ext(
			unknown, JSON_C_TO_STRING_PLAIN));
		goto out_free;
	}
	if (r != CM_OK) {
		handlers_audit(m->req,
		    m->add ? "cluster.members_add" : "cluster.members_remove",
		    m->id, "failure", NULL);
		handlers_reply(m->req, r, NULL);
		goto out_free;
	}
	json_object_object_del(o, "unknown");
	changed = json_object_object_get(o, key);
	d = json_object_new_object();
	json_object_object_add(d, key, json_object_get(changed));
	handlers_audit(m->req,
	    m->add ? "cluster.members_add" : "cluster.members_remove", m->id,
	    "success", d);
	if (json_object_array_length(changed) > 0) {
		d = json_object_new_object();
		json_object_object_add(d, "id", json_object_new_int64(m->id));
		json_object_object_add(d, "name",
		    json_object_new_string(osh_json_str(o, "name", "")));
		json_object_object_add(d, "added",
		    m->add ? json_object_get(changed)
			   : json_object_new_array());
		json_object_object_add(d, "removed",
		    m->add ? json_object_new_array()
			   : json_object_get(changed));
		json_object_object_add(
		    d, "reason", json_object_new_string("explicit"));
		events_publish(osh_service_of(m->req)->redis,
		    "cluster.members_changed", d);
	}
	osh_reply_json(m->req, 200, json_object_get(o));
out_free:
	json_object_put(o);
	members_free(m);
}

static void
members_change(struct osh_req *req, bool add)
{
	struct members *m;
	struct json_object *body;
	struct osh_err err;
	int64_t id;

	if (!osh_req_id(req, "id", "cluster", &id))
		return;
	if ((body = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		json_object_put(body);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	m->req = req;
	m->id = id;
	m->add = add;
	if (cluster_ids_parse(body, &m->ids, &err) != 0) {
		json_object_put(body);
		members_free(m);
		osh_reply_err(req, &err);
		return;
	}
	json_object_put(body);
	if (add)
		store_members_add(handlers_db(req), id, m->ids, on_members, m);
	else
		store_members_remove(
		    handlers_db(req), id, m->ids, on_members, m);
}

void
h_members_add(struct osh_req *req)
{
	members_change(req, true);
}

void
h_members_remove(struct osh_req *req)
{
	members_change(req, false);
}
