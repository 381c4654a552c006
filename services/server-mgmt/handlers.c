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
#include "sm.h"
#include "store.h"

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

void
handlers_reply_unknown_param(struct osh_req *req, const char *name)
{
	char *clean = osh_utf8_clean(name, strlen(name), 64);

	osh_reply_error(req, 400, "validation_failed", clean,
	    "unknown query parameter \"%s\"", clean);
	free(clean);
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
		handlers_reply_unknown_param(req, bad);
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
	store_server_list(
	    handlers_db(req), &f, limit, offset, order, handlers_on_json, req);
	free(label_json);
}

void
h_servers_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "server", &id))
		store_server_get(handlers_db(req), id, handlers_on_json, req);
}

void
h_stats(struct osh_req *req)
{
	store_stats(handlers_db(req), handlers_on_json, req);
}
