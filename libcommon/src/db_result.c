/* db_result.c - reading the database pool's results: status, SQLSTATE,
 * typed fields, the result enum, and queries answering one JSON value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/db.h"
#include "osh/util.h"

bool
osh_db_ok(const PGresult *res)
{
	ExecStatusType st;

	if (res == NULL)
		return false;
	st = PQresultStatus(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

const char *
osh_db_sqlstate(const PGresult *res)
{
	const char *s;

	if (res == NULL)
		return "";
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL ? s : "";
}

bool
osh_db_is_unique_violation(const PGresult *res)
{
	return strcmp(osh_db_sqlstate(res), "23505") == 0;
}

const char *
osh_db_str(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long long
osh_db_int(const PGresult *res, int row, int col)
{
	int64_t v;

	if (PQgetisnull(res, row, col) ||
	    !osh_parse_int(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v))
		return 0;
	return v;
}

bool
osh_db_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) &&
	    PQgetvalue(res, row, col)[0] == 't';
}

long long
osh_db_ms(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return -1;
	return osh_db_int(res, row, col);
}

enum osh_db_status
osh_db_status_with(PGresult *res, const char *error)
{
	if (res == NULL && osh_db_error_busy(error))
		return OSH_DB_BUSY;
	return osh_db_status_of(res);
}

enum osh_db_status
osh_db_status_of(PGresult *res)
{
	const char *st;

	if (res == NULL)
		return OSH_DB_ERROR;
	if (osh_db_ok(res)) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			return PQntuples(res) > 0 ? OSH_DB_OK
						  : OSH_DB_NOT_FOUND;
		return strcmp(PQcmdTuples(res), "0") == 0 ? OSH_DB_NOT_FOUND
							  : OSH_DB_OK;
	}
	st = osh_db_sqlstate(res);
	if (strcmp(st, "23505") == 0)
		return OSH_DB_CONFLICT;
	if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)
		return OSH_DB_INVALID;
	if (strncmp(st, "OS", 2) == 0)
		return OSH_DB_RAISED;
	return OSH_DB_ERROR;
}

struct json_call {
	osh_db_json_cb cb;
	void *arg;
};

static void
on_json(PGresult *res, const char *error, void *arg)
{
	struct json_call *c = arg;
	enum osh_db_status st = osh_db_status_with(res, error);
	const char *json = NULL;

	if (st == OSH_DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQnfields(res) > 0)
		json = osh_db_str(res, 0, 0);
	if (st == OSH_DB_OK && json == NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK)
		st = OSH_DB_NOT_FOUND;
	c->cb(st, json, osh_db_sqlstate(res), c->arg);
	free(c);
}

int
osh_db_json(struct osh_db *db, const char *sql, int nparams,
    const char *const *values, osh_db_json_cb cb, void *arg)
{
	struct json_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	return osh_db_query(db, sql, nparams, values, on_json, c);
}

const char *
osh_db_num(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

void
osh_db_json_id(struct osh_db *db, const char *sql, int64_t id,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {osh_db_num(sid, sizeof(sid), id)};

	osh_db_json(db, sql, 1, v, cb, arg);
}
