/* db.c - a pool of non-blocking libpq connections on the event loop: the
 * connections' state machine, opening the pool and closing it.
 *
 * Each connection is DOWN, CONNECTING, IDLE, BUSY or CANCELLING. A
 * connection opens without blocking the loop, takes queries from the
 * queue (db_queue.c) when IDLE and runs each as a statement prepared once
 * per connection. A query past its deadline makes its connection
 * CANCELLING (db_cancel.c). A lost connection is re-opened with backoff.
 * What the pieces share is in db_int.h; result helpers are in
 * db_result.c. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "osh/crypto.h"
#include "osh/log.h"
#include "osh/util.h"
#include "osh/work.h"

#define BACKOFF_MIN_MS 200
/* At least one attempt a second: a database that comes back is used
 * within a second (full service within 5 s of it is the promise). */
#define BACKOFF_MAX_MS 1000
#define CONNECT_TIMEOUT_MS 5000
#define SWEEP_MS 100
#define DEFAULT_MAX_QUEUE 512

static void conn_start(struct conn *c);
static bool send_prepared(struct conn *c);

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
void
db_conn_down(struct conn *c, const char *why, bool log)
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
		db_complete(q, NULL, why);
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	event_add(c->timer, &tv);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : c->backoff_ms * 2;
	c->db->reconnects++;
}

/* Remembers that q's statement is prepared on this connection. */
void
db_remember_prepared(struct conn *c, uint64_t hash)
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
			db_remember_prepared(c, q->hash);
			if (!send_prepared(c))
				db_conn_down(c, "cannot send the query", true);
			return;
		}
		/* A statement that does not prepare fails like a query. */
	}

	c->q = NULL;
	c->res = NULL;
	c->state = C_IDLE;
	event_del(c->timer);
	db_note_service(c->db, osh_now_us() - c->started_us);
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
	db_complete(q, res, "query returned no result");
	db_pump(c->db);
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
		db_conn_down(c, "connection to the database lost", true);
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->state == C_CANCELLING) {
		db_drain_cancelled(c);
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
		db_conn_down(c, "cannot send to the database", true);
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
		db_conn_down(c, "database connection timed out", false);
		break;
	case C_BUSY: db_query_deadline(c); break;
	case C_CANCELLING:
		db_conn_down(c, "cancelled query did not end", true);
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
		db_conn_down(c, "cannot connect to the database", false);
		return;
	}
	}
	if (PQsetnonblocking(c->pg, 1) != 0) {
		db_conn_down(c, "cannot use the database connection", true);
		return;
	}
	event_del(c->timer);
	if (c->backoff_ms > BACKOFF_MIN_MS)
		osh_log_info(
		    NULL, "msg=\"database connection up\" conn=%d", c->id);
	c->backoff_ms = BACKOFF_MIN_MS;
	c->state = C_IDLE;
	watch(c, EV_READ | EV_PERSIST, NULL);
	db_pump(c->db);
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
		db_conn_down(c, "cannot connect to the database", false);
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
void
db_conn_run(struct conn *c, struct query *q)
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
			db_conn_down(c, "cannot send the query", true);
		return;
	}
	snprintf(name, sizeof(name), "s%016llx", (unsigned long long)q->hash);
	c->preparing = true;
	if (!PQsendPrepare(c->pg, name, q->sql, q->nparams, NULL)) {
		db_conn_down(c, "cannot send the query", true);
		return;
	}
	if ((rc = PQflush(c->pg)) < 0)
		db_conn_down(c, "cannot send the query", true);
	else if (rc == 1)
		event_add(c->wr, NULL);
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
	db->sweep = event_new(base, -1, EV_PERSIST, db_on_sweep, db);
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
			db_complete(c->q, NULL, "shutting down");
		if (c->res != NULL)
			PQclear(c->res);
		if (c->pg != NULL)
			PQfinish(c->pg);
		free(c->prepared);
	}
	while ((q = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, q, next);
		db_complete(q, NULL, "shutting down");
	}
	if (db->sweep != NULL)
		event_free(db->sweep);
	free(db->conns);
	free(db->conninfo);
	osh_free_secret(db->password);
	free(db);
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
