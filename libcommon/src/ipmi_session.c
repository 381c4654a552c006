/* ipmi_session.c - the IPMI engine's sessions: one per BMC and
 * credentials, kept warm with keepalives, expired when idle, closed on a
 * worker (a slow close counted like a stuck thread), and set aside when a
 * request's worker is stuck so that the BMC gets a new session. */
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "ipmi_engine.h"
#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/util.h"
#include "osh/work.h"

/* BMCs drop sessions idle for 30 s (ipmi_sim) to 60 s (the IPMI default),
 * and a request sent on a dropped session is only noticed when FreeIPMI
 * gives up on it. So an open session idle this long gets one Get Chassis
 * Status, until the idle expiry closes it; and FreeIPMI is told to give
 * up on a session silent for longer than that plus ANSWER_MS. */
#define KEEPALIVE_MS 15000
#define ANSWER_MS 10000

/* Sessions are keyed by everything that makes them different, the
 * password included (hashed), so new credentials get a new session. */
static void
key_of(const struct osh_ipmi_target *t, unsigned char key[32])
{
	crypto_generichash_state st;
	uint8_t misc[8] = {t->ipmi15, t->privilege, t->cipher_suite,
	    (uint8_t)t->workarounds, (uint8_t)(t->workarounds >> 8),
	    (uint8_t)t->port, (uint8_t)(t->port >> 8), 0};

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(
	    &st, (const unsigned char *)t->host, strlen(t->host) + 1);
	crypto_generichash_update(
	    &st, (const unsigned char *)t->user, strlen(t->user) + 1);
	crypto_generichash_update(
	    &st, (const unsigned char *)t->password, strlen(t->password) + 1);
	crypto_generichash_update(&st, misc, sizeof(misc));
	crypto_generichash_final(&st, key, 32);
}

/* "host:port" for messages, with the address it was looked up to when
 * the host is a name: "bmc7.example (192.0.2.7):623". */
const char *
ipmi_where(const struct session *s, char *buf, size_t len)
{
	if (s->link.addr[0] == '\0' ||
	    strcmp(s->link.addr, s->target.host) == 0)
		snprintf(buf, len, "%.80s:%u", s->target.host, s->target.port);
	else
		snprintf(buf, len, "%.80s (%s):%u", s->target.host,
		    s->link.addr, s->target.port);
	return buf;
}

void
ipmi_session_free(struct session *s)
{
	if (!s->stuck) { /* a stuck one has left the list already */
		TAILQ_REMOVE(&s->m->sessions, s, next);
		LIST_REMOVE(s, by_key);
		s->m->nsessions--;
	}
	osh_ipmi_target_wipe(&s->target);
	s->m->held--;
	free(s);
}

/* The job's worker has not come back (done_job would have freed the job
 * and this timer): set its session aside, move the queue to a new one. */
void
ipmi_on_stuck(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg, *q;
	struct session *s = j->s, *ns;
	struct osh_ipmi *m = s->m;
	char host[200];

	(void)fd;
	(void)what;
	j->stuck = true;
	s->stuck = true;
	TAILQ_REMOVE(&m->sessions, s, next);
	LIST_REMOVE(s, by_key);
	m->nsessions--;
	m->stuck++;
	m->stats.stuck_sessions++;
	osh_work_pool_set_extra(m->pool, m->stuck);
	osh_log_warn(NULL,
	    "msg=\"BMC session stuck, opening a new one\" bmc=\"%s:%u\" "
	    "stuck_threads=%d",
	    osh_log_quote(s->target.host, host, sizeof(host)), s->target.port,
	    m->stuck);
	if (TAILQ_EMPTY(&s->queue))
		return;
	if ((ns = ipmi_session_get(m, &s->target)) == NULL) {
		while ((q = TAILQ_FIRST(&s->queue)) != NULL) {
			ipmi_dequeue(s, q);
			ipmi_fail_job(
			    q, OSH_IPMI_BUSY, "too many BMC sessions");
			ipmi_job_free(q);
		}
		return;
	}
	while ((q = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, q, next);
		s->nqueued--;
		q->s = ns;
		TAILQ_INSERT_TAIL(&ns->queue, q, next);
		ns->nqueued++;
	}
	ipmi_start(ns);
}

static void
close_work(void *arg)
{
	struct session *s = arg;

	s->close_started = true;
	ipmi_link_close(&s->link);
}

/* A close still on its worker after the grace: a BMC gone silent (or
 * reset, or powered off) with a session open, which FreeIPMI waits on
 * for its whole session timeout. Counted like a stuck request, so that a
 * rack of dead BMCs whose sessions expire does not take every worker. */
static void
on_close_slow(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct osh_ipmi *m = s->m;

	(void)fd;
	(void)what;
	if (!s->close_started) {
		/* Not on a thread yet: requests go first. */
		struct timeval grace = {
		    STUCK_GRACE_MS / 1000, (STUCK_GRACE_MS % 1000) * 1000};
		evtimer_add(s->close_timer, &grace);
		return;
	}
	s->close_slow = true;
	m->stuck++;
	m->stats.slow_closes++;
	if (!m->closing)
		osh_work_pool_set_extra(m->pool, m->stuck);
}

static void
close_done(void *arg)
{
	struct session *s = arg;
	struct osh_ipmi *m = s->m;

	m->on_workers--;
	s->busy = false;
	s->closing = false;
	if (s->close_timer != NULL) {
		event_free(s->close_timer);
		s->close_timer = NULL;
	}
	if (s->close_slow) {
		s->close_slow = false;
		m->stuck--;
		if (!m->closing)
			osh_work_pool_set_extra(m->pool, m->stuck);
	}
	if (TAILQ_EMPTY(&s->queue)) {
		ipmi_session_free(s);
		return;
	}
	ipmi_start(s); /* requests arrived meanwhile: a new session */
}

void
ipmi_close_session(struct session *s)
{
	if (s->busy || s->closing)
		return;
	if (s->link.ctx == NULL) {
		ipmi_link_close(&s->link); /* no session: no I/O */
		if (TAILQ_EMPTY(&s->queue))
			ipmi_session_free(s);
		return;
	}
	s->busy = s->closing = true;
	s->close_started = false;
	s->m->on_workers++;
	/* Background work past the queue's bound: closes are owed (and
	 * bounded by the sessions there are) but never delay a request. */
	if (osh_work_submit_background(s->m->pool, close_work, close_done, s) !=
	    0) {
		/* The pool is gone (shutting down): close it here, a wait
		 * of one retransmission at most. */
		ipmi_link_close(&s->link);
		close_done(s);
		return;
	}
	if (!s->m->closing &&
	    (s->close_timer = evtimer_new(s->m->base, on_close_slow, s)) !=
		NULL) {
		struct timeval grace = {
		    STUCK_GRACE_MS / 1000, (STUCK_GRACE_MS % 1000) * 1000};
		evtimer_add(s->close_timer, &grace);
	}
}

void
ipmi_close_cancel(struct session *s)
{
	if (!s->closing || s->forget || s->m->closing ||
	    osh_work_cancel(s->m->pool, s) != 0)
		return;
	s->m->on_workers--;
	s->busy = s->closing = false;
	if (s->close_timer != NULL) {
		event_free(s->close_timer);
		s->close_timer = NULL;
	}
}

struct session *
ipmi_session_get(struct osh_ipmi *m, const struct osh_ipmi_target *t)
{
	unsigned char key[32];
	struct session *s, *lru = NULL;
	struct session_bucket *b;

	key_of(t, key);
	b = &m->by_key[(key[0] | (unsigned)key[1] << 8) % SESSION_BUCKETS];
	LIST_FOREACH(s, b, by_key)
	{
		/* cppcheck-suppress uninitvar ; it does not know LIST */
		if (sodium_memcmp(s->key, key, 32) == 0 && !s->forget)
			break;
	}
	if (s != NULL) {
		/* Most recently used first: cheap lookups. */
		TAILQ_REMOVE(&m->sessions, s, next);
		TAILQ_INSERT_HEAD(&m->sessions, s, next);
		return s;
	}
	if (m->nsessions >= m->opt.max_sessions) {
		TAILQ_FOREACH_REVERSE(s, &m->sessions, session_list, next)
		if (!s->busy && TAILQ_EMPTY(&s->queue)) {
			lru = s;
			break;
		}
		if (lru == NULL)
			return NULL;
		lru->forget = true;
		ipmi_close_session(lru);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->m = m;
	memcpy(s->key, key, 32);
	s->target = *t;
	s->link.session_timeout_ms =
	    (unsigned)(m->opt.idle_timeout_ms < KEEPALIVE_MS
		    ? m->opt.idle_timeout_ms
		    : KEEPALIVE_MS) +
	    ANSWER_MS;
	TAILQ_INIT(&s->queue);
	TAILQ_INSERT_HEAD(&m->sessions, s, next);
	LIST_INSERT_HEAD(b, s, by_key);
	m->nsessions++;
	m->held++;
	return s;
}

static void
on_keepalive(const struct osh_ipmi_result *r, void *arg)
{
	(void)r;
	(void)arg;
}

static void
keepalive(struct session *s)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return;
	j->keepalive = true;
	j->rq.want = OSH_IPMI_WANT_CHASSIS;
	j->cb = on_keepalive;
	if (ipmi_enqueue(s, j, ANSWER_MS / 2) != 0)
		free(j);
}

void
osh_ipmi_forget(struct osh_ipmi *m, const char *host, uint16_t port)
{
	struct session *s, *tmp;

	for (s = TAILQ_FIRST(&m->sessions); s != NULL; s = tmp) {
		tmp = TAILQ_NEXT(s, next);
		if (s->target.port == port &&
		    strcmp(s->target.host, host) == 0) {
			s->forget = true;
			if (!s->busy && TAILQ_EMPTY(&s->queue))
				ipmi_close_session(s);
		}
	}
}

/* Closes sessions idle too long, and keeps the others warm. Keepalives
 * are background work, run only when no request waits for a thread, so
 * that they never delay nor crowd out requests: with thousands of
 * sessions (a poller going round 10,000 BMCs) they come due by the
 * thousand. At most half the request queue's bound of them wait at once;
 * one not sent now (or whose deadline passed while it waited) is sent by
 * a later sweep, within the BMC's idle limit. */
void
ipmi_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct osh_ipmi *m = arg;
	uint64_t now = osh_now_us();
	uint64_t idle = (uint64_t)m->opt.idle_timeout_ms * 1000u;
	struct session *s, *tmp;

	(void)fd;
	(void)what;
	for (s = TAILQ_FIRST(&m->sessions); s != NULL; s = tmp) {
		tmp = TAILQ_NEXT(s, next);
		if (s->busy || !TAILQ_EMPTY(&s->queue))
			continue;
		if (s->forget || now - s->last_used_us > idle)
			ipmi_close_session(s);
		else if (s->link.ctx != NULL && s->healthy &&
		    now - s->last_alive_us >= KEEPALIVE_MS * 1000ull &&
		    osh_work_queued_background(m->pool) <
			m->opt.max_waiting / 2)
			keepalive(s);
	}
}

size_t
osh_ipmi_session_count(const struct osh_ipmi *m)
{
	return m->held;
}
