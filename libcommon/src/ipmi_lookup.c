/* ipmi_lookup.c - before the IPMI engine opens a session: the BMC's host
 * name looked up and the BMC probed over RMCP, both on the loop and
 * within the request's deadline, so that no worker waits on DNS or on a
 * dead BMC. */
#include <stdio.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "ipmi_engine.h"
#include "osh/ipmi.h"
#include "osh/resolve.h"
#include "osh/rmcp.h"
#include "osh/util.h"

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
		ipmi_run_job(j);
		return;
	}
	/* Nothing answers: no thread needs to wait for it. */
	ipmi_where(s, bmc, sizeof(bmc));
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
	ipmi_fail_job(j, e, msg);
	ipmi_job_end(j);
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
	int ms = left_ms(j);

	if (j->rq.probe_ms > 0 && j->rq.probe_ms < ms)
		ms = j->rq.probe_ms;
	j->probe = osh_rmcp_probe_start(
	    s->m->base, s->link.addr, s->target.port, ms, on_probe, j);
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
			ipmi_run_job(j);
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
		ipmi_dequeue(s, q);
		ipmi_fail_job(q, e, msg);
		ipmi_job_free(q);
	}
	ipmi_fail_job(j, e, msg);
	ipmi_job_end(j);
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
void
ipmi_open_first(struct session *s, struct job *j)
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
