/* ipmi.c - the IPMI engine on the event loop: requests queued per BMC
 * with one in flight, deadlines, the hand-off to worker threads (see
 * ipmi_link.c) and answers given from a clean stack. Sessions, their
 * expiry and stuck threads are in ipmi_session.c; host lookups and
 * probes before a session opens in ipmi_lookup.c. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "ipmi_engine.h"
#include "osh/ipmi.h"
#include "osh/resolve.h"
#include "osh/rmcp.h"
#include "osh/util.h"
#include "osh/work.h"

#define SWEEP_MS 1000

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

void
ipmi_job_free(struct job *j)
{
	ipmi_result_release(&j->res);
	if (j->timer != NULL)
		event_free(j->timer);
	free(j->delivery);
	free(j);
}

/* Takes a queued job off its session's queue. */
void
ipmi_dequeue(struct session *s, struct job *j)
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
void
ipmi_fail_job(struct job *j, enum osh_ipmi_err e, const char *msg)
{
	struct osh_ipmi_result r;

	memset(&r, 0, sizeof(r));
	r.err = e;
	osh_strlcpy(r.message, msg, sizeof(r.message));
	reply(j, &r);
}

/* A job that ran on the loop alone (probing, or refused by the pool) is
 * over: its session is free for the next. */
void
ipmi_job_end(struct job *j)
{
	struct session *s = j->s;

	s->busy = false;
	s->job = NULL;
	ipmi_job_free(j);
	ipmi_start(s);
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
		ipmi_dequeue(s, j);
		if (s->job != NULL && s->job->looking_up) {
			/* Behind the lookup of the same name. */
			snprintf(msg, sizeof(msg),
			    "cannot resolve %.100s: no answer from DNS in "
			    "time (timeout)",
			    s->target.host);
			ipmi_fail_job(j, OSH_IPMI_UNREACHABLE, msg);
		} else {
			ipmi_fail_job(j, OSH_IPMI_TIMEOUT,
			    "the BMC is still busy with an earlier request");
		}
		ipmi_job_free(j);
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
		ipmi_fail_job(j, OSH_IPMI_UNREACHABLE, msg);
		ipmi_job_end(j);
		return;
	}
	if (j->probe != NULL) {
		/* Still asking whether anything is there, on the loop: no
		 * thread is involved, so nothing can be stuck. */
		osh_rmcp_probe_cancel(j->probe);
		j->probe = NULL;
		snprintf(msg, sizeof(msg), "no answer from %.120s in time",
		    ipmi_where(s, bmc, sizeof(bmc)));
		ipmi_fail_job(j, OSH_IPMI_TIMEOUT, msg);
		ipmi_job_end(j);
		return;
	}
	if (osh_work_cancel(s->m->pool, j) == 0) {
		/* Still waiting for a thread: nothing was sent, nothing is
		 * stuck, and the session is free. Busy, like a request
		 * refused for want of room: the BMC was not asked. */
		s->m->on_workers--;
		if (j->keepalive)
			j->replied = true; /* never sent: not counted */
		ipmi_fail_job(j, OSH_IPMI_BUSY,
		    "no worker thread was free in time for the BMC request");
		ipmi_job_end(j);
		return;
	}
	/* On a worker: answer now; the worker's result is dropped later. */
	ipmi_fail_job(j, OSH_IPMI_TIMEOUT, "the BMC did not answer in time");
	/* Not pending now, so the timer can be pointed at the stuck check. */
	event_assign(j->timer, s->m->base, -1, 0, ipmi_on_stuck, j);
	evtimer_add(j->timer, &grace);
}

static void
on_refused(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	reply(j, &j->res);
	ipmi_job_free(j);
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
	ipmi_job_free(j);
	if (s->stuck) {
		/* Set aside: nothing is queued on it any more. */
		ipmi_close_session(s);
		return;
	}
	ipmi_start(s);
}

/* Hands a job to a worker thread. */
void
ipmi_run_job(struct job *j)
{
	struct session *s = j->s;
	/* Keepalives are background work: they never delay a request nor
	 * have one refused (see ipmi_on_sweep). */
	int rc = j->keepalive
	    ? osh_work_submit_background(s->m->pool, work_job, done_job, j)
	    : osh_work_submit(s->m->pool, work_job, done_job, j);

	if (rc != 0) {
		ipmi_fail_job(j, OSH_IPMI_BUSY, "too many BMC requests");
		ipmi_job_end(j);
		return;
	}
	s->m->on_workers++;
}

/* Starts the next queued job of a session, if it is free. */
void
ipmi_start(struct session *s)
{
	struct job *j;

	if (s->busy)
		return;
	if (s->forget && TAILQ_EMPTY(&s->queue)) {
		ipmi_close_session(s);
		return;
	}
	while ((j = TAILQ_FIRST(&s->queue)) != NULL) {
		ipmi_dequeue(s, j);
		if (osh_now_us() >= j->deadline_us) {
			ipmi_fail_job(
			    j, OSH_IPMI_TIMEOUT, "deadline passed in queue");
			ipmi_job_free(j);
			continue;
		}
		if (j->keepalive && s->link.ctx == NULL) {
			ipmi_job_free(j); /* the session it was for is gone */
			continue;
		}
		s->busy = true;
		s->job = j;
		j->running = true;
		if (s->link.ctx == NULL)
			ipmi_open_first(s, j);
		else
			ipmi_run_job(j);
		return;
	}
}

/* A request arrived for s: background work of s that waits for a thread
 * would hold it up (until no request at all waits), so it is taken back:
 * a keepalive is dropped (the request keeps the session alive), a close
 * of an idle session undone (the session is wanted again). */
static void
yield_background(struct session *s)
{
	struct job *k = s->job;

	if (s->closing) {
		ipmi_close_cancel(s);
		return;
	}
	if (k == NULL || !k->keepalive || osh_work_cancel(s->m->pool, k) != 0)
		return;
	s->m->on_workers--;
	k->replied = true; /* never sent: not counted */
	ipmi_job_end(k);
}

/* Queues j on s with its deadline timer; answers BUSY (on the next loop
 * turn, like everything else) when the BMC's queue is full. */
int
ipmi_enqueue(struct session *s, struct job *j, int deadline_ms)
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
	/* Refused at once: the BMC's own queue is full, or so many requests
	 * wait for a worker thread already that this one would only add to
	 * the wait (keepalives are simply skipped then). */
	if (s->nqueued >= m->opt.max_queue_per_bmc ||
	    (!j->keepalive && osh_work_full(m->pool))) {
		struct timeval now = {0, 0};

		j->res.err = OSH_IPMI_BUSY;
		osh_strlcpy(j->res.message,
		    s->nqueued >= m->opt.max_queue_per_bmc
			? "too many requests queued for this BMC"
			: "too many BMC requests waiting for a worker",
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
	if (!j->keepalive)
		yield_background(s);
	ipmi_start(s);
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
	    (s = ipmi_session_get(m, t)) == NULL ||
	    ipmi_enqueue(s, j, deadline_ms) != 0) {
		free(j->delivery);
		free(j);
		return -1;
	}
	return 0;
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
	if (m->opt.max_waiting == 0)
		m->opt.max_waiting = 256;
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
	m->pool = osh_work_pool_new(base, m->opt.threads, m->opt.max_waiting);
	m->sweep = event_new(base, -1, EV_PERSIST, ipmi_on_sweep, m);
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
			ipmi_dequeue(s, j);
			ipmi_fail_job(j, OSH_IPMI_INTERNAL, "shutting down");
			ipmi_job_free(j);
		}
		if ((j = s->job) != NULL &&
		    (j->probe != NULL || j->looking_up)) {
			osh_rmcp_probe_cancel(j->probe);
			j->probe = NULL;
			osh_resolve_cancel(j->lookup);
			j->lookup = NULL;
			j->looking_up = false;
			ipmi_fail_job(j, OSH_IPMI_INTERNAL, "shutting down");
			s->busy = false;
			s->job = NULL;
			ipmi_job_free(j);
		}
		ipmi_close_session(s);
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
		ipmi_session_free(s);
	}
	if (m->deliver != NULL)
		event_free(m->deliver);
	free(m);
}
