/* Unit tests against a real redis-server started for the test: redis.c
 * (commands, reconnection), revoke.c (snapshot, announcements, answers)
 * and audit.c (backlog kept while Redis is away, sent when it is back). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "osh/audit.h"
#include "osh/log.h"
#include "osh/redis.h"
#include "osh/revoke.h"
#include "osh/util.h"

struct env {
	pid_t pid;
	int port;
	struct event_base *base;
};

static pid_t
start_redis(int port)
{
	char p[16];
	pid_t pid;

	snprintf(p, sizeof(p), "%d", port);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", 1);
		dup2(null, 1);
		execlp("redis-server", "redis-server", "--port", p, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no",
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
stop_redis(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Runs the loop until *flag is set or ms pass; returns *flag. */
static bool
run_until(struct event_base *base, bool (*done)(void *), void *arg, int ms)
{
	uint64_t end = osh_now_us() + (uint64_t)ms * 1000;

	while (!done(arg) && osh_now_us() < end) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return done(arg);
}

static int
setup(void **state)
{
	static struct env e;

	e.port = 17000 + (int)(getpid() % 2000);
	e.pid = start_redis(e.port);
	e.base = event_base_new();
	usleep(300000);
	*state = &e;
	return e.pid > 0 && e.base != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	stop_redis(e->pid);
	event_base_free(e->base);
	return 0;
}

struct reply_box {
	bool got;
	char value[64];
};

static void
on_get(redisReply *reply, void *arg)
{
	struct reply_box *b = arg;

	b->got = true;
	if (reply != NULL && reply->type == REDIS_REPLY_STRING)
		osh_strlcpy(b->value, reply->str, sizeof(b->value));
}

static bool
box_done(void *arg)
{
	return ((struct reply_box *)arg)->got;
}

static bool
connected(void *arg)
{
	return osh_redis_connected(arg);
}

static bool
disconnected(void *arg)
{
	return !osh_redis_connected(arg);
}

static void
resume(void *arg)
{
	osh_audit_resume(arg);
}

static void
commands(void **state)
{
	struct env *e = *state;
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 1000};
	struct osh_redis *r = osh_redis_new(e->base, &o);
	struct reply_box b = {0};

	assert_true(run_until(e->base, connected, r, 3000));
	osh_redis_cmd(r, NULL, NULL, "SET %s %s", "k", "v 1");
	osh_redis_cmd(r, on_get, &b, "GET %s", "k");
	assert_true(run_until(e->base, box_done, &b, 2000));
	assert_string_equal(b.value, "v 1");
	osh_redis_free(r);
}

struct rv {
	struct osh_revocations *rev;
	struct osh_claims c;
	enum osh_revoke_answer want;
};

static bool
answer_is(void *arg)
{
	struct rv *v = arg;

	return osh_revocations_check(v->rev, &v->c, osh_wall_ms()) == v->want;
}

static void
revocations(void **state)
{
	struct env *e = *state;
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 1000};
	struct osh_redis *cmd = osh_redis_new(e->base, &o);
	struct osh_redis *other = osh_redis_new(e->base, &o);
	struct rv v;
	int64_t now = osh_wall_ms();

	assert_true(run_until(e->base, connected, cmd, 3000));
	assert_true(run_until(e->base, connected, other, 3000));
	/* Revoked before this copy exists: found by the snapshot. */
	osh_revoke_jti(other, NULL, "old-jti", now + 60000, NULL, NULL);
	memset(&v, 0, sizeof(v));
	v.rev = osh_revocations_new(e->base, &o, cmd);
	v.c.user_id = 5;
	osh_strlcpy(v.c.jti, "old-jti", sizeof(v.c.jti));
	assert_int_equal(
	    osh_revocations_check(v.rev, &v.c, now), OSH_REVOKE_UNKNOWN);
	v.want = OSH_REVOKED;
	assert_true(run_until(e->base, answer_is, &v, 3000));

	/* Announced while running: applied from the channel. */
	osh_strlcpy(v.c.jti, "new-jti", sizeof(v.c.jti));
	osh_strlcpy(v.c.sid, "fam-9", sizeof(v.c.sid));
	v.c.iat_ms = now;
	assert_int_equal(
	    osh_revocations_check(v.rev, &v.c, now), OSH_NOT_REVOKED);
	osh_revoke_sid(other, NULL, "fam-9", now + 60000, NULL, NULL);
	assert_true(run_until(e->base, answer_is, &v, 3000));

	/* Users: tokens issued before the mark are void, later ones not. */
	osh_strlcpy(v.c.sid, "fam-10", sizeof(v.c.sid));
	osh_revoke_user(other, NULL, 5, now + 1, now + 60000, NULL, NULL);
	assert_true(run_until(e->base, answer_is, &v, 3000));
	v.c.iat_ms = now + 2;
	assert_int_equal(
	    osh_revocations_check(v.rev, &v.c, now), OSH_NOT_REVOKED);
	/* Expired entries no longer count. */
	v.c.iat_ms = now;
	assert_int_equal(
	    osh_revocations_check(v.rev, &v.c, now + 120000), OSH_NOT_REVOKED);
	osh_revocations_free(v.rev);
	osh_redis_free(other);
	osh_redis_free(cmd);
}

struct xlen {
	struct osh_redis *r;
	long long n;
	bool got;
};

static void
on_xlen(redisReply *reply, void *arg)
{
	struct xlen *x = arg;

	x->got = true;
	x->n =
	    reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
}

static bool
xlen_done(void *arg)
{
	return ((struct xlen *)arg)->got;
}

static void
audit_backlog(void **state)
{
	struct env *e = *state;
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 500};
	struct osh_redis *r = osh_redis_new(e->base, &o);
	struct osh_audit *a = osh_audit_new(r, "test", 10);
	struct json_object *d = json_object_new_object();
	struct osh_audit_entry ent = {.actor = "ada",
	    .action = "thing.do",
	    .result = "success",
	    .details = d};
	struct xlen x = {r, 0, false};

	osh_redis_on_connect(r, resume, a);
	assert_true(run_until(e->base, connected, r, 3000));
	stop_redis(e->pid);
	assert_true(run_until(e->base, disconnected, r, 3000));
	json_object_object_add(d, "password", json_object_new_string("p"));
	json_object_object_add(d, "size", json_object_new_int(3));
	osh_audit_emit(a, &ent);
	assert_int_equal(osh_audit_backlog(a), 1);
	e->pid = start_redis(e->port);
	assert_true(run_until(e->base, connected, r, 8000));
	for (int i = 0; i < 100 && x.n != 1; i++) {
		x.got = false;
		osh_redis_cmd(r, on_xlen, &x, "XLEN %s", OSH_AUDIT_STREAM);
		run_until(e->base, xlen_done, &x, 1000);
	}
	assert_int_equal(x.n, 1);
	assert_int_equal(osh_audit_backlog(a), 0);
	osh_audit_free(a);
	osh_redis_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(commands),
	    cmocka_unit_test(revocations),
	    cmocka_unit_test(audit_backlog),
	};
	osh_log_init("test", getenv("DEBUG") ? OSH_LOG_DEBUG : OSH_LOG_ERROR);
	return cmocka_run_group_tests_name(
	    "redis_live", tests, setup, teardown);
}
