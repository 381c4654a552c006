/* db_cancel.c - the database pool's deadlines: cancelling a statement on
 * the server from the cancel thread.
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
 * the server even when no cancel gets through. */
#include <event2/event.h>
#include <stdlib.h>

#include "db_int.h"
#include "osh/log.h"
#include "osh/util.h"
#include "osh/work.h"

/* The text a query past its deadline gets (res NULL). */
static const char deadline_text[] = "database query deadline exceeded";

/* A cancel request on its way, owned by the thread pool's item. */
struct cancel {
	struct osh_db *db;
	int conn;
	uint64_t gen;
	PGcancel *pc;
	bool ok;
	char err[256];
};

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
	db_pump(c->db);
}

/* Reads the rest of a cancelled statement's results and drops them. A
 * PREPARE that got through before the cancel is remembered: the server
 * has it now. */
void
db_drain_cancelled(struct conn *c)
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
			db_remember_prepared(c, c->cancel_hash);
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
void
db_query_deadline(struct conn *c)
{
	struct timeval tv = {
	    CANCEL_GRACE_MS / 1000, (CANCEL_GRACE_MS % 1000) * 1000};
	struct query *q = c->q;

	c->db->timeouts++;
	db_note_service(c->db, osh_now_us() - c->started_us);
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
		c->q = q; /* db_conn_down answers it */
		db_conn_down(
		    c, "cannot cancel a query past its deadline", true);
		return;
	}
	event_add(c->timer, &tv);
	osh_log_warn(NULL,
	    "msg=\"database query past its deadline, cancelling it\" "
	    "conn=%d",
	    c->id);
	db_complete(q, NULL, deadline_text);
	/* The answer may have come in already. */
	db_drain_cancelled(c);
}

bool
osh_db_error_deadline(const char *error)
{
	return error == deadline_text;
}
