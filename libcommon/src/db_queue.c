/* db_queue.c - the database pool's query queue and its admission.
 *
 * Queries wait in one bounded FIFO and go to the first idle connection;
 * when the FIFO is full, or when the queries ahead would already take
 * longer than a query's deadline to get through, a query is refused at
 * once (OSH_DB_BUSY), so that callers answer 503 with Retry-After instead
 * of making clients wait for nothing. When no connection is up or coming
 * up, queries fail at once, so callers answer 503 instead of hanging. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "osh/util.h"

/* The texts a query that did not run gets (res NULL). */
static const char busy_full[] = "database busy: too many queries waiting";
static const char busy_wait[] =
    "database busy: the queries ahead would not finish in time";

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
void
db_complete(struct query *q, PGresult *res, const char *error)
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
	db_complete(q, NULL, q->error);
}

/* Fails a query from a fresh loop turn, never inside the caller. */
static void
fail_later(struct query *q, const char *error)
{
	struct timeval zero = {0, 0};

	q->error = error;
	if (event_base_once(q->db->base, -1, EV_TIMEOUT, fail_cb, q, &zero) !=
	    0)
		db_complete(q, NULL, error);
}

/* Keeps a moving average (1/8 of each new figure) of how long a query
 * holds a connection, to tell how long the queue will take. */
void
db_note_service(struct osh_db *db, uint64_t us)
{
	if (db->service_us == 0)
		db->service_us = us;
	else
		db->service_us = db->service_us - db->service_us / 8 + us / 8;
}

/* Hands queued queries to idle connections. */
void
db_pump(struct osh_db *db)
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
		db_conn_run(c, q);
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
void
db_on_sweep(evutil_socket_t fd, short what, void *arg)
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
			db_complete(q, NULL, "database unavailable");
			continue;
		}
		db->timeouts++;
		db->ps.timeouts++;
		db_complete(
		    q, NULL, "no database connection became free in time");
	}
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
	db_pump(db);
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
