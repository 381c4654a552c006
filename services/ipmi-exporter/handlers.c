/* handlers.c - the exporter's HTTP endpoints: /ipmi, /-/reload and the
 * landing page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/http.h>
#include <osh/log.h>
#include <sodium.h>

#include "creds.h"
#include "exporter.h"
#include "handlers.h"
#include "scrape.h"

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
 * for the answer to travel, or else the module's timeout. */
static int
deadline_of(struct osh_req *req, const struct module *m)
{
	const char *h =
	    osh_req_header(req, "X-Prometheus-Scrape-Timeout-Seconds");
	int margin = (int)exp_env.margin_ms;
	char *end;
	double secs;

	if (h != NULL) {
		secs = strtod(h, &end);
		if (end != h && secs > 0 && secs < 3600) {
			int ms = (int)(secs * 1000) - margin;
			return ms < 200 ? 200 : ms;
		}
	}
	return m->timeout_ms;
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

struct pending {
	struct osh_req *req;
	struct exp_config *config;
	const struct module *m;
	int deadline_ms;
};

static void
on_creds(
    const struct osh_ipmi_target *t, int status, const char *why, void *arg)
{
	struct pending *p = arg;
	struct exp_app *app = app_of(p->req);
	char key[400], msg[300];

	if (t == NULL) {
		snprintf(msg, sizeof(msg),
		    "no credentials for this target: %s\n",
		    why ? why : "unknown");
		text(p->req, status == 404 ? 404 : 503, msg);
	} else {
		struct osh_ipmi_target copy = *t;
		key_of(p->m->name, &copy, key, sizeof(key));
		scrape_start(app->scrapes, p->req, p->m, p->config, &copy, key,
		    p->deadline_ms);
		osh_ipmi_target_wipe(&copy);
	}
	config_unref(p->config);
	free(p);
}

void
h_ipmi(struct osh_req *req)
{
	struct exp_app *app = app_of(req);
	const char *target = osh_req_query(req, "target");
	const char *module = osh_req_query(req, "module");
	const struct module *m;
	struct osh_ipmi_target t;
	char key[400];

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
	memset(&t, 0, sizeof(t));
	if (!osh_ipmi_parse_address(target, t.host, sizeof(t.host), &t.port)) {
		text(req, 400,
		    "'target' must be host, host:port or [v6]:port\n");
		return;
	}
	if (m->from_server_mgmt) {
		struct pending *p;
		if (app->creds == NULL) {
			text(req, 400,
			    "module osh needs OSH_SERVER_MGMT_URL, "
			    "OSH_AUTH_URL and OSH_SERVICE_SECRET_FILE\n");
			return;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			text(req, 503, "out of memory\n");
			return;
		}
		p->req = req;
		p->config = config_ref(app->config);
		p->m = m;
		p->deadline_ms = deadline_of(req, m);
		creds_get(app->creds, target, on_creds, p);
		return;
	}
	osh_strlcpy(t.user, m->user, sizeof(t.user));
	osh_strlcpy(t.password, m->password, sizeof(t.password));
	t.ipmi15 = m->ipmi15;
	t.privilege = m->privilege;
	t.cipher_suite = m->cipher_suite;
	t.workarounds = m->workarounds;
	key_of(m->name, &t, key, sizeof(key));
	scrape_start(
	    app->scrapes, req, m, app->config, &t, key, deadline_of(req, m));
	osh_ipmi_target_wipe(&t);
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
