/* store.c - cluster-mgmt's SQL, and its events on Redis. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include <osh/redis.h>
#include <osh/util.h>

#include "store.h"

/*
 * Clusters.
 */

void
store_cluster_list(struct osh_db *db, const char *name, int64_t limit,
    int64_t offset, osh_db_json_cb cb, void *arg)
{
	char lim[24], off[24];
	const char *v[] = {name, osh_db_num(lim, sizeof(lim), limit),
	    osh_db_num(off, sizeof(off), offset)};

	osh_db_json(db,
	    "WITH f AS (SELECT * FROM clusters WHERE $1::text IS NULL OR "
	    "strpos(lower(name), lower($1)) > 0) "
	    "SELECT jsonb_build_object('items', coalesce((SELECT "
	    "jsonb_agg(cluster_json(c) ORDER BY lower(c.name), c.id) FROM "
	    "clusters c WHERE c.id IN (SELECT id FROM f ORDER BY lower(name), "
	    "id LIMIT $2 OFFSET $3)), '[]'), "
	    "'total', (SELECT count(*) FROM f))",
	    3, v, cb, arg);
}

void
store_cluster_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "SELECT cluster_json(c) || jsonb_build_object('summary', "
	    "cluster_summary(c)) FROM clusters c WHERE id = $1",
	    id, cb, arg);
}

void
store_cluster_insert(struct osh_db *db, const struct cluster_in *in,
    osh_db_json_cb cb, void *arg)
{
	const char *v[] = {in->name, in->description, in->labels, in->selector,
	    in->selector_terms};

	osh_db_json(db,
	    "INSERT INTO clusters AS c (name, description, labels, selector, "
	    "selector_terms) VALUES ($1, coalesce($2, ''), "
	    "coalesce($3::jsonb, '{}'), $4, $5::jsonb) "
	    "RETURNING cluster_json(c)",
	    5, v, cb, arg);
}

void
store_cluster_update(struct osh_db *db, int64_t id, const struct cluster_in *in,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), in->name,
	    in->description, in->labels, in->has_selector ? "true" : "false",
	    in->selector, in->selector_terms};

	osh_db_json(db,
	    "UPDATE clusters c SET name = coalesce($2, name), "
	    "description = coalesce($3, description), "
	    "labels = coalesce($4::jsonb, labels), "
	    "selector = CASE WHEN $5::boolean THEN $6 ELSE selector END, "
	    "selector_terms = CASE WHEN $5::boolean THEN $7::jsonb "
	    "ELSE selector_terms END, updated_at = now() "
	    "WHERE id = $1 RETURNING cluster_json(c)",
	    7, v, cb, arg);
}

void
store_cluster_delete(
    struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "DELETE FROM clusters WHERE id = $1 RETURNING "
	    "jsonb_build_object('id', id, 'name', name)",
	    id, cb, arg);
}

void
store_cluster_servers(struct osh_db *db, int64_t id, const char *power,
    const char *status, int64_t limit, int64_t offset, osh_db_json_cb cb,
    void *arg)
{
	char sid[24], lim[24], off[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), power, status,
	    osh_db_num(lim, sizeof(lim), limit),
	    osh_db_num(off, sizeof(off), offset)};

	osh_db_json(db,
	    "WITH c AS (SELECT c FROM clusters c WHERE id = $1), "
	    "m AS (SELECT s FROM servers s, c WHERE in_cluster(c.c, s) AND "
	    "($2::text IS NULL OR s.power_state = $2) AND "
	    "($3::text IS NULL OR s.status = $3)) "
	    "SELECT jsonb_build_object('cluster_id', (c.c).id, "
	    "'items', coalesce((SELECT jsonb_agg(member_json(c.c, p.s) "
	    "ORDER BY (p.s).id) FROM (SELECT s FROM m ORDER BY (s).id "
	    "LIMIT $4 OFFSET $5) p), '[]'), "
	    "'total', (SELECT count(*) FROM m)) FROM c",
	    5, v, cb, arg);
}

void
store_members_add(struct osh_db *db, int64_t id, const char *ids,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), ids};

	osh_db_json(db,
	    "WITH want AS (SELECT DISTINCT unnest($2::bigint[]) AS id), "
	    "unknown AS (SELECT w.id FROM want w WHERE NOT EXISTS "
	    "(SELECT 1 FROM servers s WHERE s.id = w.id)), "
	    "c AS (SELECT id, name FROM clusters WHERE id = $1), "
	    "ins AS (INSERT INTO cluster_members (cluster_id, server_id) "
	    "SELECT c.id, w.id FROM c, want w WHERE NOT EXISTS "
	    "(SELECT 1 FROM unknown) ON CONFLICT DO NOTHING "
	    "RETURNING server_id), "
	    "u AS (UPDATE clusters SET updated_at = now() WHERE id = $1 AND "
	    "EXISTS (SELECT 1 FROM ins)) "
	    "SELECT jsonb_build_object('id', c.id, 'name', c.name, "
	    "'added', coalesce((SELECT jsonb_agg(server_id ORDER BY "
	    "server_id) FROM ins), '[]'), "
	    "'unknown', coalesce((SELECT jsonb_agg(id ORDER BY id) FROM "
	    "unknown), '[]')) FROM c",
	    2, v, cb, arg);
}

void
store_members_remove(struct osh_db *db, int64_t id, const char *ids,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), ids};

	osh_db_json(db,
	    "WITH c AS (SELECT id, name FROM clusters WHERE id = $1), "
	    "d AS (DELETE FROM cluster_members m USING c WHERE "
	    "m.cluster_id = c.id AND m.server_id = ANY($2::bigint[]) "
	    "RETURNING m.server_id), "
	    "u AS (UPDATE clusters SET updated_at = now() WHERE id = $1 AND "
	    "EXISTS (SELECT 1 FROM d)) "
	    "SELECT jsonb_build_object('id', c.id, 'name', c.name, "
	    "'removed', coalesce((SELECT jsonb_agg(server_id ORDER BY "
	    "server_id) FROM d), '[]')) FROM c",
	    2, v, cb, arg);
}

void
store_membership(struct osh_db *db, osh_db_json_cb cb, void *arg)
{
	osh_db_json(db,
	    "SELECT jsonb_build_object('servers', coalesce(jsonb_object_agg("
	    "s.id::text, x.names), '{}')) FROM servers s, LATERAL (SELECT "
	    "jsonb_agg(c.name ORDER BY c.name) AS names FROM clusters c "
	    "WHERE in_cluster(c, s)) x WHERE x.names IS NOT NULL",
	    0, NULL, cb, arg);
}

/*
 * The read model.
 */

/* The columns of a server record from server-mgmt, as a recordset. */
#define SERVER_RECORD                                                          \
	"(id bigint, name text, bmc_address text, labels jsonb, "              \
	"power_state text, status text, has_credentials boolean, "             \
	"monitoring boolean)"

/* INSERT ... SELECT from x (rows of SERVER_RECORD) with generation g. */
#define SERVER_UPSERT(g)                                                       \
	"INSERT INTO servers AS s (id, name, bmc_address, labels, "            \
	"power_state, status, has_credentials, monitoring, sync_gen, "         \
	"synced_at) SELECT x.id, x.name, coalesce(x.bmc_address, ''), "        \
	"coalesce(x.labels, '{}'), coalesce(x.power_state, 'unknown'), "       \
	"coalesce(x.status, 'unknown'), coalesce(x.has_credentials, false), "  \
	"coalesce(x.monitoring, true), " g ", now() FROM x WHERE x.id IS NOT " \
	"NULL AND x.name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "           \
	"tombstones t WHERE t.id = x.id) ON CONFLICT (id) DO UPDATE SET "      \
	"name = EXCLUDED.name, bmc_address = EXCLUDED.bmc_address, "           \
	"labels = EXCLUDED.labels, power_state = EXCLUDED.power_state, "       \
	"status = EXCLUDED.status, has_credentials = "                         \
	"EXCLUDED.has_credentials, monitoring = EXCLUDED.monitoring, "         \
	"sync_gen = greatest(s.sync_gen, EXCLUDED.sync_gen), "                 \
	"synced_at = now() "

void
store_sync_begin(struct osh_db *db, osh_db_json_cb cb, void *arg)
{
	osh_db_json(db,
	    "UPDATE sync_state SET gen = gen + 1 RETURNING gen::text", 0, NULL,
	    cb, arg);
}

void
store_sync_page(struct osh_db *db, const char *gen, const char *items,
    osh_db_json_cb cb, void *arg)
{
	const char *v[] = {items, gen};

	osh_db_json(db,
	    "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) "
	    "AS x" SERVER_RECORD "), up AS (" SERVER_UPSERT(
		"$2::bigint") "RETURNING id) SELECT count(*)::text FROM up",
	    2, v, cb, arg);
}

void
store_sync_end(struct osh_db *db, const char *gen, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {gen};

	osh_db_json(db,
	    "WITH d AS (DELETE FROM servers WHERE sync_gen < $1::bigint "
	    "RETURNING id), "
	    "p AS (DELETE FROM tombstones WHERE deleted_at < now() - "
	    "interval '1 day'), "
	    "u AS (UPDATE sync_state SET last_full_at = now()) "
	    "SELECT jsonb_build_object('deleted', coalesce((SELECT "
	    "jsonb_agg(id ORDER BY id) FROM d), '[]'))",
	    1, v, cb, arg);
}

/* A server event: the row, and the clusters whose selector matched it
 * before (was) and after (is_now), explicit memberships aside. */
static const char server_put_sql[] =
    "WITH x AS (SELECT * FROM jsonb_to_record($1::jsonb) AS x" SERVER_RECORD
    "), old AS (SELECT s.labels FROM servers s, x WHERE s.id = x.id), "
    "up AS (" SERVER_UPSERT(
	"(SELECT gen FROM sync_state)") "RETURNING "
					"s.labels), "
					"m AS (SELECT c.id, c.name, coalesce((SELECT selector_match("
					"c.selector_terms, old.labels) FROM old), false) AS was, "
					"coalesce((SELECT selector_match(c.selector_terms, up.labels) "
					"FROM up), false) AS is_now FROM clusters c WHERE c.selector_terms "
					"IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cluster_members cm, x "
					"WHERE cm.cluster_id = c.id AND cm.server_id = x.id)) "
					"SELECT jsonb_build_object('applied', (SELECT count(*) FROM up), "
					"'joined', coalesce((SELECT jsonb_agg(jsonb_build_object('id', id, "
					"'name', name) ORDER BY id) FROM m WHERE is_now AND NOT was), '[]'), "
					"'left', coalesce((SELECT jsonb_agg(jsonb_build_object('id', id, "
					"'name', name) ORDER BY id) FROM m WHERE was AND NOT is_now), '[]'))";

void
store_server_put(
    struct osh_db *db, const char *server, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {server};

	osh_db_json(db, server_put_sql, 1, v, cb, arg);
}

void
store_server_delete(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "WITH old AS (SELECT srv FROM servers srv WHERE srv.id = $1), "
	    "m AS (SELECT c.id, c.name FROM clusters c, old WHERE "
	    "in_cluster(c, old.srv)), "
	    "d AS (DELETE FROM servers WHERE id = $1 RETURNING id), "
	    "t AS (INSERT INTO tombstones (id) VALUES ($1) "
	    "ON CONFLICT (id) DO NOTHING) "
	    "SELECT jsonb_build_object('deleted', EXISTS (SELECT 1 FROM d), "
	    "'clusters', coalesce((SELECT jsonb_agg(jsonb_build_object('id', "
	    "m.id, 'name', m.name) ORDER BY m.id) FROM m), '[]'))",
	    id, cb, arg);
}

void
store_server_power(struct osh_db *db, int64_t id, const char *power,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), power};

	osh_db_json(db,
	    "UPDATE servers SET power_state = $2, synced_at = now() "
	    "WHERE id = $1 RETURNING id::text",
	    2, v, cb, arg);
}

void
store_server_status(struct osh_db *db, int64_t id, const char *status,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), status};

	osh_db_json(db,
	    "UPDATE servers SET status = $2, synced_at = now() "
	    "WHERE id = $1 RETURNING id::text",
	    2, v, cb, arg);
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
	    ev, "source", json_object_new_string("cluster-mgmt"));
	json_object_object_add(ev, "data", data);
	if (redis != NULL)
		osh_redis_cmd(redis, NULL, NULL, "PUBLISH osh:events %s",
		    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
}
