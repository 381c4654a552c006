/* scrape.c - scrapes, shared between concurrent askers, with deadlines. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/log.h>
#include <osh/metrics.h>

#include "scrape.h"

struct scrape;

struct waiter {
	TAILQ_ENTRY(waiter) next;
	struct scrape *sc;
	struct osh_req *req;
	struct event *timer;
};
TAILQ_HEAD(waiter_list, waiter);

struct part {
	struct scrape *sc;
	enum collector coll;
};

struct scrape {
	TAILQ_ENTRY(scrape) next;
	struct scrapes *all;
	char key[400]; /* module, target, hash of the credentials */
	char target[300]; /* host:port, for logs */
	const struct module *m;
	struct exp_config *config; /* keeps m alive across reloads */
	struct scrape_data data;
	unsigned pending;
	enum osh_ipmi_err err; /* the first failure */
	bool reported;
	uint64_t start_us;
	struct waiter_list waiters;
};
TAILQ_HEAD(scrape_list, scrape);

struct scrapes {
	struct exp_app *app;
	struct scrape_list live;
};

/* The engine request for each collector; sm-lan-mode has none. */
static unsigned
want_of(enum collector c)
{
	switch (c) {
	case COLL_IPMI: return OSH_IPMI_WANT_SENSORS;
	case COLL_BMC: return OSH_IPMI_WANT_DEVICE_ID;
	case COLL_CHASSIS: return OSH_IPMI_WANT_CHASSIS;
	case COLL_DCMI: return OSH_IPMI_WANT_DCMI_POWER;
	case COLL_SEL: return OSH_IPMI_WANT_SEL_INFO;
	case COLL_FRU: return OSH_IPMI_WANT_FRU;
	case COLL_BMC_WATCHDOG: return OSH_IPMI_WANT_WATCHDOG;
	case COLL_SEL_EVENTS: return OSH_IPMI_WANT_SEL;
	default: return 0;
	}
}

/* Most wanted first: if the deadline cuts the scrape short, the sensors
 * made it. */
static const enum collector order[] = {COLL_IPMI, COLL_CHASSIS, COLL_BMC,
    COLL_SEL, COLL_DCMI, COLL_BMC_WATCHDOG, COLL_SEL_EVENTS, COLL_FRU};

/* One line per incomplete scrape, as the reference exporter logs its
 * failed collectors: which target, which collectors, why. A collector
 * the BMC does not implement (DCMI, often) is only worth a debug line. */
static void
log_missing(enum osh_log_level level, const struct module *m, unsigned done,
    const char *label, const char *why)
{
	char names[128] = "", target[320], module[160];
	size_t off = 0;

	for (size_t i = 0; i < OSH_ARRAY_LEN(order); i++) {
		unsigned bit = 1u << order[i];

		if (!(m->collectors & bit) || (done & bit) ||
		    want_of(order[i]) == 0)
			continue;
		off += (size_t)snprintf(names + off, sizeof(names) - off,
		    "%s%s", off ? "," : "", collector_names[order[i]]);
		if (off >= sizeof(names))
			break;
	}
	if (names[0] == '\0')
		return;
	osh_log(level, NULL,
	    "msg=\"scrape incomplete\" target=\"%s\" module=\"%s\" "
	    "collectors=%s error=%s",
	    osh_log_quote(label, target, sizeof(target)),
	    osh_log_quote(m->name, module, sizeof(module)), names, why);
}

static void
report_missing(struct scrape *sc)
{
	bool cut;

	if (sc->reported)
		return;
	sc->reported = true;
	cut = sc->pending > 0; /* answered at the deadline */
	log_missing(!cut && sc->err == OSH_IPMI_UNSUPPORTED ? OSH_LOG_DEBUG
							    : OSH_LOG_WARN,
	    sc->m, sc->data.done, sc->target,
	    cut ? "deadline" : osh_ipmi_err_code(sc->err));
}

static void
reply(struct waiter *w)
{
	struct scrape *sc = w->sc;
	struct exp_app *app = sc->all->app;
	double secs = (double)(osh_now_us() - sc->start_us) / 1e6;
	struct osh_buf b;
	unsigned dupes;
	char labels[160], esc[96];

	report_missing(sc);
	osh_buf_init(&b, 0);
	dupes = render_scrape(&b, sc->m, &sc->data, secs);
	osh_reply(w->req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data, b.len);
	osh_buf_release(&b);
	osh_metrics_escape(sc->m->name, esc, sizeof(esc));
	snprintf(labels, sizeof(labels), "module=\"%s\"", esc);
	osh_metric_observe(app->m_scrape_seconds, labels, secs);
	if (dupes > 0)
		osh_metric_add(app->m_skipped, "", dupes);
	TAILQ_REMOVE(&sc->waiters, w, next);
	event_free(w->timer);
	free(w);
}

static void
scrape_free(struct scrape *sc)
{
	TAILQ_REMOVE(&sc->all->live, sc, next);
	config_unref(sc->config);
	free(sc->data.sensors);
	selevents_tally_free(&sc->data.sel_events);
	free(sc);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	(void)fd;
	(void)what;
	/* The deadline: answer with what is there, up=0 for the rest. */
	reply(w);
}

/* One request fewer to wait for; the last answers every waiter left. */
static void
part_done(struct scrape *sc)
{
	if (--sc->pending > 0)
		return;
	while (!TAILQ_EMPTY(&sc->waiters))
		reply(TAILQ_FIRST(&sc->waiters));
	scrape_free(sc);
}

static void
on_part(const struct osh_ipmi_result *r, void *arg)
{
	struct part *p = arg;
	struct scrape *sc = p->sc;
	struct scrape_data *d = &sc->data;
	unsigned want = want_of(p->coll);

	if ((r->done & want) == want) {
		d->done |= 1u << p->coll;
		switch (p->coll) {
		case COLL_IPMI:
			free(d->sensors);
			d->sensors =
			    calloc(r->nsensors + 1, sizeof(*d->sensors));
			if (d->sensors != NULL) {
				memcpy(d->sensors, r->sensors,
				    r->nsensors * sizeof(*d->sensors));
				d->nsensors = r->nsensors;
			} else {
				d->done &= ~(1u << p->coll);
			}
			break;
		case COLL_BMC:
			d->device = r->device;
			osh_strlcpy(d->system_firmware, r->system_firmware,
			    sizeof(d->system_firmware));
			osh_strlcpy(d->bmc_url, r->bmc_url, sizeof(d->bmc_url));
			break;
		case COLL_CHASSIS: d->chassis = r->chassis; break;
		case COLL_DCMI:
			d->dcmi_watts = r->dcmi_watts;
			d->dcmi_active = r->dcmi_active;
			break;
		case COLL_SEL: d->sel = r->sel_info; break;
		case COLL_FRU: d->fru = r->fru; break;
		case COLL_BMC_WATCHDOG: d->watchdog = r->watchdog; break;
		case COLL_SEL_EVENTS:
			if (selevents_tally(
				sc->m, r->sel, r->nsel, &d->sel_events) != 0)
				d->done &= ~(1u << p->coll);
			break;
		default: break;
		}
	} else if (sc->err == OSH_IPMI_OK || sc->err == OSH_IPMI_UNSUPPORTED) {
		/* Keep the worst: a missing DCMI is no news next to a
		 * failed login. */
		sc->err = r->err != OSH_IPMI_OK ? r->err : OSH_IPMI_INTERNAL;
	}
	free(p);
	part_done(sc);
}

static void
add_waiter(struct scrape *sc, struct osh_req *req, int deadline_ms)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct timeval tv = {deadline_ms / 1000, (deadline_ms % 1000) * 1000};

	if (w == NULL) {
		osh_reply(req, 503, "text/plain", "out of memory\n", 14);
		return;
	}
	w->sc = sc;
	w->req = req;
	w->timer = evtimer_new(osh_service_of(req)->base, on_timeout, w);
	evtimer_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&sc->waiters, w, next);
}

static struct scrape *
live_scrape(struct scrapes *all, const char *key)
{
	struct scrape *sc;

	TAILQ_FOREACH(sc, &all->live, next)
	{
		if (strcmp(sc->key, key) == 0)
			/* cppcheck-suppress uninitvar ; it does not know TAILQ */
			return sc;
	}
	return NULL;
}

void
scrape_answer_down(struct scrapes *all, struct osh_req *req,
    const struct module *m, const char *label, const char *why)
{
	struct scrape_data none;
	struct osh_buf b;

	memset(&none, 0, sizeof(none));
	osh_metric_add(all->app->m_scrapes, "", 1);
	log_missing(OSH_LOG_WARN, m, 0, label, why);
	osh_buf_init(&b, 0);
	render_scrape(&b, m, &none, 0);
	osh_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
	    b.len);
	osh_buf_release(&b);
}

void
scrape_start(struct scrapes *all, struct osh_req *req, const struct module *m,
    struct exp_config *config, const struct osh_ipmi_target *t, const char *key,
    const char *label, int deadline_ms)
{
	struct scrape *sc;

	osh_metric_add(all->app->m_scrapes, "", 1);
	if ((sc = live_scrape(all, key)) != NULL) {
		/* The same BMC and module are being scraped: share it. */
		osh_metric_add(all->app->m_shared, "", 1);
		add_waiter(sc, req, deadline_ms);
		return;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		osh_reply(req, 503, "text/plain", "out of memory\n", 14);
		return;
	}
	sc->all = all;
	osh_strlcpy(sc->key, key, sizeof(sc->key));
	osh_strlcpy(sc->target, label, sizeof(sc->target));
	sc->m = m;
	sc->config = config_ref(config);
	sc->start_us = osh_now_us();
	TAILQ_INIT(&sc->waiters);
	TAILQ_INSERT_TAIL(&all->live, sc, next);
	add_waiter(sc, req, deadline_ms);
	sc->pending = 1; /* held while submitting */
	for (size_t i = 0; i < OSH_ARRAY_LEN(order); i++) {
		struct osh_ipmi_request rq = {.want = want_of(order[i])};
		struct part *p;

		/* The BMC URL goes with the BMC's details; the sel-events
		 * collector counts the whole log. */
		rq.bmc_url = order[i] == COLL_BMC;
		rq.sel.all = order[i] == COLL_SEL_EVENTS;

		if (!(m->collectors & (1u << order[i])) || rq.want == 0)
			continue;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			continue;
		p->sc = sc;
		p->coll = order[i];
		sc->pending++;
		if (osh_ipmi_submit(
			all->app->ipmi, t, &rq, deadline_ms, on_part, p) != 0) {
			sc->pending--;
			free(p);
		}
	}
	/* Drop the hold; with nothing submitted this answers at once. */
	part_done(sc);
}

struct scrapes *
scrapes_new(struct exp_app *app)
{
	struct scrapes *s = calloc(1, sizeof(*s));

	if (s != NULL) {
		s->app = app;
		TAILQ_INIT(&s->live);
	}
	return s;
}

void
scrapes_free(struct scrapes *s)
{
	free(s);
}
