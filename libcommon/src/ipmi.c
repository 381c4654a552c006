/* ipmi.c - the IPMI engine on the event loop: sessions per BMC, one
 * request in flight per BMC with the others queued, deadlines, idle
 * expiry, host names looked up and BMCs probed before a session is
 * opened, and the hand-off to worker threads (see ipmi_link.c). */
#include <event2/event.h>
#include <sodium.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "ipmi_engine.h"
#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/resolve.h"
#include "osh/rmcp.h"
#include "osh/util.h"
#include "osh/work.h"

#define SWEEP_MS 1000
/* A request still on its worker this long after its deadline is stuck in
 * FreeIPMI on a session the BMC forgot (it was reset, say): FreeIPMI
 * waits out its whole session timeout. The session is then set aside
 * and the BMC gets a new one; the thread is counted as lost until it
 * comes back. */
#define STUCK_GRACE_MS 1000
/* BMCs drop sessions idle for 30 s (ipmi_sim) to 60 s (the IPMI default),
 * and a request sent on a dropped session is only noticed when FreeIPMI
 * gives up on it. So an open session idle this long gets one Get Chassis
 * Status, until the idle expiry closes it; and FreeIPMI is told to give
 * up on a session silent for longer than that plus ANSWER_MS. */
#define KEEPALIVE_MS 15000
#define ANSWER_MS 10000
/* Room for where(): a host of 80 bytes, an address and a port. */
#define BMC_TEXT 140

/* An answer on its way to the caller. Callbacks never run inside the
 * engine's own frames but from m->deliver on the next turn of the loop,
 * so a callback may submit, forget sessions or close them at will (one
 * that forgot the session it was answered on once freed it under the
 * frame still using it). Allocated with the job, so answering cannot
 * fail for want of memory. */
struct delivery {
	TAILQ_ENTRY(delivery) next;
	osh_ipmi_cb cb;
	void *arg;
	struct osh_ipmi_result res; /* owned: released after the callback */
};

struct job {
	TAILQ_ENTRY(job) next;
	struct osh_ipmi *m;
	struct session *s;
	struct osh_ipmi_request rq;
	struct osh_ipmi_result res;
	osh_ipmi_cb cb;
	void *arg;
	uint64_t deadline_us;
	uint64_t work_deadline_us; /* the worker stops then, to answer */
	struct event *timer;
	struct osh_resolve_req *lookup; /* looking the host name up */
	enum osh_resolve_status lookup_st; /* its answer */
	bool looking_up; /* the lookup has not answered yet */
	bool lookup_inline; /* inside osh_resolve: the answer waits */
	struct osh_rmcp_probe *probe; /* asking whether the BMC is there */
	struct delivery *delivery; /* for the answer; NULL for keepalives */
	bool replied, running, queued, stuck;
	bool keepalive; /* ours, not a caller's */
};

static void start(struct session *s);
static void close_session(struct session *s);
static struct session *session_get(
    struct osh_ipmi *m, const struct osh_ipmi_target *t);
static void run_job(struct job *j);
static int probe_first(struct session *s, struct job *j);
static void work_job(void *arg);
static void done_job(void *arg);

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

static void
job_free(struct job *j)
{
	ipmi_result_release(&j->res);
	if (j->timer != NULL)
		event_free(j->timer);
	free(j->delivery);
	free(j);
}

/* Takes a queued job off its session's queue. */
static void
dequeue(struct session *s, struct job *j)
{
	TAILQ_REMOVE(&s->queue, j, next);
	s->nqueued--;
	j->queued = false;
}

/* Gives the answers waiting, oldest first; callbacks may add more. */
static void
on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct osh_ipmi *m = arg;
	struct delivery *d;

	(void)fd;
	(void)what;
	while ((d = TAILQ_FIRST(&m->deliveries)) != NULL) {
		TAILQ_REMOVE(&m->deliveries, d, next);
		d->cb(&d->res, d->arg);
		ipmi_result_release(&d->res);
		free(d);
	}
}

/* Answers the caller, once: r is copied (j->res is taken over, its
 * arrays included) and handed over on the next turn of the loop. */
static void
reply(struct job *j, const struct osh_ipmi_result *r)
{
	struct osh_ipmi *m = j->m;
	struct delivery *d = j->delivery;

	if (j->replied)
		return;
	j->replied = true;
	if (j->keepalive) {
		m->stats.keepalives++;
		return;
	}
	m->stats.requests++;
	if (r->err != OSH_IPMI_OK)
		m->stats.errors_by_kind[r->err]++;
	j->delivery = NULL;
	d->cb = j->cb;
	d->arg = j->arg;
	d->res = *r;
	if (r == &j->res)
		memset(&j->res, 0, sizeof(j->res));
	TAILQ_INSERT_TAIL(&m->deliveries, d, next);
	event_active(m->deliver, EV_TIMEOUT, 0);
}

/* Answers with an error in a result of its own: j->res may still be a
 * worker's to write. */
static void
fail_job(struct job *j, enum osh_ipmi_err e, const char *msg)
{
	struct osh_ipmi_result r;

	memset(&r, 0, sizeof(r));
	r.err = e;
	osh_strlcpy(r.message, msg, sizeof(r.message));
	reply(j, &r);
}

/* "host:port" for messages, with the address it was looked up to when
 * the host is a name: "bmc7.example (192.0.2.7):623". */
static const char *
where(const struct session *s, char *buf, size_t len)
{
	if (s->link.addr[0] == '\0' ||
	    strcmp(s->link.addr, s->target.host) == 0)
		snprintf(buf, len, "%.80s:%u", s->target.host, s->target.port);
	else
		snprintf(buf, len, "%.80s (%s):%u", s->target.host,
		    s->link.addr, s->target.port);
	return buf;
}

static void
session_free(struct session *s)
{
	if (!s->stuck) { /* a stuck one has left the list already */
		TAILQ_REMOVE(&s->m->sessions, s, next);
		s->m->nsessions--;
	}
	osh_ipmi_target_wipe(&s->target);
	s->m->held--;
	free(s);
}

/* The job's worker has not come back (done_job would have freed the job
 * and this timer): set its session aside, move the queue to a new one. */
static void
on_stuck(evutil_socket_t fd, short what, void *arg)
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
	if ((ns = session_get(m, &s->target)) == NULL) {
		while ((q = TAILQ_FIRST(&s->queue)) != NULL) {
			dequeue(s, q);
			fail_job(q, OSH_IPMI_BUSY, "too many BMC sessions");
			job_free(q);
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
	start(ns);
}

/* A job that ran on the loop alone (probing, or refused by the pool) is
 * over: its session is free for the next. */
static void
job_end(struct job *j)
{
	struct session *s = j->s;

	s->busy = false;
	s->job = NULL;
	job_free(j);
	start(s);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct session *s = j->s;
	struct timeval grace = {
	    STUCK_GRACE_MS / 1000, (STUCK_GRACE_MS % 1000) * 1000};
	char msg[160], bmc[BMC_TEXT];

	(void)fd;
	(void)what;
	if (j->queued) {
		dequeue(s, j);
		if (s->job != NULL && s->job->looking_up) {
			/* Behind the lookup of the same name. */
			snprintf(msg, sizeof(msg),
			    "cannot resolve %.100s: no answer from DNS in "
			    "time (timeout)",
			    s->target.host);
			fail_job(j, OSH_IPMI_UNREACHABLE, msg);
		} else {
			fail_job(j, OSH_IPMI_TIMEOUT,
			    "the BMC is still busy with an earlier request");
		}
		job_free(j);
		return;
	}
	if (j->looking_up) {
		/* DNS has not answered: the name does not resolve in time.
		 * No thread is involved either. */
		osh_resolve_cancel(j->lookup);
		j->lookup = NULL;
		j->looking_up = false;
		s->m->stats.lookups_failed++;
		snprintf(msg, sizeof(msg),
		    "cannot resolve %.100s: no answer from DNS in time (timeout)",
		    s->target.host);
		fail_job(j, OSH_IPMI_UNREACHABLE, msg);
		job_end(j);
		return;
	}
	if (j->probe != NULL) {
		/* Still asking whether anything is there, on the loop: no
		 * thread is involved, so nothing can be stuck. */
		osh_rmcp_probe_cancel(j->probe);
		j->probe = NULL;
		snprintf(msg, sizeof(msg), "no answer from %.120s in time",
		    where(s, bmc, sizeof(bmc)));
		fail_job(j, OSH_IPMI_TIMEOUT, msg);
		job_end(j);
		return;
	}
	/* On a worker: answer now; the worker's result is dropped later. */
	fail_job(j, OSH_IPMI_TIMEOUT, "the BMC did not answer in time");
	/* Not pending now, so the timer can be pointed at the stuck check. */
	event_assign(j->timer, s->m->base, -1, 0, on_stuck, j);
	evtimer_add(j->timer, &grace);
}

static void
on_refused(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	reply(j, &j->res);
	job_free(j);
}

static void
work_job(void *arg)
{
	struct job *j = arg;

	if (j->keepalive)
		ipmi_link_keepalive(&j->s->link, &j->res);
	else
		ipmi_link_run(&j->s->link, &j->s->target, &j->rq,
		    j->work_deadline_us, &j->res);
}

static void
done_job(void *arg)
{
	struct job *j = arg;
	struct session *s = j->s;
	struct osh_ipmi *m = j->m;

	m->on_workers--;
	s->busy = false;
	s->job = NULL;
	s->last_alive_us = osh_now_us();
	if (!j->keepalive)
		s->last_used_us = s->last_alive_us;
	s->healthy = j->res.err == OSH_IPMI_OK || j->res.done != 0;
	if (j->res.new_session)
		m->stats.session_setups++;
	if (j->rq.want & (OSH_IPMI_WANT_SENSORS | OSH_IPMI_WANT_SEL)) {
		if (j->res.sdr_cached)
			m->stats.sdr_hits++;
		else if (j->res.done & OSH_IPMI_WANT_SENSORS)
			m->stats.sdr_reloads++;
	}
	m->stats.bad_records += j->res.skipped_records;
	m->stats.sel_records += j->res.sel_read;
	reply(j, &j->res);
	if (j->stuck) {
		m->stuck--;
		/* Not while osh_ipmi_free tears the pool down (its drain runs
		 * this after the threads were joined): a thread started then
		 * would outlive the pool. */
		if (!m->closing)
			osh_work_pool_set_extra(m->pool, m->stuck);
	}
	job_free(j);
	if (s->stuck) {
		/* Set aside: nothing is queued on it any more. */
		close_session(s);
		return;
	}
	start(s);
}

static void
close_work(void *arg)
{
	struct session *s = arg;

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
		session_free(s);
		return;
	}
	start(s); /* requests arrived meanwhile: a new session */
}

static void
close_session(struct session *s)
{
	if (s->busy || s->closing)
		return;
	if (s->link.ctx == NULL) {
		ipmi_link_close(&s->link); /* no session: no I/O */
		if (TAILQ_EMPTY(&s->queue))
			session_free(s);
		return;
	}
	s->busy = s->closing = true;
	s->m->on_workers++;
	if (osh_work_submit(s->m->pool, close_work, close_done, s) != 0) {
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

/* Hands a job to a worker thread. */
static void
run_job(struct job *j)
{
	struct session *s = j->s;

	if (osh_work_submit(s->m->pool, work_job, done_job, j) != 0) {
		fail_job(j, OSH_IPMI_BUSY, "too many BMC requests");
		job_end(j);
		return;
	}
	s->m->on_workers++;
}

/* The probe ended before the job's deadline (which would have cancelled
 * it): run the job if something answered, else answer here. */
static void
on_probe(const struct osh_rmcp_caps *caps, void *arg)
{
	struct job *j = arg;
	struct session *s = j->s;
	enum osh_ipmi_err e = OSH_IPMI_TIMEOUT;
	char msg[160], bmc[BMC_TEXT];

	j->probe = NULL;
	if (caps->answered) {
		run_job(j);
		return;
	}
	/* Nothing answers: no thread needs to wait for it. */
	where(s, bmc, sizeof(bmc));
	if (caps->refused) {
		e = OSH_IPMI_UNREACHABLE;
		snprintf(msg, sizeof(msg), "nothing listens at %.120s", bmc);
	} else if (caps->junk > 0) {
		e = OSH_IPMI_BAD_RESPONSE;
		snprintf(msg, sizeof(msg),
		    "%.110s sent %u datagrams, none an IPMI answer", bmc,
		    caps->junk);
	} else {
		snprintf(msg, sizeof(msg), "no answer from %.120s", bmc);
	}
	fail_job(j, e, msg);
	job_end(j);
}

static int
left_ms(const struct job *j)
{
	uint64_t now = osh_now_us();

	return j->deadline_us > now ? (int)((j->deadline_us - now) / 1000) : 0;
}

/* Before opening a session, asks the BMC over RMCP whether it is there,
 * at the address looked up, on the loop and within the deadline, so that
 * dead BMCs do not hold worker threads. Returns -1 when it cannot (no
 * socket). */
static int
probe_first(struct session *s, struct job *j)
{
	j->probe = osh_rmcp_probe_start(
	    s->m->base, s->link.addr, s->target.port, left_ms(j), on_probe, j);
	return j->probe != NULL ? 0 : -1;
}

/* What a failed lookup says: how it failed, in words and as the
 * resolver's code. */
static const char *
lookup_error(enum osh_resolve_status st)
{
	switch (st) {
	case OSH_RESOLVE_NOT_FOUND: return "no such host";
	case OSH_RESOLVE_TIMEOUT: return "no answer from DNS in time";
	case OSH_RESOLVE_BUSY: return "too many lookups at once";
	case OSH_RESOLVE_INVALID: return "not a host name or address";
	case OSH_RESOLVE_CANCELLED: return "shutting down";
	case OSH_RESOLVE_OK:
	case OSH_RESOLVE_FAILED: break;
	}
	return "the resolver failed";
}

/* The host is looked up (or failed to be): probe the address, or answer
 * j and every request queued behind it, which would ask the same name
 * now. */
static void
looked_up(struct job *j)
{
	struct session *s = j->s;
	struct osh_ipmi *m = s->m;
	enum osh_resolve_status st = j->lookup_st;
	enum osh_ipmi_err e = OSH_IPMI_UNREACHABLE;
	struct job *q;
	char msg[160];

	if (st == OSH_RESOLVE_OK) {
		m->stats.lookups_ok++;
		if (probe_first(s, j) != 0)
			run_job(j);
		return;
	}
	m->stats.lookups_failed++;
	if (st == OSH_RESOLVE_BUSY)
		e = OSH_IPMI_BUSY;
	else if (st == OSH_RESOLVE_CANCELLED)
		e = OSH_IPMI_INTERNAL;
	snprintf(msg, sizeof(msg), "cannot resolve %.100s: %s (%s)",
	    s->target.host, lookup_error(st), osh_resolve_status_str(st));
	while ((q = TAILQ_FIRST(&s->queue)) != NULL) {
		dequeue(s, q);
		fail_job(q, e, msg);
		job_free(q);
	}
	fail_job(j, e, msg);
	job_end(j);
}

static void
on_lookup(enum osh_resolve_status st, const struct osh_resolved *res, void *arg)
{
	struct job *j = arg;

	j->lookup = NULL;
	j->looking_up = false;
	j->lookup_st = st;
	/* The first address (IPv4 first): the session goes there. */
	if (st == OSH_RESOLVE_OK)
		osh_strlcpy(
		    j->s->link.addr, res->text[0], sizeof(j->s->link.addr));
	if (!j->lookup_inline)
		looked_up(j);
}

/* Sessions are opened to an address: the host is looked up first, on
 * the loop and within the deadline, at every opening (so that a BMC whose
 * address changed is followed; the resolver's cache keeps it cheap, and
 * an address answers itself). FreeIPMI only ever gets the address, so no
 * worker waits on DNS. */
static void
open_first(struct session *s, struct job *j)
{
	struct osh_resolve_req *q;

	if (s->m->resolver == NULL) { /* freed: osh_ipmi_free has begun */
		j->lookup_st = OSH_RESOLVE_CANCELLED;
		looked_up(j);
		return;
	}
	s->link.addr[0] = '\0';
	j->looking_up = true;
	j->lookup_inline = true;
	q = osh_resolve(s->m->resolver, s->target.host, AF_UNSPEC, left_ms(j),
	    on_lookup, j);
	j->lookup_inline = false;
	if (j->looking_up) {
		j->lookup = q; /* the answer comes later */
		return;
	}
	looked_up(j); /* answered at once (on_lookup waited) */
}

/* Starts the next queued job of a session, if it is free. */
static void
start(struct session *s)
{
	struct job *j;

	if (s->busy)
		return;
	if (s->forget && TAILQ_EMPTY(&s->queue)) {
		close_session(s);
		return;
	}
	while ((j = TAILQ_FIRST(&s->queue)) != NULL) {
		dequeue(s, j);
		if (osh_now_us() >= j->deadline_us) {
			fail_job(
			    j, OSH_IPMI_TIMEOUT, "deadline passed in queue");
			job_free(j);
			continue;
		}
		if (j->keepalive && s->link.ctx == NULL) {
			job_free(j); /* the session it was for is gone */
			continue;
		}
		s->busy = true;
		s->job = j;
		j->running = true;
		if (s->link.ctx == NULL)
			open_first(s, j);
		else
			run_job(j);
		return;
	}
}

static struct session *
session_get(struct osh_ipmi *m, const struct osh_ipmi_target *t)
{
	unsigned char key[32];
	struct session *s, *lru = NULL;

	key_of(t, key);
	TAILQ_FOREACH(s, &m->sessions, next)
	{
		/* cppcheck-suppress uninitvar ; it does not know TAILQ */
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
		close_session(lru);
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
	m->nsessions++;
	m->held++;
	return s;
}

/* Queues j on s with its deadline timer; answers BUSY (on the next loop
 * turn, like everything else) when the BMC's queue is full. */
static int
enqueue(struct session *s, struct job *j, int deadline_ms)
{
	struct osh_ipmi *m = s->m;
	struct timeval tv;

	if (deadline_ms < 1)
		deadline_ms = 1;
	j->m = m;
	j->s = s;
	j->deadline_us = osh_now_us() + (uint64_t)deadline_ms * 1000u;
	/* The worker stops a little early so that a partial result can
	 * reach the caller by the deadline. */
	j->work_deadline_us = j->deadline_us -
	    (deadline_ms >= 1000 ? 100000u : (uint64_t)deadline_ms * 100u);
	tv.tv_sec = deadline_ms / 1000;
	tv.tv_usec = (deadline_ms % 1000) * 1000;
	if (s->nqueued >= m->opt.max_queue_per_bmc) {
		struct timeval now = {0, 0};

		j->res.err = OSH_IPMI_BUSY;
		osh_strlcpy(j->res.message,
		    "too many requests queued for this BMC",
		    sizeof(j->res.message));
		if ((j->timer = evtimer_new(m->base, on_refused, j)) == NULL)
			return -1;
		evtimer_add(j->timer, &now);
		return 0;
	}
	if ((j->timer = evtimer_new(m->base, on_deadline, j)) == NULL)
		return -1;
	evtimer_add(j->timer, &tv);
	TAILQ_INSERT_TAIL(&s->queue, j, next);
	s->nqueued++;
	j->queued = true;
	start(s);
	return 0;
}

int
osh_ipmi_submit(struct osh_ipmi *m, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, int deadline_ms, osh_ipmi_cb cb,
    void *arg)
{
	struct session *s;
	struct job *j;

	if (m->closing || (j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->rq = *rq;
	j->cb = cb;
	j->arg = arg;
	if ((j->delivery = calloc(1, sizeof(*j->delivery))) == NULL ||
	    (s = session_get(m, t)) == NULL ||
	    enqueue(s, j, deadline_ms) != 0) {
		free(j->delivery);
		free(j);
		return -1;
	}
	return 0;
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
	if (enqueue(s, j, ANSWER_MS / 2) != 0)
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
				close_session(s);
		}
	}
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
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
			close_session(s);
		else if (s->link.ctx != NULL && s->healthy &&
		    now - s->last_alive_us >= KEEPALIVE_MS * 1000ull)
			keepalive(s);
	}
}

struct osh_ipmi *
osh_ipmi_new(struct event_base *base, const struct osh_ipmi_options *opt)
{
	struct osh_ipmi *m = calloc(1, sizeof(*m));
	struct timeval tv = {SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000};

	if (m == NULL)
		return NULL;
	m->base = base;
	m->opt = *opt;
	if (m->opt.threads < 1)
		m->opt.threads = 16;
	if (m->opt.idle_timeout_ms < 1000)
		m->opt.idle_timeout_ms = 45000;
	if (m->opt.max_queue_per_bmc == 0)
		m->opt.max_queue_per_bmc = 64;
	if (m->opt.max_sessions == 0)
		m->opt.max_sessions = 4096;
	TAILQ_INIT(&m->sessions);
	TAILQ_INIT(&m->deliveries);
	if ((m->resolver = opt->resolver) == NULL) {
		m->resolver = osh_resolver_new(base,
		    &(struct osh_resolver_options){
			.cache_ttl_s = OSH_IPMI_RESOLVE_TTL_S,
			.nameservers = opt->nameservers,
		    });
		m->own_resolver = true;
	}
	m->opt.resolver = NULL; /* m->resolver says */
	m->opt.nameservers = NULL; /* the caller's, read once */
	m->pool = osh_work_pool_new(base, m->opt.threads, 100000);
	m->sweep = event_new(base, -1, EV_PERSIST, on_sweep, m);
	m->deliver = event_new(base, -1, 0, on_deliver, m);
	if (m->resolver == NULL || m->pool == NULL || m->sweep == NULL ||
	    m->deliver == NULL) {
		osh_ipmi_free(m);
		return NULL;
	}
	event_add(m->sweep, &tv);
	return m;
}

void
osh_ipmi_free(struct osh_ipmi *m)
{
	struct session *s, *tmp;
	struct job *j;

	if (m == NULL)
		return;
	/* Fail what waits, cancel probes, and close every session on the
	 * workers, all at once (each Close Session may wait a
	 * retransmission); sessions busy now close when their request ends.
	 * Closing first, so that callbacks asking for more are refused;
	 * forgotten, so that nothing moves the sessions. */
	m->closing = true;
	if (m->sweep != NULL) {
		event_free(m->sweep);
		m->sweep = NULL;
	}
	for (s = TAILQ_FIRST(&m->sessions); s != NULL; s = TAILQ_NEXT(s, next))
		s->forget = true;
	for (s = TAILQ_FIRST(&m->sessions); s != NULL; s = tmp) {
		tmp = TAILQ_NEXT(s, next);
		while ((j = TAILQ_FIRST(&s->queue)) != NULL) {
			dequeue(s, j);
			fail_job(j, OSH_IPMI_INTERNAL, "shutting down");
			job_free(j);
		}
		if ((j = s->job) != NULL &&
		    (j->probe != NULL || j->looking_up)) {
			osh_rmcp_probe_cancel(j->probe);
			j->probe = NULL;
			osh_resolve_cancel(j->lookup);
			j->lookup = NULL;
			j->looking_up = false;
			fail_job(j, OSH_IPMI_INTERNAL, "shutting down");
			s->busy = false;
			s->job = NULL;
			job_free(j);
		}
		close_session(s);
	}
	/* The lookups are cancelled: evdns lets go of them while the
	 * resolver's free turns the loop (the pool is still there for
	 * whatever finishes meanwhile). */
	if (m->own_resolver)
		osh_resolver_free(m->resolver);
	m->resolver = NULL;
	/* Do not wait long on BMCs that went silent mid-request: if threads
	 * are stuck, leave everything to the exit. Answers owed are given
	 * here either way: the loop may not turn again. */
	if (osh_work_pool_free_within(m->pool, 3000) != 0) {
		on_deliver(-1, 0, m);
		return;
	}
	on_deliver(-1, 0, m);
	while ((s = TAILQ_FIRST(&m->sessions)) != NULL) {
		ipmi_link_close(&s->link);
		session_free(s);
	}
	if (m->deliver != NULL)
		event_free(m->deliver);
	free(m);
}

size_t
osh_ipmi_session_count(const struct osh_ipmi *m)
{
	return m->held;
}
