/* ackstore.h - the SQL of acknowledgements (acks) and of maintenance
 * windows (the tables of migrations/002): one statement a call, JSON
 * from SQL, strings given to callbacks live only during them; a
 * statement that finds no row answers OSH_DB_NOT_FOUND. */
#ifndef AW_ACKSTORE_H
#define AW_ACKSTORE_H

#include <stdint.h>

#include <osh/db.h>

/* What an ack needs of its alert: {"state", "labels", "acked"}. */
void ackstore_target(
    struct osh_db *db, int64_t alert_id, osh_db_json_cb cb, void *arg);

/* Records an ack whose silence Alertmanager made (until, silence_ends:
 * RFC 3339 texts; until may be NULL), marks the alert acknowledged and
 * writes its history: {"ack", "event"}. A resolved alert: not found; an
 * alert with an active ack: OSH_DB_CONFLICT. */
void ackstore_insert(struct osh_db *db, int64_t alert_id,
    const char *silence_id, const char *comment, const char *by,
    const char *until, const char *silence_ends, osh_db_json_cb cb, void *arg);

/* The alert's active ack (ack_json), or not found. */
void ackstore_active(
    struct osh_db *db, int64_t alert_id, osh_db_json_cb cb, void *arg);

/* Ends the active ack ack_id as state (undone, ended, expired) by 'by'
 * (NULL: the service): history, and the alert no longer acknowledged
 * unless it resolved: {"ack", "event"}; not found when it is not active
 * any more. */
void ackstore_end(struct osh_db *db, int64_t ack_id, const char *state,
    const char *by, osh_db_json_cb cb, void *arg);

/* Active acks that need Alertmanager (at most 100): a JSON array of
 * {"id", "alert_id", "silence_id", "action", "labels", "ends_at",
 * "comment", "created_by"}: action expire (the alert resolved), end (its
 * until passed), or extend (its silence ends within half of extend_s;
 * ends_at the new end: until, or extend_s from now). */
void ackstore_due(
    struct osh_db *db, int64_t extend_s, osh_db_json_cb cb, void *arg);

/* The silence of ack_id is now silence_id, ending at ends (RFC 3339). */
void ackstore_extended(struct osh_db *db, int64_t ack_id,
    const char *silence_id, const char *ends, osh_db_json_cb cb, void *arg);

/* Which ack or window keeps silence_id: {"kind": "ack" or
 * "maintenance", "id"}, or not found. */
void ackstore_silence_owner(
    struct osh_db *db, const char *silence_id, osh_db_json_cb cb, void *arg);

/* Records a window whose silence Alertmanager made: server_ids a JSON
 * array text (NULL for a cluster's window), cluster NULL for servers'.
 * Answers maintenance_json. */
void maintstore_insert(struct osh_db *db, const char *server_ids,
    const char *cluster, const char *starts, const char *ends,
    const char *reason, const char *by, const char *silence_id,
    osh_db_json_cb cb, void *arg);

/* A page of windows, newest end first: state (active, upcoming, ended,
 * cancelled) and server_id filters may be NULL / 0: {"items",
 * "total"}. */
void maintstore_list(struct osh_db *db, const char *state, int64_t server_id,
    int64_t limit, int64_t offset, osh_db_json_cb cb, void *arg);

/* One window (maintenance_json). */
void maintstore_get(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);

/* Cancels a window not cancelled nor ended yet (its silence expired by
 * the caller first): maintenance_json; not found otherwise. */
void maintstore_cancel(struct osh_db *db, int64_t id, const char *by,
    osh_db_json_cb cb, void *arg);

#endif
