/* Unit tests of the RMCP probe and the engine's probing path against a
 * host that answers junk, faster than any resend: every probe and every
 * request still ends by its deadline, and afterwards the process holds as
 * many descriptors, threads and engine sessions as before. No BMC needed:
 * the junk peer is a thread on loopback. */
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/rmcp.h"
#include "osh/util.h"

#define JUNK_EVERY_MS 50
#define SLACK_MS 200 /* a loaded two-core machine */
#define MAX_PEERS 256

/* The junk peer: remembers whoever sent it something and sends each of
 * them a datagram that is not an answer every JUNK_EVERY_MS. */
struct junk {
	int fd;
	uint16_t port;
	pthread_t thread;
	atomic_bool quit;
	atomic_long sent;
	struct sockaddr_in peers[MAX_PEERS];
	size_t npeers, next;
};

static struct junk J;
static struct event_base *base;

/* RMCP, an IPMI 1.5 session header and a message that answers another
 * command (Get Device ID): looks like a BMC, parses as nothing. */
static const uint8_t junk_rmcp[] = {0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0,
    0, 0, 0, 0x10, 0x81, 0x1c, 0x63, 0x20, 0x00, 0x01, 0x00, 0x20, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
static const uint8_t junk_bytes[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};

static void
remember(const struct sockaddr_in *sa)
{
	for (size_t i = 0; i < J.npeers; i++)
		if (J.peers[i].sin_port == sa->sin_port)
			return;
	if (J.npeers < MAX_PEERS) {
		J.peers[J.npeers++] = *sa;
		return;
	}
	J.peers[J.next] = *sa; /* the oldest have long gone */
	J.next = (J.next + 1) % MAX_PEERS;
}

static void *
junk_main(void *arg)
{
	uint64_t last = 0;
	unsigned k = 0;

	(void)arg;
	while (!atomic_load(&J.quit)) {
		struct pollfd pfd = {J.fd, POLLIN, 0};
		uint8_t buf[512];
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);

		if (poll(&pfd, 1, 10) > 0 &&
		    recvfrom(J.fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa,
			&salen) > 0)
			remember(&sa);
		if (osh_now_us() - last < JUNK_EVERY_MS * 1000u)
			continue;
		last = osh_now_us();
		for (size_t i = 0; i < J.npeers; i++, k++) {
			const uint8_t *p = k % 2 ? junk_bytes : junk_rmcp;
			size_t n =
			    k % 2 ? sizeof(junk_bytes) : sizeof(junk_rmcp);
			(void)!sendto(J.fd, p, n, 0,
			    (const struct sockaddr *)&J.peers[i],
			    sizeof(J.peers[i]));
			atomic_fetch_add(&J.sent, 1);
		}
	}
	return NULL;
}

static int
setup(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((J.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(J.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(J.fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	J.port = ntohs(sa.sin_port);
	if (pthread_create(&J.thread, NULL, junk_main, NULL) != 0)
		return -1;
	base = event_base_new();
	return base ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	atomic_store(&J.quit, true);
	pthread_join(J.thread, NULL);
	close(J.fd);
	event_base_free(base);
	return 0;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static int
threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	int n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			n = (int)strtol(line + 8, NULL, 10);
	fclose(f);
	return n;
}

static void
on_pumped(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

/* Runs the loop for ms, or less when a callback breaks it. Its own
 * timer, freed after, so that no stale exit cuts a later run short. */
static void
pump(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct event *ev = evtimer_new(base, on_pumped, NULL);

	assert_non_null(ev);
	evtimer_add(ev, &tv);
	event_base_dispatch(base);
	event_free(ev);
}

/* Pumps until *flag is set or ms pass. */
static void
pump_until(const bool *flag, int ms)
{
	uint64_t until = osh_now_us() + (uint64_t)ms * 1000u;

	while (!*flag && osh_now_us() < until)
		pump(50);
}

/* The value of an unlabelled series on a registry. */
static double
metric(struct osh_metrics *reg, const char *name)
{
	struct osh_buf b;
	char pat[128];
	const char *at;
	double v = -1;

	osh_buf_init(&b, 0);
	osh_metrics_render(reg, &b);
	snprintf(pat, sizeof(pat), "\n%s ", name);
	if ((at = strstr(b.data, pat)) != NULL)
		v = strtod(at + strlen(pat), NULL);
	osh_buf_release(&b);
	return v;
}

struct probe_wait {
	bool done;
	struct osh_rmcp_caps caps;
	uint64_t at_us;
};

static void
on_caps(const struct osh_rmcp_caps *caps, void *arg)
{
	struct probe_wait *w = arg;

	w->done = true;
	w->caps = *caps;
	w->at_us = osh_now_us();
}

/* The probe alone: junk every 50 ms does not keep it alive past its
 * timeout, and it leaves no socket behind. */
static void
probe_ends_by_its_timeout(void **state)
{
	int fds = open_fds();

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct probe_wait w = {0};
		int timeout = 300 + 100 * i;
		uint64_t t0 = osh_now_us();

		assert_int_equal(osh_rmcp_probe(base, "127.0.0.1", J.port,
				     timeout, on_caps, &w),
		    0);
		pump_until(&w.done, 2000);
		assert_true(w.done);
		assert_false(w.caps.answered);
		assert_true(
		    w.at_us - t0 <= (uint64_t)(timeout + SLACK_MS) * 1000u);
	}
	assert_int_equal(open_fds(), fds);
}

static void
on_caps_never(const struct osh_rmcp_caps *caps, void *arg)
{
	(void)caps;
	(void)arg;
	fail_msg("a cancelled probe answered");
}

/* A host sending nothing but junk is given up on after
 * OSH_RMCP_MAX_JUNK datagrams, before a long timeout; a cancelled probe
 * never calls back and leaves nothing behind. */
static void
probe_gives_up_on_junk_and_cancels(void **state)
{
	int fds = open_fds();
	struct probe_wait w = {0};
	struct osh_rmcp_probe *p[8];
	uint64_t t0 = osh_now_us();

	(void)state;
	assert_non_null(osh_rmcp_probe_start(
	    base, "127.0.0.1", J.port, 10000, on_caps, &w));
	pump_until(&w.done, 5000);
	assert_true(w.done);
	assert_false(w.caps.answered);
	assert_int_equal(w.caps.junk, OSH_RMCP_MAX_JUNK);
	assert_true(w.at_us - t0 < 5000000u);
	for (int i = 0; i < 8; i++)
		assert_non_null(p[i] = osh_rmcp_probe_start(base, "127.0.0.1",
				    J.port, 300, on_caps_never, NULL));
	pump(120); /* junk arrives meanwhile */
	for (int i = 0; i < 8; i++)
		osh_rmcp_probe_cancel(p[i]);
	pump(400); /* past their timeout: nothing calls back */
	assert_int_equal(open_fds(), fds);
	assert_null(osh_rmcp_probe_start(
	    base, "bmc.example", 623, 300, on_caps_never, NULL));
}

struct answer {
	bool done;
	enum osh_ipmi_err err;
	uint64_t due_us, at_us;
	int *left;
};
static struct answer ans[100];

static void
on_answer(const struct osh_ipmi_result *r, void *arg)
{
	struct answer *a = arg;

	assert_false(a->done);
	a->done = true;
	a->err = r->err;
	a->at_us = osh_now_us();
	if (--*a->left == 0)
		event_base_loopbreak(base);
}

/* 100 requests against the junk peer, in waves, with several
 * credentials (so several sessions) and repeats (so queues): each is
 * answered by its deadline, none sets a session aside as stuck, and the
 * descriptors, threads and sessions come back to what they were. */
static void
requests_against_junk_end_by_deadline(void **state)
{
	struct osh_ipmi_options o = {.threads = 4,
	    .idle_timeout_ms = 1000,
	    .max_queue_per_bmc = 64,
	    .max_sessions = 100};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(base, &o);
	int fds, nthreads, left, settled = 0;

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	pump(100); /* the pool's threads are up */
	fds = open_fds();
	nthreads = threads();
	for (int wave = 0; wave < 4; wave++) {
		left = 25;
		for (int i = 0; i < 25; i++) {
			struct answer *a = &ans[wave * 25 + i];
			struct osh_ipmi_target t;
			struct osh_ipmi_request rq = {
			    .want = OSH_IPMI_WANT_CHASSIS};
			/* Some outlast the probe's patience with junk. */
			int deadline =
			    i % 7 == 0 ? 1500 : 200 + 100 * ((i + wave) % 6);

			memset(&t, 0, sizeof(t));
			osh_strlcpy(t.host, "127.0.0.1", sizeof(t.host));
			t.port = J.port;
			snprintf(t.user, sizeof(t.user), "user%d", i % 5);
			snprintf(t.password, sizeof(t.password), "pw%d-%d",
			    i % 5, wave % 2);
			t.privilege = OSH_IPMI_PRIV_ADMIN;
			t.cipher_suite = 3;
			a->left = &left;
			a->due_us = osh_now_us() + (uint64_t)deadline * 1000u;
			assert_int_equal(
			    osh_ipmi_submit(m, &t, &rq, deadline, on_answer, a),
			    0);
			osh_ipmi_target_wipe(&t);
		}
		/* The longest deadline is 1.5 s. */
		for (uint64_t until = osh_now_us() + 3000000u;
		     left > 0 && osh_now_us() < until;)
			pump(50);
		assert_int_equal(left, 0);
	}
	for (int i = 0; i < 100; i++) {
		assert_true(ans[i].done);
		assert_int_not_equal(ans[i].err, OSH_IPMI_OK);
		assert_true(ans[i].at_us <= ans[i].due_us + SLACK_MS * 1000u);
	}
	assert_true(atomic_load(&J.sent) > 0);
	/* Idle sessions expire within a second or two of sweeping. */
	for (int k = 0; k < 80 && settled < 3; k++) {
		pump(100);
		if (osh_ipmi_session_count(m) == 0 && open_fds() == fds &&
		    threads() == nthreads)
			settled++;
		else
			settled = 0;
	}
	assert_int_equal(osh_ipmi_session_count(m), 0);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(threads(), nthreads);
	assert_true(metric(reg, "osh_ipmi_stuck_sessions_total") == 0);
	assert_true(metric(reg, "osh_ipmi_threads_stuck") == 0);
	osh_ipmi_free(m);
	osh_metrics_free(reg);
}

static void
on_shutdown(const struct osh_ipmi_result *r, void *arg)
{
	int *n = arg;

	assert_int_equal(r->err, OSH_IPMI_INTERNAL);
	++*n;
}

/* Freeing the engine while requests are probing or queued answers them
 * all and closes every probe's socket. */
static void
free_while_probing(void **state)
{
	struct osh_ipmi_options o = {.threads = 2,
	    .idle_timeout_ms = 1000,
	    .max_queue_per_bmc = 64,
	    .max_sessions = 100};
	struct osh_ipmi *m = osh_ipmi_new(base, &o);
	int fds, n = 0;

	(void)state;
	assert_non_null(m);
	fds = open_fds();
	for (int i = 0; i < 12; i++) {
		struct osh_ipmi_target t;
		struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};

		memset(&t, 0, sizeof(t));
		osh_strlcpy(t.host, "127.0.0.1", sizeof(t.host));
		t.port = J.port;
		snprintf(t.user, sizeof(t.user), "u%d", i % 4);
		t.privilege = OSH_IPMI_PRIV_ADMIN;
		assert_int_equal(
		    osh_ipmi_submit(m, &t, &rq, 5000, on_shutdown, &n), 0);
	}
	pump(100);
	assert_int_equal(osh_ipmi_session_count(m), 4);
	assert_true(open_fds() > fds);
	osh_ipmi_free(m);
	assert_int_equal(n, 12);
	pump(100);
	assert_true(open_fds() < fds); /* the pool's pipe went too */
}

static void
on_silent(const struct osh_ipmi_result *r, void *arg)
{
	struct answer *a = arg;

	a->done = true;
	a->err = r->err;
	a->at_us = osh_now_us();
	event_base_loopbreak(base);
}

/* A BMC that never answers, asked with a short probe (probe_ms): the
 * request is answered when the probe gives up, long before its deadline,
 * and no thread was involved. */
static void
short_probe_of_a_silent_bmc(void **state)
{
	struct osh_ipmi_options o = {.threads = 1, .max_sessions = 10};
	struct osh_ipmi *m = osh_ipmi_new(base, &o);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_CHASSIS, .probe_ms = 300};
	struct osh_ipmi_target t;
	struct answer a = {0};
	uint64_t start;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_non_null(m);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	memset(&t, 0, sizeof(t));
	osh_strlcpy(t.host, "127.0.0.1", sizeof(t.host));
	t.port = ntohs(sa.sin_port);
	osh_strlcpy(t.user, "admin", sizeof(t.user));
	t.privilege = OSH_IPMI_PRIV_ADMIN;
	start = osh_now_us();
	assert_int_equal(osh_ipmi_submit(m, &t, &rq, 5000, on_silent, &a), 0);
	for (uint64_t until = start + 6000000u;
	     !a.done && osh_now_us() < until;)
		pump(50);
	assert_true(a.done);
	assert_int_equal(a.err, OSH_IPMI_TIMEOUT);
	assert_true(a.at_us - start < (300u + SLACK_MS) * 1000u);
	osh_ipmi_free(m);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(probe_ends_by_its_timeout),
	    cmocka_unit_test(probe_gives_up_on_junk_and_cancels),
	    cmocka_unit_test(free_while_probing),
	    cmocka_unit_test(requests_against_junk_end_by_deadline),
	    cmocka_unit_test(short_probe_of_a_silent_bmc),
	};
	osh_log_init("test", OSH_LOG_ERROR);
	return cmocka_run_group_tests_name(
	    "ipmi_probe", tests, setup, teardown);
}
