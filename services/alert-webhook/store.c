/* store.c - alert-webhook's SQL, and its events on Redis. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include <osh/redis.h>
#include <osh/util.h>

#include "alertsse.h"
#include "store.h"

/*
 * Ingestion: $1 rows, $2 source, $3 truncatedAlerts.
 *
 * Copies of one occurrence within the batch are merged first (a resolved
 * copy wins) and counted, since one statement may not update a row twice.
 * Rows are written in (fingerprint, starts_at) order, so that concurrent
 * batches holding the same alerts (Alertmanager HA peers) lock them in
 * the same order. On a conflict, xmax = 0 tells an insert from an update,
 * and state_changed_at = now() (the transaction's time) a change made by
 * this very statement.
 */
static const char ingest_head[] =
    "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(fp text, "
    "state text, starts_at timestamptz, ends_at timestamptz, labels jsonb, "
    "annotations jsonb, url text, server_id bigint)), "
    "d AS (SELECT DISTINCT ON (fp, starts_at) x.*, count(*) OVER "
    "(PARTITION BY fp, starts_at) AS n FROM x "
    "ORDER BY fp, starts_at, (state = 'resolved') DESC), "
    "up AS (INSERT INTO alerts AS a (fingerprint, starts_at, ends_at, state, "
    "first_state, first_source, alertname, severity, server_id, "
    "server_name, cluster, clusters, summary, labels, annotations, "
    "generator_url, notifications, resolved_at, last_polled_at, search) "
    "SELECT fp, starts_at, CASE WHEN state = 'resolved' THEN "
    "coalesce(ends_at, now()) END, state, state, $2, "
    "coalesce(labels->>'alertname', ''), coalesce(labels->>'severity', ''), "
    "server_id, labels->>'server_name', labels->>'cluster', "
    "labels->>'clusters', annotations->>'summary', labels, "
    "coalesce(annotations, '{}'), coalesce(url, ''), "
    "CASE WHEN $2 = 'webhook' THEN n ELSE 0 END, "
    "CASE WHEN state = 'resolved' THEN now() END, "
    "CASE WHEN $2 = 'poll' THEN now() END, "
    "lower(labels::text || ' ' || coalesce(annotations, '{}')::text) "
    "FROM d ORDER BY fp, starts_at "
    "ON CONFLICT (fingerprint, starts_at) DO UPDATE SET "
    "notifications = a.notifications + EXCLUDED.notifications, "
    "state = CASE WHEN a.state = 'resolved' THEN a.state "
    "ELSE EXCLUDED.state END, "
    "ends_at = CASE WHEN a.state = 'resolved' THEN a.ends_at "
    "ELSE EXCLUDED.ends_at END, "
    "resolved_at = CASE WHEN a.state = 'resolved' THEN a.resolved_at "
    "ELSE EXCLUDED.resolved_at END, "
    "state_changed_at = CASE WHEN a.state <> 'resolved' AND "
    "a.state <> EXCLUDED.state THEN now() ELSE a.state_changed_at END, "
    "labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, "
    "summary = EXCLUDED.summary, search = EXCLUDED.search, "
    "last_seen_at = now(), "
    "last_polled_at = coalesce(EXCLUDED.last_polled_at, a.last_polled_at) "
    "RETURNING a.id, a.fingerprint, a.starts_at, a.state, a.server_id, "
    "(a.xmax = 0) AS inserted, (a.state_changed_at = now()) AS changed, " EVENT_DATA(
	"a") " AS ev), ";
static const char ingest_tail[] =
    "fp AS (INSERT INTO fingerprints AS f (fingerprint, fires, "
    "first_starts_at, last_starts_at) SELECT fingerprint, count(*), "
    "min(starts_at), max(starts_at) FROM up WHERE inserted "
    "GROUP BY fingerprint ORDER BY fingerprint "
    "ON CONFLICT (fingerprint) DO UPDATE SET fires = f.fires + "
    "EXCLUDED.fires, last_starts_at = greatest(f.last_starts_at, "
    "EXCLUDED.last_starts_at) RETURNING fires), "
    "hist AS (INSERT INTO alert_history (alert_id, state, source) "
    "SELECT id, state, $2 FROM up WHERE changed AND NOT inserted), "
    "evid AS (INSERT INTO alert_evidence (alert_id, server_id, around) "
    "SELECT id, server_id, starts_at FROM up WHERE inserted AND "
    "server_id IS NOT NULL RETURNING alert_id), "
    "tr AS (UPDATE receiver_stats SET truncated_alerts = truncated_alerts "
    "+ $3::bigint, truncated_notifications = truncated_notifications + 1 "
    "WHERE $3::bigint > 0), "
    /* A poll no longer showing a silenced or inhibited alert: it
     * resolved (Alertmanager sends no webhook for those). */
    "gone AS (UPDATE alerts a SET state = 'resolved', ends_at = now(), "
    "resolved_at = now(), state_changed_at = now(), last_seen_at = now() "
    "WHERE $2 = 'poll' AND a.state IN ('silenced', 'inhibited') AND "
    "NOT EXISTS (SELECT 1 FROM x WHERE x.fp = a.fingerprint AND "
    "x.starts_at = a.starts_at) RETURNING a.id, " EVENT_DATA(
	"a") " AS ev), "
	     "hist2 AS (INSERT INTO alert_history (alert_id, state, source) "
	     "SELECT id, 'resolved', $2 FROM gone), "
	     "e AS (SELECT 'alert.new' AS type, ev FROM up WHERE inserted "
	     "UNION ALL SELECT 'alert.resolved', ev FROM up WHERE changed AND "
	     "NOT inserted AND state = 'resolved' "
	     "UNION ALL SELECT 'alert.resolved', ev FROM gone) "
	     "SELECT jsonb_build_object("
	     "'received', (SELECT count(*) FROM x), "
	     "'stored', (SELECT count(*) FROM up), "
	     "'new', (SELECT count(*) FROM up WHERE inserted), "
	     "'repeats', (SELECT count(*) FROM x) - (SELECT count(*) FROM up "
	     "WHERE inserted OR changed), "
	     "'resolved', (SELECT count(*) FROM up WHERE changed AND NOT inserted "
	     "AND state = 'resolved') + (SELECT count(*) FROM gone), "
	     "'refired', (SELECT count(*) FROM fp WHERE fires > 1), "
	     "'evidence', (SELECT count(*) FROM evid), "
	     "'events', coalesce((SELECT jsonb_agg(jsonb_build_object('type', type, "
	     "'data', ev)) FROM e), '[]'))";

void
store_ingest(struct osh_db *db, const char *rows, const char *source,
    int64_t truncated, osh_db_json_cb cb, void *arg)
{
	static char sql[sizeof(ingest_head) + sizeof(ingest_tail)];
	char tr[24];
	const char *v[] = {rows, source, osh_db_num(tr, sizeof(tr), truncated)};

	/* One statement in two literals (C11 promises 4095 bytes a
	 * literal), joined once. */
	if (sql[0] == '\0')
		snprintf(sql, sizeof(sql), "%s%s", ingest_head, ingest_tail);
	osh_db_json(db, sql, 3, v, cb, arg);
}

/*
 * Reading.
 */

void
store_alert_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT alert_json(a, f.fires) || alert_extra(a) || "
	    "jsonb_build_object("
	    "'annotations', a.annotations, 'generator_url', a.generator_url, "
	    "'notifications', a.notifications, "
	    "'state_changed_at', ts(a.state_changed_at), "
	    "'resolved_at', ts(a.resolved_at), "
	    "'last_polled_at', ts(a.last_polled_at), "
	    "'acknowledged_at', ts(a.acknowledged_at), "
	    "'acknowledged_by', a.acknowledged_by, "
	    "'flapping', (SELECT count(*) FROM alerts b WHERE b.fingerprint = "
	    "a.fingerprint AND b.starts_at > a.starts_at - interval '1 hour' "
	    "AND b.starts_at <= a.starts_at) >= 3, "
	    "'history', jsonb_build_array(jsonb_build_object('state', "
	    "a.first_state, 'source', a.first_source, 'at', "
	    "ts(a.first_seen_at))) || coalesce((SELECT jsonb_agg("
	    "jsonb_strip_nulls(jsonb_build_object('state', h.state, 'source', "
	    "h.source, 'at', ts(h.at), 'by', h.by_user, 'comment', "
	    "h.comment)) ORDER BY h.id) FROM alert_history h WHERE h.alert_id = "
	    "a.id), '[]'), "
	    "'acks', coalesce((SELECT jsonb_agg(ack_json(k) ORDER BY k.id) "
	    "FROM acks k WHERE k.alert_id = a.id), '[]'), "
	    "'evidence', (SELECT jsonb_build_object('status', e.status, "
	    "'around', ts(e.around), 'attempts', e.attempts, 'fetched_at', "
	    "ts(e.fetched_at), 'error', e.error, 'entries', e.entries) FROM "
	    "alert_evidence e WHERE e.alert_id = a.id), "
	    "'server', CASE WHEN a.server_id IS NOT NULL THEN "
	    "jsonb_build_object('id', a.server_id, 'name', a.server_name, "
	    "'href', '/api/servers/' || a.server_id) END) "
	    "FROM alerts a LEFT JOIN fingerprints f ON f.fingerprint = "
	    "a.fingerprint WHERE a.id = $1",
	    id, cb, arg);
}

/*
 * SEL evidence.
 */

void
store_evidence_claim(struct osh_db *db, int64_t n, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "WITH c AS (UPDATE alert_evidence e SET status = 'fetching', "
	    "attempts = attempts + 1, claimed_at = now() WHERE alert_id IN "
	    "(SELECT alert_id FROM alert_evidence WHERE (status = 'pending' "
	    "AND (not_before IS NULL OR not_before <= now())) OR "
	    "(status = 'fetching' AND claimed_at < now() - "
	    "interval '2 minutes') ORDER BY alert_id LIMIT $1 "
	    "FOR UPDATE SKIP LOCKED) RETURNING alert_id, server_id, around, "
	    "attempts) "
	    "SELECT coalesce(jsonb_agg(jsonb_build_object('alert_id', "
	    "alert_id, 'server_id', server_id, 'around', ts(around), "
	    "'attempts', attempts) ORDER BY alert_id), '[]') FROM c",
	    n, cb, arg);
}

void
store_evidence_done(struct osh_db *db, int64_t alert_id, const char *entries,
    const char *error, bool final, osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), alert_id), entries,
	    error, final ? "true" : "false"};

	osh_db_json(db,
	    "UPDATE alert_evidence SET fetched_at = now(), error = $3, "
	    "entries = coalesce($2::jsonb, entries), "
	    "status = CASE WHEN $2 IS NOT NULL THEN 'done' "
	    "WHEN $4::boolean THEN 'failed' ELSE 'pending' END, "
	    "not_before = now() + attempts * interval '30 seconds' "
	    "WHERE alert_id = $1::bigint RETURNING status",
	    4, v, cb, arg);
}

/*
 * Retention.
 */

void
store_prune(struct osh_db *db, int64_t days, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "WITH old AS (SELECT id, fingerprint FROM alerts WHERE state = "
	    "'resolved' AND ends_at < now() - make_interval(days => "
	    "$1::int) ORDER BY ends_at LIMIT 10000), "
	    "d AS (DELETE FROM alerts a USING old WHERE a.id = old.id "
	    "RETURNING a.fingerprint), "
	    "fd AS (DELETE FROM fingerprints f WHERE f.fingerprint IN "
	    "(SELECT fingerprint FROM d) AND NOT EXISTS (SELECT 1 FROM alerts "
	    "b WHERE b.fingerprint = f.fingerprint AND b.id NOT IN "
	    "(SELECT id FROM old))) "
	    "SELECT jsonb_build_object('deleted', (SELECT count(*) FROM d))",
	    days, cb, arg);
}

void
events_publish(
    struct osh_redis *redis, const char *type, struct json_object *data)
{
	struct json_object *ev = json_object_new_object();
	char ts[OSH_TIME_LEN];

	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "ts",
	    json_object_new_string(
		osh_time_format(osh_wall_ms(), ts, sizeof(ts))));
	json_object_object_add(
	    ev, "source", json_object_new_string("alert-webhook"));
	json_object_object_add(ev, "data", data);
	if (redis != NULL) {
		osh_redis_cmd(redis, NULL, NULL, "PUBLISH osh:events %s",
		    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		alertsse_add(redis, type,
		    json_object_to_json_string_ext(
			data, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(ev);
}
