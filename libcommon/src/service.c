/* service.c - the common service skeleton: configuration, pools, router,
 * built-in /health, /ready and /metrics, signals and graceful shutdown. */
#include <errno.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "osh/audit.h"
#include "osh/crypto.h"
#include "osh/db.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/proxy.h"
#include "osh/redis.h"
#include "osh/revoke.h"
#include "osh/service.h"
#include "osh/util.h"
#include "osh/work.h"

#define MIGRATE_WAIT_S 60

static bool
valid_alg(const void *field, char *err, size_t len)
{
	const char *v = *(const char *const *)field;

	if (strcmp(v, "ES256") == 0 || strcmp(v, "RS256") == 0)
		return true;
	snprintf(err, len, "must be ES256 or RS256");
	return false;
}

static bool
valid_level(const void *field, char *err, size_t len)
{
	enum osh_log_level l;

	if (osh_log_level_parse(*(const char *const *)field, &l))
		return true;
	snprintf(err, len, "must be debug, info, warn or error");
	return false;
}

static bool
readable(const void *field, char *err, size_t len)
{
	const char *v = *(const char *const *)field;

	if (v[0] == '\0' || access(v, R_OK) == 0)
		return true;
	snprintf(err, len, "cannot read \"%s\": %s", v, strerror(errno));
	return false;
}

/* A list of addresses and CIDR ranges (osh_cidr_list_parse). */
static bool
valid_proxies(const void *field, char *err, size_t len)
{
	struct osh_cidr_list l;

	return osh_cidr_list_parse(*(const char *const *)field, &l, err, len) ==
	    0;
}

/* A unix socket path: absolute, and short enough for sun_path. */
static bool
valid_unix_path(const void *field, char *err, size_t len)
{
	const char *v = *(const char *const *)field;

	if (v[0] == '\0')
		return true;
	if (v[0] != '/') {
		snprintf(err, len, "must be an absolute path");
		return false;
	}
	if (strlen(v) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		snprintf(err, len, "must be shorter than %zu bytes",
		    sizeof(((struct sockaddr_un *)NULL)->sun_path));
		return false;
	}
	return true;
}

#define NCOMMON 32

/* The settings every service reads, pointing into cfg. */
static void
common_items(struct osh_common_config *cfg, struct osh_config_item *out)
{
#define C(f) &cfg->f
	const struct osh_config_item items[NCOMMON] = {
	    {"OSH_LISTEN_ADDR", OSH_CONF_STRING, C(listen_addr), "127.0.0.1", 0,
		0, NULL, "address to listen on"},
	    {"OSH_PORT", OSH_CONF_INT, C(port), "", 1, 65535, NULL,
		"port to listen on"},
	    {"OSH_LISTEN_UNIX", OSH_CONF_STRING, C(listen_unix), "", 0, 0,
		valid_unix_path,
		"unix socket to listen on too, for the gateway (mode 0660)"},
	    {"OSH_DB_CONNINFO", OSH_CONF_STRING, C(db_conninfo),
		"host=127.0.0.1 port=5432 dbname=osh user=osh", 0, 0, NULL,
		"libpq connection string, without password"},
	    {"OSH_DB_PASSWORD_FILE", OSH_CONF_STRING, C(db_password_file), "",
		0, 0, readable, "file holding the database password"},
	    {"OSH_DB_POOL_SIZE", OSH_CONF_INT, C(db_pool_size), "4", 1, 64,
		NULL, "database connections"},
	    {"OSH_DB_TIMEOUT_MS", OSH_CONF_INT, C(db_timeout_ms), "5000", 100,
		600000, NULL, "deadline of one query"},
	    {"OSH_DB_QUEUE_MAX", OSH_CONF_INT, C(db_queue_max), "512", 1, 65536,
		NULL, "queries waiting for a database connection (more: 503)"},
	    {"OSH_REDIS_HOST", OSH_CONF_STRING, C(redis_host), "127.0.0.1", 0,
		0, NULL, "Redis host"},
	    {"OSH_REDIS_PORT", OSH_CONF_INT, C(redis_port), "6379", 1, 65535,
		NULL, "Redis port"},
	    {"OSH_REDIS_PASSWORD_FILE", OSH_CONF_STRING, C(redis_password_file),
		"", 0, 0, readable, "file holding the Redis password"},
	    {"OSH_REDIS_TIMEOUT_MS", OSH_CONF_INT, C(redis_timeout_ms), "2000",
		100, 60000, NULL, "deadline of one Redis command"},
	    {"OSH_REDIS_QUEUE_MAX", OSH_CONF_INT, C(redis_queue_max), "1024", 1,
		65536, NULL, "Redis commands awaiting replies (more: 503)"},
	    {"OSH_JWT_ALG", OSH_CONF_STRING, C(jwt_alg), "ES256", 0, 0,
		valid_alg, "access token algorithm"},
	    {"OSH_JWT_PUBLIC_KEY_FILE", OSH_CONF_STRING, C(jwt_public_key_file),
		NULL, 0, 0, readable, "PEM public key verifying access tokens"},
	    {"OSH_JWT_ISSUER", OSH_CONF_STRING, C(jwt_issuer), "openserverhub",
		0, 0, NULL, "expected token issuer"},
	    {"OSH_JWT_AUDIENCE", OSH_CONF_STRING, C(jwt_audience),
		"openserverhub", 0, 0, NULL, "expected token audience"},
	    {"OSH_LOG_LEVEL", OSH_CONF_STRING, C(log_level), "info", 0, 0,
		valid_level, "debug, info, warn or error"},
	    {"OSH_TRUSTED_PROXIES", OSH_CONF_STRING, C(trusted_proxies),
		"127.0.0.1,::1", 0, 0, valid_proxies,
		"addresses and CIDR ranges (IPv4, IPv6) of the proxies whose "
		"X-Forwarded-For, X-Real-IP and X-Forwarded-Proto are "
		"believed"},
	    {"OSH_MAX_BODY", OSH_CONF_INT, C(max_body), "8388608", 1024,
		1073741824, NULL, "largest request body accepted at all"},
	    {"OSH_WORKERS", OSH_CONF_INT, C(workers), "2", 1, 256, NULL,
		"worker threads for blocking work"},
	    {"OSH_WORK_QUEUE_MAX", OSH_CONF_INT, C(work_queue_max), "256", 1,
		65536, NULL, "jobs waiting for a worker thread (more: 503)"},
	    {"OSH_HTTPC_MAX_INFLIGHT", OSH_CONF_INT, C(httpc_max_inflight),
		"32", 1, 4096, NULL,
		"outgoing HTTP requests in flight at once"},
	    {"OSH_HTTPC_QUEUE_MAX", OSH_CONF_INT, C(httpc_queue_max), "256", 1,
		65536, NULL, "outgoing HTTP requests waiting (more: 503)"},
	    {"OSH_SHUTDOWN_TIMEOUT_MS", OSH_CONF_INT, C(shutdown_timeout_ms),
		"10000", 0, 600000, NULL,
		"how long requests may finish on stop"},
	    {"OSH_HTTP_MAX_CONNECTIONS", OSH_CONF_INT, C(http_max_connections),
		"512", 1, 65536, NULL,
		"client connections served at once (more: 503)"},
	    {"OSH_HTTP_MAX_CONNECTIONS_PER_CLIENT", OSH_CONF_INT,
		C(http_max_connections_per_client), "64", 1, 65536, NULL,
		"connections of one client address (IPv6: /64) at once, "
		"trusted proxies aside"},
	    {"OSH_HTTP_FIRST_BYTE_TIMEOUT_MS", OSH_CONF_INT,
		C(http_first_byte_timeout_ms), "3000", 100, 600000, NULL,
		"deadline of a new connection's first byte"},
	    {"OSH_HTTP_HEADER_TIMEOUT_MS", OSH_CONF_INT,
		C(http_header_timeout_ms), "10000", 100, 600000, NULL,
		"deadline of a whole request head"},
	    {"OSH_HTTP_BODY_TIMEOUT_MS", OSH_CONF_INT, C(http_body_timeout_ms),
		"30000", 100, 3600000, NULL,
		"deadline of a whole request body"},
	    {"OSH_HTTP_IDLE_TIMEOUT_MS", OSH_CONF_INT, C(http_idle_timeout_ms),
		"75000", 100, 3600000, NULL,
		"keep-alive connection without a request"},
	    {"OSH_HTTP_WRITE_TIMEOUT_MS", OSH_CONF_INT,
		C(http_write_timeout_ms), "30000", 100, 3600000, NULL,
		"reply that the client does not read"},
	};
#undef C
	_Static_assert(sizeof(items) / sizeof(items[0]) == NCOMMON, "NCOMMON");
	memcpy(out, items, sizeof(items));
}

struct ready_ctx {
	struct osh_req *req;
	int waiting;
	bool db_ok, redis_ok;
	bool db_busy; /* up, but refusing queries for overload */
};

static void
ready_reply(struct ready_ctx *rc)
{
	struct json_object *o, *checks;
	struct osh_service *svc = rc->req->app;
	bool ok = rc->db_ok && rc->redis_ok && !svc->stopping;

	if (--rc->waiting > 0)
		return;
	o = json_object_new_object();
	checks = json_object_new_object();
	json_object_object_add(
	    o, "status", json_object_new_string(ok ? "ready" : "not ready"));
	if (svc->db != NULL)
		json_object_object_add(checks, "database",
		    json_object_new_string(rc->db_busy ? "busy"
			    : rc->db_ok		       ? "ok"
						       : "down"));
	if (svc->redis != NULL)
		json_object_object_add(checks, "redis",
		    json_object_new_string(rc->redis_ok ? "ok" : "down"));
	json_object_object_add(o, "checks", checks);
	osh_reply_json(rc->req, ok ? 200 : 503, o);
	free(rc);
}

static void
ready_db(PGresult *res, const char *error, void *arg)
{
	struct ready_ctx *rc = arg;

	/* A pool refusing queries for overload has its database: still
	 * ready (each request learns of the overload itself). */
	rc->db_busy = osh_db_error_busy(error);
	rc->db_ok = osh_db_ok(res) || rc->db_busy;
	ready_reply(rc);
}

static void
ready_redis(redisReply *reply, void *arg)
{
	struct ready_ctx *rc = arg;

	rc->redis_ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
	ready_reply(rc);
}

static void
h_health(struct osh_req *req)
{
	struct json_object *o = json_object_new_object();
	struct osh_service *svc = req->app;

	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(
	    o, "service", json_object_new_string(svc->def->name));
	osh_reply_json(req, 200, o);
}

static void
h_ready(struct osh_req *req)
{
	struct osh_service *svc = req->app;
	struct ready_ctx *rc = calloc(1, sizeof(*rc));

	if (rc == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	rc->req = req;
	rc->waiting = 1;
	rc->db_ok = true;
	rc->redis_ok = true;
	if (svc->db != NULL) {
		rc->waiting++;
		osh_db_query(svc->db, "SELECT 1", 0, NULL, ready_db, rc);
	}
	if (svc->redis != NULL)
		osh_redis_cmd(svc->redis, ready_redis, rc, "PING");
	else
		ready_reply(rc);
}

static void
collect(struct osh_metrics *m, void *arg)
{
	static struct osh_metric *pool, *queue, *redis_up, *backlog, *inflight,
	    *work, *db_events, *db_cancels;
	struct osh_service *svc = arg;
	struct osh_pool_stats ps;

	if (pool == NULL) {
		pool = osh_metric_new(m, "osh_db_pool_connections",
		    "Database connections by state", OSH_GAUGE, NULL, 0);
		queue = osh_metric_new(m, "osh_db_pool_queue",
		    "Queries waiting for a connection", OSH_GAUGE, NULL, 0);
		redis_up = osh_metric_new(m, "osh_redis_connected",
		    "1 when the Redis connection is up", OSH_GAUGE, NULL, 0);
		backlog = osh_metric_new(m, "osh_audit_backlog",
		    "Audit entries waiting to be sent", OSH_GAUGE, NULL, 0);
		inflight = osh_metric_new(m, "osh_http_in_flight",
		    "Requests being handled", OSH_GAUGE, NULL, 0);
		work = osh_metric_new(m, "osh_work_queue",
		    "Jobs waiting for a worker thread", OSH_GAUGE, NULL, 0);
		db_events = osh_metric_new(m, "osh_db_events_total",
		    "Database pool events: queries run, deadlines missed "
		    "(waiting or running), connections lost, reconnection "
		    "attempts",
		    OSH_COUNTER, NULL, 0);
		db_cancels = osh_metric_new(m, "osh_db_cancels_total",
		    "Queries past their deadline cancelled on the server "
		    "(their connection kept), by whether the cancel request "
		    "got through",
		    OSH_COUNTER, NULL, 0);
	}
	if (svc->db != NULL) {
		struct osh_db_stats st;
		osh_db_stats(svc->db, &st);
		osh_metric_set(pool, "state=\"busy\"", st.busy);
		osh_metric_set(pool, "state=\"idle\"", st.connected - st.busy);
		osh_metric_set(pool, "state=\"down\"", st.size - st.connected);
		osh_metric_set(queue, "", (double)st.queued);
		osh_metric_set(
		    db_events, "event=\"query\"", (double)st.queries);
		osh_metric_set(
		    db_events, "event=\"timeout\"", (double)st.timeouts);
		osh_metric_set(db_events, "event=\"lost\"", (double)st.lost);
		osh_metric_set(
		    db_events, "event=\"reconnect\"", (double)st.reconnects);
		osh_metric_set(
		    db_cancels, "result=\"sent\"", (double)st.cancels);
		osh_metric_set(
		    db_cancels, "result=\"failed\"", (double)st.cancels_failed);
		osh_db_pool_stats(svc->db, &ps);
		osh_metrics_pool(m, "db", &ps);
	}
	if (svc->redis != NULL) {
		osh_metric_set(
		    redis_up, "", osh_redis_connected(svc->redis) ? 1 : 0);
		osh_metric_set(
		    backlog, "", (double)osh_audit_backlog(svc->audit));
		osh_redis_pool_stats(svc->redis, &ps);
		osh_metrics_pool(m, "redis", &ps);
	}
	osh_metric_set(inflight, "", osh_http_in_flight(svc->http));
	osh_metric_set(work, "", (double)osh_work_queued(svc->work));
	osh_work_pool_stats(svc->work, &ps);
	osh_metrics_pool(m, "work", &ps);
}

static void
h_metrics(struct osh_req *req)
{
	struct osh_service *svc = req->app;
	struct osh_buf b;

	osh_buf_init(&b, 0);
	osh_metrics_render(svc->metrics, &b);
	osh_reply(req, 200, "text/plain; version=0.0.4", b.data, b.len);
	osh_buf_release(&b);
}

static const struct osh_route builtin_routes[] = {
    {OSH_GET, "/health", OSH_PERM_PUBLIC, 0, h_health, 0},
    {OSH_GET, "/ready", OSH_PERM_PUBLIC, 0, h_ready, 0},
    {OSH_GET, "/metrics", OSH_PERM_PUBLIC, 0, h_metrics, 0},
};

struct osh_service *
osh_service_of(const struct osh_req *req)
{
	return req->app;
}

void
osh_service_route(struct osh_req *req)
{
	struct osh_service *svc = req->app;

	osh_router_dispatch(req, svc->router);
}

/* Every request passes the service's admit hook, if any, then the
 * router. */
static void
dispatch(struct osh_req *req, void *arg)
{
	struct osh_service *svc = arg;

	if (svc->def->admit != NULL && !svc->def->admit(svc, req))
		return;
	osh_router_dispatch(req, svc->router);
}

static void
on_redis_connect(void *arg)
{
	struct osh_service *svc = arg;

	osh_audit_resume(svc->audit);
}

static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct osh_service *svc = arg;

	(void)fd;
	(void)what;
	if (osh_http_in_flight(svc->http) == 0 ||
	    osh_now_us() >= svc->drain_deadline_us) {
		if (osh_http_in_flight(svc->http) > 0)
			osh_log_warn(NULL,
			    "msg=\"stopping with requests in "
			    "flight\" count=%u",
			    osh_http_in_flight(svc->http));
		event_base_loopexit(svc->base, NULL);
	}
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct osh_service *svc = arg;

	(void)sig;
	(void)what;
	osh_log_info(NULL, "msg=\"SIGHUP: reloading\"");
	if (svc->def->reload != NULL)
		svc->def->reload(svc);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct osh_service *svc = arg;
	struct timeval tick = {0, 50000};

	(void)what;
	if (svc->stopping)
		return;
	osh_log_info(NULL, "msg=\"stopping\" signal=%d in_flight=%u", (int)sig,
	    osh_http_in_flight(svc->http));
	svc->stopping = true;
	osh_http_stop_accepting(svc->http);
	svc->drain_deadline_us =
	    osh_now_us() + (uint64_t)svc->cfg.shutdown_timeout_ms * 1000u;
	if ((svc->drain = event_new(
		 svc->base, -1, EV_PERSIST, on_drain, svc)) == NULL) {
		event_base_loopexit(svc->base, NULL);
		return;
	}
	event_add(svc->drain, &tick);
}

/* Applies migrations, waiting for the database to come up at start. */
static int
migrate(struct osh_service *svc, const struct osh_db_options *dbo)
{
	char err[512] = "";
	PGconn *pg = NULL;

	for (int i = 0; i < MIGRATE_WAIT_S * 2; i++) {
		if ((pg = osh_db_connect_blocking(dbo, err, sizeof(err))) !=
		    NULL)
			break;
		if (i == 0)
			osh_log_warn(NULL,
			    "msg=\"waiting for the database\" "
			    "error=\"%s\"",
			    err);
		usleep(500000);
	}
	if (pg == NULL) {
		osh_log_error(
		    NULL, "msg=\"database unreachable\" error=\"%s\"", err);
		return -1;
	}
	if (osh_migrate(pg, svc->def->schema, svc->def->migrations,
		svc->def->nmigrations, err, sizeof(err)) != 0) {
		char q[512];
		osh_log_error(NULL, "msg=\"migrations failed\" error=\"%s\"",
		    osh_log_quote(err, q, sizeof(q)));
		PQfinish(pg);
		return -1;
	}
	PQfinish(pg);
	return 0;
}

static int
load_config(struct osh_service *svc, bool print)
{
	struct osh_config_item items[NCOMMON];
	char err[300], port[8];

	common_items(&svc->cfg, items);
	snprintf(port, sizeof(port), "%d", svc->def->default_port);
	for (size_t i = 0; i < NCOMMON; i++) {
		if (strcmp(items[i].env, "OSH_PORT") == 0)
			items[i].def = port;
		/* A standalone service needs neither keys nor Redis. */
		if (svc->def->standalone &&
		    (strcmp(items[i].env, "OSH_JWT_PUBLIC_KEY_FILE") == 0 ||
			strcmp(items[i].env, "OSH_REDIS_HOST") == 0))
			items[i].def = "";
	}
	if (osh_config_load(items, OSH_ARRAY_LEN(items), err, sizeof(err)) !=
		0 ||
	    osh_config_load(
		svc->def->config, svc->def->nconfig, err, sizeof(err)) != 0) {
		fprintf(stderr, "osh-%s: configuration error: %s\n",
		    svc->def->name, err);
		return -1;
	}
	if (print) {
		osh_config_print(items, OSH_ARRAY_LEN(items), stdout);
		osh_config_print(svc->def->config, svc->def->nconfig, stdout);
	}
	return 0;
}

static struct osh_route *
all_routes(const struct osh_service_def *def, size_t *n)
{
	size_t nb = OSH_ARRAY_LEN(builtin_routes);
	struct osh_route *r = calloc(nb + def->nroutes, sizeof(*r));

	if (r == NULL)
		return NULL;
	memcpy(r, builtin_routes, sizeof(builtin_routes));
	memcpy(r + nb, def->routes, def->nroutes * sizeof(*r));
	*n = nb + def->nroutes;
	return r;
}

static char *
read_secret(const char *path)
{
	char *s;

	if (path == NULL || path[0] == '\0')
		return NULL;
	if ((s = osh_read_file(path, 4096, true)) == NULL)
		osh_log_error(
		    NULL, "msg=\"cannot read secret file\" path=\"%s\"", path);
	return s;
}

struct osh_redis *
osh_service_redis_new(struct osh_service *svc, int extra_timeout_ms)
{
	char *password;
	struct osh_redis *r;

	if (svc->cfg.redis_host[0] == '\0')
		return NULL;
	password = read_secret(svc->cfg.redis_password_file);
	r = osh_redis_new(svc->base,
	    &(struct osh_redis_options){
		.host = svc->cfg.redis_host,
		.port = (int)svc->cfg.redis_port,
		.password = password,
		.timeout_ms = (int)svc->cfg.redis_timeout_ms + extra_timeout_ms,
		.max_pending = (size_t)svc->cfg.redis_queue_max,
	    });
	osh_free_secret(password);
	return r;
}

/* Every BMC session is a UDP socket of its own (10,000 servers polled:
 * 10,000 of them), and every client and pool connection a socket too:
 * the soft limit on open files is raised to the hard one (capped at the
 * kernel's nr_open when unlimited), and logged. */
static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t was, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	was = rl.rlim_cur;
	want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = was;
	}
	osh_log_info(NULL, "msg=\"open files limit\" nofile=%llu was=%llu",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)was);
}

static void
usage(const struct osh_service_def *def)
{
	printf("usage: osh-%s [--check-config] [--help]%s\n"
	       "Configuration comes from OSH_* environment variables; "
	       "--check-config validates\nand prints it.\n%s",
	    def->name, def->usage != NULL ? " [flags]" : "",
	    def->usage != NULL ? def->usage : "");
}

int
osh_service_main(const struct osh_service_def *def, int argc, char **argv)
{
	struct osh_service svc;
	struct osh_db_options dbo;
	struct osh_redis_options ro;
	struct osh_http_options ho;
	struct osh_route *routes = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	enum osh_log_level level;
	char *dbpass = NULL, *redispass = NULL, *pubkey = NULL;
	size_t nroutes = 0;
	bool check = false;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(def);
			return 0;
		} else {
			fprintf(stderr, "osh-%s: unknown argument \"%s\"\n",
			    def->name, argv[i]);
			usage(def);
			return 2;
		}
	}
	memset(&svc, 0, sizeof(svc));
	svc.def = def;
	osh_log_init(def->name, OSH_LOG_INFO);
	if (load_config(&svc, check) != 0)
		return 2;
	if (check)
		return 0;
	osh_log_level_parse(svc.cfg.log_level, &level);
	osh_log_init(def->name, level);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (osh_crypto_init() != 0) {
		osh_log_error(NULL, "msg=\"libsodium failed to start\"");
		return 1;
	}
	if (svc.cfg.jwt_public_key_file[0] != '\0' &&
	    (pubkey = osh_read_file(
		 svc.cfg.jwt_public_key_file, 16384, false)) == NULL) {
		osh_log_error(NULL,
		    "msg=\"cannot read public key\" path=\"%s\"",
		    svc.cfg.jwt_public_key_file);
		goto out;
	}
	dbpass = read_secret(svc.cfg.db_password_file);
	redispass = read_secret(svc.cfg.redis_password_file);
	svc.base = event_base_new();
	svc.metrics = osh_metrics_new();
	if (svc.base == NULL || svc.metrics == NULL)
		goto out;

	if (def->schema != NULL) {
		dbo = (struct osh_db_options){
		    .conninfo = svc.cfg.db_conninfo,
		    .password = dbpass,
		    .schema = def->schema,
		    .size = (int)svc.cfg.db_pool_size,
		    .query_timeout_ms = (int)svc.cfg.db_timeout_ms,
		    .max_queue = (size_t)svc.cfg.db_queue_max,
		};
		if (migrate(&svc, &dbo) != 0)
			goto out;
		if ((svc.db = osh_db_new(svc.base, &dbo)) == NULL)
			goto out;
	}
	ro = (struct osh_redis_options){
	    .host = svc.cfg.redis_host,
	    .port = (int)svc.cfg.redis_port,
	    .password = redispass,
	    .timeout_ms = (int)svc.cfg.redis_timeout_ms,
	    .max_pending = (size_t)svc.cfg.redis_queue_max,
	};
	if (svc.cfg.redis_host[0] != '\0') {
		svc.redis = osh_redis_new(svc.base, &ro);
		svc.revoked = svc.redis
		    ? osh_revocations_new(svc.base, &ro, svc.redis)
		    : NULL;
	}
	svc.work = osh_work_pool_new(
	    svc.base, (int)svc.cfg.workers, (size_t)svc.cfg.work_queue_max);
	if (pubkey != NULL)
		svc.verifier = osh_jwt_verifier_new(svc.cfg.jwt_alg, pubkey,
		    svc.cfg.jwt_issuer, svc.cfg.jwt_audience);
	if ((svc.cfg.redis_host[0] != '\0' &&
		(svc.redis == NULL || svc.revoked == NULL)) ||
	    svc.work == NULL || (pubkey != NULL && svc.verifier == NULL) ||
	    (pubkey == NULL && !def->standalone)) {
		osh_log_error(NULL,
		    "msg=\"start-up failed\" redis=%d work=%d "
		    "verifier=%d",
		    svc.redis != NULL, svc.work != NULL, svc.verifier != NULL);
		goto out;
	}
	if (svc.redis != NULL) {
		svc.audit = osh_audit_new(svc.redis, def->name, 100000);
		osh_redis_on_connect(svc.redis, on_redis_connect, &svc);
		osh_audit_set_metrics(svc.audit, svc.metrics);
	}
	if ((routes = all_routes(def, &nroutes)) == NULL ||
	    (svc.router = osh_router_new(routes, nroutes)) == NULL)
		goto out;
	osh_router_set_auth(svc.router, svc.verifier, svc.revoked, svc.redis);
	osh_metrics_on_collect(svc.metrics, collect, &svc);
	if (def->start != NULL && def->start(&svc) != 0) {
		osh_log_error(NULL, "msg=\"service start failed\"");
		goto out;
	}
	ho = (struct osh_http_options){
	    .addr = svc.cfg.listen_addr,
	    .port = (int)svc.cfg.port,
	    .unix_path = svc.cfg.listen_unix,
	    .max_body = (size_t)svc.cfg.max_body,
	    .idle_timeout_ms = (int)svc.cfg.http_idle_timeout_ms,
	    .max_connections = (int)svc.cfg.http_max_connections,
	    .max_connections_per_client =
		(int)svc.cfg.http_max_connections_per_client,
	    .first_byte_timeout_ms = (int)svc.cfg.http_first_byte_timeout_ms,
	    .header_timeout_ms = (int)svc.cfg.http_header_timeout_ms,
	    .body_timeout_ms = (int)svc.cfg.http_body_timeout_ms,
	    .write_timeout_ms = (int)svc.cfg.http_write_timeout_ms,
	    .body_limit = osh_router_body_limit,
	    .body_limit_arg = svc.router,
	    .tls = svc.tls,
	    .trusted_proxies = svc.cfg.trusted_proxies,
	    .metrics = svc.metrics,
	    .app = &svc,
	};
	if ((svc.http = osh_http_new(svc.base, &ho, dispatch, &svc)) == NULL)
		goto out_stop;
	sigterm = evsignal_new(svc.base, SIGTERM, on_signal, &svc);
	sigint = evsignal_new(svc.base, SIGINT, on_signal, &svc);
	sighup = evsignal_new(svc.base, SIGHUP, on_hup, &svc);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_add(sighup, NULL);
	osh_log_info(NULL, "msg=\"listening\" addr=%s port=%lld unix=\"%s\"",
	    svc.cfg.listen_addr, (long long)svc.cfg.port, svc.cfg.listen_unix);
	event_base_dispatch(svc.base);
	rc = 0;
	osh_log_info(NULL, "msg=\"stopped\"");
out_stop:
	if (def->stop != NULL)
		def->stop(&svc);
out:
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sighup != NULL)
		event_free(sighup);
	if (svc.drain != NULL)
		event_free(svc.drain);
	/* Dependencies first: their last callbacks may still answer
	 * requests, so the HTTP server goes last. */
	osh_work_pool_free(svc.work);
	osh_db_free(svc.db);
	osh_audit_free(svc.audit);
	osh_revocations_free(svc.revoked);
	osh_redis_free(svc.redis);
	osh_http_free(svc.http);
	osh_router_free(svc.router);
	osh_jwt_verifier_free(svc.verifier);
	osh_metrics_free(svc.metrics);
	free(routes);
	free(pubkey);
	osh_free_secret(dbpass);
	osh_free_secret(redispass);
	if (svc.base != NULL)
		event_base_free(svc.base);
	if (osh_work_abandoned() > 0) {
		/* Threads left inside a library (FreeIPMI waiting on a silent
		 * BMC): exit() would run the libraries' destructors under
		 * them. */
		fflush(NULL);
		_exit(rc);
	}
	return rc;
}
