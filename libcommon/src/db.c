/* db.c - a pool of non-blocking libpq connections on the event loop.
 *
 * Each connection is DOWN, CONNECTING, IDLE, BUSY or CANCELLING. Queries
 * wait in one bounded FIFO and go to the first idle connection; when the
 * FIFO is full, or when the queries ahead would already take longer than
 * a query's deadline to get through, a query is refused at once
 * (OSH_DB_BUSY), so that callers answer 503 with Retry-After instead of
 * making clients wait for nothing.
 *
 * A query that runs past its deadline is answered with a timeout at once
 * and cancelled on the server: libpq 15's PQcancel blocks, so it runs on
 * a thread of its own (the loop never waits for it). The connection stays
 * CANCELLING until the cancel request has been delivered and the
 * cancelled statement's result has been read, then serves the next
 * query: the cancel can then no longer hit a later statement (the server
 * ignores one that reaches an idle session). A connection whose cancelled
 * statement does not end within CANCEL_GRACE_MS, or that breaks, is
 * replaced; statement_timeout (the same deadline) stops a statement on
 * the server even when no cancel gets through. A lost connection is
 * re-opened with backoff. When no connection is up or coming up, queries
 * fail at once, so callers answer 503 instead of hanging. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/crypto.h"
#include "osh/db.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/util.h"
#include "osh/work.h"

#define BACKOFF_MIN_MS 200
/* At least one attempt a second: a database that comes back is used
 * within a second (full service within 5 s of it is the promise). */
#define BACKOFF_MAX_MS 1000
#define CONNECT_TIMEOUT_MS 5000
#define SWEEP_MS 100
/* How long a cancelled statement may take to end before its connection
 * is given up on, and how long shutting down waits for a cancel under
 * way. */
#define CANCEL_GRACE_MS 3000
#define DEFAULT_MAX_QUEUE 512

/* The texts a query that did not run gets (res NULL). */
static const char busy_full[] = "database busy: too many queries waiting";
static const char busy_wait[] =
    "database busy: the queries ahead would not finish in time";
static const char deadline_text[] = "database query deadline exceeded";

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

/* A cancel request on its way, owned by the thread pool's item. */
struct cancel {
	struct osh_db *db;
	int conn;
	uint64_t gen;
	PGcancel *pc;
	bool ok;
	char err[256];
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

static void conn_start(struct conn *c);
static void pump(struct osh_db *db);

static void
query_free(struct query *q)
{
	for (int i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q->sql);
	free(q);
}

/* Runs the callback with res (cleared afterwards) or the error text. */
static void
complete(struct query *q, PGresult *res, const char *error)
{
	if (res == NULL)
		q->db->errors++;
	q->cb(res, res != NULL ? NULL : error, q->arg);
	if (res != NULL)
		PQclear(res);
	query_free(q);
}

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct query *q = arg;

	(void)fd;
	(void)what;
	complete(q, NULL, q->error);
}

/* Fails a query from a fresh loop turn, never inside the caller. */
static void
fail_later(struct query *q, const char *error)
{
	struct timeval zero = {0, 0};

	q->error = error;
	if (event_base_once(q->db->base, -1, EV_TIMEOUT, fail_cb, q, &zero) !=
	    0)
		complete(q, NULL, error);
}

static void
events_clear(struct conn *c)
{
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	c->rd = c->wr = NULL;
	event_del(c->timer);
}

/* Takes a connection down; a query in flight fails with 'why'. */
static void
conn_down(struct conn *c, const char *why, bool log)
{
	struct timeval tv;
	struct query *q = c->q;

	if (c->state != C_CONNECTING && c->state != C_DOWN)
		c->db->lost++;
	if (log && c->state != C_CONNECTING)
		osh_log_warn(NULL,
		    "msg=\"database connection lost\" conn=%d "
		    "reason=\"%s\"",
		    c->id, why);
	events_clear(c);
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = C_DOWN;
	c->q = NULL;
	c->preparing = false;
	c->nprepared = 0; /* a new session knows no statements */
	c->gen++; /* a cancel still under way is for the old session */
	c->cancel_pending = c->drained = c->cancel_preparing = false;
	if (q != NULL)
		complete(q, NULL, why);
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	event_add(c->timer, &tv);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : c->backoff_ms * 2;
	c->db->reconnects++;
}

static bool send_prepared(struct conn *c);

/* Remembers that q's statement is prepared on this connection. */
static void
remember_prepared(struct conn *c, uint64_t hash)
{
	if (c->nprepared == c->capprepared) {
		size_t cap = c->capprepared ? c->capprepared * 2 : 32;
		uint64_t *p = realloc(c->prepared, cap * sizeof(*p));
		if (p == NULL)
			return;
		c->prepared = p;
		c->capprepared = cap;
	}
	c->prepared[c->nprepared++] = hash;
}

static bool
is_prepared(const struct conn *c, uint64_t hash)
{
	for (size_t i = 0; i < c->nprepared; i++)
		if (c->prepared[i] == hash)
			return true;
	return false;
}

/* Keeps a moving average (1/8 of each new figure) of how long a query
 * holds a connection, to tell how long the queue will take. */
static void
note_service(struct osh_db *db, uint64_t us)
{
	if (db->service_us == 0)
		db->service_us = us;
	else
		db->service_us = db->service_us - db->service_us / 8 + us / 8;
}

/* The cancelled statement is over and the cancel delivered: the
 * connection serves again. */
static void
cancel_finished(struct conn *c)
{
	event_del(c->timer);
	c->state = C_IDLE;
	c->cancel_preparing = c->drained = false;
	osh_log_debug(NULL,
	    "msg=\"cancelled query ended, connection kept\" conn=%d", c->id);
	pump(c->db);
}

/* Reads the rest of a cancelled statement's results and drops them. A
 * PREPARE that got through before the cancel is remembered: the server
 * has it now. */
static void
drain_cancelled(struct conn *c)
{
	PGresult *r;

	while (!PQisBusy(c->pg)) {
		if ((r = PQgetResult(c->pg)) == NULL) {
			c->drained = true;
			if (!c->cancel_pending)
				cancel_finished(c);
			return;
		}
		if (c->cancel_preparing &&
		    PQresultStatus(r) == PGRES_COMMAND_OK)
			remember_prepared(c, c->cancel_hash);
		PQclear(r);
	}
}

static void
cancel_work(void *arg)
{
	struct cancel *k = arg;

	k->ok = PQcancel(k->pc, k->err, (int)sizeof(k->err)) == 1;
	PQfreeCancel(k->pc);
	k->pc = NULL;
}

/* On the loop: the cancel request has been delivered (or not). */
static void
cancel_done(void *arg)
{
	struct cancel *k = arg;
	struct osh_db *db = k->db;
	struct conn *c = &db->conns[k->conn];

	if (k->ok) {
		db->cancels_sent++;
	} else {
		char msg[300];
		db->cancels_failed++;
		osh_log_warn(NULL,
		    "msg=\"cannot cancel a database query\" conn=%d "
		    "error=\"%s\"",
		    k->conn, osh_log_quote(k->err, msg, sizeof(msg)));
	}
	/* Failed or not, the statement ends by statement_timeout at the
	 * latest; the grace timer gives up on it after that. */
	if (c->gen == k->gen && c->state == C_CANCELLING) {
		c->cancel_pending = false;
		if (c->drained)
			cancel_finished(c);
	}
	free(k);
}

/* Hands the cancel of c's statement to the cancel thread; -1 when it
 * cannot be sent at all. */
static int
send_cancel(struct conn *c)
{
	struct cancel *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -1;
	k->db = c->db;
	k->conn = c->id;
	k->gen = c->gen;
	if ((k->pc = PQgetCancel(c->pg)) == NULL ||
	    osh_work_submit(c->db->cancels, cancel_work, cancel_done, k) != 0) {
		if (k->pc != NULL)
			PQfreeCancel(k->pc);
		free(k);
		return -1;
	}
	c->cancel_pending = true;
	return 0;
}

/* The query on c ran past its deadline: its caller hears so now, the
 * server is told to stop it, and the connection waits for the end of it
 * (CANCEL_GRACE_MS at most) to serve again. */
static void
query_deadline(struct conn *c)
{
	struct timeval tv = {
	    CANCEL_GRACE_MS / 1000, (CANCEL_GRACE_MS % 1000) * 1000};
	struct query *q = c->q;

	c->db->timeouts++;
	note_service(c->db, osh_now_us() - c->started_us);
	c->q = NULL;
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	c->cancel_hash = q->hash;
	c->cancel_preparing = c->preparing;
	c->preparing = false;
	c->drained = false;
	c->state = C_CANCELLING;
	if (send_cancel(c) != 0) {
		c->q = q; /* conn_down answers it */
		conn_down(c, "cannot cancel a query past its deadline", true);
		return;
	}
	event_add(c->timer, &tv);
	osh_log_warn(NULL,
	    "msg=\"database query past its deadline, cancelling it\" "
	    "conn=%d",
	    c->id);
	complete(q, NULL, deadline_text);
	/* The answer may have come in already. */
	drain_cancelled(c);
}

static void
deliver(struct conn *c)
{
	struct query *q = c->q;
	PGresult *res = c->res;

	if (c->preparing) {
		c->preparing = false;
		if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			c->res = NULL;
			remember_prepared(c, q->hash);
			if (!send_prepared(c))
				conn_down(c, "cannot send the query", true);
			return;
		}
		/* A statement that does not prepare fails like a query. */
	}

	c->q = NULL;
	c->res = NULL;
	c->state = C_IDLE;
	event_del(c->timer);
	note_service(c->db, osh_now_us() - c->started_us);
	if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    strncmp(osh_db_sqlstate(res), "23", 2) != 0) {
		char msg[300];
		osh_log_warn(NULL,
		    "msg=\"query failed\" sqlstate=%s error=\"%s\"",
		    osh_db_sqlstate(res),
		    osh_log_quote(
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), msg,
			sizeof(msg)));
	}
	complete(q, res, "query returned no result");
	pump(c->db);
}

/* Reads whatever the server sent; completes the query when done. */
static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	PGresult *r;
	PGnotify *n;

	(void)fd;
	(void)what;
	if (!PQconsumeInput(c->pg)) {
		conn_down(c, "connection to the database lost", true);
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->state == C_CANCELLING) {
		drain_cancelled(c);
		return;
	}
	if (c->state != C_BUSY)
		return;
	while (!PQisBusy(c->pg)) {
		if ((r = PQgetResult(c->pg)) == NULL) {
			deliver(c);
			return;
		}
		if (c->res == NULL) {
			c->res = r;
		} else if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
			PQclear(c->res);
			c->res = r;
		} else {
			PQclear(r);
		}
	}
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int rc;

	(void)fd;
	(void)what;
	if ((rc = PQflush(c->pg)) < 0)
		conn_down(c, "cannot send to the database", true);
	else if (rc == 1)
		event_add(c->wr, NULL);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case C_DOWN: conn_start(c); break;
	case C_CONNECTING:
		conn_down(c, "database connection timed out", false);
		break;
	case C_BUSY: query_deadline(c); break;
	case C_CANCELLING:
		conn_down(c, "cancelled query did not end", true);
		break;
	case C_IDLE: break;
	}
}

static void
watch(struct conn *c, short what, event_callback_fn fn)
{
	int fd = PQsocket(c->pg);

	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	c->rd = event_new(c->db->base, fd, EV_READ | (what & EV_PERSIST),
	    fn ? fn : on_read, c);
	c->wr = event_new(c->db->base, fd, EV_WRITE, fn ? fn : on_write, c);
	if (what & EV_READ)
		event_add(c->rd, NULL);
	if (what & EV_WRITE)
		event_add(c->wr, NULL);
}

static void
on_connect_poll(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING: watch(c, EV_READ, on_connect_poll); return;
	case PGRES_POLLING_WRITING: watch(c, EV_WRITE, on_connect_poll); return;
	case PGRES_POLLING_OK: break;
	default: {
		char msg[300];
		osh_log_debug(NULL,
		    "msg=\"database connect failed\" conn=%d "
		    "error=\"%s\"",
		    c->id,
		    osh_log_quote(PQerrorMessage(c->pg), msg, sizeof(msg)));
		conn_down(c, "cannot connect to the database", false);
		return;
	}
	}
	if (PQsetnonblocking(c->pg, 1) != 0) {
		conn_down(c, "cannot use the database connection", true);
		return;
	}
	event_del(c->timer);
	if (c->backoff_ms > BACKOFF_MIN_MS)
		osh_log_info(
		    NULL, "msg=\"database connection up\" conn=%d", c->id);
	c->backoff_ms = BACKOFF_MIN_MS;
	c->state = C_IDLE;
	watch(c, EV_READ | EV_PERSIST, NULL);
	pump(c->db);
}

static void
conn_start(struct conn *c)
{
	const char *keys[] = {
	    "dbname", "password", "options", "application_name", NULL};
	const char *vals[] = {c->db->conninfo, c->db->password, c->db->options,
	    "openserverhub", NULL};
	struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};

	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_down(c, "cannot connect to the database", false);
		return;
	}
	c->state = C_CONNECTING;
	event_add(c->timer, &tv);
	watch(c, EV_WRITE, on_connect_poll);
}

/* Sends q as its prepared statement; false when the send failed. */
static bool
send_prepared(struct conn *c)
{
	char name[24];
	int rc;

	snprintf(
	    name, sizeof(name), "s%016llx", (unsigned long long)c->q->hash);
	if (!PQsendQueryPrepared(c->pg, name, c->q->nparams,
		(const char *const *)c->q->values, NULL, NULL, 0))
		return false;
	if ((rc = PQflush(c->pg)) < 0)
		return false;
	if (rc == 1)
		event_add(c->wr, NULL);
	return true;
}

/* Runs q on c: each statement is prepared once per connection, so the
 * server parses and plans it once, not on every call. */
static void
conn_run(struct conn *c, struct query *q)
{
	struct timeval tv;
	uint64_t now = osh_now_us(), left;
	char name[24];
	int rc;

	c->q = q;
	c->state = C_BUSY;
	c->started_us = now;
	c->db->queries++;
	left = q->deadline_us > now ? q->deadline_us - now : 1000;
	tv.tv_sec = (time_t)(left / 1000000);
	tv.tv_usec = (suseconds_t)(left % 1000000);
	event_add(c->timer, &tv);
	if (is_prepared(c, q->hash)) {
		if (!send_prepared(c))
			conn_down(c, "cannot send the query", true);
		return;
	}
	snprintf(name, sizeof(name), "s%016llx", (unsigned long long)q->hash);
	c->preparing = true;
	if (!PQsendPrepare(c->pg, name, q->sql, q->nparams, NULL)) {
		conn_down(c, "cannot send the query", true);
		return;
	}
	if ((rc = PQflush(c->pg)) < 0)
		conn_down(c, "cannot send the query", true);
	else if (rc == 1)
		event_add(c->wr, NULL);
}

/* Hands queued queries to idle connections. */
static void
pump(struct osh_db *db)
{
	for (int i = 0; i < db->opt.size && !TAILQ_EMPTY(&db->queue); i++) {
		struct conn *c = &db->conns[i];
		struct query *q;

		if (c->state != C_IDLE)
			continue;
		q = TAILQ_FIRST(&db->queue);
		TAILQ_REMOVE(&db->queue, q, next);
		db->queued--;
		osh_pool_stats_wait(&db->ps, osh_now_us() - q->queued_us);
		conn_run(c, q);
	}
}

/* Whether any connection is up or coming up. */
static bool
pool_up(const struct osh_db *db)
{
	for (int i = 0; i < db->opt.size; i++)
		if (db->conns[i].state != C_DOWN)
			return true;
	return false;
}

/* Fails queries past their deadline, and every waiting query once no
 * connection is up or coming up (they were queued while one was being
 * opened, and that failed): callers answer 503 now, not at the deadline. */
static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct osh_db *db = arg;
	uint64_t now = osh_now_us();
	struct query *q, *tmp;
	bool up = pool_up(db);

	(void)fd;
	(void)what;
	for (q = TAILQ_FIRST(&db->queue); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, next);
		if (up && q->deadline_us > now)
			continue;
		TAILQ_REMOVE(&db->queue, q, next);
		db->queued--;
		osh_pool_stats_wait(&db->ps, now - q->queued_us);
		if (!up) {
			complete(q, NULL, "database unavailable");
			continue;
		}
		db->timeouts++;
		db->ps.timeouts++;
		complete(q, NULL, "no database connection became free in time");
	}
}

struct osh_db *
osh_db_new(struct event_base *base, const struct osh_db_options *opt)
{
	struct osh_db *db;
	struct timeval sweep = {0, SWEEP_MS * 1000};

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->base = base;
	db->opt = *opt;
	if (db->opt.size < 1)
		db->opt.size = 1;
	if (db->opt.max_queue == 0)
		db->opt.max_queue = DEFAULT_MAX_QUEUE;
	TAILQ_INIT(&db->queue);
	db->conninfo = strdup(opt->conninfo);
	db->password = strdup(opt->password ? opt->password : "");
	snprintf(db->options, sizeof(db->options),
	    "-c search_path=%s -c statement_timeout=%d -c TimeZone=UTC",
	    opt->schema ? opt->schema : "public", opt->query_timeout_ms);
	db->conns = calloc((size_t)db->opt.size, sizeof(*db->conns));
	db->sweep = event_new(base, -1, EV_PERSIST, on_sweep, db);
	db->cancels = osh_work_pool_new(base, 1, (size_t)db->opt.size);
	if (db->conninfo == NULL || db->password == NULL || db->conns == NULL ||
	    db->sweep == NULL || db->cancels == NULL) {
		osh_db_free(db);
		return NULL;
	}
	event_add(db->sweep, &sweep);
	for (int i = 0; i < db->opt.size; i++) {
		struct conn *c = &db->conns[i];
		c->db = db;
		c->id = i;
		c->backoff_ms = BACKOFF_MIN_MS;
		c->timer = evtimer_new(base, on_timer, c);
		conn_start(c);
	}
	return db;
}

void
osh_db_free(struct osh_db *db)
{
	struct query *q;

	if (db == NULL)
		return;
	/* Cancels under way first (their callbacks look at the
	 * connections); one stuck on an unreachable server is left to the
	 * process's exit. */
	if (db->cancels != NULL)
		osh_work_pool_free_within(db->cancels, CANCEL_GRACE_MS);
	for (int i = 0; db->conns != NULL && i < db->opt.size; i++) {
		struct conn *c = &db->conns[i];
		if (c->timer == NULL)
			continue;
		events_clear(c);
		event_free(c->timer);
		if (c->q != NULL)
			complete(c->q, NULL, "shutting down");
		if (c->res != NULL)
			PQclear(c->res);
		if (c->pg != NULL)
			PQfinish(c->pg);
		free(c->prepared);
	}
	while ((q = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, q, next);
		complete(q, NULL, "shutting down");
	}
	if (db->sweep != NULL)
		event_free(db->sweep);
	free(db->conns);
	free(db->conninfo);
	osh_free_secret(db->password);
	free(db);
}

int
osh_db_query(struct osh_db *db, const char *sql, int nparams,
    const char *const *values, osh_db_cb cb, void *arg)
{
	struct query *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		goto out_oom;
	q->db = db;
	q->cb = cb;
	q->arg = arg;
	q->nparams = nparams;
	q->deadline_us =
	    osh_now_us() + (uint64_t)db->opt.query_timeout_ms * 1000u;
	q->hash = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		q->hash = (q->hash ^ *p) * 1099511628211ull;
	if ((q->sql = strdup(sql)) == NULL ||
	    (nparams > 0 &&
		(q->values = calloc((size_t)nparams, sizeof(char *))) == NULL))
		goto out_free;
	for (int i = 0; i < nparams; i++) {
		if (values[i] != NULL &&
		    (q->values[i] = strdup(values[i])) == NULL)
			goto out_free;
	}
	if (!pool_up(db)) {
		fail_later(q, "database unavailable");
		return 0;
	}
	if (db->queued >= db->opt.max_queue) {
		db->ps.rejected++;
		fail_later(q, busy_full);
		return 0;
	}
	/* With a full round of queries waiting already, the ones ahead
	 * would take this long to get through: past the deadline, waiting
	 * is for nothing. */
	if (db->queued >= (size_t)db->opt.size &&
	    (db->queued + 1) * db->service_us / (size_t)db->opt.size >
		(uint64_t)db->opt.query_timeout_ms * 1000u) {
		db->ps.rejected++;
		fail_later(q, busy_wait);
		return 0;
	}
	q->queued_us = osh_now_us();
	TAILQ_INSERT_TAIL(&db->queue, q, next);
	db->queued++;
	pump(db);
	return 0;
out_free:
	query_free(q);
out_oom : {
	struct query *fq = calloc(1, sizeof(*fq));
	if (fq == NULL)
		return -1;
	fq->db = db;
	fq->cb = cb;
	fq->arg = arg;
	fail_later(fq, "out of memory");
}
	return 0;
}

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

void
osh_db_stats(const struct osh_db *db, struct osh_db_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = db->opt.size;
	for (int i = 0; i < db->opt.size; i++) {
		if (db->conns[i].state == C_IDLE)
			out->connected++;
		if (db->conns[i].state == C_BUSY ||
		    db->conns[i].state == C_CANCELLING) {
			out->connected++;
			out->busy++;
		}
	}
	out->queued = db->queued;
	out->queries = db->queries;
	out->errors = db->errors;
	out->timeouts = db->timeouts;
	out->reconnects = db->reconnects;
	out->lost = db->lost;
	out->cancels = db->cancels_sent;
	out->cancels_failed = db->cancels_failed;
	out->rejected = db->ps.rejected;
}

void
osh_db_pool_stats(const struct osh_db *db, struct osh_pool_stats *out)
{
	*out = db->ps;
	out->size = (size_t)db->opt.size;
	out->in_use = 0;
	for (int i = 0; i < db->opt.size; i++)
		if (db->conns[i].state == C_BUSY ||
		    db->conns[i].state == C_CANCELLING)
			out->in_use++;
	out->depth = db->queued;
	out->limit = db->opt.max_queue;
}

bool
osh_db_error_busy(const char *error)
{
	return error == busy_full || error == busy_wait;
}

bool
osh_db_error_deadline(const char *error)
{
	return error == deadline_text;
}

PGconn *
osh_db_connect_blocking(
    const struct osh_db_options *opt, char *err, size_t errlen)
{
	const char *keys[] = {"dbname", "password", "options",
	    "application_name", "connect_timeout", NULL};
	char options[160];
	const char *vals[6];
	PGconn *pg;

	snprintf(options, sizeof(options), "-c search_path=%s -c TimeZone=UTC",
	    opt->schema ? opt->schema : "public");
	vals[0] = opt->conninfo;
	vals[1] = opt->password ? opt->password : "";
	vals[2] = options;
	vals[3] = "openserverhub";
	vals[4] = "5";
	vals[5] = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "%s",
		    pg ? PQerrorMessage(pg) : "out of memory");
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		PQfinish(pg);
		return NULL;
	}
	return pg;
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
