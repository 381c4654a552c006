/* Unit tests of db.c against a real PostgreSQL started for the test (a
 * throw-away cluster on a unix socket in a temporary directory): a query
 * past its deadline is answered by then, cancelled on the server, and its
 * connection serves the next query; a full queue, and a queue that would
 * not drain before the deadline, refuse at once with a status of their
 * own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <pwd.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "osh/db.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/util.h"

struct env {
	char dir[64];
	char pgbin[256];
	char conninfo[160];
	struct event_base *base;
};

/* Runs a shell command line made of our own paths; true when it worked. */
static bool
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return false;
	return system(cmd) == 0;
}

/* "runuser -u postgres --" when we are root (PostgreSQL refuses to run
 * as root), "" otherwise. */
static const char *
as_postgres(void)
{
	return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

static int
setup(void **state)
{
	static struct env e;
	glob_t g;

	memset(&e, 0, sizeof(e));
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0 ||
	    g.gl_pathc == 0) {
		fprintf(stderr, "PostgreSQL is not installed\n");
		return -1;
	}
	osh_strlcpy(e.pgbin, g.gl_pathv[g.gl_pathc - 1], sizeof(e.pgbin));
	globfree(&g);
	e.pgbin[strlen(e.pgbin) - strlen("/initdb")] = '\0';
	osh_strlcpy(e.dir, "/var/tmp/osh-dbtest.XXXXXX", sizeof(e.dir));
	if (mkdtemp(e.dir) == NULL)
		return -1;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		if (pw == NULL || chown(e.dir, pw->pw_uid, pw->pw_gid) != 0)
			return -1;
	}
	if (!run("%s%s/initdb -D %s/data -U postgres -A trust -N "
		 "--no-locale -E UTF8 >%s/initdb.log 2>&1",
		as_postgres(), e.pgbin, e.dir, e.dir) ||
	    !run("%s%s/pg_ctl -D %s/data -l %s/postgres.log -w -t 60 -o "
		 "\"-k %s -c listen_addresses='' -p 5432 -c fsync=off\" "
		 "start >/dev/null",
		as_postgres(), e.pgbin, e.dir, e.dir, e.dir)) {
		fprintf(stderr, "PostgreSQL did not start: see %s\n", e.dir);
		return -1;
	}
	snprintf(e.conninfo, sizeof(e.conninfo),
	    "host=%s port=5432 dbname=postgres user=postgres", e.dir);
	osh_log_init("test", OSH_LOG_ERROR);
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	run("%s%s/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1",
	    as_postgres(), e->pgbin, e->dir);
	run("rm -rf %s", e->dir);
	return 0;
}

static int
each_setup(void **state)
{
	struct env *e = *state;

	e->base = event_base_new();
	return e->base != NULL ? 0 : -1;
}

static int
each_teardown(void **state)
{
	struct env *e = *state;

	event_base_free(e->base);
	return 0;
}

/* One query's outcome. */
struct call {
	bool done, ok, busy, deadline;
	char value[64];
	uint64_t at_us; /* when the callback ran */
};

static void
on_call(PGresult *res, const char *error, void *arg)
{
	struct call *c = arg;

	c->done = true;
	c->at_us = osh_now_us();
	c->ok = osh_db_ok(res);
	c->busy = osh_db_error_busy(error);
	c->deadline = osh_db_error_deadline(error);
	if (c->ok && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		osh_strlcpy(c->value, PQgetvalue(res, 0, 0), sizeof(c->value));
}

/* Runs the loop until every one of the n calls is done or ms pass. */
static bool
wait_calls(struct event_base *base, struct call *c, size_t n, int ms)
{
	uint64_t end = osh_now_us() + (uint64_t)ms * 1000;

	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += c[i].done;
		if (done == n)
			return true;
		if (osh_now_us() >= end)
			return false;
		struct timeval tv = {0, 5000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static struct osh_db *
pool(struct env *e, int size, int timeout_ms, size_t max_queue)
{
	struct osh_db_options o = {
	    .conninfo = e->conninfo,
	    .schema = "public",
	    .size = size,
	    .query_timeout_ms = timeout_ms,
	    .max_queue = max_queue,
	};
	struct osh_db *db = osh_db_new(e->base, &o);
	struct osh_db_stats st;
	uint64_t end = osh_now_us() + 10000000;

	assert_non_null(db);
	do {
		struct timeval tv = {0, 5000};
		event_base_loopexit(e->base, &tv);
		event_base_dispatch(e->base);
		osh_db_stats(db, &st);
	} while (st.connected < size && osh_now_us() < end);
	assert_int_equal(st.connected, size);
	return db;
}

/* One query, run to its end; its first value is copied to c->value. */
static void
query(struct env *e, struct osh_db *db, const char *sql, struct call *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(osh_db_query(db, sql, 0, NULL, on_call, c), 0);
	assert_true(wait_calls(e->base, c, 1, 10000));
}

/* Backends running pg_sleep now, seen from a connection of its own. */
static long
sleepers(struct env *e)
{
	PGconn *pg = PQconnectdb(e->conninfo);
	PGresult *r;
	long n = -1;

	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg,
	    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
	    "AND query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(pg);
	return n;
}

/* SELECT pg_sleep(10) with a 200 ms deadline: the callback hears of the
 * deadline by then, the statement is cancelled (the server's own
 * statement_timeout is switched off on this session, so only the cancel
 * can stop it), and the same connection (same backend pid) answers the
 * next query. No connection is lost. */
static void
deadline_cancels_and_keeps_connection(void **state)
{
	struct env *e = *state;
	struct osh_db *db = pool(e, 1, 200, 16);
	struct osh_db_stats st;
	struct call pid, off, sleep, again;
	uint64_t t0;

	query(e, db, "SELECT pg_backend_pid()::text", &pid);
	assert_true(pid.ok);
	query(
	    e, db, "SELECT set_config('statement_timeout', '0', false)", &off);
	assert_true(off.ok);

	memset(&sleep, 0, sizeof(sleep));
	t0 = osh_now_us();
	osh_db_query(db, "SELECT pg_sleep(10)", 0, NULL, on_call, &sleep);
	assert_true(wait_calls(e->base, &sleep, 1, 10000));
	assert_false(sleep.ok);
	assert_true(sleep.deadline);
	/* By the deadline (with room for a loaded machine), not after the
	 * 10 s sleep. */
	assert_true(sleep.at_us - t0 < 3000000);

	/* Asked at once, it waits for the cancelled statement to end. */
	query(e, db, "SELECT pg_backend_pid()::text", &again);
	assert_true(again.ok);
	assert_string_equal(again.value, pid.value);
	assert_int_equal(sleepers(e), 0);

	osh_db_stats(db, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.cancels, 1);
	assert_int_equal(st.cancels_failed, 0);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.connected, 1);
	osh_db_free(db);
}

/* A statement cancelled on its first run (prepared then) and on its
 * second (prepared already): the connection keeps what it prepared, and
 * the statement runs again on it. */
static void
deadline_during_first_run_then_reuse(void **state)
{
	struct env *e = *state;
	struct osh_db *db = pool(e, 1, 200, 16);
	struct osh_db_stats st;
	struct call off, sleep, quick[3];

	query(
	    e, db, "SELECT set_config('statement_timeout', '0', false)", &off);
	/* The same text twice: the second run uses what the first
	 * prepared, if it did. */
	for (int i = 0; i < 2; i++) {
		memset(&sleep, 0, sizeof(sleep));
		osh_db_query(db,
		    "SELECT pg_sleep(CASE WHEN $1 = 'long' THEN 10 ELSE 0 END)",
		    1, (const char *[]){"long"}, on_call, &sleep);
		assert_true(wait_calls(e->base, &sleep, 1, 10000));
		assert_true(sleep.deadline);
	}
	memset(quick, 0, sizeof(quick));
	for (int i = 0; i < 3; i++)
		osh_db_query(db,
		    "SELECT pg_sleep(CASE WHEN $1 = 'long' THEN 10 ELSE 0 END)",
		    1, (const char *[]){"short"}, on_call, &quick[i]);
	assert_true(wait_calls(e->base, quick, 3, 10000));
	for (int i = 0; i < 3; i++)
		assert_true(quick[i].ok);
	assert_int_equal(sleepers(e), 0);
	osh_db_stats(db, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.cancels, 2);
	osh_db_free(db);
}

/* A full queue refuses at once: the refused callbacks run before the
 * query holding the connection ends, with the busy error, and osh_db_json
 * callers see OSH_DB_BUSY. The queries let in all succeed. */
static enum osh_db_status json_st = OSH_DB_OK;
static bool json_done;

static void
on_json(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	(void)json;
	(void)sqlstate;
	(void)arg;
	json_st = st;
	json_done = true;
}

static void
full_queue_refuses_at_once(void **state)
{
	struct env *e = *state;
	struct osh_db *db = pool(e, 1, 5000, 2);
	struct osh_db_stats st;
	struct osh_pool_stats ps;
	struct call c[5];

	memset(c, 0, sizeof(c));
	json_done = false;
	osh_db_query(db, "SELECT pg_sleep(0.5)", 0, NULL, on_call, &c[0]);
	for (int i = 1; i < 5; i++)
		osh_db_query(db, "SELECT 1", 0, NULL, on_call, &c[i]);
	osh_db_json(db, "SELECT '{}'", 0, NULL, on_json, NULL);
	assert_true(wait_calls(e->base, &c[3], 2, 2000));
	/* Refused while the first still runs. */
	assert_false(c[0].done);
	assert_true(c[3].busy && c[4].busy);
	assert_false(c[3].ok || c[4].ok);
	assert_true(json_done);
	assert_int_equal(json_st, OSH_DB_BUSY);
	assert_true(wait_calls(e->base, c, 3, 5000));
	for (int i = 0; i < 3; i++)
		assert_true(c[i].ok);
	osh_db_stats(db, &st);
	assert_int_equal(st.rejected, 3);
	assert_int_equal(st.lost, 0);
	osh_db_pool_stats(db, &ps);
	assert_int_equal(ps.rejected, 3);
	assert_int_equal(ps.limit, 2);
	assert_int_equal(ps.depth, 0);
	assert_int_equal(ps.size, 1);
	assert_true(ps.waited >= 3);
	osh_db_free(db);
}

/* Queries that would wait past their deadline are refused at once: with
 * 200 ms a query and a 1 s deadline, a sixth one waiting would not get
 * its turn in time. */
static void
long_wait_refused_at_once(void **state)
{
	struct env *e = *state;
	struct osh_db *db = pool(e, 1, 1000, 100);
	struct osh_db_stats st;
	struct call first, c[10];
	int busy = 0, in = 0;

	query(e, db, "SELECT pg_sleep(0.2)", &first);
	assert_true(first.ok);
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 10; i++)
		osh_db_query(
		    db, "SELECT pg_sleep(0.2)", 0, NULL, on_call, &c[i]);
	assert_true(wait_calls(e->base, c, 10, 5000));
	for (int i = 0; i < 10; i++) {
		busy += c[i].busy;
		in += !c[i].busy;
	}
	/* One running and five waiting at most were let in. */
	assert_true(busy >= 4);
	assert_true(in >= 2);
	osh_db_stats(db, &st);
	assert_int_equal(st.rejected, (unsigned long)busy);
	assert_int_equal(st.lost, 0);
	osh_db_free(db);
}

/* A connection the server drops (pg_terminate_backend) is replaced: the
 * one case where a connection goes. */
static void
broken_connection_replaced(void **state)
{
	struct env *e = *state;
	struct osh_db *db = pool(e, 1, 2000, 16);
	struct osh_db_stats st;
	struct call pid, after;
	char sql[96];

	query(e, db, "SELECT pg_backend_pid()::text", &pid);
	snprintf(
	    sql, sizeof(sql), "SELECT pg_terminate_backend(%s)", pid.value);
	{
		PGconn *pg = PQconnectdb(e->conninfo);
		PQclear(PQexec(pg, sql));
		PQfinish(pg);
	}
	/* The first query after may hit the dead connection; within a few
	 * tries one runs on a new one. */
	for (int i = 0; i < 50; i++) {
		query(e, db, "SELECT pg_backend_pid()::text", &after);
		if (after.ok)
			break;
		struct timeval tv = {0, 100000};
		event_base_loopexit(e->base, &tv);
		event_base_dispatch(e->base);
	}
	assert_true(after.ok);
	assert_string_not_equal(after.value, pid.value);
	osh_db_stats(db, &st);
	assert_int_equal(st.lost, 1);
	osh_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		deadline_cancels_and_keeps_connection, each_setup,
		each_teardown),
	    cmocka_unit_test_setup_teardown(
		deadline_during_first_run_then_reuse, each_setup,
		each_teardown),
	    cmocka_unit_test_setup_teardown(
		full_queue_refuses_at_once, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		long_wait_refused_at_once, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		broken_connection_replaced, each_setup, each_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
