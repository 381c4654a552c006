/* handlers.c - the exporter's HTTP endpoints: /ipmi, /-/reload and the
 * landing page. A scrape goes: the module's credentials (module osh: from
 * server-mgmt, for registered servers only), the host looked up on the
 * loop within the scrape's deadline, the module's allowed_targets, then
 * the BMC. Every refusal comes before any packet is sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/http.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/resolve.h>
#include <sodium.h>

#include "creds.h"
#include "exporter.h"
#include "handlers.h"
#include "scrape.h"

#define TARGET_MAX 300
#define MIN_DEADLINE_MS 200

static struct exp_app *
app_of(struct osh_req *req)
{
	return osh_service_of(req)->app;
}

static void
text(struct osh_req *req, int status, const char *msg)
{
	osh_reply(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* The scrape deadline: what Prometheus says it will wait, minus a margin
 * for the answer to travel, but never past the module's timeout nor
 * MAX_SCRAPE_MS, whatever a client asks. */
static int
deadline_of(struct osh_req *req, const struct module *m)
{
	const char *h =
	    osh_req_header(req, "X-Prometheus-Scrape-Timeout-Seconds");
	int cap = m->timeout_ms < MAX_SCRAPE_MS ? m->timeout_ms : MAX_SCRAPE_MS;
	char *end;
	double secs;

	if (h != NULL) {
		secs = strtod(h, &end);
		if (end != h && *end == '\0' && secs > 0 &&
		    secs * 1000 < cap + exp_env.margin_ms) {
			int ms = (int)(secs * 1000) - (int)exp_env.margin_ms;
			return ms < MIN_DEADLINE_MS ? MIN_DEADLINE_MS : ms;
		}
	}
	return cap;
}

/* Sessions are shared per target and module: the key says both. */
static void
key_of(
    const char *module, const struct osh_ipmi_target *t, char *out, size_t len)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(
	    &st, (const unsigned char *)t->user, strlen(t->user) + 1);
	crypto_generichash_update(
	    &st, (const unsigned char *)t->password, strlen(t->password) + 1);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, len, "%s|%s|%u|%s", module, t->host, t->port, hex);
}

/* One /ipmi request on its way to the BMC. */
struct pending {
	struct osh_req *req;
	struct exp_app *app;
	struct exp_config *config; /* keeps m alive across reloads */
	const struct module *m;
	char target[TARGET_MAX]; /* as asked for: logs and labels */
	struct osh_ipmi_target t;
	uint64_t deadline_us;
};

static void
pending_free(struct pending *p)
{
	osh_ipmi_target_wipe(&p->t);
	config_unref(p->config);
	free(p);
}

static int
remaining_ms(const struct pending *p)
{
	uint64_t now = osh_now_us();

	return now >= p->deadline_us ? 0 : (int)((p->deadline_us - now) / 1000);
}

/* A target the module may not scrape: 403, counted and logged. */
static void
refuse(struct pending *p, const char *reason, const char *msg)
{
	char labels[200], esc[100], qt[TARGET_MAX + 20], qm[120];

	osh_metrics_escape(p->m->name, esc, sizeof(esc));
	snprintf(
	    labels, sizeof(labels), "module=\"%s\",reason=\"%s\"", esc, reason);
	osh_metric_add(p->app->m_refused, labels, 1);
	osh_log_warn(p->req->request_id,
	    "msg=\"target refused\" target=\"%s\" module=\"%s\" reason=%s",
	    osh_log_quote(p->target, qt, sizeof(qt)),
	    osh_log_quote(p->m->name, qm, sizeof(qm)), reason);
	text(p->req, 403, msg);
	pending_free(p);
}

/* Every address the name has must be allowed, not just the first. */
static bool
allowed(const struct module *m, const struct osh_resolved *res, size_t *bad)
{
	if (!m->restrict_targets)
		return true;
	for (size_t i = 0; i < res->n; i++) {
		if (!osh_cidr_array_has_sa(m->allowed, m->nallowed,
			(const struct sockaddr *)&res->addr[i])) {
			*bad = i;
			return false;
		}
	}
	return true;
}

static void
on_resolved(
    enum osh_resolve_status st, const struct osh_resolved *res, void *arg)
{
	struct pending *p = arg;
	struct exp_app *app = p->app;
	char key[400], msg[TARGET_MAX + 200];
	size_t bad = 0;

	if (app->stopping || st == OSH_RESOLVE_CANCELLED) {
		text(p->req, 503, "stopping\n");
		pending_free(p);
		return;
	}
	switch (st) {
	case OSH_RESOLVE_OK: break;
	case OSH_RESOLVE_INVALID:
		text(p->req, 400,
		    "'target' host is not a valid host name or address\n");
		pending_free(p);
		return;
	case OSH_RESOLVE_BUSY:
		text(p->req, 503, "too many host name lookups at once\n");
		pending_free(p);
		return;
	default:
		/* As for a BMC that does not answer: every collector down. */
		snprintf(
		    msg, sizeof(msg), "dns_%s", osh_resolve_status_str(st));
		scrape_answer_down(app->scrapes, p->req, p->m, p->target, msg);
		pending_free(p);
		return;
	}
	if (!allowed(p->m, res, &bad)) {
		snprintf(msg, sizeof(msg),
		    "target \"%.*s\" (address %s) is not in the allowed_targets "
		    "of module \"%.64s\"\n",
		    TARGET_MAX, p->target, res->text[bad], p->m->name);
		refuse(p, "not_allowed", msg);
		return;
	}
	/* The engine gets the address (it looks names up itself, but
	 * allowed_targets had to see every address first): nothing is looked
	 * up twice, and every name of a BMC shares its sessions. Logs and
	 * labels keep the name. */
	osh_strlcpy(p->t.host, res->text[0], sizeof(p->t.host));
	key_of(p->m->name, &p->t, key, sizeof(key));
	scrape_start(app->scrapes, p->req, p->m, p->config, &p->t, key,
	    p->target, remaining_ms(p));
	pending_free(p);
}

static void
resolve_target(struct pending *p)
{
	int left = remaining_ms(p);

	if (left <= 0) {
		scrape_answer_down(
		    p->app->scrapes, p->req, p->m, p->target, "deadline");
		pending_free(p);
		return;
	}
	osh_resolve(
	    p->app->resolver, p->t.host, AF_UNSPEC, left, on_resolved, p);
}

static void
on_creds(
    const struct osh_ipmi_target *t, int status, const char *why, void *arg)
{
	struct pending *p = arg;
	char msg[TARGET_MAX + 200];

	if (p->app->stopping) {
		text(p->req, 503, "stopping\n");
		pending_free(p);
		return;
	}
	if (t == NULL && status == 404) {
		snprintf(msg, sizeof(msg),
		    "target \"%.*s\" is not a server registered in server-mgmt: "
		    "module osh scrapes registered servers only\n",
		    TARGET_MAX, p->target);
		refuse(p, "not_registered", msg);
		return;
	}
	if (t == NULL) {
		snprintf(msg, sizeof(msg),
		    "no credentials for this target: %s\n",
		    why ? why : "unknown");
		text(p->req, status == 502 ? 502 : 503, msg);
		pending_free(p);
		return;
	}
	p->t = *t;
	resolve_target(p);
}

void
h_ipmi(struct osh_req *req)
{
	struct exp_app *app = app_of(req);
	const char *target = osh_req_query(req, "target");
	const char *module = osh_req_query(req, "module");
	const struct module *m;
	struct pending *p;

	if (target == NULL || target[0] == '\0') {
		text(req, 400, "'target' parameter must be specified\n");
		return;
	}
	if (module == NULL || module[0] == '\0')
		module = "default";
	if ((m = config_module(app->config, module)) == NULL) {
		char msg[200];
		snprintf(
		    msg, sizeof(msg), "Unknown module \"%.100s\"\n", module);
		text(req, 400, msg);
		return;
	}
	if (m->from_server_mgmt && app->creds == NULL) {
		text(req, 400,
		    "module osh needs OSH_SERVER_MGMT_URL, "
		    "OSH_AUTH_URL and OSH_SERVICE_SECRET_FILE\n");
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		text(req, 503, "out of memory\n");
		return;
	}
	if (strlen(target) >= sizeof(p->target) ||
	    !osh_ipmi_parse_address(
		target, p->t.host, sizeof(p->t.host), &p->t.port)) {
		free(p);
		text(req, 400,
		    "'target' must be host, host:port or [v6]:port\n");
		return;
	}
	p->req = req;
	p->app = app;
	p->config = config_ref(app->config);
	p->m = m;
	osh_strlcpy(p->target, target, sizeof(p->target));
	p->deadline_us = osh_now_us() + (uint64_t)deadline_of(req, m) * 1000u;
	if (m->from_server_mgmt) {
		creds_get(app->creds, target, remaining_ms(p), on_creds, p);
		return;
	}
	osh_strlcpy(p->t.user, m->user, sizeof(p->t.user));
	osh_strlcpy(p->t.password, m->password, sizeof(p->t.password));
	p->t.ipmi15 = m->ipmi15;
	p->t.privilege = m->privilege;
	p->t.cipher_suite = m->cipher_suite;
	p->t.workarounds = m->workarounds;
	resolve_target(p);
}

void
h_reload(struct osh_req *req)
{
	char err[400], msg[450];

	if (exporter_reload(app_of(req), err, sizeof(err)) != 0) {
		snprintf(
		    msg, sizeof(msg), "failed to reload config: %s\n", err);
		text(req, 500, msg);
		return;
	}
	text(req, 200, "ok\n");
}

void
h_index(struct osh_req *req)
{
	static const char page[] =
	    "<html>\n<head><title>OpenServerHub IPMI Exporter</title></head>\n"
	    "<body>\n<h1>OpenServerHub IPMI Exporter</h1>\n"
	    "<p><a href=\"/metrics\">Metrics</a></p>\n"
	    "<p>Scrape a BMC: <code>/ipmi?target=host:port&amp;module=default"
	    "</code></p>\n</body>\n</html>\n";

	osh_reply(req, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
}
