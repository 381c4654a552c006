/* db.c - a pool of non-blocking libpq connections on the event loop.
 *
 * Each connection is DOWN, CONNECTING, IDLE or BUSY. Queries wait in one
 * bounded FIFO and go to the first idle connection. A query that runs past
 * its deadline takes its connection down with it (the server aborts the
 * statement too: statement_timeout is set to the same deadline), and a lost
 * connection is re-opened with backoff. When no connection is up or coming
 * up, queries fail at once, so callers answer 503 instead of hanging. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/crypto.h"
#include "osh/db.h"
#include "osh/log.h"
#include "osh/util.h"

#define BACKOFF_MIN_MS 200
/* At least one attempt a second: a database that comes back is used
 * within a second (full service within 5 s of it is the promise). */
#define BACKOFF_MAX_MS 1000
#define CONNECT_TIMEOUT_MS 5000
#define SWEEP_MS 100

struct query {
	TAILQ_ENTRY(query) next;
	struct osh_db *db;
	char *sql;
	uint64_t hash; /* of sql: names its prepared statement */
	int nparams;
	char **values;
	osh_db_cb cb;
	void *arg;
	uint64_t deadline_us;
	const char *error; /* static text when failed */
};
TAILQ_HEAD(query_list, query);

enum conn_state {
	C_DOWN,
	C_CONNECTING,
	C_IDLE,
	C_BUSY
};

struct conn {
	struct osh_db *db;
	int id;
	PGconn *pg;
	enum conn_state state;
	struct event *rd, *wr;
	struct event *timer; /* reconnect, connect timeout or query deadline */
	struct query *q;
	PGresult *res;
	int backoff_ms;
	bool preparing; /* the in-flight command is q's PREPARE */
	uint64_t *prepared; /* hashes of statements prepared here */
	size_t nprepared, capprepared;
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
	unsigned long queries, errors, timeouts, reconnects;
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
	case C_BUSY:
		c->db->timeouts++;
		conn_down(c, "database query deadline exceeded", true);
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
		conn_run(c, q);
	}
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct osh_db *db = arg;
	uint64_t now = osh_now_us();
	struct query *q, *tmp;

	(void)fd;
	(void)what;
	for (q = TAILQ_FIRST(&db->queue); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, next);
		if (q->deadline_us > now)
			continue;
		TAILQ_REMOVE(&db->queue, q, next);
		db->queued--;
		db->timeouts++;
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
		db->opt.max_queue = 4096;
	TAILQ_INIT(&db->queue);
	db->conninfo = strdup(opt->conninfo);
	db->password = strdup(opt->password ? opt->password : "");
	snprintf(db->options, sizeof(db->options),
	    "-c search_path=%s -c statement_timeout=%d -c TimeZone=UTC",
	    opt->schema ? opt->schema : "public", opt->query_timeout_ms);
	db->conns = calloc((size_t)db->opt.size, sizeof(*db->conns));
	db->sweep = event_new(base, -1, EV_PERSIST, on_sweep, db);
	if (db->conninfo == NULL || db->password == NULL || db->conns == NULL ||
	    db->sweep == NULL) {
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
	bool any_up = false;

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
	for (int i = 0; i < db->opt.size; i++)
		if (db->conns[i].state != C_DOWN)
			any_up = true;
	if (!any_up) {
		fail_later(q, "database unavailable");
		return 0;
	}
	if (db->queued >= db->opt.max_queue) {
		fail_later(q, "database queue full");
		return 0;
	}
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
		if (db->conns[i].state == C_BUSY) {
			out->connected++;
			out->busy++;
		}
	}
	out->queued = db->queued;
	out->queries = db->queries;
	out->errors = db->errors;
	out->timeouts = db->timeouts;
	out->reconnects = db->reconnects;
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
	enum osh_db_status st = osh_db_status_of(res);
	const char *json = NULL;

	(void)error;
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
