/* main.c - osh-cluster-mgmt: clusters of servers (explicit members and
 * label selectors) over a read model of server-mgmt's servers. */
#include <stdio.h>
#include <stdlib.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/service.h>
#include <osh/svctoken.h>
#include <osh/util.h>

#include "cm.h"
#include "jobevents.h"
#include "readmodel.h"
#include "routes.h"
#include "scheduler.h"

extern const struct osh_migration cluster_mgmt_migrations[];
extern const size_t cluster_mgmt_nmigrations;

struct cm_config cm_config;

static const struct osh_config_item cm_items[] = {
    {"OSH_AUTH_URL", OSH_CONF_STRING, &cm_config.auth_url,
	"http://127.0.0.1:8101", 0, 0, NULL,
	"osh-auth, for the service token that reads server-mgmt"},
    {"OSH_SERVER_MGMT_URL", OSH_CONF_STRING, &cm_config.server_mgmt_url,
	"http://127.0.0.1:8102", 0, 0, NULL,
	"osh-server-mgmt, whose servers clusters are made of"},
    {"OSH_SERVICE_SECRET_FILE", OSH_CONF_STRING, &cm_config.service_secret_file,
	NULL, 0, 0, NULL, "secret traded with auth for a service token"},
    {"OSH_CLUSTER_RESYNC_S", OSH_CONF_INT, &cm_config.resync_s, "300", 5, 86400,
	NULL,
	"how often the read model of servers is rebuilt in full (events keep "
	"it current in between)"},
    {"OSH_CLUSTER_SYNC_PAGE", OSH_CONF_INT, &cm_config.sync_page, "500", 1,
	1000, NULL, "servers asked of server-mgmt per request in a rebuild"},
    {"OSH_JOB_TICK_MS", OSH_CONF_INT, &cm_config.job_tick_ms, "200", 10, 10000,
	NULL, "how often the job scheduler looks for work"},
    {"OSH_JOB_LOST_GRACE_MS", OSH_CONF_INT, &cm_config.job_grace_ms, "10000", 0,
	3600000, NULL,
	"how long past its deadline an attempt without a result counts as "
	"lost (and is retried as worker_lost)"},
    {"OSH_JOB_MAX_PICKS", OSH_CONF_INT, &cm_config.job_max_picks, "512", 1,
	10000, NULL, "power requests one scheduler tick may send"},
    {"OSH_JOB_RETENTION_DAYS", OSH_CONF_INT, &cm_config.job_retention_days,
	"30", 1, 3650, NULL, "jobs that ended longer ago are deleted"},
    {"OSH_JOB_EVENTS_TTL_S", OSH_CONF_INT, &cm_config.job_events_ttl_s, "86400",
	60, 2592000, NULL,
	"how long a job's event stream (SSE replay) outlives its last entry"},
    {"OSH_POWER_CLAIM_IDLE_MS", OSH_CONF_INT, &cm_config.power_claim_idle_ms,
	"30000", 1000, 3600000, NULL,
	"power results idle this long with a dead consumer are claimed"},
};

static struct cm_app app;

static int
start(struct osh_service *svc)
{
	char *secret;

	app.svc = svc;
	app.cfg = cm_config;
	if ((secret = osh_read_file(app.cfg.service_secret_file, 1024, true)) ==
	    NULL) {
		char path[256];
		osh_log_error(NULL,
		    "msg=\"cannot read the service secret\" path=\"%s\"",
		    osh_log_quote(
			app.cfg.service_secret_file, path, sizeof(path)));
		return -1;
	}
	app.http = osh_httpc_new(svc->base);
	app.token = app.http ? osh_svctoken_new(app.http, app.cfg.auth_url,
				   "cluster-mgmt", secret)
			     : NULL;
	osh_free_secret(secret);
	if (app.token == NULL)
		return -1;
	app.m_sync = osh_metric_new(svc->metrics, "osh_cluster_sync_total",
	    "Full rebuilds of the read model of servers, by result",
	    OSH_COUNTER, NULL, 0);
	app.m_events =
	    osh_metric_new(svc->metrics, "osh_cluster_server_events_total",
		"Server events applied to the read model, by type", OSH_COUNTER,
		NULL, 0);
	svc->app = &app;
	if ((app.rm = readmodel_new(&app)) == NULL)
		return -1;
	app.m_requests =
	    osh_metric_new(svc->metrics, "osh_job_power_requests_total",
		"Power requests written to osh:power-requests", OSH_COUNTER,
		NULL, 0);
	app.m_results = osh_metric_new(svc->metrics,
	    "osh_job_power_results_total",
	    "Power results read from osh:power-results", OSH_COUNTER, NULL, 0);
	jobevents_set_ttl(app.cfg.job_events_ttl_s);
	if ((app.sched = scheduler_new(&app)) == NULL)
		return -1;
	return 0;
}

static void
stop(struct osh_service *svc)
{
	(void)svc;
	scheduler_free(app.sched);
	readmodel_free(app.rm);
	osh_svctoken_free(app.token); /* answers its waiters */
	osh_httpc_free(app.http); /* answers the requests under way */
}

int
main(int argc, char **argv)
{
	struct osh_service_def def = {
	    .name = "cluster-mgmt",
	    .default_port = 8103,
	    .schema = "cluster_mgmt",
	    .routes = cm_routes,
	    .nroutes = cm_nroutes,
	    .config = cm_items,
	    .nconfig = sizeof(cm_items) / sizeof(cm_items[0]),
	    .migrations = cluster_mgmt_migrations,
	    .nmigrations = cluster_mgmt_nmigrations,
	    .start = start,
	    .stop = stop,
	};

	return osh_service_main(&def, argc, argv);
}
