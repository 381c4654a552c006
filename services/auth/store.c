/* store.c - SQL of the auth service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/db.h>
#include <osh/util.h>

#include "store.h"

/* One pending statement: which callback to call and with what. */
struct call {
	union {
		store_json_cb json;
		store_login_cb login;
		store_done_cb done;
		store_family_cb family;
		store_rows_cb rows;
	} cb;
	void *arg;
};

static struct call *
call_new(void *arg)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->arg = arg;
	return c;
}

/* Typed constructors, one per kind of callback. */
#define CALL_CTOR(name, type, member)                                          \
	static struct call *name(type cb, void *arg)                           \
	{                                                                      \
		struct call *c = call_new(arg);                                \
		if (c != NULL)                                                 \
			c->cb.member = cb;                                     \
		return c;                                                      \
	}
CALL_CTOR(call_json, store_json_cb, json)
CALL_CTOR(call_login, store_login_cb, login)
CALL_CTOR(call_done, store_done_cb, done)
CALL_CTOR(call_family, store_family_cb, family)
CALL_CTOR(call_rows, store_rows_cb, rows)

static enum store_status
status_of(PGresult *res)
{
	const char *state;

	if (res == NULL)
		return STORE_ERROR;
	if (osh_db_ok(res))
		return STORE_OK;
	state = osh_db_sqlstate(res);
	if (strcmp(state, "23505") == 0)
		return STORE_CONFLICT;
	if (strcmp(state, "OS001") == 0)
		return STORE_LAST_ADMIN;
	return STORE_ERROR;
}

static void
on_json(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	enum store_status st = status_of(res);

	(void)error;
	if (st == STORE_OK && PQntuples(res) == 0)
		st = STORE_NOT_FOUND;
	c->cb.json(st, st == STORE_OK ? osh_db_str(res, 0, 0) : NULL, c->arg);
	free(c);
}

static void
on_done(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	enum store_status st = status_of(res);

	(void)error;
	if (st == STORE_OK && PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdTuples(res), "0") == 0)
		st = STORE_NOT_FOUND;
	c->cb.done(st, c->arg);
	free(c);
}

static void
on_login(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	enum store_status st = status_of(res);
	struct login_user u;

	(void)error;
	if (st == STORE_OK && PQntuples(res) == 0)
		st = STORE_NOT_FOUND;
	if (st != STORE_OK) {
		c->cb.login(st, NULL, c->arg);
		free(c);
		return;
	}
	u.id = osh_db_int(res, 0, 0);
	u.username = osh_db_str(res, 0, 1);
	u.role = osh_db_str(res, 0, 2);
	u.active = osh_db_bool(res, 0, 3);
	u.password_hash = PQfnumber(res, "password_hash") >= 0
	    ? osh_db_str(res, 0, PQfnumber(res, "password_hash"))
	    : NULL;
	u.family = PQfnumber(res, "family") >= 0
	    ? osh_db_str(res, 0, PQfnumber(res, "family"))
	    : NULL;
	u.json = osh_db_str(res, 0, 5);
	c->cb.login(STORE_OK, &u, c->arg);
	free(c);
}

/* Runs sql with its callback adapter, or fails the call at once. */
static void
run(struct osh_db *db, const char *sql, int n, const char *const *v,
    osh_db_cb adapter, struct call *c)
{
	if (c == NULL)
		return;
	osh_db_query(db, sql, n, v, adapter, c);
}

void
store_user_get(struct osh_db *db, int64_t id, store_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {sid};

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	run(db, "SELECT json FROM users WHERE id = $1", 1, v, on_json,
	    call_json(cb, arg));
}

void
store_user_list(struct osh_db *db, const struct user_filter *f, int64_t limit,
    int64_t offset, const char *order, store_json_cb cb, void *arg)
{
	char sql[1024], lim[24], off[24];
	const char *v[] = {f->role, f->active, f->q, lim, off};

	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	/* 'order' comes from a fixed allow-list, never from input. */
	snprintf(sql, sizeof(sql),
	    "WITH f AS (SELECT * FROM users WHERE "
	    "($1::text IS NULL OR role = $1) AND "
	    "($2::boolean IS NULL OR active = $2) AND "
	    "($3::text IS NULL OR strpos(lower(username || ' ' || "
	    "display_name || ' ' || email), lower($3)) > 0)) "
	    "SELECT jsonb_build_object('items', coalesce((SELECT "
	    "jsonb_agg(user_json(p) ORDER BY %s) FROM (SELECT * FROM f "
	    "ORDER BY %s LIMIT $4 OFFSET $5) p), '[]'), "
	    "'total', (SELECT count(*) FROM f))",
	    order, order);
	run(db, sql, 5, v, on_json, call_json(cb, arg));
}

void
store_user_create(
    struct osh_db *db, const struct user_fields *f, store_json_cb cb, void *arg)
{
	const char *v[] = {f->username, f->display_name ? f->display_name : "",
	    f->email ? f->email : "", f->role, f->active ? f->active : "true",
	    f->password_hash, f->username_key};

	run(db,
	    "INSERT INTO users AS u (username, display_name, email, role, "
	    "active, password_hash, username_key) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING json",
	    7, v, on_json, call_json(cb, arg));
}

void
store_user_update(struct osh_db *db, int64_t id, const struct user_fields *f,
    store_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {sid, f->display_name, f->email, f->role, f->active,
	    f->password_hash};

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	run(db,
	    "UPDATE users AS u SET "
	    "display_name = coalesce($2, display_name), "
	    "email = coalesce($3, email), role = coalesce($4, role), "
	    "active = coalesce($5::boolean, active), "
	    "password_hash = coalesce($6, password_hash), "
	    "password_changed_at = CASE WHEN $6 IS NULL "
	    "THEN password_changed_at ELSE now() END, "
	    "updated_at = now() WHERE id = $1 RETURNING json",
	    6, v, on_json, call_json(cb, arg));
}

void
store_user_delete(struct osh_db *db, int64_t id, store_done_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {sid};

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	run(db, "DELETE FROM users WHERE id = $1", 1, v, on_done,
	    call_done(cb, arg));
}

void
store_user_bootstrap(struct osh_db *db, const char *username,
    const char *username_key, const char *hash, store_json_cb cb, void *arg)
{
	const char *v[] = {username, hash, username_key};

	run(db,
	    "INSERT INTO users AS u (username, role, password_hash, "
	    "display_name, username_key) "
	    "SELECT $1, 'admin', $2, 'Administrator', $3 "
	    "WHERE NOT EXISTS (SELECT 1 FROM users) "
	    "ON CONFLICT DO NOTHING RETURNING json",
	    3, v, on_json, call_json(cb, arg));
}

void
store_login_user(struct osh_db *db, const char *username_key, int64_t id,
    store_login_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {username_key, sid};

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	run(db,
	    "SELECT id, username, role, active, password_hash, user_json(u) "
	    "FROM users u WHERE ($1::text IS NOT NULL AND "
	    "username_key = $1) OR ($1::text IS NULL AND id = $2)",
	    2, v, on_login, call_login(cb, arg));
}

void
store_session_open(struct osh_db *db, int64_t user_id, const char *token_hash,
    const char *family, int64_t ttl_s, store_done_cb cb, void *arg)
{
	char uid[24], ttl[24];
	const char *v[] = {token_hash, family, uid, ttl};

	snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	run(db,
	    "WITH t AS (INSERT INTO refresh_tokens (token_hash, family, "
	    "user_id, expires_at) VALUES ($1, $2, $3, now() + $4 * "
	    "interval '1 second') RETURNING user_id) "
	    "UPDATE users SET last_login_at = now() WHERE id IN "
	    "(SELECT user_id FROM t)",
	    4, v, on_done, call_done(cb, arg));
}

void
store_refresh_rotate(struct osh_db *db, const char *old_hash,
    const char *new_hash, int64_t ttl_s, store_login_cb cb, void *arg)
{
	char ttl[24];
	const char *v[] = {old_hash, new_hash, ttl};

	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	run(db,
	    "WITH spent AS (UPDATE refresh_tokens t SET used_at = now() "
	    "FROM users u WHERE t.token_hash = $1 AND t.used_at IS NULL AND "
	    "t.revoked_at IS NULL AND t.expires_at > now() AND "
	    "u.id = t.user_id AND u.active RETURNING t.family, u.id), "
	    "ins AS (INSERT INTO refresh_tokens (token_hash, family, user_id, "
	    "expires_at) SELECT $2, family, id, now() + $3 * "
	    "interval '1 second' FROM spent) "
	    "SELECT u.id, u.username, u.role, u.active, s.family, "
	    "user_json(u) FROM spent s JOIN users u ON u.id = s.id",
	    3, v, on_login, call_login(cb, arg));
}

static void
on_why(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	enum store_status st = status_of(res);

	(void)error;
	if (st == STORE_OK && PQntuples(res) == 0)
		st = STORE_NOT_FOUND;
	if (st == STORE_OK)
		st = osh_db_bool(res, 0, 1) ? STORE_CONFLICT : STORE_NOT_FOUND;
	c->cb.family(
	    st, st == STORE_CONFLICT ? osh_db_str(res, 0, 0) : NULL, c->arg);
	free(c);
}

void
store_refresh_why(
    struct osh_db *db, const char *hash, store_family_cb cb, void *arg)
{
	const char *v[] = {hash};

	run(db,
	    "SELECT family, used_at IS NOT NULL FROM refresh_tokens "
	    "WHERE token_hash = $1",
	    1, v, on_why, call_family(cb, arg));
}

void
store_family_revoke(
    struct osh_db *db, const char *family, store_done_cb cb, void *arg)
{
	const char *v[] = {family};

	run(db,
	    "UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1 "
	    "AND revoked_at IS NULL",
	    1, v, on_done, call_done(cb, arg));
}

void
store_user_sessions_revoke(
    struct osh_db *db, int64_t user_id, store_done_cb cb, void *arg)
{
	char uid[24];
	const char *v[] = {uid};

	snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
	run(db,
	    "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 "
	    "AND revoked_at IS NULL",
	    1, v, on_done, call_done(cb, arg));
}

#define AUDIT_WHERE                                                            \
	"($1::text IS NULL OR actor = $1) AND "                                \
	"($2::text IS NULL OR action = $2) AND "                               \
	"($3::text IS NULL OR target = $3) AND "                               \
	"($4::text IS NULL OR result = $4) AND "                               \
	"($5::text IS NULL OR service = $5) AND "                              \
	"($6::text IS NULL OR request_id = $6) AND "                           \
	"($7::timestamptz IS NULL OR ts >= $7) AND "                           \
	"($8::timestamptz IS NULL OR ts < $8)"

void
store_audit_list(struct osh_db *db, const struct audit_filter *f, int64_t limit,
    int64_t offset, const char *order, store_json_cb cb, void *arg)
{
	char sql[1400], lim[24], off[24];
	const char *v[] = {f->actor, f->action, f->target, f->result,
	    f->service, f->request_id, f->since, f->until, lim, off};

	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	snprintf(sql, sizeof(sql),
	    "WITH f AS (SELECT * FROM audit_log WHERE " AUDIT_WHERE ") "
	    "SELECT jsonb_build_object('items', coalesce((SELECT "
	    "jsonb_agg(audit_json(p) ORDER BY %s) FROM (SELECT * FROM f "
	    "ORDER BY %s LIMIT $9 OFFSET $10) p), '[]'), "
	    "'total', (SELECT count(*) FROM f))",
	    order, order);
	run(db, sql, 10, v, on_json, call_json(cb, arg));
}

static void
on_rows(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;
	enum store_status st = status_of(res);
	const char **rows = NULL;
	int n = 0, cols;

	(void)error;
	if (st == STORE_OK) {
		n = PQntuples(res);
		cols = PQnfields(res);
		rows = calloc((size_t)(n * cols + 1), sizeof(*rows));
		if (rows == NULL) {
			st = STORE_ERROR;
			n = 0;
		}
		for (int r = 0; rows != NULL && r < n; r++)
			for (int k = 0; k < cols; k++)
				rows[r * cols + k] = PQgetvalue(res, r, k);
	}
	c->cb.rows(st, rows, n, c->arg);
	free(rows);
	free(c);
}

void
store_audit_rows(struct osh_db *db, const struct audit_filter *f,
    int64_t before_id, int limit, store_rows_cb cb, void *arg)
{
	char before[24], lim[24];
	const char *v[] = {f->actor, f->action, f->target, f->result,
	    f->service, f->request_id, f->since, f->until, before, lim};

	snprintf(before, sizeof(before), "%lld", (long long)before_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	run(db,
	    "SELECT id, ts_json(ts), service, coalesce(actor_id::text, ''), "
	    "actor, action, target, result, client, request_id, "
	    "details::text FROM audit_log WHERE " AUDIT_WHERE
	    " AND ($9::bigint = 0 OR id < $9) ORDER BY id DESC LIMIT $10",
	    10, v, on_rows, call_rows(cb, arg));
}

void
store_audit_insert(
    struct osh_db *db, const char *json_array, store_done_cb cb, void *arg)
{
	const char *v[] = {json_array};

	run(db,
	    "INSERT INTO audit_log (stream_id, ts, service, actor_id, actor, "
	    "action, target, result, client, request_id, details) "
	    "SELECT stream_id, coalesce(ts, now()), coalesce(service, ''), "
	    "nullif(actor_id, 0), coalesce(actor, ''), coalesce(action, ''), "
	    "coalesce(target, ''), coalesce(result, ''), coalesce(client, ''), "
	    "coalesce(request_id, ''), coalesce(details, '{}') "
	    "FROM jsonb_to_recordset($1::jsonb) AS x(stream_id text, "
	    "ts timestamptz, service text, actor_id bigint, actor text, "
	    "action text, target text, result text, client text, "
	    "request_id text, details jsonb) "
	    "ON CONFLICT (stream_id) DO NOTHING",
	    1, v, on_done, call_done(cb, arg));
}
