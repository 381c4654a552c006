/* internal.c - HTTP <-> what other services read: Prometheus' service
 * discovery, and the BMC credentials the exporter's module=osh uses.
 * Internal routes, never through the gateway. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/ipmi.h>
#include <osh/json.h>

#include "clustermap.h"
#include "handlers.h"
#include "sm.h"
#include "store.h"

static void
on_clusters(const char *map, void *arg)
{
	struct osh_req *req = arg;

	store_sd_targets(handlers_db(req), map, handlers_on_json, req);
}

/* Prometheus http_sd_configs: internal, loopback only. Each target
 * carries the clusters its server is in (clustermap.c). */
void
h_sd_targets(struct osh_req *req)
{
	clustermap_get(handlers_app(req)->clusters, on_clusters, req);
}

/* A page of servers for other services' read models (cluster-mgmt):
 * ?after=<id>&limit=<n>, by id. */
void
h_internal_servers(struct osh_req *req)
{
	const char *a = osh_req_query(req, "after");
	const char *l = osh_req_query(req, "limit");
	int64_t after = 0, limit = 500;

	if (a != NULL && !osh_parse_int(a, 0, INT64_MAX, &after)) {
		osh_reply_error(req, 400, "validation_failed", "after",
		    "after must be a server id (0 or more)");
		return;
	}
	if (l != NULL && !osh_parse_int(l, 1, 1000, &limit)) {
		osh_reply_error(req, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to 1000");
		return;
	}
	store_server_page(
	    handlers_db(req), after, limit, handlers_on_json, req);
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
	if (!server_target(handlers_app(req), row, &t, &err)) {
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
	osh_reply_json_secret(req, 200, o);
}

void
h_internal_credentials(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "server", &id))
		store_server_row(handlers_db(req), id, on_cred_row, req);
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
	store_server_row_by_addr(
	    handlers_db(req), host, port, on_cred_row, req);
}
