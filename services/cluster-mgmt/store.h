/* store.h - cluster-mgmt's SQL and its events on Redis. Every call runs
 * one statement; JSON comes ready from SQL (cluster_json and friends in
 * the migrations). Strings handed to callbacks live only during them. A
 * statement that finds no cluster answers OSH_DB_NOT_FOUND. */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stdint.h>

#include <osh/db.h>

#include "cm.h"

struct osh_redis;

/*
 * Clusters.
 */

/* {"items": [cluster...], "total": N}, by name; name (may be NULL) keeps
 * those whose name holds it (without case). */
void store_cluster_list(struct osh_db *db, const char *name, int64_t limit,
    int64_t offset, osh_db_json_cb cb, void *arg);
/* The cluster with its "summary": {total, by_power_state, by_status}. */
void store_cluster_get(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
/* The new cluster; OSH_DB_CONFLICT when its name is taken. */
void store_cluster_insert(struct osh_db *db, const struct cluster_in *in,
    osh_db_json_cb cb, void *arg);
/* The changed cluster; OSH_DB_CONFLICT when the new name is taken. */
void store_cluster_update(struct osh_db *db, int64_t id,
    const struct cluster_in *in, osh_db_json_cb cb, void *arg);
/* {"id", "name"} of the deleted cluster. Servers are never touched. */
void store_cluster_delete(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);

/* A cluster's servers (explicit members and those its selector matches),
 * by id: {"cluster_id", "items": [member...], "total"}; power_state and
 * status (may be NULL) filter. */
void store_cluster_servers(struct osh_db *db, int64_t id, const char *power,
    const char *status, int64_t limit, int64_t offset, osh_db_json_cb cb,
    void *arg);

/* Adds explicit members (ids: PostgreSQL array text) unless some id is no
 * known server: {"id", "name", "added": [ids newly added],
 * "unknown": [ids]} (nothing added when unknown is not empty). */
void store_members_add(struct osh_db *db, int64_t id, const char *ids,
    osh_db_json_cb cb, void *arg);
/* {"id", "name", "removed": [ids that were explicit members]}. */
void store_members_remove(struct osh_db *db, int64_t id, const char *ids,
    osh_db_json_cb cb, void *arg);

/* Every server in at least one cluster with the names of its clusters:
 * {"servers": {"<id>": ["name", ...]}}, names sorted. */
void store_membership(struct osh_db *db, osh_db_json_cb cb, void *arg);

/*
 * The read model of servers (readmodel.c).
 */

/* Starts a full rebuild: answers its generation. */
void store_sync_begin(struct osh_db *db, osh_db_json_cb cb, void *arg);
/* Stores a page of servers (a JSON array of server-mgmt's internal
 * records) under generation gen; deleted servers (tombstones) stay out.
 * Answers how many rows were written. */
void store_sync_page(struct osh_db *db, const char *gen, const char *items,
    osh_db_json_cb cb, void *arg);
/* Ends a rebuild that saw every page: servers not seen by it (nor written
 * by an event since it began) are gone. Answers {"deleted": [ids]}. */
void store_sync_end(
    struct osh_db *db, const char *gen, osh_db_json_cb cb, void *arg);

/* Applies a server.created/updated event (data: the server JSON). Answers
 * {"applied": n, "joined": [{id, name}], "left": [{id, name}]}: clusters
 * whose selector now matches it, or no longer does (explicit members
 * aside). */
void store_server_put(
    struct osh_db *db, const char *server, osh_db_json_cb cb, void *arg);
/* Applies a server.deleted event: {"deleted": bool, "clusters": [{id,
 * name}]} (the clusters it was in). */
void store_server_delete(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
/* Applies a server.power_changed event (answers the id, or not found). */
void store_server_power(struct osh_db *db, int64_t id, const char *power,
    osh_db_json_cb cb, void *arg);
/* Applies a server.status_changed event (answers the id, or not found). */
void store_server_status(struct osh_db *db, int64_t id, const char *status,
    osh_db_json_cb cb, void *arg);

/* Publishes event 'type' on osh:events: {"type", "ts", "source", "data"};
 * data is taken. */
void events_publish(
    struct osh_redis *redis, const char *type, struct json_object *data);

#endif
