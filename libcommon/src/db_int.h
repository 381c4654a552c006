/* db_int.h - what db.c (the connections), db_queue.c (the query queue
 * and admission) and db_cancel.c (deadlines and cancels) share. Private
 * to libcommon's db*.c. Everything here is touched on the event loop
 * only. */
#ifndef OSH_DB_INT_H
#define OSH_DB_INT_H

#include <event2/util.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "osh/db.h"
#include "osh/metrics.h"

struct event;
struct event_base;
struct osh_work_pool;

/* How long a cancelled statement may take to end before its connection
 * is given up on, and how long shutting down waits for a cancel under
 * way. */
#define CANCEL_GRACE_MS 3000

struct query {
	TAILQ_ENTRY(query) next;
	struct osh_db *db;
	char *sql;
	uint64_t hash; /* of sql: names its prepared statement */
	int nparams;
	char **values;
	osh_db_cb cb;
	void *arg;
	uint64_t queued_us;
	uint64_t deadline_us;
	const char *error; /* static text when failed */
};
TAILQ_HEAD(query_list, query);

enum conn_state {
	C_DOWN,
	C_CONNECTING,
	C_IDLE,
	C_BUSY,
	C_CANCELLING
};

struct conn {
	struct osh_db *db;
	int id;
	PGconn *pg;
	enum conn_state state;
	struct event *rd, *wr;
	/* reconnect, connect timeout, query deadline or cancel grace */
	struct event *timer;
	struct query *q;
	PGresult *res;
	int backoff_ms;
	bool preparing; /* the in-flight command is q's PREPARE */
	uint64_t *prepared; /* hashes of statements prepared here */
	size_t nprepared, capprepared;
	uint64_t gen; /* bumped whenever the connection goes down */
	uint64_t started_us; /* when q went to the server */
	/* CANCELLING: the statement cancelled, whether it was a PREPARE,
	 * whether its result has been read to the end, and whether the
	 * cancel request is still on its thread. */
	uint64_t cancel_hash;
	bool cancel_preparing, drained, cancel_pending;
};

struct osh_db {
	struct event_base *base;
	struct osh_db_options opt;
	char *conninfo;
	char *password;
	char options[160];
	struct conn *conns;
	struct query_list queue;
	size_t queued;
	struct event *sweep;
	struct osh_work_pool *cancels; /* one thread: PQcancel blocks */
	uint64_t service_us; /* moving average of a query's time on a
			      * connection */
	unsigned long queries, errors, timeouts, reconnects, lost;
	unsigned long cancels_sent, cancels_failed;
	struct osh_pool_stats ps; /* waits, rejections, queue timeouts */
};

/* db.c: takes a connection down; a query in flight fails with 'why'. */
void db_conn_down(struct conn *c, const char *why, bool log);
/* db.c: remembers that a statement is prepared on this connection. */
void db_remember_prepared(struct conn *c, uint64_t hash);
/* db.c: runs q on the idle connection c. */
void db_conn_run(struct conn *c, struct query *q);

/* db_queue.c: runs q's callback with res (cleared afterwards) or the
 * error text, and frees q. */
void db_complete(struct query *q, PGresult *res, const char *error);
/* db_queue.c: notes how long a query held a connection. */
void db_note_service(struct osh_db *db, uint64_t us);
/* db_queue.c: hands queued queries to idle connections. */
void db_pump(struct osh_db *db);
/* db_queue.c: the sweep timer's callback (db->sweep). */
void db_on_sweep(evutil_socket_t fd, short what, void *arg);

/* db_cancel.c: reads and drops the rest of a cancelled statement. */
void db_drain_cancelled(struct conn *c);
/* db_cancel.c: the query on c ran past its deadline. */
void db_query_deadline(struct conn *c);

#endif
