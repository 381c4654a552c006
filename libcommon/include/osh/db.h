/* db.h - a small pool of non-blocking PostgreSQL connections driven by the
 * event loop. Queries are single statements with bound parameters; every
 * query has a deadline; broken connections are replaced in the background. */
#ifndef OSH_DB_H
#define OSH_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct osh_db;

/* Called once per query on the loop. res is NULL when the query could not
 * run (no connection, deadline, pool queue full); 'error' then says why.
 * res may be an error result (check osh_db_ok / osh_db_sqlstate). The pool
 * clears res after the callback returns: never keep it. */
typedef void (*osh_db_cb)(PGresult *res, const char *error, void *arg);

struct osh_db_options {
	const char *conninfo; /* libpq conninfo without the password */
	const char *password; /* copied and wiped on free; may be NULL */
	const char *schema; /* search_path for every connection */
	int size; /* connections */
	int query_timeout_ms;
	size_t max_queue;
};

struct osh_db *osh_db_new(
    struct event_base *base, const struct osh_db_options *opt);
void osh_db_free(struct osh_db *db);

/* Queues a query. values are copied; NULL values are SQL NULL. Returns 0;
 * the callback always runs later, never from inside this call. */
int osh_db_query(struct osh_db *db, const char *sql, int nparams,
    const char *const *values, osh_db_cb cb, void *arg);

bool osh_db_ok(const PGresult *res);
/* "23505" and the like, or "" when res carries none. */
const char *osh_db_sqlstate(const PGresult *res);
bool osh_db_is_unique_violation(const PGresult *res);

/* Value accessors that tolerate NULL. */
const char *osh_db_str(const PGresult *res, int row, int col);
long long osh_db_int(const PGresult *res, int row, int col);
bool osh_db_bool(const PGresult *res, int row, int col);
/* A timestamptz column selected as epoch milliseconds (bigint), -1 when
 * NULL. */
long long osh_db_ms(const PGresult *res, int row, int col);

/* How a statement went, for callers that only need the outcome. */
enum osh_db_status {
	OSH_DB_OK,
	OSH_DB_NOT_FOUND, /* no row (or no row changed) */
	OSH_DB_CONFLICT, /* unique violation */
	OSH_DB_INVALID, /* check, foreign key or data exception */
	OSH_DB_RAISED, /* RAISE with a custom SQLSTATE ("OS..." class) */
	OSH_DB_ERROR, /* unavailable or failed */
};

enum osh_db_status osh_db_status_of(PGresult *res);

/* Runs a statement whose first column of the first row is JSON text (or
 * any text), and hands it over: json is NULL unless st is OSH_DB_OK.
 * sqlstate is "" when there is none. */
typedef void (*osh_db_json_cb)(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg);
int osh_db_json(struct osh_db *db, const char *sql, int nparams,
    const char *const *values, osh_db_json_cb cb, void *arg);

struct osh_db_stats {
	int size, connected, busy;
	size_t queued;
	unsigned long queries, errors, timeouts, reconnects;
};
void osh_db_stats(const struct osh_db *db, struct osh_db_stats *out);

/* Opens a blocking connection with the pool's settings, for start-up work
 * (migrations) before the loop runs. Caller PQfinish-es it. */
PGconn *osh_db_connect_blocking(
    const struct osh_db_options *opt, char *err, size_t errlen);

#endif
