/* handlers.h - HTTP handlers of cluster-mgmt (see routes.c), by file:
 * handlers.c (clusters, and what every handler shares), members.c (a
 * cluster's servers and explicit members) and internal.c (what other
 * services read). */
#ifndef CM_HANDLERS_H
#define CM_HANDLERS_H

#include <stdint.h>

#include <osh/db.h>
#include <osh/http.h>
#include <osh/service.h>

#include "cm.h"

void h_clusters_list(struct osh_req *req);
void h_clusters_create(struct osh_req *req);
void h_clusters_get(struct osh_req *req);
void h_clusters_patch(struct osh_req *req);
void h_clusters_delete(struct osh_req *req);

void h_cluster_servers(struct osh_req *req);
void h_members_add(struct osh_req *req);
void h_members_remove(struct osh_req *req);

void h_internal_membership(struct osh_req *req);

/*
 * What the handlers share (handlers.c).
 */

static inline struct cm_app *
handlers_app(struct osh_req *req)
{
	return osh_service_of(req)->app;
}

static inline struct osh_db *
handlers_db(struct osh_req *req)
{
	return osh_service_of(req)->db;
}

/* The result a store status means. */
enum cm_result handlers_result_of(enum osh_db_status st);

/* Answers a domain result, the one place results become HTTP: CM_OK 200
 * and CM_CREATED 201 with json (JSON text, may be NULL for {}), CM_DELETED
 * 204 without a body, the others
 * with their error (404 naming the path's cluster, 409 naming the name,
 * 400, 503). */
void handlers_reply(struct osh_req *req, enum cm_result r, const char *json);

/* An osh_db_json_cb answering the request (arg) with the store's JSON as
 * it is (200), or the error its status means. */
void handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg);

/* Audits 'action' on cluster 'id' for the request's user; details (may be
 * NULL) is taken. */
void handlers_audit(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details);

/* Reads limit (1 to 1000, default 100) and offset (default 0), and the
 * other query parameters named in extra (NULL-terminated; their values
 * into vals, NULL when absent). Any other parameter is refused. Replies
 * 400 naming the parameter and returns false on failure. */
bool handlers_paging(struct osh_req *req, int64_t *limit, int64_t *offset,
    const char *const *extra, const char **vals);

#endif
