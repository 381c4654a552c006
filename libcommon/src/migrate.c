/* migrate.c - schema migrations at start-up (blocking; runs before the
 * event loop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/log.h"
#include "osh/migrate.h"
#include "osh/util.h"

static int
exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

static int
params_ok(PGconn *c, const char *sql, int n, const char *const *v, char *err,
    size_t errlen, PGresult **out)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(c));
	if (out != NULL && ok)
		*out = r;
	else
		PQclear(r);
	return ok ? 0 : -1;
}

int
osh_migrate(PGconn *conn, const char *schema, const struct osh_migration *m,
    size_t n, char *err, size_t errlen)
{
	char sql[512], lockkey[128];
	const char *lp[1] = {lockkey};
	PGresult *res = NULL;
	int current = 0, rc = -1;
	char *ident;

	if ((ident = PQescapeIdentifier(conn, schema, strlen(schema))) ==
	    NULL) {
		snprintf(err, errlen, "bad schema name");
		return -1;
	}
	snprintf(lockkey, sizeof(lockkey), "osh-migrate:%s", schema);
	if (params_ok(conn, "SELECT pg_advisory_lock(hashtext($1))", 1, lp, err,
		errlen, NULL) != 0)
		goto out_free_ident;
	/* A role that owns its schema (made for it by the admin) needs no
	 * CREATE on the database, and CREATE SCHEMA IF NOT EXISTS would ask
	 * for it even when the schema exists: create only a missing one. */
	{
		const char *sp[1] = {schema};
		bool exists;

		if (params_ok(conn,
			"SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, sp,
			err, errlen, &res) != 0)
			goto out_unlock;
		exists = PQntuples(res) > 0;
		PQclear(res);
		res = NULL;
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", ident);
		if (!exists && exec_ok(conn, sql, err, errlen) != 0)
			goto out_unlock;
	}
	snprintf(sql, sizeof(sql),
	    "CREATE TABLE IF NOT EXISTS %s.schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())",
	    ident);
	if (exec_ok(conn, sql, err, errlen) != 0)
		goto out_unlock;
	snprintf(sql, sizeof(sql),
	    "SELECT coalesce(max(version), 0) FROM %s.schema_migrations",
	    ident);
	if (params_ok(conn, sql, 0, NULL, err, errlen, &res) != 0)
		goto out_unlock;
	{
		int64_t v = 0;
		osh_parse_int(PQgetvalue(res, 0, 0), 0, INT32_MAX, &v);
		current = (int)v;
	}
	PQclear(res);
	for (size_t i = 0; i < n; i++) {
		char ver[16];
		const char *vp[2] = {ver, m[i].name};

		if (m[i].version <= current)
			continue;
		snprintf(ver, sizeof(ver), "%d", m[i].version);
		if (exec_ok(conn, "BEGIN", err, errlen) != 0)
			goto out_unlock;
		snprintf(
		    sql, sizeof(sql), "SET LOCAL search_path TO %s", ident);
		if (exec_ok(conn, sql, err, errlen) != 0 ||
		    exec_ok(conn, m[i].sql, err, errlen) != 0) {
			char e2[64];
			exec_ok(conn, "ROLLBACK", e2, sizeof(e2));
			osh_log_error(NULL,
			    "msg=\"migration failed\" "
			    "version=%d name=\"%s\"",
			    m[i].version, m[i].name);
			goto out_unlock;
		}
		snprintf(sql, sizeof(sql),
		    "INSERT INTO %s.schema_migrations (version, name) "
		    "VALUES ($1, $2)",
		    ident);
		if (params_ok(conn, sql, 2, vp, err, errlen, NULL) != 0 ||
		    exec_ok(conn, "COMMIT", err, errlen) != 0) {
			char e2[64];
			exec_ok(conn, "ROLLBACK", e2, sizeof(e2));
			goto out_unlock;
		}
		osh_log_info(NULL,
		    "msg=\"migration applied\" schema=%s "
		    "version=%d name=\"%s\"",
		    schema, m[i].version, m[i].name);
	}
	rc = 0;
out_unlock : {
	char e2[64];
	params_ok(conn, "SELECT pg_advisory_unlock(hashtext($1))", 1, lp, e2,
	    sizeof(e2), NULL);
}
out_free_ident:
	PQfreemem(ident);
	return rc;
}
