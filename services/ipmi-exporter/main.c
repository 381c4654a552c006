/* main.c - osh-ipmi-exporter: Prometheus metrics from BMCs, a drop-in for
 * the community ipmi_exporter (same flags, endpoints, YAML and metrics). */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/ipmi.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/resolve.h>
#include <osh/service.h>

#include "buildinfo.h"
#include "creds.h"
#include "exporter.h"
#include "routes.h"
#include "scrape.h"
#include "webauth.h"

static const struct osh_config_item exp_items[] = {
    {"OSH_EXPORTER_CONFIG", OSH_CONF_STRING, &exp_env.config_file, "", 0, 0,
	NULL, "the YAML module file (--config.file)"},
    {"OSH_EXPORTER_WEB_CONFIG", OSH_CONF_STRING, &exp_env.web_config_file, "",
	0, 0, NULL,
	"exporter-toolkit web configuration: basic auth, TLS, headers "
	"(--web.config.file)"},
    {"OSH_DNS_SERVERS", OSH_CONF_STRING, &exp_env.dns_servers, "", 0, 0, NULL,
	"ip[:port] list of DNS servers for target names; empty: "
	"/etc/resolv.conf"},
    {"OSH_SCRAPE_MARGIN_MS", OSH_CONF_INT, &exp_env.margin_ms, "500", 0, 10000,
	NULL, "taken off Prometheus' scrape timeout to leave time to answer"},
    {"OSH_IPMI_THREADS", OSH_CONF_INT, &exp_env.ipmi_threads, "64", 1, 1024,
	NULL, "threads talking to BMCs"},
    {"OSH_IPMI_QUEUE_MAX", OSH_CONF_INT, &exp_env.ipmi_queue_max, "256", 1,
	65536, NULL, "BMC requests waiting for a thread (more: 503)"},
    {"OSH_IPMI_IDLE_MS", OSH_CONF_INT, &exp_env.idle_ms, "45000", 1000, 3600000,
	NULL, "close BMC sessions idle this long"},
    {"OSH_SERVER_MGMT_URL", OSH_CONF_STRING, &exp_env.server_mgmt_url, "", 0, 0,
	NULL, "server-mgmt, for module osh"},
    {"OSH_AUTH_URL", OSH_CONF_STRING, &exp_env.auth_url, "", 0, 0, NULL,
	"auth, for module osh's service token"},
    {"OSH_SERVICE_SECRET_FILE", OSH_CONF_STRING, &exp_env.service_secret_file,
	"", 0, 0, NULL, "secret traded for a service token, for module osh"},
    {"OSH_CREDENTIALS_TTL_S", OSH_CONF_INT, &exp_env.creds_ttl_s, "300", 1,
	86400, NULL, "how long module osh keeps a target's credentials"},
    {"OSH_CREDENTIALS_CACHE_MAX", OSH_CONF_INT, &exp_env.creds_max, "16384", 16,
	1048576, NULL, "targets whose credentials module osh keeps at most"},
};

static struct exp_app app;
/* --native-ipmi was given: the reference's choice of IPMI implementation,
 * meaningless here (there is only ours); said once at start. */
static bool native_ipmi_flag;

static void
collect(struct osh_metrics *m, void *arg)
{
	static struct osh_metric *reloads, *cached, *auth, *dns;
	struct webauth_stats st;

	(void)arg;
	if (reloads == NULL) {
		reloads = osh_metric_new(m, "osh_exporter_config_reloads_total",
		    "Configuration reloads, by result", OSH_COUNTER, NULL, 0);
		cached = osh_metric_new(m, "osh_exporter_credentials_cached",
		    "Targets whose credentials module osh holds", OSH_GAUGE,
		    NULL, 0);
		auth = osh_metric_new(m, "osh_exporter_basic_auth_total",
		    "Basic authentication outcomes: bcrypt checks run, "
		    "remembered successes and refusals used, refusals, busy, "
		    "limited per client and rate limited",
		    OSH_COUNTER, NULL, 0);
		dns = osh_metric_new(m, "osh_exporter_dns_lookups",
		    "Host name lookups under way and names cached", OSH_GAUGE,
		    NULL, 0);
	}
	osh_metric_set(reloads, "result=\"success\"", (double)app.reloads);
	osh_metric_set(
	    reloads, "result=\"failure\"", (double)app.reload_failures);
	if (app.creds != NULL)
		osh_metric_set(cached, "", (double)creds_cached(app.creds));
	webauth_stats(app.webauth, &st);
	osh_metric_set(auth, "outcome=\"verified\"", (double)st.verified);
	osh_metric_set(auth, "outcome=\"cached\"", (double)st.cache_hits);
	osh_metric_set(auth, "outcome=\"refused\"", (double)st.failures);
	osh_metric_set(
	    auth, "outcome=\"refused_remembered\"", (double)st.failure_hits);
	osh_metric_set(auth, "outcome=\"busy\"", (double)st.busy);
	osh_metric_set(
	    auth, "outcome=\"client_limited\"", (double)st.client_limited);
	osh_metric_set(
	    auth, "outcome=\"rate_limited\"", (double)st.rate_limited);
	osh_metric_set(dns, "state=\"in_flight\"",
	    (double)osh_resolver_inflight(app.resolver));
	osh_metric_set(
	    dns, "state=\"cached\"", (double)osh_resolver_cached(app.resolver));
}

static bool
admit(struct osh_service *svc, struct osh_req *req)
{
	(void)svc;
	return webauth_admit(app.webauth, req);
}

static int
start(struct osh_service *svc)
{
	static const double buckets[] = {
	    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
	struct osh_ipmi_options io = {
	    .threads = (int)exp_env.ipmi_threads,
	    .idle_timeout_ms = (int)exp_env.idle_ms,
	    .max_queue_per_bmc = 64,
	    .max_sessions = 16384,
	    .max_waiting = (size_t)exp_env.ipmi_queue_max,
	};
	char err[400];

	app.svc = svc;
	svc->app = &app;
	if (native_ipmi_flag)
		osh_log_warn(NULL,
		    "msg=\"flag --native-ipmi ignored: this exporter always "
		    "speaks IPMI itself\"");
	if ((app.webauth = webauth_new(svc->work)) == NULL)
		return -1;
	if (exporter_reload(&app, err, sizeof(err)) != 0) {
		fprintf(stderr, "osh-ipmi-exporter: %s\n", err);
		return -1;
	}
	app.reloads = 0;
	if ((app.resolver = osh_resolver_new(svc->base,
		 &(struct osh_resolver_options){
		     .max_inflight = 256,
		     .cache_ttl_s = 30,
		     .cache_max = 4096,
		     .nameservers = exp_env.dns_servers,
		 })) == NULL) {
		fprintf(stderr,
		    "osh-ipmi-exporter: cannot start the DNS "
		    "resolver (OSH_DNS_SERVERS?)\n");
		return -1;
	}
	/* One resolver for the process: the engine borrows it (it is handed
	 * addresses, so it looks nothing up for scrapes). */
	io.resolver = app.resolver;
	if ((app.ipmi = osh_ipmi_new(svc->base, &io)) == NULL ||
	    (app.scrapes = scrapes_new(&app)) == NULL)
		return -1;
	if (exporter_osh_enabled()) {
		char *secret =
		    osh_read_file(exp_env.service_secret_file, 1024, true);
		struct creds_options co = {
		    .server_mgmt_url = exp_env.server_mgmt_url,
		    .auth_url = exp_env.auth_url,
		    .secret = secret ? secret : "",
		    .ttl_s = (int)exp_env.creds_ttl_s,
		    .max_entries = (size_t)exp_env.creds_max,
		    .events = secret ? osh_service_redis_new(svc, 0) : NULL,
		    .http_max_inflight = (size_t)svc->cfg.httpc_max_inflight,
		    .http_queue_max = (size_t)svc->cfg.httpc_queue_max,
		    .metrics = svc->metrics,
		};
		app.creds = secret ? creds_new(svc->base, &co) : NULL;
		osh_free_secret(secret);
		if (app.creds == NULL) {
			osh_log_error(NULL, "msg=\"module osh not available\"");
			return -1;
		}
	}
	app.m_scrape_seconds =
	    osh_metric_new(svc->metrics, "osh_exporter_scrape_duration_seconds",
		"Time to answer an /ipmi scrape, by module", OSH_HISTOGRAM,
		buckets, OSH_ARRAY_LEN(buckets));
	app.m_scrapes =
	    osh_metric_new(svc->metrics, "osh_exporter_scrapes_total",
		"Scrapes asked for", OSH_COUNTER, NULL, 0);
	app.m_shared =
	    osh_metric_new(svc->metrics, "osh_exporter_shared_scrapes_total",
		"Scrapes that joined one already under way for the same target",
		OSH_COUNTER, NULL, 0);
	app.m_skipped =
	    osh_metric_new(svc->metrics, "osh_exporter_duplicate_series_total",
		"Sensor series left out because their labels repeated",
		OSH_COUNTER, NULL, 0);
	app.m_refused =
	    osh_metric_new(svc->metrics, "osh_exporter_targets_refused_total",
		"Scrapes refused before any packet was sent, by module and "
		"reason (not_allowed, not_registered)",
		OSH_COUNTER, NULL, 0);
	osh_ipmi_metrics(app.ipmi, svc->metrics);
	buildinfo_register(svc->metrics);
	osh_metrics_on_collect(svc->metrics, collect, NULL);
	return 0;
}

static void
reload(struct osh_service *svc)
{
	char err[400];

	exporter_reload(svc->app, err, sizeof(err));
}

static void
stop(struct osh_service *svc)
{
	/* The server keeps its own reference to the TLS context. */
	SSL_CTX_free(svc->tls);
	svc->tls = NULL;
	/* What is pending answers 503 from here on; the engine before the
	 * resolver it borrows. */
	app.stopping = true;
	creds_free(app.creds);
	osh_ipmi_free(app.ipmi); /* answers what is pending */
	app.ipmi = NULL;
	osh_resolver_free(app.resolver); /* lookups pending answer 503 */
	app.resolver = NULL;
	scrapes_free(app.scrapes);
	config_unref(app.config);
	webauth_free(app.webauth); /* checks on workers answer 503 */
}

/* --hash-password: reads a password line on stdin and prints its bcrypt
 * hash for basic_auth_users (as htpasswd -nBC 10 would). */
static int
hash_password(void)
{
	char line[WEBAUTH_MAX_PASSWORD + 3], hash[128];
	size_t n;
	int rc = 1;

	if (osh_crypto_init() != 0)
		return 1;
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "--hash-password: no password on stdin\n");
		return 1;
	}
	n = strcspn(line, "\r\n");
	if (line[n] == '\0' && n > WEBAUTH_MAX_PASSWORD) {
		fprintf(stderr, "--hash-password: at most %d bytes\n",
		    WEBAUTH_MAX_PASSWORD);
		goto out;
	}
	line[n] = '\0';
	if (webauth_bcrypt_hash(line, 10, hash, sizeof(hash)) != 0) {
		fprintf(stderr, "--hash-password: hashing failed\n");
		goto out;
	}
	printf("%s\n", hash);
	rc = 0;
out:
	osh_wipe(line, sizeof(line));
	return rc;
}

/* The reference exporter's flags, mapped onto our settings. */
static int
compat_flags(int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		char name[64];
		const char *eq = strchr(a, '=');

		if (strncmp(a, "--", 2) != 0) {
			argv[out++] = argv[i];
			continue;
		}
		osh_strlcpy(name, a, sizeof(name));
		if (eq != NULL) {
			name[eq - a < (long)sizeof(name) ? eq - a : 0] = '\0';
			v = eq + 1;
		}
		if (strcmp(name, "--config.file") == 0 ||
		    strcmp(name, "--web.config.file") == 0 ||
		    strcmp(name, "--web.listen-address") == 0 ||
		    strcmp(name, "--log.level") == 0 ||
		    strcmp(name, "--freeipmi.path") == 0 ||
		    strcmp(name, "--log.format") == 0) {
			if (v == NULL && i + 1 < *argc)
				v = argv[++i];
			if (v == NULL) {
				fprintf(stderr, "%s needs a value\n", name);
				return -1;
			}
			if (strcmp(name, "--config.file") == 0) {
				setenv("OSH_EXPORTER_CONFIG", v, 1);
			} else if (strcmp(name, "--web.config.file") == 0) {
				setenv("OSH_EXPORTER_WEB_CONFIG", v, 1);
			} else if (strcmp(name, "--web.listen-address") == 0) {
				const char *colon = strrchr(v, ':');
				char host[256];
				if (colon == NULL) {
					fprintf(stderr,
					    "--web.listen-address "
					    "is host:port\n");
					return -1;
				}
				snprintf(host, sizeof(host), "%.*s",
				    (int)(colon - v), v);
				setenv("OSH_LISTEN_ADDR",
				    host[0] ? host : "0.0.0.0", 1);
				setenv("OSH_PORT", colon + 1, 1);
			} else if (strcmp(name, "--log.level") == 0) {
				setenv("OSH_LOG_LEVEL", v, 1);
			}
			/* --freeipmi.path, --log.format: nothing to do */
			continue;
		}
		/* A boolean flag: --native-ipmi[=true|false],
		 * --no-native-ipmi. */
		if (strcmp(name, "--native-ipmi") == 0 ||
		    strcmp(name, "--no-native-ipmi") == 0) {
			native_ipmi_flag = strcmp(name, "--native-ipmi") == 0 &&
			    (v == NULL || strcmp(v, "false") != 0);
			continue;
		}
		if (strcmp(name, "--version") == 0) {
			printf("osh-ipmi-exporter (OpenServerHub), version %s "
			       "(branch: %s, revision: %s)\n",
			    buildinfo_version(), buildinfo_branch(),
			    buildinfo_revision());
			exit(0);
		}
		if (strcmp(name, "--hash-password") == 0)
			exit(hash_password());
		argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	struct osh_service_def def = {
	    .name = "ipmi-exporter",
	    .default_port = 9290,
	    .schema = NULL,
	    .routes = exp_routes,
	    .nroutes = exp_nroutes,
	    .config = exp_items,
	    .nconfig = sizeof(exp_items) / sizeof(exp_items[0]),
	    .start = start,
	    .stop = stop,
	    .reload = reload,
	    .standalone = true,
	    .admit = admit,
	    .usage =
		"\nFlags of the Prometheus ipmi_exporter, for a drop-in:\n"
		"  --config.file=FILE        the YAML module file "
		"(OSH_EXPORTER_CONFIG)\n"
		"  --web.config.file=FILE    TLS and basic auth, exporter-"
		"toolkit format\n"
		"                            (OSH_EXPORTER_WEB_CONFIG)\n"
		"  --web.listen-address=H:P  where to listen (OSH_LISTEN_ADDR,"
		" OSH_PORT)\n"
		"  --log.level=LEVEL         debug, info, warn or error "
		"(OSH_LOG_LEVEL)\n"
		"  --freeipmi.path, --log.format, --native-ipmi   accepted, "
		"ignored\n"
		"  --hash-password           reads a password on stdin, prints "
		"its bcrypt hash\n"
		"  --version                 prints the version\n",
	};

	if (compat_flags(&argc, argv) != 0)
		return 2;
	return osh_service_main(&def, argc, argv);
}
