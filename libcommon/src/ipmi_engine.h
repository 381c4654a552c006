/* ipmi_engine.h - private to the IPMI module: the engine's state, kept
 * by ipmi.c (requests, the event loop side), ipmi_session.c (sessions)
 * and ipmi_lookup.c (lookups and probes before a session opens), and read
 * by ipmi_metrics.c. Everything here is touched on the event loop only,
 * except a session's link (see ipmi_link.h). */
#ifndef OSH_IPMI_ENGINE_H
#define OSH_IPMI_ENGINE_H

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "ipmi_link.h"
#include "osh/ipmi.h"
#include "osh/resolve.h"

struct event;
struct event_base;
struct osh_metric;
struct osh_resolver;
struct osh_work_pool;

struct delivery; /* an answer on its way to the caller (ipmi.c) */
TAILQ_HEAD(delivery_list, delivery);

/* A request still on its worker this long after its deadline is stuck in
 * FreeIPMI on a session the BMC forgot (it was reset, say): FreeIPMI
 * waits out its whole session timeout. The session is then set aside
 * and the BMC gets a new one; the thread is counted as lost until it
 * comes back. */
#define STUCK_GRACE_MS 1000
/* Room for ipmi_where(): a host of 80 bytes, an address and a port. */
#define BMC_TEXT 140

/* A request, queued or running. */
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
TAILQ_HEAD(job_list, job);

struct session {
	TAILQ_ENTRY(session) next;
	LIST_ENTRY(session) by_key; /* its bucket of m->by_key */
	struct osh_ipmi *m;
	unsigned char key[32];
	struct osh_ipmi_target target;
	struct bmc_link link; /* touched by one worker at a time */
	bool busy; /* a job (or the close) is on a worker */
	bool closing;
	bool forget; /* close as soon as it is idle */
	bool healthy; /* the last request got through */
	bool stuck; /* set aside: freed when its worker comes back */
	/* Closing for longer than a grace: the BMC does not answer Close
	 * Session, and FreeIPMI waits out its session timeout; the thread
	 * is counted with the stuck ones meanwhile. */
	struct event *close_timer;
	bool close_slow;
	/* Set by the close's worker as it starts: a close still waiting
	 * for a thread (background work) is not slow. */
	_Atomic bool close_started;
	struct job *job; /* the one looking up, probing or on a worker */
	uint64_t last_alive_us; /* last request or keepalive */
	struct job_list queue;
	size_t nqueued;
	uint64_t last_used_us;
};
TAILQ_HEAD(session_list, session);
LIST_HEAD(session_bucket, session);

/* Sessions listed are also in a bucket by their key (a hash already), so
 * that finding a BMC's session does not walk all of them. */
#define SESSION_BUCKETS 1024

struct osh_ipmi {
	struct event_base *base;
	struct osh_work_pool *pool;
	struct osh_resolver *resolver; /* NULL once freed (closing) */
	bool own_resolver; /* made in osh_ipmi_new, freed by the engine */
	struct osh_ipmi_options opt;
	struct session_list sessions; /* most recently used first */
	struct session_bucket by_key[SESSION_BUCKETS];
	size_t nsessions;
	size_t held; /* sessions allocated: listed or set aside */
	struct event *sweep;
	struct delivery_list deliveries; /* answers not given yet */
	struct event *deliver; /* gives them, from a clean stack */
	bool closing; /* osh_ipmi_free has begun: no more requests */
	int stuck; /* worker threads held by stuck sessions */
	size_t on_workers; /* requests and closes handed to workers, not
			    * back yet */
	struct {
		unsigned long session_setups, requests, sdr_hits, sdr_reloads;
		unsigned long bad_records, stuck_sessions, keepalives;
		unsigned long slow_closes;
		unsigned long sel_records;
		unsigned long lookups_ok, lookups_failed;
		unsigned long errors_by_kind[OSH_IPMI_INTERNAL + 1];
	} stats;
	struct osh_metric *mx_open, *mx_setups, *mx_requests, *mx_errors;
	struct osh_metric *mx_sdr, *mx_bad, *mx_stuck, *mx_stuck_now;
	struct osh_metric *mx_slow_closes;
	struct osh_metric *mx_keepalives, *mx_sel;
	struct osh_metric *mx_on_workers, *mx_lookups;
};

/* ipmi.c: frees a job (its answer given or dropped). */
void ipmi_job_free(struct job *j);
/* ipmi.c: takes a queued job off its session's queue. */
void ipmi_dequeue(struct session *s, struct job *j);
/* ipmi.c: answers j with an error (once; on the next loop turn). */
void ipmi_fail_job(struct job *j, enum osh_ipmi_err e, const char *msg);
/* ipmi.c: a job that ran on the loop alone is over: its session is free
 * for the next. */
void ipmi_job_end(struct job *j);
/* ipmi.c: hands a job to a worker thread. */
void ipmi_run_job(struct job *j);
/* ipmi.c: starts the next queued job of a session, if it is free. */
void ipmi_start(struct session *s);
/* ipmi.c: queues j on s with its deadline timer. */
int ipmi_enqueue(struct session *s, struct job *j, int deadline_ms);

/* ipmi_session.c: the session for t, made (or the least recently used
 * idle one replaced) when there is none; NULL when none can be had. */
struct session *ipmi_session_get(
    struct osh_ipmi *m, const struct osh_ipmi_target *t);
void ipmi_session_free(struct session *s);
/* ipmi_session.c: closes a session on a worker once it is idle. */
void ipmi_close_session(struct session *s);
/* ipmi_session.c: a close of s still waiting for a thread is taken back
 * (s is open, idle and listed again) unless s is to be forgotten. */
void ipmi_close_cancel(struct session *s);
/* ipmi_session.c: the timer of a job whose worker did not come back in
 * time after its deadline. */
void ipmi_on_stuck(evutil_socket_t fd, short what, void *arg);
/* ipmi_session.c: the sweep timer: idle expiry and keepalives. */
void ipmi_on_sweep(evutil_socket_t fd, short what, void *arg);
/* ipmi_session.c: "host:port" (with the address looked up) for
 * messages, in buf. */
const char *ipmi_where(const struct session *s, char *buf, size_t len);

/* ipmi_lookup.c: looks the host up, probes the BMC, then runs j. */
void ipmi_open_first(struct session *s, struct job *j);

#endif
