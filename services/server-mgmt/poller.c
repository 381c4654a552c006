/* poller.c - the background status poller.
 *
 * A round lists the servers with credentials, then asks each one's BMC
 * for its chassis status and device id, keeping at most poll_concurrency
 * requests in flight; a request's slot is freed once what it saw is
 * stored, so the database sees no more writes at once than that either.
 * The next round starts an interval after this one started, or at once
 * when this one ran longer (an overrun, counted): rounds never overlap.
 *
 * BMCs that keep failing (silent, wrong password, gone) must not slow the
 * rest. The poller keeps a table of servers across rounds, by id, with
 * each one's consecutive failures. A server whose last poll failed goes
 * to the failing lane: at most poll_failing_concurrency of its requests in
 * flight (so silent BMCs cannot take every slot), and the round does not
 * wait for them: a request of that lane may outlive its round, and the
 * server is passed over by later rounds until it answers. After f
 * failures in a row a server sits out 2^(f-1) - 1 rounds (at most
 * poll_backoff_max_s worth); its stored status stays what the last poll
 * saw meanwhile. Any answer from the BMC (a poll, or a request a user
 * made) and any change of its address or credentials end the backoff.
 *
 * A BMC failing for the first time is in the due lane, and a silent one
 * would hold its slot and its round for the whole BMC timeout: when a
 * rack (or a tenth of a 10,000-server fleet) goes silent at once, the
 * round would take a timeout per poll_concurrency of them and the
 * answering servers would wait. So a due request still out after
 * SLOW_SHARE of the BMC timeout (an answering BMC takes milliseconds)
 * moves to the failing lane: its slot goes to the next server, the round
 * no longer waits for it, and it counts against the failing lane's cap
 * (which may run over by those moved, taking no slot of the due lane;
 * the lane sends nothing more until it is back under). A silent BMC then
 * costs a due slot a fifth of the timeout, not all of it. Those moved
 * past the cap are poll_concurrency at most (the rest wait in the due
 * lane), so at most 2 * poll_concurrency + poll_failing_concurrency
 * requests are in flight: within what the IPMI engine queues (a BMC
 * silent from the start is probed on the event loop and holds no worker
 * thread; one silent mid-session holds one).
 *
 * A BMC that never answered since the poller knew it (a silent tenth
 * imported, say) is given that same fifth of the timeout to answer the
 * engine's probe before a session (probe_ms): one that is not there is
 * answered as such then, in either lane, instead of holding its place
 * in the failing lane for the rest of the timeout. */
#include <event2/event.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/ipmi.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/util.h>

#include "pagecache.h"
#include "poller.h"
#include "pollshare.h"
#include "store.h"

/* One server, kept across rounds (the table is rebuilt from the rows at
 * every round, keeping these by id). */
struct srv {
	int64_t id;
	char name[132];
	struct osh_ipmi_target target;
	bool usable; /* credentials readable for its endpoint */
	bool identify; /* read the FRU too: the product is not known yet */
	bool in_flight; /* a request of ours is out (or being stored) */
	bool seen; /* its BMC answered since the poller knew it */
	bool gone; /* deleted while in flight: freed by its call */
	unsigned failures; /* polls failed in a row */
	unsigned sit_out; /* rounds still to pass it over */
};

enum lane {
	LANE_DUE,
	LANE_FAILING
};

/* A due request out longer than the BMC timeout divided by this moves
 * to the failing lane. */
#define SLOW_SHARE 5

/* One request, from launch until what it saw is stored. */
struct poll_call {
	LIST_ENTRY(poll_call) next;
	struct poller *p; /* NULL once the poller is freed */
	struct srv *s;
	enum lane lane;
	struct event *slow; /* moves it out of the due lane; owned */
};

struct poller {
	struct sm_app *app;
	struct event *timer;
	struct pollshare *share; /* this replica's servers (pollshare.h) */
	struct srv **srv; /* sorted by id */
	size_t n, next;
	struct srv **failing; /* this round's failing lane, in order */
	size_t nfailing, failing_next;
	size_t in_flight[2]; /* by lane */
	LIST_HEAD(call_list, poll_call) calls;
	uint64_t round_start_us;
	bool running; /* a round is on */
	bool listing; /* its rows are being read */
	bool closed; /* poller_free ran while listing: on_rows frees it */
	struct {
		uint64_t rounds, overruns, ok, failed;
		uint64_t skipped_backoff, skipped_in_flight, skipped_unusable;
		uint64_t not_reached; /* failing lane left over at round end */
		uint64_t refused; /* the engine took no more */
		uint64_t moved; /* due requests too slow, moved to failing */
		double last_round_s;
		double last_end_s; /* wall clock, 0 before the first */
		size_t backed_off; /* servers sitting out now */
	} stats;
	struct osh_metric *m_rounds, *m_overruns, *m_duration, *m_last,
	    *m_last_end, *m_in_flight, *m_polls, *m_skipped, *m_backed_off,
	    *m_servers, *m_moved, *m_replicas;
};

struct observe {
	struct sm_app *app;
	int64_t id;
	char name[132];
	void (*done)(const char *, void *);
	void *arg;
};

/* Tells other services (cluster-mgmt's read model) that a poll changed a
 * server's status: server.status_changed {id, name, from, to}. */
static void
status_changed(struct observe *o, const char *from, const char *to)
{
	struct json_object *d;

	if (from == NULL || to == NULL || strcmp(from, to) == 0)
		return;
	d = json_object_new_object();
	json_object_object_add(d, "id", json_object_new_int64(o->id));
	json_object_object_add(d, "name", json_object_new_string(o->name));
	json_object_object_add(d, "from", json_object_new_string(from));
	json_object_object_add(d, "to", json_object_new_string(to));
	events_publish(sm_svc(o->app)->redis, "server.status_changed", d);
}

static void
on_observed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct observe *o = arg;
	struct json_object *r = NULL, *server = NULL;
	const char *old_power, *new_power;

	(void)state;
	/* What GET /api/servers/{id} kept of it is stale now. */
	pagecache_drop_server(o->app->items, o->id);
	if (st == OSH_DB_OK && (r = json_tokener_parse(json)) != NULL &&
	    json_object_object_get_ex(r, "server", &server)) {
		struct json_object *np;
		old_power = json_object_get_string(
		    json_object_object_get(r, "old_power"));
		np = json_object_object_get(server, "power_state");
		new_power = json_object_get_string(np);
		if (old_power && new_power &&
		    strcmp(old_power, new_power) != 0 &&
		    strcmp(new_power, "unknown") != 0) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(
			    d, "id", json_object_new_int64(o->id));
			json_object_object_add(
			    d, "name", json_object_new_string(o->name));
			json_object_object_add(
			    d, "from", json_object_new_string(old_power));
			json_object_object_add(
			    d, "to", json_object_new_string(new_power));
			events_publish(
			    sm_svc(o->app)->redis, "server.power_changed", d);
			osh_log_info(NULL,
			    "msg=\"power changed\" server=%lld "
			    "from=%s to=%s",
			    (long long)o->id, old_power, new_power);
		}
	}
	if (server != NULL)
		status_changed(o,
		    json_object_get_string(
			json_object_object_get(r, "old_status")),
		    json_object_get_string(
			json_object_object_get(server, "status")));
	if (o->done != NULL)
		o->done(server ? json_object_to_json_string_ext(
				     server, JSON_C_TO_STRING_PLAIN)
			       : NULL,
		    o->arg);
	json_object_put(r);
	free(o);
}

/* Whether the answer shows the BMC there and talking to us: a session
 * was had (even if one part failed), or it answered something other than
 * silence or a refusal of our credentials. */
static bool
reached_bmc(const struct osh_ipmi_result *r)
{
	return r->err == OSH_IPMI_OK || r->done != 0 ||
	    (r->err != OSH_IPMI_TIMEOUT && r->err != OSH_IPMI_UNREACHABLE &&
		r->err != OSH_IPMI_AUTH_FAILED && r->err != OSH_IPMI_PRIVILEGE);
}

static struct srv *
find_srv(const struct poller *p, int64_t id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->srv[mid]->id == id)
			return p->srv[mid];
		if (p->srv[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Counts an answer for s: an answer ends its backoff, a failure lengthens
 * it (2^(f-1) - 1 rounds passed over after f failures, within
 * poll_backoff_max_s). */
static void
note_result(struct poller *p, struct srv *s, bool reached)
{
	uint64_t interval = (uint64_t)p->app->cfg.poll_interval_s;
	uint64_t most = (uint64_t)p->app->cfg.poll_backoff_max_s / interval;
	uint64_t sit = 1;

	if (reached) {
		s->failures = 0;
		s->sit_out = 0;
		s->seen = true;
		return;
	}
	if (s->failures < 32)
		s->failures++;
	sit = (1ull << (s->failures - 1)) - 1;
	s->sit_out = (unsigned)(sit < most ? sit : most);
}

void
poller_observe(struct sm_app *app, int64_t id, const char *name,
    const struct osh_ipmi_request *rq, const struct osh_ipmi_result *r,
    void (*done)(const char *, void *), void *arg)
{
	struct observation ob = {0};
	struct observe *o = calloc(1, sizeof(*o));
	bool reached = reached_bmc(r);
	char firmware[16] = "";
	struct srv *s;

	/* A user's request reached the BMC: the poller may stop backing
	 * off (its own answers are counted where it launched them). */
	if (rq != NULL && reached && app->poller != NULL &&
	    (s = find_srv(app->poller, id)) != NULL)
		note_result(app->poller, s, true);
	if (o == NULL) {
		if (done)
			done(NULL, arg);
		return;
	}
	o->app = app;
	o->id = id;
	o->done = done;
	o->arg = arg;
	osh_strlcpy(o->name, name, sizeof(o->name));
	/* A session was had: the BMC is online even if one part failed. */
	ob.status = reached ? "online" : status_of(r->err);
	ob.seen = reached;
	ob.error = r->err == OSH_IPMI_OK ? NULL : r->message;
	if (r->done & OSH_IPMI_WANT_CHASSIS)
		ob.power = r->chassis.power_on ? "on" : "off";
	else if (!reached)
		ob.power = "unknown";
	if (r->done & OSH_IPMI_WANT_DEVICE_ID) {
		ob.manufacturer = vendor_name(r->device.manufacturer_id);
		osh_strlcpy(firmware, r->device.firmware, sizeof(firmware));
		ob.firmware = firmware;
	}
	if (r->done & OSH_IPMI_WANT_FRU) {
		if (r->fru.product_mfg[0]) {
			ob.manufacturer = r->fru.product_mfg;
			ob.from_fru = true;
		}
		ob.product = r->fru.product_name;
		ob.serial = r->fru.product_serial;
	}
	store_server_observe(sm_svc(app)->db, id, &ob, on_observed, o);
}

static void next_round(struct poller *p);
static void launch(struct poller *p);
static size_t failing_cap(const struct poller *p);

static void
srv_free(struct srv *s)
{
	osh_ipmi_target_wipe(&s->target);
	free(s);
}

/* The call is over (stored, or the poller is gone): frees it, and the
 * server too when it was deleted meanwhile. */
static void
call_end(struct poll_call *pc)
{
	struct srv *s = pc->s;

	/* A call of a poller already freed was let go from its list then. */
	if (pc->p != NULL)
		LIST_REMOVE(pc, next);
	if (pc->slow != NULL)
		event_free(pc->slow);
	if (s != NULL) {
		s->in_flight = false;
		if (s->gone)
			srv_free(s);
	}
	free(pc);
}

/* What the poll saw is stored: its slot is free for the next. */
static void
on_stored(const char *server_json, void *arg)
{
	struct poll_call *pc = arg;
	struct poller *p = pc->p;

	(void)server_json;
	if (p == NULL) {
		call_end(pc);
		return;
	}
	p->in_flight[pc->lane]--;
	call_end(pc);
	launch(p);
}

static void
on_polled(const struct osh_ipmi_result *r, void *arg)
{
	struct poll_call *pc = arg;
	struct poller *p = pc->p;
	struct srv *s = pc->s;
	bool reached = reached_bmc(r);

	/* Answered: storing it holds the slot, however long it takes. */
	if (pc->slow != NULL)
		evtimer_del(pc->slow);
	/* Refused for want of room (the engine's workers, or the BMC's own
	 * "node busy"): nobody was polled, so nothing is recorded; the next
	 * round asks again. */
	if (p != NULL && r->err == OSH_IPMI_BUSY && r->done == 0) {
		p->stats.refused++;
		s = NULL;
	}
	if (p == NULL || s == NULL || s->gone) {
		if (p != NULL)
			p->in_flight[pc->lane]--;
		call_end(pc);
		if (p != NULL)
			launch(p);
		return;
	}
	if (reached)
		p->stats.ok++;
	else
		p->stats.failed++;
	note_result(p, s, reached);
	poller_observe(p->app, s->id, s->name, NULL, r, on_stored, pc);
}

/* A due request is still out: it leaves the due lane (see the top). */
static void
on_slow(evutil_socket_t fd, short what, void *arg)
{
	struct poll_call *pc = arg;
	struct poller *p = pc->p;

	(void)fd;
	(void)what;
	if (p == NULL || pc->lane != LANE_DUE)
		return;
	if (p->in_flight[LANE_FAILING] >=
	    failing_cap(p) + (size_t)p->app->cfg.poll_concurrency) {
		/* As many moved as there are slots: this one waits. */
		struct timeval again = {0, 250000};
		evtimer_add(pc->slow, &again);
		return;
	}
	p->in_flight[LANE_DUE]--;
	p->in_flight[LANE_FAILING]++;
	pc->lane = LANE_FAILING;
	p->stats.moved++;
	launch(p);
}

/* Sends s's poll in lane; false when it could not be sent (out of
 * memory, or the engine is shutting down). */
static bool
send_poll(struct poller *p, struct srv *s, enum lane lane)
{
	int64_t slow_ms = p->app->cfg.bmc_timeout_ms / SLOW_SHARE;
	/* A BMC that never answered gets as long to answer the probe as a
	 * due poll may take before it is moved (see the top). */
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS |
		OSH_IPMI_WANT_DEVICE_ID | (s->identify ? OSH_IPMI_WANT_FRU : 0),
	    .probe_ms = s->seen ? 0 : (int)slow_ms};
	struct poll_call *pc = calloc(1, sizeof(*pc));
	struct timeval slow = {
	    (time_t)(slow_ms / 1000), (suseconds_t)(slow_ms % 1000) * 1000};

	if (pc == NULL)
		return false;
	pc->p = p;
	pc->s = s;
	pc->lane = lane;
	if (lane == LANE_DUE &&
	    ((pc->slow = evtimer_new(sm_svc(p->app)->base, on_slow, pc)) ==
		    NULL ||
		evtimer_add(pc->slow, &slow) != 0)) {
		if (pc->slow != NULL)
			event_free(pc->slow);
		free(pc);
		return false;
	}
	if (osh_ipmi_submit(p->app->ipmi, &s->target, &rq,
		(int)p->app->cfg.bmc_timeout_ms, on_polled, pc) != 0) {
		if (pc->slow != NULL)
			event_free(pc->slow);
		free(pc);
		return false;
	}
	LIST_INSERT_HEAD(&p->calls, pc, next);
	s->in_flight = true;
	p->in_flight[lane]++;
	return true;
}

static size_t
failing_cap(const struct poller *p)
{
	size_t all = (size_t)p->app->cfg.poll_concurrency;
	size_t cap = (size_t)p->app->cfg.poll_failing_concurrency;

	/* The servers that answer keep one slot at least. */
	if (all > 1 && cap > all - 1)
		cap = all - 1;
	return cap > 0 ? cap : 1;
}

static void
end_round(struct poller *p)
{
	double spent = (double)(osh_now_us() - p->round_start_us) / 1e6;

	p->running = false;
	p->stats.rounds++;
	p->stats.last_round_s = spent;
	p->stats.last_end_s = (double)osh_wall_ms() / 1000.0;
	osh_metric_observe(p->m_duration, "", spent);
	next_round(p);
}

/* Keeps the lanes full: the failing lane up to its cap, then the round's
 * servers in order, up to poll_concurrency in all. The round ends when
 * each of its servers was sent for or passed over and every request of
 * the due lane is stored. */
static void
launch(struct poller *p)
{
	size_t all = (size_t)p->app->cfg.poll_concurrency;
	size_t cap = failing_cap(p);

	for (;;) {
		/* The failing lane takes its cap of the slots at most: those
		 * moved to it past that (on_slow) take none. */
		size_t busy = p->in_flight[LANE_DUE] +
		    (p->in_flight[LANE_FAILING] < cap
			    ? p->in_flight[LANE_FAILING]
			    : cap);
		struct srv *s;

		if (busy >= all)
			break;
		if (p->failing_next < p->nfailing &&
		    p->in_flight[LANE_FAILING] < cap) {
			s = p->failing[p->failing_next++];
			if (!send_poll(p, s, LANE_FAILING))
				p->stats.refused++;
			continue;
		}
		if (!p->running || p->listing || p->next >= p->n)
			break;
		s = p->srv[p->next++];
		if (!s->usable) {
			p->stats.skipped_unusable++;
		} else if (s->in_flight) {
			p->stats.skipped_in_flight++;
		} else if (s->sit_out > 0) {
			s->sit_out--;
			p->stats.skipped_backoff++;
		} else if (s->failures > 0) {
			p->failing[p->nfailing++] = s;
		} else if (!send_poll(p, s, LANE_DUE)) {
			p->stats.refused++;
		}
	}
	if (p->running && !p->listing && p->next >= p->n &&
	    p->in_flight[LANE_DUE] == 0)
		end_round(p);
}

/* Builds the table from the rows (sorted by id, as the store gives them)
 * that are this replica's to poll, keeping each server's state when it
 * was known. A known server whose endpoint or credentials changed starts
 * afresh. */
static int
merge_rows(struct poller *p, const struct server_row *rows, size_t n)
{
	struct srv **tab = NULL, **failing = NULL;
	size_t i = 0, j = 0, k;

	if (n > 0 &&
	    ((tab = calloc(n, sizeof(*tab))) == NULL ||
		(failing = calloc(n, sizeof(*failing))) == NULL)) {
		free(tab);
		return -1;
	}
	for (k = 0; k < n; k++) {
		struct srv *s = NULL;
		struct osh_err err;
		struct osh_ipmi_target t;

		if (!pollshare_mine(p->share, rows[k].id))
			continue; /* another replica's: dropped below */
		while (i < p->n && p->srv[i]->id < rows[k].id) {
			if (p->srv[i]->in_flight)
				p->srv[i]->gone = true;
			else
				srv_free(p->srv[i]);
			i++;
		}
		if (i < p->n && p->srv[i]->id == rows[k].id)
			s = p->srv[i++];
		else if ((s = calloc(1, sizeof(*s))) == NULL)
			goto out_nomem;
		memset(&t, 0, sizeof(t));
		s->id = rows[k].id;
		osh_strlcpy(s->name, rows[k].name, sizeof(s->name));
		s->usable = server_target(p->app, &rows[k], &t, &err);
		if (sodium_memcmp(&t, &s->target, sizeof(t)) != 0) {
			s->failures = 0;
			s->sit_out = 0;
			s->seen = false;
		}
		osh_ipmi_target_wipe(&s->target);
		memcpy(&s->target, &t, sizeof(t)); /* padding too: compared */
		osh_ipmi_target_wipe(&t);
		s->identify =
		    rows[k].product == NULL || rows[k].product[0] == '\0';
		tab[j++] = s;
	}
	for (; i < p->n; i++) {
		if (p->srv[i]->in_flight)
			p->srv[i]->gone = true;
		else
			srv_free(p->srv[i]);
	}
	free(p->srv);
	free(p->failing);
	p->srv = tab;
	p->failing = failing;
	p->n = j;
	return 0;
out_nomem:
	/* Keep the old table's servers not yet looked at; drop the new
	 * ones: the round is skipped and the next one tries again. */
	for (size_t x = 0; x < j; x++)
		if (tab[x]->in_flight)
			tab[x]->gone = true;
		else
			srv_free(tab[x]);
	for (; i < p->n; i++)
		if (p->srv[i]->in_flight)
			p->srv[i]->gone = true;
		else
			srv_free(p->srv[i]);
	free(p->srv);
	free(p->failing);
	free(tab);
	free(failing);
	p->srv = p->failing = NULL;
	p->n = 0;
	return -1;
}

static void
on_rows(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	struct poller *p = arg;
	size_t backed_off = 0;

	if (p->closed) {
		/* Failed by the database pool on its way out, after
		 * poller_free. */
		free(p);
		return;
	}
	/* The failing lane's leftovers are not polled this time round. */
	p->listing = false;
	p->stats.not_reached += p->nfailing - p->failing_next;
	p->nfailing = p->failing_next = 0;
	p->next = 0;
	if (st != OSH_DB_OK || merge_rows(p, rows, n) != 0) {
		p->running = false;
		next_round(p);
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->srv[i]->sit_out > 0)
			backed_off++;
	p->stats.backed_off = backed_off;
	launch(p);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct poller *p = arg;

	(void)fd;
	(void)what;
	if (p->running)
		return;
	p->running = true;
	p->listing = true;
	p->round_start_us = osh_now_us();
	store_server_rows(sm_svc(p->app)->db, on_rows, p);
}

/* The next round starts an interval after this one started, or at once
 * (an overrun) when this one took longer. */
static void
next_round(struct poller *p)
{
	uint64_t interval = (uint64_t)p->app->cfg.poll_interval_s * 1000000u;
	uint64_t spent = osh_now_us() - p->round_start_us;
	uint64_t wait = 0;
	struct timeval tv;

	if (spent >= interval)
		p->stats.overruns++;
	else
		wait = interval - spent;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(p->timer, &tv);
}

static void
collect(struct osh_metrics *reg, void *arg)
{
	struct poller *p = arg;
	size_t failing = 0;
	int64_t replicas, place;

	(void)reg;
	pollshare_place(p->share, &replicas, &place);
	osh_metric_set(p->m_replicas, "", (double)replicas);
	for (size_t i = 0; i < p->n; i++)
		if (p->srv[i]->failures > 0)
			failing++;
	osh_metric_set(p->m_rounds, "", (double)p->stats.rounds);
	osh_metric_set(p->m_overruns, "", (double)p->stats.overruns);
	osh_metric_set(p->m_last, "", p->stats.last_round_s);
	osh_metric_set(p->m_last_end, "", p->stats.last_end_s);
	osh_metric_set(
	    p->m_in_flight, "lane=\"due\"", (double)p->in_flight[LANE_DUE]);
	osh_metric_set(p->m_in_flight, "lane=\"failing\"",
	    (double)p->in_flight[LANE_FAILING]);
	osh_metric_set(p->m_polls, "result=\"ok\"", (double)p->stats.ok);
	osh_metric_set(
	    p->m_polls, "result=\"failed\"", (double)p->stats.failed);
	osh_metric_set(p->m_skipped, "reason=\"backoff\"",
	    (double)p->stats.skipped_backoff);
	osh_metric_set(p->m_skipped, "reason=\"in_flight\"",
	    (double)p->stats.skipped_in_flight);
	osh_metric_set(p->m_skipped, "reason=\"no_credentials\"",
	    (double)p->stats.skipped_unusable);
	osh_metric_set(p->m_skipped, "reason=\"failing_lane_full\"",
	    (double)p->stats.not_reached);
	osh_metric_set(p->m_skipped, "reason=\"engine_refused\"",
	    (double)p->stats.refused);
	osh_metric_set(p->m_backed_off, "", (double)p->stats.backed_off);
	osh_metric_set(p->m_moved, "", (double)p->stats.moved);
	osh_metric_set(p->m_servers, "state=\"all\"", (double)p->n);
	osh_metric_set(p->m_servers, "state=\"failing\"", (double)failing);
}

static void
metrics_init(struct poller *p, struct osh_metrics *reg)
{
	static const double buckets[] = {
	    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300};

	p->m_rounds = osh_metric_new(reg, "osh_poll_rounds_total",
	    "Status poll rounds finished", OSH_COUNTER, NULL, 0);
	p->m_overruns = osh_metric_new(reg, "osh_poll_overruns_total",
	    "Rounds that ran past the interval (the next one waited for them "
	    "and started at once)",
	    OSH_COUNTER, NULL, 0);
	p->m_duration = osh_metric_new(reg, "osh_poll_round_duration_seconds",
	    "How long a status poll round took, from listing the servers to "
	    "the last answer of its due lane stored",
	    OSH_HISTOGRAM, buckets, sizeof(buckets) / sizeof(buckets[0]));
	p->m_last = osh_metric_new(reg, "osh_poll_last_round_duration_seconds",
	    "How long the last finished round took", OSH_GAUGE, NULL, 0);
	p->m_last_end = osh_metric_new(reg,
	    "osh_poll_last_round_end_timestamp_seconds",
	    "When the last round finished (Unix time; 0: none yet): a poller "
	    "that stalls shows here, and minus the duration is when it began",
	    OSH_GAUGE, NULL, 0);
	p->m_in_flight = osh_metric_new(reg, "osh_poll_requests_in_flight",
	    "Status polls sent to BMCs and not yet stored, by lane (due: "
	    "servers that answered last time; failing: those that did not, "
	    "and due ones too slow to answer)",
	    OSH_GAUGE, NULL, 0);
	p->m_moved = osh_metric_new(reg, "osh_poll_slow_moved_total",
	    "Due polls still unanswered after a fifth of the BMC timeout, "
	    "moved to the failing lane so that their round and slot went on",
	    OSH_COUNTER, NULL, 0);
	p->m_polls = osh_metric_new(reg, "osh_poll_requests_total",
	    "Status polls answered, by whether the BMC was reached",
	    OSH_COUNTER, NULL, 0);
	p->m_skipped = osh_metric_new(reg, "osh_poll_skipped_total",
	    "Servers passed over by a round, by reason: backing off after "
	    "failures, an earlier poll still out, no usable credentials, "
	    "the failing lane too busy to reach them, or the IPMI engine "
	    "refusing more",
	    OSH_COUNTER, NULL, 0);
	p->m_backed_off = osh_metric_new(reg, "osh_poll_backed_off",
	    "Servers sitting out rounds after failed polls (their status "
	    "stays what the last poll saw)",
	    OSH_GAUGE, NULL, 0);
	p->m_servers = osh_metric_new(reg, "osh_poll_servers",
	    "Servers the poller knows (its replica's share), and those whose "
	    "last poll failed",
	    OSH_GAUGE, NULL, 0);
	p->m_replicas = osh_metric_new(reg, "osh_poll_replicas",
	    "Replicas sharing the fleet's polls (each polls the servers whose "
	    "id modulo this is its place)",
	    OSH_GAUGE, NULL, 0);
	osh_metrics_on_collect(reg, collect, p);
}

struct poller *
poller_new(struct sm_app *app)
{
	struct poller *p = calloc(1, sizeof(*p));
	struct timeval first = {1, 0};

	if (p == NULL)
		return NULL;
	p->app = app;
	LIST_INIT(&p->calls);
	p->timer = evtimer_new(sm_svc(app)->base, on_timer, p);
	if (p->timer == NULL) {
		free(p);
		return NULL;
	}
	p->share = pollshare_new(app);
	metrics_init(p, sm_svc(app)->metrics);
	evtimer_add(p->timer, &first);
	return p;
}

void
poller_free(struct poller *p)
{
	struct poll_call *pc;

	if (p == NULL)
		return;
	event_free(p->timer);
	pollshare_free(p->share);
	p->share = NULL;
	/* Calls still being stored end later, on their own (after the
	 * service's stop, when the database pool fails what it holds): they
	 * leave the list now, which goes with p. */
	LIST_FOREACH(pc, &p->calls, next)
	{
		pc->p = NULL;
		/* cppcheck-suppress uninitvar ; it does not know LIST */
		if (pc->slow != NULL) {
			event_free(pc->slow);
			pc->slow = NULL;
		}
		/* cppcheck-suppress uninitvar ; it does not know LIST */
		if (pc->s != NULL && pc->s->gone)
			continue; /* freed by the call */
		pc->s = NULL;
	}
	for (size_t i = 0; i < p->n; i++)
		srv_free(p->srv[i]);
	free(p->srv);
	free(p->failing);
	if (p->listing) {
		/* The list of servers is still to come (the database pool
		 * fails it when it goes, after the service's stop): on_rows
		 * frees p then. Empty meanwhile, for the metrics too. */
		p->srv = p->failing = NULL;
		p->n = p->nfailing = p->failing_next = 0;
		p->closed = true;
		return;
	}
	free(p);
}
