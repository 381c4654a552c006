/* db.h - a small pool of non-blocking PostgreSQL connections driven by the
 * event loop. Queries are single statements with bound parameters; every
 * query has a deadline, and one that misses it is cancelled on the server
 * while its connection stays; the wait queue is bounded and overload is
 * refused at once (OSH_DB_BUSY); broken connections are replaced in the
 * background. */
#ifndef OSH_DB_H
#define OSH_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct osh_db;
struct osh_pool_stats;

/* Called once per query on the loop. res is NULL when the query could not
 * run (no connection, deadline, pool busy); 'error' then says why
 * (osh_db_error_busy, osh_db_error_deadline tell which). res may be an
 * error result (check osh_db_ok / osh_db_sqlstate). The pool clears res
 * after the callback returns: never keep it. */
typedef void (*osh_db_cb)(PGresult *res, const char *error, void *arg);

struct osh_db_options {
	const char *conninfo; /* libpq conninfo without the password */
	const char *password; /* copied and wiped on free; may be NULL */
	const char *schema; /* search_path for every connection */
	int size; /* connections */
	/* Deadline of a query, from osh_db_query to its result, waiting
	 * included; also the server's statement_timeout. Past it the
	 * callback gets NULL (osh_db_error_deadline) at once and the
	 * statement is cancelled (PQcancel, on a thread of the pool's own);
	 * the connection serves again once the statement has ended, or is
	 * replaced when it does not end within 3 s more. */
	int query_timeout_ms;
	/* Queries that may wait for a connection (0: 512). Beyond, and when
	 * the queries waiting would take past the deadline to get through
	 * (from the average time a query holds a connection), a query is
	 * refused at once: NULL, osh_db_error_busy. */
	size_t max_queue;
};

struct osh_db *osh_db_new(
    struct event_base *base, const struct osh_db_options *opt);
void osh_db_free(struct osh_db *db);

/* Queues a query. values are copied; NULL values are SQL NULL. Returns 0;
 * the callback always runs later, never from inside this call (also when
 * the query is refused). */
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
	OSH_DB_BUSY, /* refused at once: the pool is overloaded (503) */
};

enum osh_db_status osh_db_status_of(PGresult *res);
/* The same, given the callback's error too: OSH_DB_BUSY when the query
 * was refused for overload. */
enum osh_db_status osh_db_status_with(PGresult *res, const char *error);

/* Whether a callback's error says the pool refused the query at once for
 * overload (queue full, or the wait would pass the deadline): answer 503
 * with Retry-After. */
bool osh_db_error_busy(const char *error);
/* Whether it says the query missed its deadline (it was cancelled). */
bool osh_db_error_deadline(const char *error);

/* Runs a statement whose first column of the first row is JSON text (or
 * any text), and hands it over: json is NULL unless st is OSH_DB_OK
 * (OSH_DB_BUSY when the pool refused it). sqlstate is "" when there is
 * none. */
typedef void (*osh_db_json_cb)(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg);
int osh_db_json(struct osh_db *db, const char *sql, int nparams,
    const char *const *values, osh_db_json_cb cb, void *arg);

/* osh_db_json with id as its only parameter ($1). */
void osh_db_json_id(struct osh_db *db, const char *sql, int64_t id,
    osh_db_json_cb cb, void *arg);

/* v as decimal text in buf (24 bytes hold any value), for query
 * parameters; returns buf. */
const char *osh_db_num(char *buf, size_t len, int64_t v);

struct osh_db_stats {
	int size, connected, busy;
	size_t queued;
	/* timeouts: deadlines missed, waiting or running; reconnects:
	 * connection attempts after the first ones; lost: connections that
	 * were up and went down; cancels: cancel requests delivered
	 * (cancels_failed: not); rejected: refused for overload. */
	unsigned long queries, errors, timeouts, reconnects, lost;
	unsigned long cancels, cancels_failed, rejected;
};
void osh_db_stats(const struct osh_db *db, struct osh_db_stats *out);
/* The pool's waits, queue and rejections, for osh_metrics_pool. */
void osh_db_pool_stats(const struct osh_db *db, struct osh_pool_stats *out);

/* Opens a blocking connection with the pool's settings, for start-up work
 * (migrations) before the loop runs. Caller PQfinish-es it. */
PGconn *osh_db_connect_blocking(
    const struct osh_db_options *opt, char *err, size_t errlen);

#endif
