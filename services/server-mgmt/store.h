/* store.h - server-mgmt's SQL and its Redis events. Every call runs one
 * statement; JSON comes ready from SQL (server_json and friends in the
 * migrations). Strings handed to callbacks live only during them.
 * store.c: servers, state, service discovery, events; store_scan.c:
 * discovery scans; store_power.c: power request records. */
#ifndef SM_STORE_H
#define SM_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <osh/db.h>

#include "sm.h"

struct osh_redis;

typedef void (*store_row_cb)(
    enum osh_db_status st, const struct server_row *r, void *arg);
typedef void (*store_rows_cb)(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg);

void store_next_id(struct osh_db *db, osh_db_json_cb cb, void *arg);
/* Answers {"server": {...}} or a conflict naming the index. */
void store_server_insert(struct osh_db *db, int64_t id,
    const struct server_in *in, const char *sealed, osh_db_json_cb cb,
    void *arg);
/* The import's dry run: which rows of rows_json ([{ord, name, host,
 * port}]) would be refused for a name or BMC address taken by a server
 * or by an earlier row (of this batch, or of prior_json, the rows of
 * earlier batches found valid, same shape). Reads only. Answers
 * {"<ord>": "name" | "bmc", ...} for the refused rows. */
void store_server_conflicts(struct osh_db *db, const char *rows_json,
    const char *prior_json, osh_db_json_cb cb, void *arg);
/* Inserts many servers in one statement (one transaction). rows_json is a
 * JSON array of {ord, id, name, host, port, ipmi_version, privilege,
 * cipher_suite, workarounds (array text), labels, description,
 * monitoring, cluster, credentials (sealed)}; absent members take the
 * defaults. Answers {"created": {"<id>": server, ...}, "name_taken":
 * [ord, ...]}: a row neither created nor named there had its BMC
 * address taken. */
void store_server_insert_batch(
    struct osh_db *db, const char *rows_json, osh_db_json_cb cb, void *arg);
/* Answers a JSON array of n new server ids. */
void store_next_ids(struct osh_db *db, int n, osh_db_json_cb cb, void *arg);
/* Answers {"server": {...}, "old_host": .., "old_port": ..}. New sealed
 * credentials (may be NULL) must be bound to the endpoint the row has
 * after the change. With 'expect' the row changes only while its BMC
 * endpoint is still that one (host text, port, version as stored):
 * OSH_DB_NOT_FOUND otherwise. */
void store_server_update(struct osh_db *db, int64_t id,
    const struct server_in *in, const char *sealed,
    const struct bmc_endpoint *expect, osh_db_json_cb cb, void *arg);
/* Replaces credentials bound to the id only by 'sealed' (bound to the
 * endpoint), if the row still holds r->credentials at r's endpoint. */
void store_server_reseal(struct osh_db *db, const struct server_row *r,
    const char *sealed, osh_db_json_cb cb, void *arg);
/* Answers {"name", "host", "port"} of the deleted server. */
void store_server_delete(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
void store_server_get(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
void store_server_row(
    struct osh_db *db, int64_t id, store_row_cb cb, void *arg);
/* Every server with credentials, for the poller. */
void store_server_rows(struct osh_db *db, store_rows_cb cb, void *arg);
/* Up to 'limit' rows after id 'after' (by id) whose credentials are bound
 * to their endpoint but not sealed under key 'kid' (credential key
 * rotation, rotate.c). */
void store_server_rows_not_under(struct osh_db *db, const char *kid,
    int64_t after, int64_t limit, store_rows_cb cb, void *arg);
/* Replaces endpoint-bound credentials by 'sealed' (the same credentials
 * under another key), if the row still holds r->credentials at r's
 * endpoint: OSH_DB_NOT_FOUND otherwise (a change made meanwhile wins). */
void store_server_rekey(struct osh_db *db, const struct server_row *r,
    const char *sealed, osh_db_json_cb cb, void *arg);
/* Rows whose credentials are still bound to the id only. */
void store_server_rows_bound_to_id(
    struct osh_db *db, store_rows_cb cb, void *arg);
/* A sealed fact about the credentials (table credentials_state): answers
 * {"database": <current database>, "sealed": <its sealed text or null>}. */
void store_state_get(
    struct osh_db *db, const char *name, osh_db_json_cb cb, void *arg);
/* Records (or replaces) the sealed fact 'name'. */
void store_state_put(struct osh_db *db, const char *name, const char *sealed,
    osh_db_json_cb cb, void *arg);
/* By BMC address, for the exporter's credential lookups. */
void store_server_row_by_addr(
    struct osh_db *db, const char *host, int port, store_row_cb cb, void *arg);

/* GET /api/servers: what a page holds. Filters NULL are not applied;
 * strings are owned by the caller and checked already (input.c). */
struct server_filter {
	/* LIKE patterns' inner text, \ % and _ escaped: q= matches name,
	 * BMC address, serial and labels (the search column), name= the
	 * name, both anywhere and whatever the case. */
	const char *q, *name;
	const char *status, *power_state, *cluster, *manufacturer;
	const char *monitoring; /* "true" or "false" */
	/* A label selector as selector_sql makes it. */
	const char *label_eq, *label_keys, *label_rest;
};

enum server_sort {
	SERVER_SORT_ID,
	SERVER_SORT_NAME, /* lower(name) */
	SERVER_SORT_STATUS,
	SERVER_SORT_POWER,
	SERVER_SORT_LAST_SEEN, /* never seen first */
	SERVER_SORT_CREATED,
};

/* Each sort is (key, id), ascending or both descending. A cursor is the
 * key (as text) and id of the last row of the page before: the next page
 * starts after it, whatever was inserted or deleted meanwhile. */
struct server_page {
	int64_t limit, offset;
	enum server_sort sort;
	bool desc;
	const char *sort_text; /* "id", "-name", ...: the cursor names it */
	const char *cursor_key; /* NULL: no cursor */
	int64_t cursor_id;
};

/* Answers {"items": [...], "total": n, "total_estimated": bool,
 * "next_cursor": text or null}. total is exact when cheap (counters kept
 * by the writes, or at most STORE_EXACT_TOTAL_MAX matches), otherwise the
 * planner's estimate, and total_estimated says so. A cursor whose key
 * does not read as its sort's type answers OSH_DB_INVALID. */
#define STORE_EXACT_TOTAL_MAX 1000
void store_server_list(struct osh_db *db, const struct server_filter *f,
    const struct server_page *pg, osh_db_json_cb cb, void *arg);

/* Records what a poll saw. power/status may be NULL (unchanged); device
 * fields NULL when not read. Answers {"server": {...}, "old_power": ..}. */
struct observation {
	const char *status;
	const char *power;
	const char *error;
	bool seen;
	bool from_fru; /* manufacturer came from the FRU: it wins */
	const char *manufacturer, *product, *serial, *firmware;
};
void store_server_observe(struct osh_db *db, int64_t id,
    const struct observation *o, osh_db_json_cb cb, void *arg);

void store_stats(struct osh_db *db, osh_db_json_cb cb, void *arg);
void store_sd_targets(
    struct osh_db *db, const char *clusters, osh_db_json_cb cb, void *arg);
/* Servers with an id above 'after', by id, at most limit of them, for
 * other services' read models: {"items": [{id, name, bmc_address, labels,
 * power_state, status, has_credentials, monitoring}], "next_after": the
 * last id, or null when this is the last page}. */
void store_server_page(struct osh_db *db, int64_t after, int64_t limit,
    osh_db_json_cb cb, void *arg);

/* Discovery. */
/* OSH_DB_CONFLICT when user 'by_id' has a scan running. */
void store_scan_create(struct osh_db *db, const char *spec_json, int total,
    const char *by, int64_t by_id, osh_db_json_cb cb, void *arg);
void store_scan_progress(struct osh_db *db, int64_t id, int probed, int found,
    const char *status, osh_db_json_cb cb, void *arg);
struct scan_found {
	const char *host;
	int port;
	bool ipmi15, ipmi20;
	const char *auth_types; /* PostgreSQL array text */
	bool credentials_ok;
	const char *sealed;
	int64_t manufacturer_id; /* -1 unknown */
	const char *manufacturer, *product, *serial, *firmware, *error;
};
void store_scan_result(struct osh_db *db, int64_t scan,
    const struct scan_found *f, osh_db_json_cb cb, void *arg);
void store_scan_get(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
void store_scans_interrupted(struct osh_db *db);
/* The results chosen for import, with their sealed credentials: a JSON
 * array of {id, host, port, ipmi20, credentials, product, serial}. */
void store_scan_importable(struct osh_db *db, int64_t scan,
    const char *ids_json, osh_db_json_cb cb, void *arg);
void store_scan_mark_imported(struct osh_db *db, int64_t result, int64_t server,
    osh_db_json_cb cb, void *arg);

/* Publishes an event on osh:events: {"type", "ts", "data"}; data taken. */
void events_publish(
    struct osh_redis *redis, const char *type, struct json_object *data);

/*
 * Power requests of the osh:power-requests stream (power_worker.c; table
 * power_requests, migration 005).
 */
struct power_request;
/* Records request r as taken on (state 'sending') unless its request_id
 * is recorded already. Answers {"new": true}, or {"new": false, "state",
 * "result", "error", "message", "power_state", "executed_ms"} of the row
 * there. */
void store_power_begin(struct osh_db *db, const struct power_request *r,
    const char *stream_id, const char *consumer, osh_db_json_cb cb, void *arg);
/* Answers r's row as store_power_begin does for one there ({"new":
 * false, ...}), or JSON null when there is none. For an action that must
 * not run twice (!r->idempotent) without a row of its own, an earlier
 * attempt of the same task that ran (result ok) or may have run (still
 * 'sending') answers for it, as a row 'done': its result, or
 * outcome_unknown. A new attempt comes when cluster-mgmt saw no result in
 * time (a result it lost with a dead replica, say): the cycle ran once
 * already, or may have. */
void store_power_get(struct osh_db *db, const struct power_request *r,
    osh_db_json_cb cb, void *arg);
/* Completes request_id's row with its result ('done'); answers its
 * executed_at in epoch ms. */
void store_power_finish(struct osh_db *db, const char *request_id,
    const char *result, const char *error, const char *message,
    const char *power_state, osh_db_json_cb cb, void *arg);
/* Deletes up to 1000 rows received more than days ago. */
void store_power_prune(
    struct osh_db *db, int days, osh_db_json_cb cb, void *arg);

#endif
