/* ipmi_metrics.c - the IPMI engine's figures for Prometheus: sessions
 * open and opened, requests and errors by kind, SDR cache use, records
 * skipped or read, stuck sessions, keepalives, workers busy and host
 * name lookups. */
#include <stdio.h>

#include "ipmi_engine.h"
#include "osh/ipmi.h"
#include "osh/metrics.h"

static void
collect(struct osh_metrics *reg, void *arg)
{
	struct osh_ipmi *m = arg;
	const struct session *s;
	size_t open = 0;
	char labels[64];

	(void)reg;
	TAILQ_FOREACH(s, &m->sessions, next)
	if (s->link.ctx != NULL)
		open++;
	osh_metric_set(m->mx_open, "", (double)open);
	osh_metric_set(m->mx_setups, "", (double)m->stats.session_setups);
	osh_metric_set(m->mx_requests, "", (double)m->stats.requests);
	for (int e = 1; e <= OSH_IPMI_INTERNAL; e++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"",
		    osh_ipmi_err_code((enum osh_ipmi_err)e));
		osh_metric_set(
		    m->mx_errors, labels, (double)m->stats.errors_by_kind[e]);
	}
	osh_metric_set(m->mx_sdr, "result=\"hit\"", (double)m->stats.sdr_hits);
	osh_metric_set(
	    m->mx_sdr, "result=\"reload\"", (double)m->stats.sdr_reloads);
	osh_metric_set(m->mx_bad, "", (double)m->stats.bad_records);
	osh_metric_set(m->mx_stuck, "", (double)m->stats.stuck_sessions);
	osh_metric_set(m->mx_slow_closes, "", (double)m->stats.slow_closes);
	osh_metric_set(m->mx_stuck_now, "", (double)m->stuck);
	osh_metric_set(m->mx_keepalives, "", (double)m->stats.keepalives);
	osh_metric_set(m->mx_sel, "", (double)m->stats.sel_records);
	osh_metric_set(m->mx_on_workers, "", (double)m->on_workers);
	osh_metric_set(
	    m->mx_lookups, "result=\"ok\"", (double)m->stats.lookups_ok);
	osh_metric_set(m->mx_lookups, "result=\"failed\"",
	    (double)m->stats.lookups_failed);
}

void
osh_ipmi_metrics(struct osh_ipmi *m, struct osh_metrics *reg)
{
	m->mx_open = osh_metric_new(reg, "osh_ipmi_sessions_open",
	    "BMC sessions open now", OSH_GAUGE, NULL, 0);
	m->mx_setups = osh_metric_new(reg, "osh_ipmi_session_setups_total",
	    "BMC sessions opened", OSH_COUNTER, NULL, 0);
	m->mx_requests = osh_metric_new(reg, "osh_ipmi_requests_total",
	    "BMC requests answered", OSH_COUNTER, NULL, 0);
	m->mx_errors = osh_metric_new(reg, "osh_ipmi_errors_total",
	    "BMC requests failed, by kind", OSH_COUNTER, NULL, 0);
	m->mx_sdr = osh_metric_new(reg, "osh_ipmi_sdr_cache_total",
	    "SDR cache hits (revalidated with one request) and reloads",
	    OSH_COUNTER, NULL, 0);
	m->mx_bad = osh_metric_new(reg, "osh_ipmi_bad_records_total",
	    "Duplicate or malformed SDR records skipped", OSH_COUNTER, NULL, 0);
	m->mx_stuck = osh_metric_new(reg, "osh_ipmi_stuck_sessions_total",
	    "Sessions set aside because a BMC stopped answering on them "
	    "(reset, say)",
	    OSH_COUNTER, NULL, 0);
	m->mx_slow_closes = osh_metric_new(reg, "osh_ipmi_slow_closes_total",
	    "Session closes a BMC did not answer in time (its thread counted "
	    "with the stuck ones until FreeIPMI gives up)",
	    OSH_COUNTER, NULL, 0);
	m->mx_keepalives = osh_metric_new(reg, "osh_ipmi_keepalives_total",
	    "Requests sent only to keep idle sessions open", OSH_COUNTER, NULL,
	    0);
	m->mx_sel = osh_metric_new(reg, "osh_ipmi_sel_records_read_total",
	    "SEL records read from BMCs (each once: sessions keep the log)",
	    OSH_COUNTER, NULL, 0);
	m->mx_stuck_now = osh_metric_new(reg, "osh_ipmi_threads_stuck",
	    "Worker threads waiting out FreeIPMI on such sessions (or on "
	    "closes not answered); as many "
	    "again are started meanwhile",
	    OSH_GAUGE, NULL, 0);
	m->mx_on_workers = osh_metric_new(reg, "osh_ipmi_workers_busy",
	    "Requests and session closes on worker threads now", OSH_GAUGE,
	    NULL, 0);
	m->mx_lookups = osh_metric_new(reg, "osh_ipmi_host_lookups_total",
	    "BMC host names looked up before opening a session (addresses "
	    "count as ok), by result",
	    OSH_COUNTER, NULL, 0);
	osh_metrics_on_collect(reg, collect, m);
}
