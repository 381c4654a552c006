/* store.h - alert-webhook's SQL and its events on Redis. Every call runs
 * one statement (so one transaction); JSON comes ready from SQL
 * (alert_json in the migrations), but for the list's (store_list.c). Strings handed to callbacks live only
 * during them. A statement that finds no alert answers OSH_DB_NOT_FOUND.
 *
 * What the next features build on: alerts.acknowledged_at/_by (the
 * "acknowledged" state filter reads them), alert_history (append a row
 * per change of state with its source), and the alert.* events
 * (events_publish) that a Server-Sent Events stream relays. */
#ifndef AW_STORE_H
#define AW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <osh/db.h>

#include "query.h"

struct json_object;
struct osh_redis;

/* What an alert.* event carries: SQL of the alerts row a (a table alias,
 * a string literal). */
#define EVENT_DATA(a)                                                          \
	"jsonb_build_object('id', " a ".id, 'fingerprint', " a                 \
	".fingerprint, 'alertname', " a ".alertname, 'severity', " a           \
	".severity, 'state', " a ".state, 'server_id', " a                     \
	".server_id, 'server_name', " a ".server_name, 'cluster', " a          \
	".cluster, 'summary', " a ".summary, 'starts_at', ts(" a               \
	".starts_at), 'ends_at', ts(" a ".ends_at))"

/* Where stored rows came from. */
#define STORE_SOURCE_WEBHOOK "webhook"
#define STORE_SOURCE_POLL "poll"

/* Stores a batch of payload rows (payload.h: a JSON array text) in one
 * transaction: a new occurrence (fingerprint, starts_at) is inserted, a
 * known one counts a repeat (webhook only) and takes the new state (a
 * resolved occurrence stays resolved); the fingerprint's fires count new
 * occurrences; each change of state after the first is in alert_history;
 * new alerts with a server_id get a pending SEL evidence row; truncated
 * (the webhook's truncatedAlerts) is added to receiver_stats. For a poll
 * (source STORE_SOURCE_POLL), silenced and inhibited alerts that the
 * poll no longer shows are resolved (no webhook tells of those).
 * Answers {"received", "stored", "new", "repeats", "resolved",
 * "refired", "evidence", "events": [{"type", "data"}]}: events to
 * publish (alert.new, alert.resolved). */
void store_ingest(struct osh_db *db, const char *rows, const char *source,
    int64_t truncated, osh_db_json_cb cb, void *arg);

/* A page of alerts as q asks: {"items": [alert...], "total" (at most
 * QUERY_TOTAL_MAX), "total_capped", "next_cursor" (null on the last
 * page)}. The statement selects columns; store_list.c writes the JSON. */
void store_alert_list(struct osh_db *db, const struct alert_query *q,
    osh_db_json_cb cb, void *arg);

/* Appends the JSON of a list page to out from the rows of the list's
 * statement (at most limit + 1 rows of its columns, in q's sort; the row
 * past the limit, when there is one, makes the next cursor). Exposed for
 * its unit test. */
struct osh_buf;
void store_list_render(
    const PGresult *res, int64_t limit, bool ascending, struct osh_buf *out);

/* One alert with its annotations, history, SEL evidence, flapping and
 * the link to its server. */
void store_alert_get(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);

/* Claims up to n SEL evidence rows to fetch (pending and due, or claimed
 * over two minutes ago by a fetch that never ended): a JSON array of
 * {"alert_id", "server_id", "around", "attempts"}. */
void store_evidence_claim(
    struct osh_db *db, int64_t n, osh_db_json_cb cb, void *arg);

/* Ends a fetch: entries (a JSON array text) stored as done; or, with
 * entries NULL, error recorded and the row failed when final, else
 * pending again after a backoff. */
void store_evidence_done(struct osh_db *db, int64_t alert_id,
    const char *entries, const char *error, bool final, osh_db_json_cb cb,
    void *arg);

/* Deletes (at most 10,000 per call) resolved alerts that ended more than
 * days ago, and fingerprints with no alert left: {"deleted": n}. */
void store_prune(struct osh_db *db, int64_t days, osh_db_json_cb cb, void *arg);

/* Publishes event 'type' on osh:events: {"type", "ts", "source", "data"},
 * and appends it to the alert event stream (alertsse.h); data is
 * taken. */
void events_publish(
    struct osh_redis *redis, const char *type, struct json_object *data);

#endif
