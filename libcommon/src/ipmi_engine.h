/* ipmi_engine.h - private to the IPMI module: the engine's state, kept
 * by ipmi.c (sessions, jobs, the event loop side) and read by
 * ipmi_metrics.c. Everything here is touched on the event loop only,
 * except a session's link (see ipmi_link.h). */
#ifndef OSH_IPMI_ENGINE_H
#define OSH_IPMI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "ipmi_link.h"
#include "osh/ipmi.h"

struct event;
struct event_base;
struct osh_metric;
struct osh_resolver;
struct osh_work_pool;

struct job; /* a request, queued or running (ipmi.c) */
TAILQ_HEAD(job_list, job);
struct delivery; /* an answer on its way to the caller (ipmi.c) */
TAILQ_HEAD(delivery_list, delivery);

struct session {
	TAILQ_ENTRY(session) next;
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
	struct job *job; /* the one looking up, probing or on a worker */
	uint64_t last_alive_us; /* last request or keepalive */
	struct job_list queue;
	size_t nqueued;
	uint64_t last_used_us;
};
TAILQ_HEAD(session_list, session);

struct osh_ipmi {
	struct event_base *base;
	struct osh_work_pool *pool;
	struct osh_resolver *resolver; /* NULL once freed (closing) */
	bool own_resolver; /* made in osh_ipmi_new, freed by the engine */
	struct osh_ipmi_options opt;
	struct session_list sessions;
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

#endif
