/* main.c - osh-server-mgmt: servers, BMC credentials, power, inventory,
 * SEL, discovery and Prometheus service discovery. */
#include <stdio.h>
#include <stdlib.h>

#include <osh/crypto.h>
#include <osh/ipmi.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/service.h>

#include "clustermap.h"
#include "scan_targets.h"
#include "poller.h"
#include "power_worker.h"
#include "pagecache.h"
#include "rowcache.h"
#include "watch.h"
#include "routes.h"
#include "sm.h"
#include "store.h"

extern const struct osh_migration server_mgmt_migrations[];
extern const size_t server_mgmt_nmigrations;

struct sm_config sm_config;

static const struct osh_config_item sm_items[] = {
    {"OSH_CREDENTIAL_KEYS_FILE", OSH_CONF_STRING, &sm_config.keys_file, NULL, 0,
	0, NULL,
	"keys sealing BMC credentials, \"kid:base64\" lines, current first"},
    {"OSH_BMC_TIMEOUT_MS", OSH_CONF_INT, &sm_config.bmc_timeout_ms, "5000", 200,
	120000, NULL, "deadline of one BMC request"},
    {"OSH_POLL_INTERVAL_S", OSH_CONF_INT, &sm_config.poll_interval_s, "30", 1,
	86400, NULL, "how often every server's status is polled"},
    {"OSH_POLL_CONCURRENCY", OSH_CONF_INT, &sm_config.poll_concurrency, "64", 1,
	4096, NULL, "BMC status requests in flight at once"},
    {"OSH_POLL_FAILING_CONCURRENCY", OSH_CONF_INT,
	&sm_config.poll_failing_concurrency, "16", 1, 4096, NULL,
	"of those, at most this many to BMCs whose last poll failed"},
    {"OSH_POLL_BACKOFF_MAX_S", OSH_CONF_INT, &sm_config.poll_backoff_max_s,
	"300", 0, 86400, NULL,
	"a BMC failing polls in a row is polled less often, at least this "
	"often"},
    {"OSH_IPMI_THREADS", OSH_CONF_INT, &sm_config.ipmi_threads, "32", 1, 1024,
	NULL, "threads talking to BMCs"},
    {"OSH_IPMI_QUEUE_MAX", OSH_CONF_INT, &sm_config.ipmi_queue_max, "256", 1,
	65536, NULL, "BMC requests waiting for a thread (more: 503)"},
    {"OSH_IPMI_IDLE_MS", OSH_CONF_INT, &sm_config.ipmi_idle_ms, "45000", 1000,
	3600000, NULL, "close BMC sessions idle this long"},
    {"OSH_SCAN_MAX_TARGETS", OSH_CONF_INT, &sm_config.scan_max_targets, "4096",
	1, 65536, NULL, "largest discovery scan"},
    {"OSH_SCAN_CONCURRENCY", OSH_CONF_INT, &sm_config.scan_concurrency, "64", 1,
	1024, NULL, "discovery probes in flight at once"},
    {"OSH_SCAN_TIMEOUT_MS", OSH_CONF_INT, &sm_config.scan_timeout_ms, "1000",
	100, 10000, NULL, "how long a discovery probe waits"},
    {"OSH_SCAN_MAX_RUNNING", OSH_CONF_INT, &sm_config.scan_max_running, "4", 1,
	1024, NULL, "discovery scans running at once in this process"},
    {"OSH_SCAN_ALLOW", OSH_CONF_STRING, &sm_config.scan_allow, "", 0, 0,
	scan_allow_valid,
	"CIDRs discovery may scan although loopback, link-local, multicast, "
	"broadcast or reserved (comma separated)"},
    {"OSH_LIST_CACHE_MS", OSH_CONF_INT, &sm_config.list_cache_ms, "1000", 0,
	60000, NULL,
	"how long answers of the servers list and statistics are reused "
	"(0: never); this process's own writes drop them at once"},
    {"OSH_CREDENTIALS_LEGACY_RESEAL", OSH_CONF_BOOL, &sm_config.legacy_reseal,
	"true", 0, 0, NULL,
	"re-seal BMC credentials bound to server ids only (sealed by releases "
	"before the endpoint binding) once, at the first start; false: never "
	"open them"},
    {"OSH_POWER_WORKER", OSH_CONF_BOOL, &sm_config.power_worker, "true", 0, 0,
	NULL, "consume power requests from the osh:power-requests stream"},
    {"OSH_POWER_CONCURRENCY", OSH_CONF_INT, &sm_config.power_concurrency, "64",
	1, 4096, NULL, "power requests run at once by this process"},
    {"OSH_POWER_CLAIM_IDLE_MS", OSH_CONF_INT, &sm_config.power_claim_idle_ms,
	"30000", 500, 3600000, NULL,
	"a power request pending this long with a consumer is taken over "
	"(its consumer is presumed dead)"},
    {"OSH_POWER_MAX_DELIVERIES", OSH_CONF_INT, &sm_config.power_max_deliveries,
	"5", 1, 1000, NULL,
	"a power request delivered more often is not run: worker_lost, and "
	"copied to osh:power-requests:dead"},
    {"OSH_POWER_RECORD_DAYS", OSH_CONF_INT, &sm_config.power_record_days, "7",
	1, 3650, NULL,
	"how long executed power requests are remembered (duplicates of "
	"older ones would run again)"},
    {"OSH_BMC_MIN_GAP_MS", OSH_CONF_INT, &sm_config.bmc_min_gap_ms, "200", 0,
	600000, NULL,
	"least time between two power requests' commands to one BMC"},
    {"OSH_CLUSTER_MGMT_URL", OSH_CONF_STRING, &sm_config.cluster_mgmt_url, "",
	0, 0, NULL,
	"osh-cluster-mgmt, whose clusters discovery targets carry (\"\": "
	"none)"},
    {"OSH_AUTH_URL", OSH_CONF_STRING, &sm_config.auth_url,
	"http://127.0.0.1:8101", 0, 0, NULL,
	"osh-auth, for the service token that reads cluster-mgmt"},
    {"OSH_SERVICE_SECRET_FILE", OSH_CONF_STRING, &sm_config.service_secret_file,
	"", 0, 0, NULL,
	"secret traded with auth for a service token (\"\": no clusters "
	"in discovery)"},
};

static struct sm_app app;

/* The clusters of each server, for discovery, when cluster-mgmt is
 * configured. */
static int
clusters_start(struct sm_app *a)
{
	char *secret = NULL;

	if (a->cfg.cluster_mgmt_url[0] != '\0' &&
	    a->cfg.service_secret_file[0] != '\0' &&
	    (secret = osh_read_file(a->cfg.service_secret_file, 1024, true)) ==
		NULL) {
		char path[256];
		osh_log_error(NULL,
		    "msg=\"cannot read the service secret\" path=\"%s\"",
		    osh_log_quote(
			a->cfg.service_secret_file, path, sizeof(path)));
		return -1;
	}
	a->clusters = clustermap_new(
	    a->svc->base, a->cfg.cluster_mgmt_url, a->cfg.auth_url, secret);
	osh_free_secret(secret);
	return a->clusters != NULL ? 0 : -1;
}

static int
start(struct osh_service *svc)
{
	struct osh_ipmi_options io;

	app.svc = svc;
	app.cfg = sm_config;
	if ((app.keys = osh_keyring_load(app.cfg.keys_file)) == NULL) {
		char path[256];
		osh_log_error(NULL,
		    "msg=\"cannot load credential keys\" "
		    "path=\"%s\"",
		    osh_log_quote(app.cfg.keys_file, path, sizeof(path)));
		return -1;
	}
	io = (struct osh_ipmi_options){
	    .threads = (int)app.cfg.ipmi_threads,
	    .idle_timeout_ms = (int)app.cfg.ipmi_idle_ms,
	    .max_queue_per_bmc = 64,
	    /* Above the fleet the poller goes round (10,000 and more):
	     * fewer, and every poll of a round evicts the session the
	     * next one needs (a new session and a close each). */
	    .max_sessions = 16384,
	    .max_waiting = (size_t)app.cfg.ipmi_queue_max,
	};
	if ((app.ipmi = osh_ipmi_new(svc->base, &io)) == NULL)
		return -1;
	if ((app.rows = rowcache_new((int)app.cfg.row_cache_ms)) == NULL)
		return -1;
	if ((app.pages = pagecache_new(
		 (int)app.cfg.list_cache_ms, PAGECACHE_MAX)) == NULL ||
	    (app.items = pagecache_new(
		 (int)app.cfg.list_cache_ms, PAGECACHE_ITEMS_MAX)) == NULL)
		return -1;
	/* Without Redis, no event tells of other replicas' writes: kept
	 * servers go stale for OSH_LIST_CACHE_MS at most. */
	if ((app.watch = watch_new(&app)) == NULL && svc->redis != NULL)
		osh_log_warn(NULL,
		    "msg=\"server events not heard: kept servers expire "
		    "only\"");
	if (clusters_start(&app) != 0)
		return -1;
	app.m_power_actions =
	    osh_metric_new(svc->metrics, "osh_power_actions_total",
		"Power actions requested", OSH_COUNTER, NULL, 0);
	app.m_power_requested = osh_metric_new(svc->metrics,
	    "osh_power_action_requested_timestamp_seconds",
	    "When a power change (on, off, soft, cycle, reset, diag) was last "
	    "sent to the server's BMC, by the API or a job, in seconds since "
	    "the epoch",
	    OSH_GAUGE, NULL, 0);
	osh_ipmi_metrics(app.ipmi, svc->metrics);
	svc->app = &app;
	store_scans_interrupted(svc->db);
	reseal_start(&app);
	if ((app.poller = poller_new(&app)) == NULL)
		return -1;
	if (app.cfg.power_worker && svc->redis != NULL &&
	    (app.power = power_worker_new(&app)) == NULL)
		return -1;
	return 0;
}

static void
stop(struct osh_service *svc)
{
	(void)svc;
	/* Reads stop before the engine goes; the requests it answers on its
	 * way out are recorded and acknowledged while the pools last. */
	power_worker_close(app.power);
	app.power = NULL;
	/* The engine first: its last answers go to the poller. */
	osh_ipmi_free(app.ipmi);
	app.ipmi = NULL;
	poller_free(app.poller);
	app.poller = NULL;
	rowcache_free(app.rows);
	watch_free(app.watch); /* before what its events touch */
	app.watch = NULL;
	pagecache_free(app.pages);
	pagecache_free(app.items);
	app.pages = app.items = NULL; /* late poll answers find none */
	clustermap_free(app.clusters);
	osh_keyring_free(app.keys);
}

int
main(int argc, char **argv)
{
	struct osh_service_def def = {
	    .name = "server-mgmt",
	    .default_port = 8102,
	    .schema = "server_mgmt",
	    .routes = sm_routes,
	    .nroutes = sm_nroutes,
	    .config = sm_items,
	    .nconfig = sizeof(sm_items) / sizeof(sm_items[0]),
	    .migrations = server_mgmt_migrations,
	    .nmigrations = server_mgmt_nmigrations,
	    .start = start,
	    .stop = stop,
	};

	return osh_service_main(&def, argc, argv);
}
