/* main.c - osh-alert-webhook: Alertmanager's receiver, the alert history
 * and the /api/monitoring API. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/service.h>
#include <osh/svctoken.h>
#include <osh/util.h>

#include "aw.h"
#include "ackkeeper.h"
#include "evidence.h"
#include "poller.h"
#include "receiver.h"
#include "routes.h"

extern const struct osh_migration alert_webhook_migrations[];
extern const size_t alert_webhook_nmigrations;

static struct aw_config aw_config;

/* An Alertmanager or Prometheus base URL: http(s)://..., no trailing slash; "" is
 * allowed (no poll). */
static bool
url_ok(const void *field, char *err, size_t errlen)
{
	const char *u = *(const char *const *)field;
	size_t n = strlen(u);

	if (n == 0)
		return true;
	if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
	    u[n - 1] == '/' || n > 512) {
		snprintf(err, errlen,
		    "must be an http:// or https:// URL without a trailing "
		    "slash");
		return false;
	}
	return true;
}

static const struct osh_config_item aw_items[] = {
    {"OSH_AUTH_URL", OSH_CONF_STRING, &aw_config.auth_url,
	"http://127.0.0.1:8101", 0, 0, NULL,
	"osh-auth, for the service token that reads server-mgmt"},
    {"OSH_SERVER_MGMT_URL", OSH_CONF_STRING, &aw_config.server_mgmt_url,
	"http://127.0.0.1:8102", 0, 0, NULL,
	"osh-server-mgmt, whose SEL entries become alert evidence"},
    {"OSH_SERVICE_SECRET_FILE", OSH_CONF_STRING, &aw_config.service_secret_file,
	NULL, 0, 0, NULL, "secret traded with auth for a service token"},
    {"OSH_ALERT_WEBHOOK_SECRET_FILE", OSH_CONF_STRING,
	&aw_config.webhook_secret_file, NULL, 0, 0, NULL,
	"file with the bearer secret Alertmanager sends (its "
	"credentials_file)"},
    {"OSH_ALERTMANAGER_URL", OSH_CONF_STRING, &aw_config.alertmanager_url, "",
	0, 0, url_ok,
	"Alertmanager, polled for silenced and inhibited alerts (empty: no "
	"poll)"},
    {"OSH_ALERT_POLL_INTERVAL_S", OSH_CONF_INT, &aw_config.poll_interval_s,
	"30", 1, 3600, NULL, "how often Alertmanager's alerts are polled"},
    {"OSH_ALERT_RETENTION_DAYS", OSH_CONF_INT, &aw_config.retention_days, "30",
	1, 3650, NULL, "resolved alerts that ended longer ago are deleted"},
    {"OSH_ALERT_PRUNE_INTERVAL_S", OSH_CONF_INT, &aw_config.prune_interval_s,
	"3600", 1, 86400, NULL, "how often retention runs"},
    {"OSH_ALERT_SEL_WINDOW_S", OSH_CONF_INT, &aw_config.sel_window_s, "600", 1,
	86400, NULL,
	"SEL entries this close to an alert's startsAt are its evidence"},
    {"OSH_ALERT_SEL_LIMIT", OSH_CONF_INT, &aw_config.sel_limit, "20", 1, 100,
	NULL, "SEL entries kept as evidence per alert, at most"},
    {"OSH_ALERT_EVIDENCE_CONCURRENCY", OSH_CONF_INT,
	&aw_config.evidence_concurrency, "4", 1, 64, NULL,
	"SEL evidence fetches running at once"},
    {"OSH_ALERTMANAGER_TIMEOUT_MS", OSH_CONF_INT,
	&aw_config.alertmanager_timeout_ms, "5000", 100, 60000, NULL,
	"deadline of a call to Alertmanager's silences API (503/504 past "
	"it)"},
    {"OSH_ALERT_ACK_EXTEND_S", OSH_CONF_INT, &aw_config.ack_extend_s, "3600",
	10, 86400, NULL,
	"an ack's silence ends this long ahead, extended while the alert "
	"fires"},
    {"OSH_ALERT_ACK_CHECK_S", OSH_CONF_INT, &aw_config.ack_check_s, "15", 1,
	3600, NULL,
	"how often acks are kept: silences of resolved alerts expired, "
	"others extended"},
    {"OSH_ALERT_SILENCE_MAX_S", OSH_CONF_INT, &aw_config.silence_max_s,
	"2592000", 60, 31536000, NULL,
	"longest silence (and ack end) the API creates"},
    {"OSH_ALERT_MAINTENANCE_MAX_S", OSH_CONF_INT, &aw_config.maintenance_max_s,
	"7776000", 60, 31536000, NULL, "longest maintenance window"},
    {"OSH_PROMETHEUS_URL", OSH_CONF_STRING, &aw_config.prometheus_url, "", 0, 0,
	url_ok,
	"Prometheus, asked by the metrics API (empty: the API answers 503)"},
    {"OSH_PROMETHEUS_TIMEOUT_MS", OSH_CONF_INT,
	&aw_config.prometheus_timeout_ms, "5000", 100, 60000, NULL,
	"deadline of a metrics API query to Prometheus (503/504 past it)"},
};

static struct aw_app app;

/* Reads a secret file; logs and answers NULL when it cannot. */
static char *
read_secret(const char *path, const char *what)
{
	char *s = osh_read_file(path, 4096, true);
	char q[256];

	if (s == NULL)
		osh_log_error(NULL, "msg=\"cannot read the %s\" path=\"%s\"",
		    what, osh_log_quote(path, q, sizeof(q)));
	else if (s[0] == '\0') {
		osh_log_error(NULL, "msg=\"the %s is empty\" path=\"%s\"", what,
		    osh_log_quote(path, q, sizeof(q)));
		osh_free_secret(s);
		s = NULL;
	}
	return s;
}

static int
start(struct osh_service *svc)
{
	char *secret;

	app.svc = svc;
	app.cfg = aw_config;
	if ((secret = read_secret(
		 app.cfg.webhook_secret_file, "webhook secret")) == NULL)
		return -1;
	receiver_secret_hash(secret, strlen(secret), app.secret_hash);
	osh_free_secret(secret);
	if ((secret = read_secret(
		 app.cfg.service_secret_file, "service secret")) == NULL)
		return -1;
	app.http = osh_httpc_new(svc->base);
	app.token = app.http ? osh_svctoken_new(app.http, app.cfg.auth_url,
				   "alert-webhook", secret)
			     : NULL;
	osh_free_secret(secret);
	if (app.token == NULL)
		return -1;
	app.m_notifications = osh_metric_new(svc->metrics,
	    "osh_alert_webhook_notifications_total",
	    "Webhook notifications from Alertmanager, by result (stored, "
	    "unauthorized, invalid, unavailable)",
	    OSH_COUNTER, NULL, 0);
	app.m_alerts = osh_metric_new(svc->metrics, "osh_alert_alerts_total",
	    "Alerts received, by outcome (new, repeat, resolved, refired)",
	    OSH_COUNTER, NULL, 0);
	app.m_truncated = osh_metric_new(svc->metrics,
	    "osh_alert_webhook_truncated_alerts_total",
	    "Alerts Alertmanager left out of notifications (truncatedAlerts)",
	    OSH_COUNTER, NULL, 0);
	app.m_polls = osh_metric_new(svc->metrics, "osh_alert_polls_total",
	    "Polls of Alertmanager's alerts, by result", OSH_COUNTER, NULL, 0);
	app.m_evidence =
	    osh_metric_new(svc->metrics, "osh_alert_evidence_fetches_total",
		"SEL evidence fetches, by result (ok, retry, failed)",
		OSH_COUNTER, NULL, 0);
	app.m_pruned = osh_metric_new(svc->metrics, "osh_alert_pruned_total",
	    "Resolved alerts deleted by retention", OSH_COUNTER, NULL, 0);
	osh_httpc_set_limits(app.http, (size_t)svc->cfg.httpc_max_inflight,
	    (size_t)svc->cfg.httpc_queue_max);
	osh_httpc_metrics(app.http, svc->metrics, "httpc");
	svc->app = &app;
	if ((app.evidence = evidence_new(&app)) == NULL ||
	    (app.poller = poller_new(&app)) == NULL ||
	    (app.acks = ackkeeper_new(&app)) == NULL)
		return -1;
	return 0;
}

static void
stop(struct osh_service *svc)
{
	(void)svc;
	ackkeeper_free(app.acks);
	poller_free(app.poller);
	evidence_free(app.evidence);
	osh_svctoken_free(app.token); /* answers its waiters */
	osh_httpc_free(app.http); /* answers the requests under way */
	sodium_memzero(app.secret_hash, sizeof(app.secret_hash));
}

int
main(int argc, char **argv)
{
	struct osh_service_def def = {
	    .name = "alert-webhook",
	    .default_port = 8105,
	    .schema = "alert_webhook",
	    .routes = aw_routes,
	    .nroutes = aw_nroutes,
	    .config = aw_items,
	    .nconfig = sizeof(aw_items) / sizeof(aw_items[0]),
	    .migrations = alert_webhook_migrations,
	    .nmigrations = alert_webhook_nmigrations,
	    .start = start,
	    .stop = stop,
	};

	return osh_service_main(&def, argc, argv);
}
