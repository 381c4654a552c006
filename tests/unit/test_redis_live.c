/* Unit tests against a real redis-server started for the test: redis.c
 * (commands, reconnection, heartbeats), revoke.c (snapshot, announcements,
 * answers, a subscription that dies silently) and audit.c (backlog kept
 * while Redis is away, sent when it is back). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "osh/audit.h"
#include "osh/log.h"
#include "osh/metrics.h"
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
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 1000, 0};
	struct osh_redis *r = osh_redis_new(e->base, &o);
	struct reply_box b = {0};

	assert_true(run_until(e->base, connected, r, 3000));
	osh_redis_cmd(r, NULL, NULL, "SET %s %s", "k", "v 1");
	osh_redis_cmd(r, on_get, &b, "GET %s", "k");
	assert_true(run_until(e->base, box_done, &b, 2000));
	assert_string_equal(b.value, "v 1");
	osh_redis_free(r);
}

/* With max_pending 2, the third and later commands sent before any
 * reply are refused at once (NULL reply on the next turn), counted; the
 * first two are answered, and the connection takes more afterwards. */
static void
queue_full_refused(void **state)
{
	struct env *e = *state;
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 1000, 2};
	struct osh_redis *r = osh_redis_new(e->base, &o);
	struct reply_box b[5], after = {0};
	struct osh_pool_stats ps;

	assert_true(run_until(e->base, connected, r, 3000));
	osh_redis_cmd(r, NULL, NULL, "SET %s %s", "q", "v");
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 5; i++)
		osh_redis_cmd(r, on_get, &b[i], "GET %s", "q");
	assert_true(run_until(e->base, box_done, &b[4], 2000));
	assert_true(run_until(e->base, box_done, &b[0], 2000));
	assert_string_equal(b[0].value, "v");
	for (int i = 1; i < 5; i++) {
		assert_true(b[i].got);
		assert_string_equal(b[i].value, "");
	}
	osh_redis_pool_stats(r, &ps);
	assert_int_equal(ps.rejected, 4);
	assert_int_equal(ps.limit, 2);
	assert_true(ps.waited >= 2);
	osh_redis_cmd(r, on_get, &after, "GET %s", "q");
	assert_true(run_until(e->base, box_done, &after, 2000));
	assert_string_equal(after.value, "v");
	assert_true(osh_redis_connected(r));
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
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 1000, 0};
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

/*
 * A subscription that dies without a word.
 */

/* A TCP proxy in front of Redis that can go silent: frozen connections
 * stay open and forward nothing, in either direction, like a link cut
 * without a reset; connections made afterwards work. */
#define PROXY_PAIRS 32

struct proxy {
	int lfd, port, target;
	int wake[2];
	pthread_t th;
	pthread_mutex_t mu;
	bool quit;
	int npairs;
	struct {
		int a, b;
		bool frozen;
	} pairs[PROXY_PAIRS];
};

static int
connect_to(int port)
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
pair_drop(struct proxy *p, int i)
{
	close(p->pairs[i].a);
	close(p->pairs[i].b);
	p->pairs[i] = p->pairs[--p->npairs];
}

static void *
proxy_run(void *arg)
{
	struct proxy *p = arg;

	for (;;) {
		struct pollfd fds[2 + 2 * PROXY_PAIRS];
		int map[2 + 2 * PROXY_PAIRS], n = 0;

		pthread_mutex_lock(&p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		fds[n] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
		map[n++] = -1;
		fds[n] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
		map[n++] = -2;
		for (int i = 0; i < p->npairs; i++) {
			if (p->pairs[i].frozen)
				continue;
			fds[n] = (struct pollfd){
			    .fd = p->pairs[i].a, .events = POLLIN};
			map[n++] = i;
			fds[n] = (struct pollfd){
			    .fd = p->pairs[i].b, .events = POLLIN};
			map[n++] = i;
		}
		pthread_mutex_unlock(&p->mu);
		if (poll(fds, (nfds_t)n, 1000) <= 0)
			continue;
		pthread_mutex_lock(&p->mu);
		if (fds[0].revents) {
			char c[64];
			(void)!read(p->wake[0], c, sizeof(c));
			pthread_mutex_unlock(&p->mu);
			continue; /* the pairs changed: poll them anew */
		}
		if (fds[1].revents && p->npairs < PROXY_PAIRS) {
			int a = accept(p->lfd, NULL, NULL), b;
			if (a >= 0 && (b = connect_to(p->target)) >= 0) {
				p->pairs[p->npairs].a = a;
				p->pairs[p->npairs].b = b;
				p->pairs[p->npairs++].frozen = false;
			} else if (a >= 0) {
				close(a);
			}
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		for (int k = 2; k < n; k++) {
			int i = map[k], from = fds[k].fd, to;
			char buf[4096];
			ssize_t got;

			if (!fds[k].revents)
				continue;
			to = from == p->pairs[i].a ? p->pairs[i].b
						   : p->pairs[i].a;
			got = read(from, buf, sizeof(buf));
			if (got <= 0 || write(to, buf, (size_t)got) != got) {
				pair_drop(p, i);
				break; /* indexes moved: poll anew */
			}
		}
		pthread_mutex_unlock(&p->mu);
	}
}

static int
proxy_start(struct proxy *p, int target)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int one = 1;

	memset(p, 0, sizeof(*p));
	p->target = target;
	pthread_mutex_init(&p->mu, NULL);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((p->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(p->lfd, 16) != 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&sin, &len) != 0 ||
	    pipe(p->wake) != 0)
		return -1;
	p->port = ntohs(sin.sin_port);
	return pthread_create(&p->th, NULL, proxy_run, p);
}

/* Every connection open now goes silent. */
static void
proxy_freeze(struct proxy *p)
{
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->npairs; i++)
		p->pairs[i].frozen = true;
	pthread_mutex_unlock(&p->mu);
	(void)!write(p->wake[1], "x", 1);
}

static void
proxy_stop(struct proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_mutex_unlock(&p->mu);
	(void)!write(p->wake[1], "x", 1);
	pthread_join(p->th, NULL);
	while (p->npairs > 0)
		pair_drop(p, 0);
	close(p->lfd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
}

struct loads {
	struct osh_revocations *rev;
	unsigned long want;
};

static bool
loaded_again(void *arg)
{
	struct loads *l = arg;

	return osh_revocations_loads(l->rev) >= l->want;
}

/* Runs the loop for ms whatever happens. */
static void
run_for(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

#define HEARTBEAT_MS 300
#define DEADLINE_MS 500

/* The subscription goes silent (its link forwards nothing, no reset);
 * a revocation is announced meanwhile and never reaches it. The
 * heartbeat notices within its period plus the deadline, the
 * subscription comes back through a new connection and reloads the
 * list: the revocation counts. */
static void
silent_subscription_reloads(void **state)
{
	struct env *e = *state;
	struct osh_redis_options direct = {
	    .host = "127.0.0.1", .port = e->port, .timeout_ms = DEADLINE_MS};
	struct osh_redis_options via;
	struct osh_redis *cmd, *other;
	struct proxy px;
	struct rv v;
	uint64_t t0, noticed;

	assert_int_equal(proxy_start(&px, e->port), 0);
	via = direct;
	via.port = px.port;
	cmd = osh_redis_new(e->base, &direct);
	other = osh_redis_new(e->base, &direct);
	assert_true(run_until(e->base, connected, cmd, 3000));
	assert_true(run_until(e->base, connected, other, 3000));
	memset(&v, 0, sizeof(v));
	v.rev = osh_revocations_new(e->base, &via, cmd);
	osh_revocations_set_heartbeat(v.rev, HEARTBEAT_MS);
	v.c.user_id = 7;
	osh_strlcpy(v.c.jti, "lost-in-the-outage", sizeof(v.c.jti));
	v.want = OSH_NOT_REVOKED;
	assert_true(run_until(e->base, answer_is, &v, 3000));
	assert_int_equal(osh_revocations_loads(v.rev), 1);

	proxy_freeze(&px);
	t0 = osh_now_us();
	osh_revoke_jti(other, NULL, v.c.jti, osh_wall_ms() + 60000, NULL, NULL);
	run_for(e->base, 100);
	/* Announced, and missed: the subscription heard nothing. */
	assert_int_equal(
	    osh_revocations_check(v.rev, &v.c, osh_wall_ms()), OSH_NOT_REVOKED);
	v.want = OSH_REVOKE_UNKNOWN;
	assert_true(run_until(e->base, answer_is, &v, 5000));
	noticed = (osh_now_us() - t0) / 1000;
	/* Within a heartbeat period and the deadline (plus the watchdog's
	 * tick and slack for a loaded machine). */
	assert_true(noticed <= HEARTBEAT_MS + DEADLINE_MS + 1500);
	v.want = OSH_REVOKED;
	assert_true(run_until(e->base, answer_is, &v, 5000));
	assert_true(osh_revocations_loads(v.rev) >= 2);

	osh_revocations_free(v.rev);
	osh_redis_free(other);
	osh_redis_free(cmd);
	proxy_stop(&px);
}

/* Redis itself stops (SIGSTOP: the connections stay up, nothing answers):
 * noticed within the bound too; once it runs again the subscription is
 * back and announcements count again. */
static void
stopped_redis_is_noticed(void **state)
{
	struct env *e = *state;
	struct osh_redis_options o = {
	    .host = "127.0.0.1", .port = e->port, .timeout_ms = DEADLINE_MS};
	struct osh_redis *cmd = osh_redis_new(e->base, &o);
	struct osh_redis *other = osh_redis_new(e->base, &o);
	struct loads l;
	struct rv v;
	uint64_t t0, noticed;

	assert_true(run_until(e->base, connected, cmd, 3000));
	assert_true(run_until(e->base, connected, other, 3000));
	memset(&v, 0, sizeof(v));
	v.rev = osh_revocations_new(e->base, &o, cmd);
	osh_revocations_set_heartbeat(v.rev, HEARTBEAT_MS);
	v.c.user_id = 8;
	osh_strlcpy(v.c.jti, "after-the-stop", sizeof(v.c.jti));
	v.want = OSH_NOT_REVOKED;
	assert_true(run_until(e->base, answer_is, &v, 3000));

	kill(e->pid, SIGSTOP);
	t0 = osh_now_us();
	v.want = OSH_REVOKE_UNKNOWN;
	if (!run_until(e->base, answer_is, &v, 5000)) {
		kill(e->pid, SIGCONT);
		fail_msg("a stopped Redis went unnoticed");
	}
	noticed = (osh_now_us() - t0) / 1000;
	kill(e->pid, SIGCONT);
	assert_true(noticed <= HEARTBEAT_MS + DEADLINE_MS + 1500);

	/* Back: subscribed and loaded anew, and announcements are heard. */
	l.rev = v.rev;
	l.want = osh_revocations_loads(v.rev) + 1;
	assert_true(run_until(e->base, loaded_again, &l, 10000));
	osh_revoke_jti(other, NULL, v.c.jti, osh_wall_ms() + 60000, NULL, NULL);
	v.want = OSH_REVOKED;
	assert_true(run_until(e->base, answer_is, &v, 5000));

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
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 500, 0};
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
	/* The spool holds 10: two more than that drop the two oldest. */
	for (int i = 0; i < 11; i++) {
		struct osh_audit_entry more = {.action = "thing.more"};
		osh_audit_emit(a, &more);
	}
	assert_int_equal(osh_audit_backlog(a), 10);
	assert_int_equal(osh_audit_dropped(a), 2);
	e->pid = start_redis(e->port);
	assert_true(run_until(e->base, connected, r, 8000));
	for (int i = 0; i < 100 && x.n != 10; i++) {
		x.got = false;
		osh_redis_cmd(r, on_xlen, &x, "XLEN %s", OSH_AUDIT_STREAM);
		run_until(e->base, xlen_done, &x, 1000);
	}
	assert_int_equal(x.n, 10);
	assert_int_equal(osh_audit_backlog(a), 0);
	osh_audit_free(a);
	osh_redis_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(commands),
	    cmocka_unit_test(queue_full_refused),
	    cmocka_unit_test(revocations),
	    cmocka_unit_test(silent_subscription_reloads),
	    cmocka_unit_test(stopped_redis_is_noticed),
	    cmocka_unit_test(audit_backlog),
	};
	osh_log_init("test", getenv("DEBUG") ? OSH_LOG_DEBUG : OSH_LOG_ERROR);
	return cmocka_run_group_tests_name(
	    "redis_live", tests, setup, teardown);
}
