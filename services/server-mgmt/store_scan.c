/* store_scan.c - server-mgmt's SQL for discovery scans: a scan's row, its
 * progress and results, and the import of what it found (store.h). */
#include <osh/db.h>
#include <osh/util.h>

#include "store.h"

void
store_scan_create(struct osh_db *db, const char *spec_json, int total,
    const char *by, int64_t by_id, osh_db_json_cb cb, void *arg)
{
	char t[24], uid[24];
	const char *v[] = {spec_json, osh_db_num(t, sizeof(t), total), by,
	    osh_db_num(uid, sizeof(uid), by_id)};

	osh_db_json(db,
	    "INSERT INTO scans (spec, total, created_by, created_by_id) "
	    "VALUES ($1::jsonb, $2, $3, $4) RETURNING id::text",
	    4, v, cb, arg);
}

void
store_scan_progress(struct osh_db *db, int64_t id, int probed, int found,
    const char *status, osh_db_json_cb cb, void *arg)
{
	char sid[24], p[24], f[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id),
	    osh_db_num(p, sizeof(p), probed), osh_db_num(f, sizeof(f), found),
	    status};

	osh_db_json(db,
	    "UPDATE scans SET probed = $2, found = $3, status = $4, "
	    "finished_at = CASE WHEN $4 = 'running' THEN NULL ELSE now() END "
	    "WHERE id = $1 AND status = 'running' RETURNING id::text",
	    4, v, cb, arg);
}

void
store_scan_result(struct osh_db *db, int64_t scan, const struct scan_found *f,
    osh_db_json_cb cb, void *arg)
{
	char sid[24], port[24], mfg[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), scan), f->host,
	    osh_db_num(port, sizeof(port), f->port),
	    f->ipmi15 ? "true" : "false", f->ipmi20 ? "true" : "false",
	    f->auth_types, f->credentials_ok ? "true" : "false", f->sealed,
	    f->manufacturer_id >= 0
		? osh_db_num(mfg, sizeof(mfg), f->manufacturer_id)
		: NULL,
	    f->manufacturer ? f->manufacturer : "",
	    f->product ? f->product : "", f->serial ? f->serial : "",
	    f->firmware ? f->firmware : "", f->error};

	osh_db_json(db,
	    "INSERT INTO scan_results (scan_id, host, port, ipmi15, ipmi20, "
	    "auth_types, credentials_ok, credentials, manufacturer_id, "
	    "manufacturer, product, serial, firmware, error) VALUES ($1, $2, "
	    "$3, $4, $5, $6::text[], $7, $8, $9::int, $10, $11, $12, $13, $14) "
	    "ON CONFLICT (scan_id, host, port) DO NOTHING RETURNING id::text",
	    14, v, cb, arg);
}

void
store_scan_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT jsonb_build_object('id', s.id, 'status', s.status, "
	    "'spec', s.spec, 'total', s.total, 'probed', s.probed, "
	    "'found', s.found, 'created_by', s.created_by, "
	    "'created_at', ts_json(s.created_at), "
	    "'finished_at', ts_json(s.finished_at), "
	    "'results', coalesce((SELECT jsonb_agg(scan_result_json(r) "
	    "ORDER BY r.host, r.port) FROM scan_results r WHERE "
	    "r.scan_id = s.id), '[]')) FROM scans s WHERE s.id = $1",
	    id, cb, arg);
}

static void
ignore_json(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	(void)st;
	(void)json;
	(void)state;
	(void)arg;
}

void
store_scans_interrupted(struct osh_db *db)
{
	osh_db_json(db,
	    "UPDATE scans SET status = 'interrupted', finished_at = now() "
	    "WHERE status = 'running' RETURNING id::text",
	    0, NULL, ignore_json, NULL);
}

void
store_scan_importable(struct osh_db *db, int64_t scan, const char *ids_json,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), scan), ids_json};

	osh_db_json(db,
	    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, "
	    "'host', r.host, 'port', r.port, 'ipmi20', r.ipmi20, "
	    "'credentials', r.credentials, 'product', r.product, "
	    "'serial', r.serial, 'imported', r.imported_server_id, "
	    "'workarounds', s.spec->'workarounds') ORDER BY r.id), '[]') "
	    "FROM scan_results r JOIN scans s ON s.id = r.scan_id "
	    "WHERE r.scan_id = $1 "
	    "AND ($2::jsonb IS NULL OR r.id IN (SELECT "
	    "jsonb_array_elements_text($2::jsonb)::bigint))",
	    2, v, cb, arg);
}

void
store_scan_mark_imported(struct osh_db *db, int64_t result, int64_t server,
    osh_db_json_cb cb, void *arg)
{
	char r[24], s[24];
	const char *v[] = {
	    osh_db_num(r, sizeof(r), result), osh_db_num(s, sizeof(s), server)};

	osh_db_json(db,
	    "UPDATE scan_results SET imported_server_id = $2 WHERE id = $1 "
	    "RETURNING id::text",
	    2, v, cb ? cb : ignore_json, arg);
}
