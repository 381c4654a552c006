/* ackstore.c - the SQL of acks and maintenance windows. */
#include <stdio.h>
#include <string.h>

#include "ackstore.h"
#include "store.h"

/* The answer of a statement that changed ack k and alert u: {"ack",
 * "event": the alert.* event's data, with the members extra adds}. */
#define ACK_ANSWER(extra)                                                      \
	"SELECT jsonb_build_object('ack', ack_json(k), 'event', " EVENT_DATA(  \
	    "u") " || jsonb_build_object(" extra ")) FROM k, u"

void
ackstore_target(
    struct osh_db *db, int64_t alert_id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT jsonb_build_object('state', a.state, 'labels', a.labels, "
	    "'acked', EXISTS (SELECT 1 FROM acks k WHERE k.alert_id = a.id "
	    "AND k.state = 'active')) FROM alerts a WHERE a.id = $1",
	    alert_id, cb, arg);
}

void
ackstore_insert(struct osh_db *db, int64_t alert_id, const char *silence_id,
    const char *comment, const char *by, const char *until,
    const char *silence_ends, osh_db_json_cb cb, void *arg)
{
	char id[24];
	const char *v[] = {osh_db_num(id, sizeof(id), alert_id), silence_id,
	    comment, by, until, silence_ends};

	osh_db_json(db,
	    "WITH k AS (INSERT INTO acks (alert_id, silence_id, comment, "
	    "created_by, until, silence_ends_at) SELECT a.id, $2, $3, $4, "
	    "$5::timestamptz, $6::timestamptz FROM alerts a WHERE a.id = "
	    "$1::bigint AND a.state <> 'resolved' RETURNING *), "
	    "u AS (UPDATE alerts a SET acknowledged_at = now(), "
	    "acknowledged_by = $4 FROM k WHERE a.id = k.alert_id RETURNING "
	    "a.*), "
	    "h AS (INSERT INTO alert_history (alert_id, state, source, by_user, "
	    "comment) SELECT alert_id, 'acknowledged', 'api', $4, $3 FROM k) " ACK_ANSWER(
		"'acknowledged_by', $4::text, 'comment', $3::text"),
	    6, v, cb, arg);
}

void
ackstore_active(
    struct osh_db *db, int64_t alert_id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT ack_json(k) FROM acks k WHERE k.alert_id = $1 AND "
	    "k.state = 'active'",
	    alert_id, cb, arg);
}

void
ackstore_end(struct osh_db *db, int64_t ack_id, const char *state,
    const char *by, osh_db_json_cb cb, void *arg)
{
	char id[24];
	const char *v[] = {osh_db_num(id, sizeof(id), ack_id), state, by};

	osh_db_json(db,
	    "WITH k AS (UPDATE acks SET state = $2, ended_at = now(), "
	    "ended_by = $3 WHERE id = $1::bigint AND state = 'active' "
	    "RETURNING *), "
	    "u AS (UPDATE alerts a SET acknowledged_at = CASE WHEN a.state = "
	    "'resolved' THEN a.acknowledged_at END, acknowledged_by = CASE "
	    "WHEN a.state = 'resolved' THEN a.acknowledged_by END FROM k WHERE "
	    "a.id = k.alert_id RETURNING a.*), "
	    "h AS (INSERT INTO alert_history (alert_id, state, source, by_user) "
	    "SELECT alert_id, CASE $2 WHEN 'undone' THEN 'unacknowledged' "
	    "ELSE 'ack_' || $2 END, CASE WHEN $3 IS NULL THEN 'service' ELSE "
	    "'api' END, $3 FROM k) " ACK_ANSWER(
		"'ack_state', $2::text, 'by', $3::text"),
	    3, v, cb, arg);
}

void
ackstore_due(struct osh_db *db, int64_t extend_s, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "WITH d AS (UPDATE acks k SET claimed_at = now() FROM alerts a "
	    "WHERE a.id = k.alert_id AND k.id IN (SELECT k2.id FROM acks k2 "
	    "JOIN alerts a2 ON a2.id = k2.alert_id WHERE k2.state = 'active' "
	    "AND (k2.claimed_at IS NULL OR k2.claimed_at < now() - "
	    "interval '1 minute') AND (a2.state = 'resolved' OR k2.until <= "
	    "now() OR (k2.silence_ends_at < now() + make_interval(secs => "
	    "$1::bigint / 2) AND (k2.until IS NULL OR k2.silence_ends_at < "
	    "k2.until))) ORDER BY k2.id LIMIT 100 FOR UPDATE OF k2 SKIP "
	    "LOCKED) RETURNING k.*, a.labels, CASE WHEN a.state = 'resolved' "
	    "THEN 'expire' WHEN k.until <= now() THEN 'end' ELSE 'extend' END "
	    "AS action) "
	    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, "
	    "'alert_id', alert_id, 'silence_id', silence_id, 'action', action, "
	    "'labels', labels, 'ends_at', ts(least(until, now() + "
	    "make_interval(secs => $1::bigint))), 'comment', comment, "
	    "'created_by', created_by) ORDER BY id), '[]') FROM d",
	    extend_s, cb, arg);
}

void
ackstore_extended(struct osh_db *db, int64_t ack_id, const char *silence_id,
    const char *ends, osh_db_json_cb cb, void *arg)
{
	char id[24];
	const char *v[] = {
	    osh_db_num(id, sizeof(id), ack_id), silence_id, ends};

	osh_db_json(db,
	    "UPDATE acks SET silence_id = $2, silence_ends_at = "
	    "$3::timestamptz, claimed_at = NULL WHERE id = $1::bigint AND "
	    "state = 'active' RETURNING ack_json(acks)",
	    3, v, cb, arg);
}

void
ackstore_silence_owner(
    struct osh_db *db, const char *silence_id, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {silence_id};

	osh_db_json(db,
	    "SELECT jsonb_build_object('kind', kind, 'id', id) FROM ("
	    "SELECT 'ack' AS kind, alert_id AS id FROM acks WHERE silence_id "
	    "= $1 AND state = 'active' UNION ALL SELECT 'maintenance', id "
	    "FROM maintenance WHERE silence_id = $1 AND cancelled_at IS NULL "
	    "AND ends_at > now()) o LIMIT 1",
	    1, v, cb, arg);
}

/*
 * Maintenance windows.
 */

void
maintstore_insert(struct osh_db *db, const char *server_ids,
    const char *cluster, const char *starts, const char *ends,
    const char *reason, const char *by, const char *silence_id,
    osh_db_json_cb cb, void *arg)
{
	const char *v[] = {
	    server_ids, cluster, starts, ends, reason, by, silence_id};

	osh_db_json(db,
	    "INSERT INTO maintenance AS m (server_ids, cluster, starts_at, "
	    "ends_at, reason, created_by, silence_id) SELECT (SELECT "
	    "array_agg(x::bigint) FROM jsonb_array_elements_text($1::jsonb) "
	    "x), $2, $3::timestamptz, $4::timestamptz, $5, $6, $7 "
	    "RETURNING maintenance_json(m)",
	    7, v, cb, arg);
}

/* A window's state in SQL, as maintenance_json says it. */
#define MAINT_STATE                                                            \
	"CASE WHEN m.cancelled_at IS NOT NULL THEN 'cancelled' WHEN now() < "  \
	"m.starts_at THEN 'upcoming' WHEN now() < m.ends_at THEN 'active' "    \
	"ELSE 'ended' END"

void
maintstore_list(struct osh_db *db, const char *state, int64_t server_id,
    int64_t limit, int64_t offset, osh_db_json_cb cb, void *arg)
{
	char sid[24], lim[24], off[24];
	const char *v[] = {state,
	    server_id > 0 ? osh_db_num(sid, 24, server_id) : NULL,
	    osh_db_num(lim, sizeof(lim), limit),
	    osh_db_num(off, sizeof(off), offset)};

	osh_db_json(db,
	    "WITH f AS (SELECT m FROM maintenance m WHERE ($1::text IS NULL OR "
	    "(" MAINT_STATE ") = $1) AND ($2::bigint IS NULL OR $2::bigint = "
	    "ANY (m.server_ids))) "
	    "SELECT jsonb_build_object('items', coalesce((SELECT jsonb_agg("
	    "maintenance_json(p.m) ORDER BY (p.m).ends_at DESC, (p.m).id DESC) "
	    "FROM (SELECT m FROM f ORDER BY (m).ends_at DESC, (m).id DESC "
	    "LIMIT $3::bigint OFFSET $4::bigint) p), '[]'), 'total', "
	    "(SELECT count(*) FROM f))",
	    4, v, cb, arg);
}

void
maintstore_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT maintenance_json(m) FROM maintenance m WHERE m.id = $1", id,
	    cb, arg);
}

void
maintstore_cancel(
    struct osh_db *db, int64_t id, const char *by, osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), by};

	osh_db_json(db,
	    "UPDATE maintenance m SET cancelled_at = now(), cancelled_by = $2 "
	    "WHERE m.id = $1::bigint AND m.cancelled_at IS NULL AND "
	    "m.ends_at > now() RETURNING maintenance_json(m)",
	    2, v, cb, arg);
}
