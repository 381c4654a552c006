/* Unit tests of stream_consumer.c against a real redis-server started for
 * the test on a free loopback port: new entries acknowledged once stored,
 * one batch at a time, a dead consumer's entries claimed, dead letters
 * (by the loop, and after the service's dead callback), entries handed
 * back (retry, leave), own pending entries at start, an entry held never
 * handed out twice, close with entries out, and a dropped connection. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/redis.h"
#include "osh/stream_consumer.h"
#include "osh/util.h"

#define S "t:stream"
#define G "grp"
#define DEAD S ":dead"
#define MAX_SEEN 64

struct env {
	pid_t pid;
	int port;
	redisContext *sync; /* the test's own plain client */
	struct event_base *base;
};

/* A loopback port nobody listens on now. */
static int
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int
setup(void **state)
{
	static struct env e;
	char p[16];

	if ((e.port = free_port()) < 0)
		return -1;
	snprintf(p, sizeof(p), "%d", e.port);
	if ((e.pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execlp("redis-server", "redis-server", "--port", p, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no",
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && e.sync == NULL; i++) {
		struct timeval tv = {1, 0};
		redisContext *r =
		    redisConnectWithTimeout("127.0.0.1", e.port, tv);
		redisReply *rep;

		if (r != NULL && !r->err &&
		    (rep = redisCommand(r, "PING")) != NULL) {
			freeReplyObject(rep);
			e.sync = r;
			break;
		}
		if (r != NULL)
			redisFree(r);
		usleep(50000);
	}
	*state = &e;
	return e.pid > 0 && e.sync != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	redisFree(e->sync);
	kill(e->pid, SIGKILL);
	waitpid(e->pid, NULL, 0);
	return 0;
}

static redisReply *
cmd(struct env *e, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(e->sync, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

static void
run(struct env *e, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(e->sync, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

/* XADD S * n <i>; the entry's id into id. */
static void
add(struct env *e, int i, char *id, size_t len)
{
	redisReply *r = cmd(e, "XADD " S " * n %d", i);

	assert_int_equal(r->type, REDIS_REPLY_STRING);
	if (id != NULL)
		osh_strlcpy(id, r->str, len);
	freeReplyObject(r);
}

/* Entries pending in the group (all consumers, or one). */
static long long
pending(struct env *e, const char *consumer)
{
	redisReply *r;
	long long n = 0;

	if (consumer == NULL) {
		r = cmd(e, "XPENDING " S " " G);
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0)
			n = r->element[0]->integer;
	} else {
		r = cmd(e, "XPENDING " S " " G " - + 100 %s", consumer);
		n = r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;
	}
	freeReplyObject(r);
	return n;
}

static int
each_setup(void **state)
{
	struct env *e = *state;

	run(e, "FLUSHALL");
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

static void
spin(struct event_base *base, int ms)
{
	uint64_t end = osh_now_us() + (uint64_t)ms * 1000;

	while (osh_now_us() < end) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

/*
 * A service of the test's: what it does with each entry.
 */

enum act {
	ACT_STORE, /* done(STORED) at once */
	ACT_RETRY_FIRST, /* RETRY on the first delivery, then STORED */
	ACT_LEAVE_FIRST, /* LEAVE on the first delivery, then STORED */
	ACT_HOLD, /* keep it (held[]) */
	ACT_BATCH, /* settle the batch from a timer (done_all) */
};

struct svc {
	struct env *e;
	struct osh_stream_consumer *c;
	enum act act;
	size_t seen, dead, batches, batch_sizes[16];
	size_t out_at_batch_end; /* most entries in flight at a batch's end */
	char ids[MAX_SEEN][48];
	long long deliveries[MAX_SEEN];
	char values[MAX_SEEN][16];
	size_t lens[MAX_SEEN];
	struct osh_stream_msg *held[MAX_SEEN];
	size_t nheld;
	struct event *settle;
	bool released;
	const char *dead_reason; /* ops.dead: dead-letter with this */
};

static void
on_entry(struct osh_stream_msg *m, void *arg)
{
	struct svc *s = arg;
	const char *v = osh_stream_msg_field(m, "n", &s->lens[s->seen]);

	assert_true(s->seen < MAX_SEEN);
	osh_strlcpy(s->ids[s->seen], m->id, sizeof(s->ids[0]));
	s->deliveries[s->seen] = m->deliveries;
	osh_strlcpy(s->values[s->seen], v ? v : "", sizeof(s->values[0]));
	s->seen++;
	switch (s->act) {
	case ACT_STORE:
		osh_stream_consumer_done(s->c, m, OSH_STREAM_STORED);
		return;
	case ACT_RETRY_FIRST:
		osh_stream_consumer_done(s->c, m,
		    m->deliveries == 1 ? OSH_STREAM_RETRY : OSH_STREAM_STORED);
		return;
	case ACT_LEAVE_FIRST:
		osh_stream_consumer_done(s->c, m,
		    m->deliveries == 1 ? OSH_STREAM_LEAVE : OSH_STREAM_STORED);
		return;
	case ACT_HOLD:
	case ACT_BATCH: s->held[s->nheld++] = m; return;
	}
}

static void
on_dead(struct osh_stream_msg *m, void *arg)
{
	struct svc *s = arg;

	s->dead++;
	osh_stream_consumer_dead(s->c, m, s->dead_reason);
}

static void
on_settle(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	s->nheld = 0;
	osh_stream_consumer_done_all(s->c, OSH_STREAM_STORED);
}

static void
on_batch_end(void *arg)
{
	struct svc *s = arg;
	struct timeval tv = {0, 20000};
	size_t out = osh_stream_consumer_inflight(s->c);

	if (s->batches < OSH_ARRAY_LEN(s->batch_sizes))
		s->batch_sizes[s->batches] = s->nheld;
	s->batches++;
	if (out > s->out_at_batch_end)
		s->out_at_batch_end = out;
	if (s->act == ACT_BATCH)
		evtimer_add(s->settle, &tv);
}

static void
on_released(void *arg)
{
	((struct svc *)arg)->released = true;
}

static struct osh_stream_consumer_config
config(const char *name)
{
	return (struct osh_stream_consumer_config){
	    .stream = S,
	    .group = G,
	    .consumer = name,
	    .what = "test entries",
	    .count = 4,
	    .block_ms = 200,
	    .claim_idle_ms = 60000,
	    .retry_ms = 100,
	};
}

static struct osh_redis *
conn(struct env *e)
{
	struct osh_redis_options o = {"127.0.0.1", e->port, NULL, 2000, 0};

	return osh_redis_new(e->base, &o);
}

static void
start(struct svc *s, struct env *e,
    const struct osh_stream_consumer_config *cfg, struct osh_redis *cmd_conn,
    enum act act)
{
	struct osh_stream_consumer_ops ops = {
	    .entry = on_entry,
	    .dead = s->dead_reason != NULL ? on_dead : NULL,
	    .batch_end = on_batch_end,
	    .released = on_released,
	};

	s->e = e;
	s->act = act;
	s->settle = evtimer_new(e->base, on_settle, s);
	s->c =
	    osh_stream_consumer_new(e->base, conn(e), cmd_conn, cfg, &ops, s);
	assert_non_null(s->c);
}

static void
stop(struct svc *s)
{
	osh_stream_consumer_close(s->c);
	assert_true(s->released);
	event_free(s->settle);
}

struct want {
	struct svc *s;
	size_t seen;
};

static bool
seen_enough(void *arg)
{
	struct want *w = arg;

	return w->s->seen >= w->seen;
}

struct pend {
	struct env *e;
	const char *consumer;
	long long n;
};

static bool
pending_is(void *arg)
{
	struct pend *p = arg;

	return pending(p->e, p->consumer) == p->n;
}

static void
wait_seen(struct svc *s, size_t n, int ms)
{
	struct want w = {s, n};

	assert_true(run_until(s->e->base, seen_enough, &w, ms));
}

static void
wait_pending(struct env *e, const char *consumer, long long n, int ms)
{
	struct pend p = {e, consumer, n};

	assert_true(run_until(e->base, pending_is, &p, ms));
}

/* Whether the metrics render a line starting with line. */
static bool
rendered(struct osh_metrics *mx, const char *line)
{
	struct osh_buf out;
	bool found;

	osh_buf_init(&out, 1 << 16);
	osh_metrics_render(mx, &out);
	found = out.data != NULL && strstr(out.data, line) != NULL;
	osh_buf_release(&out);
	return found;
}

/* Claims entries idle ms, every 100 ms. */
static void
claiming(struct osh_stream_consumer_config *cfg, long long ms)
{
	cfg->claim_idle_ms = ms;
	cfg->claim_every_ms = 100;
}

/* A group with entries read by "ghost", which never acknowledges. */
static void
ghost_reads(struct env *e, int n, char ids[][48])
{
	run(e, "XGROUP CREATE " S " " G " 0 MKSTREAM");
	for (int i = 0; i < n; i++)
		add(e, i, ids[i], sizeof(ids[i]));
	run(e, "XREADGROUP GROUP " G " ghost COUNT 100 STREAMS " S " >");
	assert_int_equal(pending(e, "ghost"), n);
}

/*
 * Tests.
 */

/* New entries come in order with their fields (a value may hold a NUL),
 * delivered once, acknowledged once stored; reads ask for no more than
 * the room (count 4, max_inflight 4). */
static void
new_entries_acked(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct svc s = {0};
	redisReply *r;

	start(&s, e, &cfg, NULL, ACT_STORE);
	for (int i = 0; i < 9; i++)
		add(e, i, NULL, 0);
	r = cmd(e, "XADD " S " * n %b", "a\0b", (size_t)3);
	freeReplyObject(r);
	wait_seen(&s, 10, 5000);
	for (int i = 0; i < 9; i++) {
		char want[8];
		snprintf(want, sizeof(want), "%d", i);
		assert_string_equal(s.values[i], want);
		assert_int_equal(s.deliveries[i], 1);
	}
	assert_int_equal(s.lens[9], 3);
	assert_string_equal(s.values[9], "a");
	wait_pending(e, NULL, 0, 3000);
	spin(e->base, 300);
	assert_int_equal(s.seen, 10);
	stop(&s);
}

/* One batch at a time: batch_end after each read, the next read only
 * once the batch is acknowledged (done_all from a timer). */
static void
one_batch_at_a_time(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct svc s = {0};

	cfg.count = 3;
	cfg.one_batch = true;
	run(e, "XGROUP CREATE " S " " G " 0 MKSTREAM");
	for (int i = 0; i < 7; i++)
		add(e, i, NULL, 0);
	start(&s, e, &cfg, NULL, ACT_BATCH);
	wait_seen(&s, 7, 5000);
	wait_pending(e, NULL, 0, 3000);
	assert_int_equal(s.batches, 3);
	assert_int_equal(s.batch_sizes[0], 3);
	assert_int_equal(s.batch_sizes[1], 3);
	assert_int_equal(s.batch_sizes[2], 1);
	assert_int_equal(s.out_at_batch_end, 3);
	stop(&s);
}

/* Entries left pending by a dead consumer are claimed once idle, with
 * their delivery counts, handed out, counted, and acknowledged. */
static void
claims_dead_consumer(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct osh_metrics *mx = osh_metrics_new();
	struct svc s = {0};
	char ids[3][48];

	claiming(&cfg, 300);
	cfg.reclaimed = osh_metric_new(
	    mx, "t_reclaimed_total", "claimed", OSH_COUNTER, NULL, 0);
	ghost_reads(e, 3, ids);
	start(&s, e, &cfg, NULL, ACT_STORE);
	wait_seen(&s, 3, 5000);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(s.ids[i], ids[i]);
		assert_int_equal(s.deliveries[i], 2);
	}
	wait_pending(e, NULL, 0, 3000);
	assert_true(rendered(mx, "t_reclaimed_total 3"));
	stop(&s);
	osh_metrics_free(mx);
}

/* Delivered more than max_deliveries times: not handed out; the dead
 * letter (fields, dead_reason, dead_stream_id, dead_deliveries) is
 * written, by the loop (service_reason NULL: no dead callback) or after
 * the service's dead callback named a reason; then it is acknowledged. */
static void
check_dead(struct env *e, const char *service_reason, const char *want)
{
	struct osh_stream_consumer_config cfg = config("c1");
	struct osh_metrics *mx = osh_metrics_new();
	struct svc s = {.dead_reason = service_reason};
	char ids[2][48];
	redisReply *r, *f;

	claiming(&cfg, 200);
	cfg.max_deliveries = 5;
	cfg.dead_stream = DEAD;
	cfg.dead_lettered =
	    osh_metric_new(mx, "t_dead_total", "dead", OSH_COUNTER, NULL, 0);
	ghost_reads(e, 2, ids);
	/* The first looks delivered 9 times; the second is fine. */
	run(e, "XCLAIM " S " " G " ghost 0 %s IDLE 60000 RETRYCOUNT 9", ids[0]);
	start(&s, e, &cfg, NULL, ACT_STORE);
	wait_seen(&s, 1, 5000);
	assert_string_equal(s.ids[0], ids[1]);
	wait_pending(e, NULL, 0, 3000);
	assert_int_equal(s.seen, 1);
	assert_int_equal(s.dead, service_reason != NULL ? 1 : 0);
	r = cmd(e, "XRANGE " DEAD " - +");
	assert_int_equal(r->elements, 1);
	f = r->element[0]->element[1];
	assert_int_equal(f->elements, 8);
	assert_string_equal(f->element[0]->str, "n");
	assert_string_equal(f->element[1]->str, "0");
	assert_string_equal(f->element[2]->str, "dead_reason");
	assert_string_equal(f->element[3]->str, want);
	assert_string_equal(f->element[4]->str, "dead_stream_id");
	assert_string_equal(f->element[5]->str, ids[0]);
	assert_string_equal(f->element[6]->str, "dead_deliveries");
	assert_string_equal(f->element[7]->str, "10");
	freeReplyObject(r);
	assert_true(rendered(mx, "t_dead_total 1"));
	stop(&s);
	osh_metrics_free(mx);
}

static void
dead_letters(void **state)
{
	struct env *e = *state;

	check_dead(e, NULL, "delivered 10 times");
	run(e, "FLUSHALL");
	check_dead(e, "poison", "poison");
}

/* An entry handed back comes again, delivered twice, and is then
 * acknowledged. RETRY: read again from this consumer's own pending
 * entries after retry_ms, before anything new. LEAVE: claimed (from this
 * very consumer) once it has been idle claim_idle_ms. */
static void
handed_back(void **state)
{
	static const struct {
		enum act act;
		bool one_batch;
		long long claim_idle_ms, min_ms;
	} cases[] = {
	    {ACT_RETRY_FIRST, true, 60000, 100},
	    {ACT_LEAVE_FIRST, false, 400, 400},
	};
	struct env *e = *state;

	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct osh_stream_consumer_config cfg = config("c1");
		struct svc s = {0};
		uint64_t t0;

		run(e, "FLUSHALL");
		cfg.one_batch = cases[i].one_batch;
		claiming(&cfg, cases[i].claim_idle_ms);
		start(&s, e, &cfg, NULL, cases[i].act);
		spin(e->base, 300);
		t0 = osh_now_us();
		add(e, 1, NULL, 0);
		wait_seen(&s, 2, 5000);
		assert_true(
		    osh_now_us() - t0 >= (uint64_t)cases[i].min_ms * 1000);
		assert_string_equal(s.ids[0], s.ids[1]);
		assert_int_equal(s.deliveries[1], 2);
		wait_pending(e, NULL, 0, 3000);
		stop(&s);
	}
}

/* A consumer started under the name of one that stopped with entries
 * pending reads them first, without waiting for the claim. */
static void
own_pending_at_start(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("ghost");
	struct svc s = {0};
	char ids[2][48];

	ghost_reads(e, 2, ids);
	start(&s, e, &cfg, NULL, ACT_STORE);
	wait_seen(&s, 2, 3000);
	assert_string_equal(s.ids[0], ids[0]);
	assert_int_equal(s.deliveries[0], 2);
	wait_pending(e, NULL, 0, 3000);
	stop(&s);
}

/* An entry held past the claim idle time is claimed by this consumer
 * from itself, but not handed out a second time. */
static void
held_entry_not_handed_twice(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct svc s = {0};

	claiming(&cfg, 100);
	start(&s, e, &cfg, NULL, ACT_HOLD);
	add(e, 1, NULL, 0);
	wait_seen(&s, 1, 3000);
	spin(e->base, 800);
	assert_int_equal(s.seen, 1);
	osh_stream_consumer_done(s.c, s.held[0], OSH_STREAM_STORED);
	wait_pending(e, NULL, 0, 3000);
	stop(&s);
}

static bool
released(void *arg)
{
	return ((struct svc *)arg)->released;
}

/* Closed with entries out: they stay valid; settled later they are
 * acknowledged over the borrowed connection, and the consumer goes
 * with the last of them. Without one they stay pending. */
static void
close_with_entries_out(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct osh_redis *cmd_conn = conn(e);
	struct svc s = {0}, t = {0};

	start(&s, e, &cfg, cmd_conn, ACT_HOLD);
	add(e, 1, NULL, 0);
	add(e, 2, NULL, 0);
	wait_seen(&s, 2, 3000);
	osh_stream_consumer_close(s.c);
	assert_false(s.released);
	osh_stream_consumer_done(s.c, s.held[0], OSH_STREAM_STORED);
	osh_stream_consumer_done(s.c, s.held[1], OSH_STREAM_STORED);
	assert_true(run_until(e->base, released, &s, 3000));
	assert_int_equal(pending(e, NULL), 0);
	event_free(s.settle);

	cfg.consumer = "c2";
	start(&t, e, &cfg, NULL, ACT_HOLD);
	add(e, 3, NULL, 0);
	wait_seen(&t, 1, 3000);
	osh_stream_consumer_close(t.c);
	assert_false(t.released);
	osh_stream_consumer_done(t.c, t.held[0], OSH_STREAM_STORED);
	assert_true(t.released);
	assert_int_equal(pending(e, "c2"), 1);
	event_free(t.settle);
	osh_redis_free(cmd_conn);
}

/* Its connection dropped, the consumer comes back and goes on. */
static void
reconnects(void **state)
{
	struct env *e = *state;
	struct osh_stream_consumer_config cfg = config("c1");
	struct svc s = {0};

	start(&s, e, &cfg, NULL, ACT_STORE);
	add(e, 1, NULL, 0);
	wait_seen(&s, 1, 3000);
	run(e, "CLIENT KILL TYPE normal SKIPME yes");
	spin(e->base, 200);
	add(e, 2, NULL, 0);
	wait_seen(&s, 2, 8000);
	assert_string_equal(s.values[1], "2");
	wait_pending(e, NULL, 0, 3000);
	stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		new_entries_acked, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		one_batch_at_a_time, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		claims_dead_consumer, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		dead_letters, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		handed_back, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		own_pending_at_start, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		held_entry_not_handed_twice, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		close_with_entries_out, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(
		reconnects, each_setup, each_teardown),
	};
	osh_log_init("test", getenv("DEBUG") ? OSH_LOG_DEBUG : OSH_LOG_ERROR);
	return cmocka_run_group_tests_name(
	    "stream_consumer_live", tests, setup, teardown);
}
