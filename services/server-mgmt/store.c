/* store.c - server-mgmt's SQL, and its events on Redis. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/redis.h>
#include <osh/util.h>

#include "store.h"

#define SERVER_COLS                                                            \
	"id, name, bmc_host, bmc_port, ipmi_version, privilege, "              \
	"cipher_suite, workarounds::text, credentials, power_state, status, "  \
	"product, credentials_binding"

static void
row_of(PGresult *res, int i, struct server_row *r)
{
	r->id = osh_db_int(res, i, 0);
	r->name = osh_db_str(res, i, 1);
	r->host = osh_db_str(res, i, 2);
	r->port = (int)osh_db_int(res, i, 3);
	r->ipmi_version = osh_db_str(res, i, 4);
	r->privilege = osh_db_str(res, i, 5);
	r->cipher_suite = (int)osh_db_int(res, i, 6);
	r->workarounds = osh_db_str(res, i, 7);
	r->credentials = osh_db_str(res, i, 8);
	r->power_state = osh_db_str(res, i, 9);
	r->status = osh_db_str(res, i, 10);
	r->product = osh_db_str(res, i, 11);
	r->credentials_binding = (int)osh_db_int(res, i, 12);
}

struct rows_call {
	store_row_cb one;
	store_rows_cb many;
	void *arg;
};

static void
on_rows(PGresult *res, const char *error, void *arg)
{
	struct rows_call *c = arg;
	enum osh_db_status st = osh_db_status_of(res);
	struct server_row *rows = NULL;
	int n = 0;

	(void)error;
	if (st == OSH_DB_OK) {
		n = PQntuples(res);
		if ((rows = calloc((size_t)n + 1, sizeof(*rows))) == NULL) {
			st = OSH_DB_ERROR;
			n = 0;
		}
		for (int i = 0; i < n; i++)
			row_of(res, i, &rows[i]);
	}
	if (c->one != NULL)
		c->one(st, st == OSH_DB_OK ? &rows[0] : NULL, c->arg);
	else
		c->many(st == OSH_DB_NOT_FOUND ? OSH_DB_OK : st, rows,
		    (size_t)n, c->arg);
	free(rows);
	free(c);
}

static void
rows_query(struct osh_db *db, const char *sql, int n, const char *const *v,
    store_row_cb one, store_rows_cb many, void *arg)
{
	struct rows_call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		if (one)
			one(OSH_DB_ERROR, NULL, arg);
		else
			many(OSH_DB_ERROR, NULL, 0, arg);
		return;
	}
	c->one = one;
	c->many = many;
	c->arg = arg;
	osh_db_query(db, sql, n, v, on_rows, c);
}

void
store_next_id(struct osh_db *db, osh_db_json_cb cb, void *arg)
{
	osh_db_json(
	    db, "SELECT nextval('servers_id_seq')::text", 0, NULL, cb, arg);
}

void
store_server_insert(struct osh_db *db, int64_t id, const struct server_in *in,
    const char *sealed, osh_db_json_cb cb, void *arg)
{
	char sid[24], port[24], cipher[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), in->name, in->host,
	    osh_db_num(port, sizeof(port), in->port), in->ipmi_version,
	    in->privilege,
	    in->has_cipher
		? osh_db_num(cipher, sizeof(cipher), in->cipher_suite)
		: NULL,
	    in->has_workarounds ? in->workarounds : NULL, in->labels,
	    in->description,
	    in->monitoring < 0	 ? NULL
		: in->monitoring ? "true"
				 : "false",
	    in->cluster, sealed};

	osh_db_json(db,
	    "INSERT INTO servers AS s (id, name, bmc_host, bmc_port, "
	    "ipmi_version, privilege, cipher_suite, workarounds, labels, "
	    "description, monitoring, cluster, credentials, "
	    "credentials_binding) VALUES ($1, $2, "
	    "$3, $4, coalesce($5, '2.0'), coalesce($6, 'admin'), "
	    "coalesce($7::int, 3), coalesce($8::text[], '{}'), "
	    "coalesce($9::jsonb, '{}'), coalesce($10, ''), "
	    "coalesce($11::boolean, true), $12, $13, 2) "
	    "RETURNING jsonb_build_object('server', server_json(s))",
	    13, v, cb, arg);
}

void
store_server_insert_batch(
    struct osh_db *db, const char *rows_json, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {rows_json};

	/* Rows in conflict with a server (or with an earlier row) are left
	 * out by ON CONFLICT; the answer names the ones whose name was
	 * taken, the others had their BMC address taken. */
	osh_db_json(db,
	    "WITH r AS (SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS "
	    "x (ord int, id bigint, name text, host text, port int, "
	    "ipmi_version text, privilege text, cipher_suite int, "
	    "workarounds text, labels jsonb, description text, "
	    "monitoring boolean, cluster text, credentials text)), "
	    "ins AS (INSERT INTO servers AS s (id, name, bmc_host, bmc_port, "
	    "ipmi_version, privilege, cipher_suite, workarounds, labels, "
	    "description, monitoring, cluster, credentials, "
	    "credentials_binding) SELECT id, name, host, port, "
	    "coalesce(ipmi_version, '2.0'), coalesce(privilege, 'admin'), "
	    "coalesce(cipher_suite, 3), coalesce(workarounds::text[], '{}'), "
	    "coalesce(labels, '{}'), coalesce(description, ''), "
	    "coalesce(monitoring, true), cluster, credentials, 2 FROM r "
	    "ORDER BY ord ON CONFLICT DO NOTHING RETURNING s.id, "
	    "lower(s.name) AS lname, server_json(s) AS j) "
	    "SELECT jsonb_build_object('created', coalesce((SELECT "
	    "jsonb_object_agg(ins.id::text, ins.j) FROM ins), '{}'), "
	    "'name_taken', coalesce((SELECT jsonb_agg(r.ord) FROM r WHERE "
	    "NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = r.id) AND "
	    "(EXISTS (SELECT 1 FROM servers t WHERE lower(t.name) = "
	    "lower(r.name)) OR EXISTS (SELECT 1 FROM ins WHERE ins.lname = "
	    "lower(r.name)))), '[]'))",
	    1, v, cb, arg);
}

void
store_server_conflicts(struct osh_db *db, const char *rows_json,
    const char *prior_json, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {rows_json, prior_json};

	/* The same tests as the unique indexes (servers_name_key,
	 * servers_bmc_key), a row against the servers, the rows before it
	 * in this batch and the valid rows of earlier batches. */
	osh_db_json(db,
	    "WITH r AS (SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS "
	    "x (ord int, name text, host text, port int)), "
	    "p AS (SELECT * FROM jsonb_to_recordset($2::text::jsonb) AS "
	    "y (ord int, name text, host text, port int)), "
	    "c AS (SELECT r.ord, CASE WHEN EXISTS (SELECT 1 FROM servers t "
	    "WHERE lower(t.name) = lower(r.name)) OR EXISTS (SELECT 1 FROM p "
	    "WHERE lower(p.name) = lower(r.name)) OR EXISTS (SELECT 1 FROM r "
	    "e WHERE e.ord < r.ord AND lower(e.name) = lower(r.name)) THEN "
	    "'name' WHEN EXISTS (SELECT 1 FROM servers t WHERE "
	    "lower(t.bmc_host) = lower(r.host) AND t.bmc_port = r.port) OR "
	    "EXISTS (SELECT 1 FROM p WHERE lower(p.host) = lower(r.host) AND "
	    "p.port = r.port) OR EXISTS (SELECT 1 FROM r e WHERE e.ord < "
	    "r.ord AND lower(e.host) = lower(r.host) AND e.port = r.port) "
	    "THEN 'bmc' END AS why FROM r) "
	    "SELECT coalesce(jsonb_object_agg(c.ord::text, c.why) FILTER "
	    "(WHERE c.why IS NOT NULL), '{}') FROM c",
	    2, v, cb, arg);
}

void
store_next_ids(struct osh_db *db, int n, osh_db_json_cb cb, void *arg)
{
	char sn[24];
	const char *v[] = {osh_db_num(sn, sizeof(sn), n)};

	osh_db_json(db,
	    "SELECT jsonb_agg(nextval('servers_id_seq')) FROM "
	    "generate_series(1, $1::int)",
	    1, v, cb, arg);
}

void
store_server_update(struct osh_db *db, int64_t id, const struct server_in *in,
    const char *sealed, const struct bmc_endpoint *expect, osh_db_json_cb cb,
    void *arg)
{
	char sid[24], port[24], cipher[24], eport[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), in->name,
	    in->has_addr ? in->host : NULL,
	    in->has_addr ? osh_db_num(port, sizeof(port), in->port) : NULL,
	    in->ipmi_version, in->privilege,
	    in->has_cipher
		? osh_db_num(cipher, sizeof(cipher), in->cipher_suite)
		: NULL,
	    in->has_workarounds ? in->workarounds : NULL, in->labels,
	    in->description,
	    in->monitoring < 0	 ? NULL
		: in->monitoring ? "true"
				 : "false",
	    in->has_cluster ? "true" : "false", in->cluster, sealed,
	    expect ? expect->host : NULL,
	    expect ? osh_db_num(eport, sizeof(eport), expect->port) : NULL,
	    expect ? expect->ipmi_version : NULL};

	osh_db_json(db,
	    "WITH old AS (SELECT bmc_host AS old_host, bmc_port AS old_port "
	    "FROM servers WHERE "
	    "id = $1) UPDATE servers s SET name = coalesce($2, name), "
	    "bmc_host = coalesce($3, bmc_host), "
	    "bmc_port = coalesce($4::int, bmc_port), "
	    "ipmi_version = coalesce($5, ipmi_version), "
	    "privilege = coalesce($6, privilege), "
	    "cipher_suite = coalesce($7::int, cipher_suite), "
	    "workarounds = coalesce($8::text[], workarounds), "
	    "labels = coalesce($9::jsonb, labels), "
	    "description = coalesce($10, description), "
	    "monitoring = coalesce($11::boolean, monitoring), "
	    "cluster = CASE WHEN $12::boolean THEN $13 ELSE cluster END, "
	    "credentials = coalesce($14, credentials), "
	    "credentials_binding = CASE WHEN $14 IS NULL THEN "
	    "credentials_binding ELSE 2 END, updated_at = now() "
	    "FROM old WHERE s.id = $1 AND ($15::text IS NULL OR "
	    "(s.bmc_host = $15 AND s.bmc_port = $16::int AND "
	    "s.ipmi_version = $17)) RETURNING jsonb_build_object("
	    "'server', server_json(s), 'old_host', old.old_host, "
	    "'old_port', old.old_port)",
	    17, v, cb, arg);
}

void
store_server_reseal(struct osh_db *db, const struct server_row *r,
    const char *sealed, osh_db_json_cb cb, void *arg)
{
	char sid[24], port[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), r->id), r->credentials,
	    sealed, r->host, osh_db_num(port, sizeof(port), r->port),
	    r->ipmi_version};

	osh_db_json(db,
	    "UPDATE servers SET credentials = $3, credentials_binding = 2 "
	    "WHERE id = $1 AND credentials = $2 AND credentials_binding = 1 "
	    "AND bmc_host = $4 AND bmc_port = $5::int AND ipmi_version = $6 "
	    "RETURNING id::text",
	    6, v, cb, arg);
}

void
store_server_delete(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db,
	    "DELETE FROM servers WHERE id = $1 RETURNING jsonb_build_object("
	    "'id', id, 'name', name, 'host', bmc_host, 'port', bmc_port)",
	    id, cb, arg);
}

void
store_server_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	osh_db_json_id(db, "SELECT server_text(s) FROM servers s WHERE id = $1",
	    id, cb, arg);
}

void
store_server_row(struct osh_db *db, int64_t id, store_row_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id)};

	rows_query(db, "SELECT " SERVER_COLS " FROM servers WHERE id = $1", 1,
	    v, cb, NULL, arg);
}

void
store_server_rows(struct osh_db *db, store_rows_cb cb, void *arg)
{
	rows_query(db,
	    "SELECT " SERVER_COLS " FROM servers WHERE credentials "
	    "IS NOT NULL ORDER BY id",
	    0, NULL, NULL, cb, arg);
}

void
store_server_rows_not_under(struct osh_db *db, const char *kid, int64_t after,
    int64_t limit, store_rows_cb cb, void *arg)
{
	char a[24], l[24];
	const char *v[] = {kid, osh_db_num(a, sizeof(a), after),
	    osh_db_num(l, sizeof(l), limit)};

	rows_query(db,
	    "SELECT " SERVER_COLS " FROM servers WHERE credentials "
	    "IS NOT NULL AND credentials_binding = 2 AND id > $2::bigint "
	    "AND split_part(credentials, ':', 1) <> $1 ORDER BY id "
	    "LIMIT $3::bigint",
	    3, v, NULL, cb, arg);
}

void
store_server_rekey(struct osh_db *db, const struct server_row *r,
    const char *sealed, osh_db_json_cb cb, void *arg)
{
	char sid[24], port[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), r->id), r->credentials,
	    sealed, r->host, osh_db_num(port, sizeof(port), r->port),
	    r->ipmi_version};

	osh_db_json(db,
	    "UPDATE servers SET credentials = $3 WHERE id = $1 AND "
	    "credentials = $2 AND credentials_binding = 2 AND bmc_host = $4 "
	    "AND bmc_port = $5::int AND ipmi_version = $6 RETURNING id::text",
	    6, v, cb, arg);
}

void
store_server_rows_bound_to_id(struct osh_db *db, store_rows_cb cb, void *arg)
{
	rows_query(db,
	    "SELECT " SERVER_COLS " FROM servers WHERE credentials "
	    "IS NOT NULL AND credentials_binding = 1 ORDER BY id",
	    0, NULL, NULL, cb, arg);
}

void
store_state_get(
    struct osh_db *db, const char *name, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {name};

	osh_db_json(db,
	    "SELECT jsonb_build_object('database', current_database(), "
	    "'sealed', (SELECT sealed FROM credentials_state WHERE "
	    "name = $1))",
	    1, v, cb, arg);
}

void
store_state_put(struct osh_db *db, const char *name, const char *sealed,
    osh_db_json_cb cb, void *arg)
{
	const char *v[] = {name, sealed};

	osh_db_json(db,
	    "INSERT INTO credentials_state (name, sealed) VALUES ($1, $2) "
	    "ON CONFLICT (name) DO UPDATE SET sealed = EXCLUDED.sealed, "
	    "written_at = now() RETURNING name",
	    2, v, cb, arg);
}

void
store_server_row_by_addr(
    struct osh_db *db, const char *host, int port, store_row_cb cb, void *arg)
{
	char p[24];
	const char *v[] = {host, osh_db_num(p, sizeof(p), port)};

	rows_query(db,
	    "SELECT " SERVER_COLS " FROM servers WHERE "
	    "lower(bmc_host) = lower($1) AND bmc_port = $2",
	    2, v, cb, NULL, arg);
}

/* A statement being built from fixed fragments. */
struct sql {
	char text[8192];
	size_t len;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
sql_add(struct sql *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (q->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(q->text + q->len, sizeof(q->text) - q->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->text) - q->len)
		q->full = true;
	else
		q->len += (size_t)n;
}

/* The sorts: the key as SQL, the type a cursor's key text is read as,
 * and the name of the index that serves it (migrations/004). */
static const struct {
	const char *key, *type;
} sort_sql[] = {
    [SERVER_SORT_ID] = {"s.id", "bigint"},
    [SERVER_SORT_NAME] = {"lower(s.name)", "text"},
    [SERVER_SORT_STATUS] = {"s.status", "text"},
    [SERVER_SORT_POWER] = {"s.power_state", "text"},
    [SERVER_SORT_LAST_SEEN] = {"coalesce(s.last_seen, "
			       "'-infinity'::timestamptz)",
	"timestamptz"},
    [SERVER_SORT_CREATED] = {"s.created_at", "timestamptz"},
};

/* The filter's fragments, each with its value as the next parameter:
 * before, the parameter's number, after. */
static const struct {
	size_t off; /* of the value in struct server_filter */
	const char *before, *after;
	const char *count_dim; /* counted in server_counts under this */
} filter_sql[] = {
    {offsetof(struct server_filter, q), "s.search LIKE '%' || lower($",
	"::text) || '%'", NULL},
    {offsetof(struct server_filter, name), "lower(s.name) LIKE '%' || lower($",
	"::text) || '%'", NULL},
    {offsetof(struct server_filter, status), "s.status = $", "::text",
	"status"},
    {offsetof(struct server_filter, power_state), "s.power_state = $", "::text",
	"power_state"},
    {offsetof(struct server_filter, cluster), "s.cluster = $", "::text",
	"cluster"},
    {offsetof(struct server_filter, manufacturer),
	"lower(s.manufacturer) = lower($", "::text)", NULL},
    {offsetof(struct server_filter, monitoring), "s.monitoring = $",
	"::text::boolean", "monitoring"},
    {offsetof(struct server_filter, label_eq), "s.labels @> $", "::text::jsonb",
	NULL},
    {offsetof(struct server_filter, label_keys), "s.labels ?& $",
	"::text::text[]", NULL},
    {offsetof(struct server_filter, label_rest), "labels_selected(s.labels, $",
	"::text::jsonb)", NULL},
};

#define FILTER_MAX 12 /* servers_estimate's parameters (004) */

static const char *
filter_value(const struct server_filter *f, size_t i)
{
	const char *const *v =
	    (const char *const *)(const void *)((const char *)f +
		filter_sql[i].off);

	return *v;
}

void
store_server_list(struct osh_db *db, const struct server_filter *f,
    const struct server_page *pg, osh_db_json_cb cb, void *arg)
{
	struct sql *q = calloc(1, sizeof(*q));
	char where[2048] = "", lim[24], off[24], cid[24];
	const char *v[FILTER_MAX + 4];
	const char *key = sort_sql[pg->sort].key;
	const char *dir = pg->desc ? " DESC" : "";
	const char *count_dim = NULL;
	int nf = 0, np, counted = 0;
	size_t wl = 0;

	if (q == NULL) {
		cb(OSH_DB_ERROR, NULL, "", arg);
		return;
	}
	/* Only fixed fragments go into the text; values are parameters. */
	for (size_t i = 0; i < OSH_ARRAY_LEN(filter_sql); i++) {
		const char *val = filter_value(f, i);
		int n;

		if (val == NULL)
			continue;
		v[nf++] = val;
		/* At most ten short fragments: they fit. */
		n = snprintf(where + wl, sizeof(where) - wl, "%s%s%d%s",
		    wl ? " AND " : "", filter_sql[i].before, nf,
		    filter_sql[i].after);
		wl += n > 0 ? (size_t)n : 0;
		if (filter_sql[i].count_dim != NULL && val[0] != '\0') {
			count_dim = filter_sql[i].count_dim;
			counted++;
		}
	}
	if (wl == 0)
		snprintf(where, sizeof(where), "true");
	np = nf;
	v[np++] = osh_db_num(lim, sizeof(lim), pg->limit);
	v[np++] = osh_db_num(off, sizeof(off), pg->offset);
	sql_add(q,
	    "WITH p AS MATERIALIZED (SELECT s, (%s)::text AS k FROM "
	    "servers s WHERE %s",
	    key, where);
	if (pg->cursor_key != NULL) {
		v[np++] = osh_db_num(cid, sizeof(cid), pg->cursor_id);
		if (pg->sort == SERVER_SORT_ID) {
			sql_add(q, " AND s.id %s $%d::bigint",
			    pg->desc ? "<" : ">", np);
		} else {
			v[np++] = pg->cursor_key;
			sql_add(q,
			    " AND (%s, s.id) %s ($%d::text::%s, "
			    "$%d::bigint)",
			    key, pg->desc ? "<" : ">", np,
			    sort_sql[pg->sort].type, np - 1);
		}
	}
	if (pg->sort == SERVER_SORT_ID)
		sql_add(q, " ORDER BY s.id%s", dir);
	else
		sql_add(q, " ORDER BY %s%s, s.id%s", key, dir, dir);
	sql_add(q,
	    " LIMIT $%d::bigint + 1 OFFSET $%d::bigint), "
	    "r AS (SELECT p.*, row_number() OVER () AS i FROM p) "
	    "SELECT json_build_object('items', coalesce((SELECT "
	    "json_agg(server_text(r.s) ORDER BY r.i) FROM r WHERE "
	    "r.i <= $%d::bigint), '[]'), 'next_cursor', (SELECT "
	    "translate(encode(convert_to(jsonb_build_array('%s', r.k, "
	    "(r.s).id)::text, 'UTF8'), 'base64'), E'+/=\\n', '-_') FROM r "
	    "WHERE r.i = $%d::bigint AND EXISTS (SELECT 1 FROM r r2 WHERE "
	    "r2.i > $%d::bigint)), ",
	    nf + 1, nf + 2, nf + 1, pg->sort_text, nf + 1, nf + 1);
	if (nf == 0 || (counted == 1 && nf == 1)) {
		/* Kept by the writes (migrations/004): exact, no scan. */
		if (nf == 0)
			count_dim = "total";
		sql_add(q,
		    "'total', coalesce((SELECT sum(n)::bigint FROM "
		    "server_counts WHERE dim = '%s' AND key = %s), 0), "
		    "'total_estimated', false)",
		    count_dim, nf == 0 ? "''" : "$1::text");
	} else {
		/* Counted up to a bound; past it, the planner's estimate. */
		sql_add(q,
		    "'total', CASE WHEN c.n <= %d THEN c.n ELSE "
		    "greatest(servers_estimate($f$%s$f$",
		    STORE_EXACT_TOTAL_MAX, where);
		for (int i = 1; i <= FILTER_MAX; i++) {
			if (i <= nf)
				sql_add(q, ", $%d::text", i);
			else
				sql_add(q, ", NULL");
		}
		sql_add(q,
		    "), c.n) END, 'total_estimated', c.n > %d) FROM "
		    "(SELECT count(*) AS n FROM (SELECT 1 FROM servers s "
		    "WHERE %s LIMIT %d) x) c",
		    STORE_EXACT_TOTAL_MAX, where, STORE_EXACT_TOTAL_MAX + 1);
	}
	if (q->full || nf > FILTER_MAX) {
		free(q);
		cb(OSH_DB_ERROR, NULL, "", arg);
		return;
	}
	osh_db_json(db, q->text, np, v, cb, arg);
	free(q);
}

void
store_server_observe(struct osh_db *db, int64_t id, const struct observation *o,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id), o->status,
	    o->power, o->error, o->seen ? "true" : "false", o->manufacturer,
	    o->product, o->serial, o->firmware, o->from_fru ? "true" : "false"};

	osh_db_json(db,
	    "WITH old AS (SELECT power_state AS old_power, status AS old_status "
	    "FROM servers WHERE id = $1 FOR UPDATE) UPDATE servers s SET "
	    "status = coalesce($2, s.status), "
	    "power_state = coalesce($3, s.power_state), last_error = $4, "
	    "last_seen = CASE WHEN $5::boolean THEN now() ELSE last_seen END, "
	    "last_polled = now(), "
	    "manufacturer = CASE WHEN $10::boolean OR manufacturer = '' "
	    "THEN coalesce(nullif($6, ''), manufacturer) ELSE manufacturer "
	    "END, "
	    "product = coalesce(nullif($7, ''), product), "
	    "serial = coalesce(nullif($8, ''), serial), "
	    "firmware = coalesce(nullif($9, ''), firmware) "
	    "FROM old WHERE s.id = $1 RETURNING jsonb_build_object("
	    "'server', server_json(s), 'old_power', old.old_power, "
	    "'old_status', old.old_status)",
	    10, v, cb, arg);
}

void
store_stats(struct osh_db *db, osh_db_json_cb cb, void *arg)
{
	/* server_counts is kept by the writes (migrations/004, a slot per
	 * connection since 007): a few hundred rows read, not the servers
	 * table. */
	osh_db_json(db,
	    "WITH c AS (SELECT dim, key, sum(n)::bigint AS n FROM "
	    "server_counts GROUP BY dim, key HAVING sum(n) <> 0) "
	    "SELECT jsonb_build_object('total', coalesce((SELECT n FROM c "
	    "WHERE dim = 'total'), 0), "
	    "'by_status', (SELECT coalesce(jsonb_object_agg(key, n), '{}') "
	    "FROM c WHERE dim = 'status'), "
	    "'by_power_state', (SELECT coalesce(jsonb_object_agg(key, n), "
	    "'{}') FROM c WHERE dim = 'power_state'), "
	    "'by_cluster', (SELECT coalesce(jsonb_object_agg(key, n), '{}') "
	    "FROM c WHERE dim = 'cluster'), "
	    "'by_manufacturer', (SELECT coalesce(jsonb_object_agg(key, n), "
	    "'{}') FROM c WHERE dim = 'manufacturer'))",
	    0, NULL, cb, arg);
}

/* clusters: {"<server id>": ["cluster", ...]} from cluster-mgmt, or NULL:
 * each target's label "clusters" holds its clusters as ",a,b," (the
 * separators at both ends let a relabel regex match one name exactly:
 * ".*,web,.*"), "" when it is in none or cluster-mgmt is not known. */
void
store_sd_targets(
    struct osh_db *db, const char *clusters, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {clusters};

	/* Prometheus http_sd: one target group per server. */
	osh_db_json(db,
	    "SELECT coalesce(jsonb_agg(jsonb_build_object("
	    "'targets', jsonb_build_array(bmc_address(bmc_host, bmc_port)), "
	    "'labels', jsonb_build_object('server_id', id::text, "
	    "'server_name', name, 'cluster', coalesce(cluster, ''), "
	    "'clusters', coalesce((SELECT ',' || string_agg(c, ',') || ',' "
	    "FROM jsonb_array_elements_text($1::jsonb->(id::text)) c), ''), "
	    "'bmc_address', bmc_address(bmc_host, bmc_port), "
	    "'module', 'osh', '__param_module', 'osh')) ORDER BY id), '[]') "
	    "FROM servers WHERE monitoring",
	    1, v, cb, arg);
}

void
store_server_page(struct osh_db *db, int64_t after, int64_t limit,
    osh_db_json_cb cb, void *arg)
{
	char a[24], l[24];
	const char *v[] = {
	    osh_db_num(a, sizeof(a), after), osh_db_num(l, sizeof(l), limit)};

	osh_db_json(db,
	    "WITH p AS (SELECT * FROM servers WHERE id > $1 ORDER BY id "
	    "LIMIT $2) SELECT jsonb_build_object('items', coalesce((SELECT "
	    "jsonb_agg(jsonb_build_object('id', id, 'name', name, "
	    "'bmc_address', bmc_address(bmc_host, bmc_port), "
	    "'labels', labels, 'power_state', power_state, "
	    "'status', status, 'has_credentials', credentials IS NOT NULL, "
	    "'monitoring', monitoring) ORDER BY id) FROM p), '[]'), "
	    "'next_after', CASE WHEN (SELECT count(*) FROM p) = $2 THEN "
	    "(SELECT max(id) FROM p) END)",
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
	    ev, "source", json_object_new_string("server-mgmt"));
	json_object_object_add(ev, "data", data);
	osh_redis_cmd(redis, NULL, NULL, "PUBLISH osh:events %s",
	    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
}
