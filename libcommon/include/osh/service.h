/* service.h - the skeleton every service runs on: configuration, logging,
 * database pool and migrations, Redis, worker threads, the HTTP server
 * with its router, /health, /ready and /metrics, signals and graceful
 * shutdown. A service describes itself in an osh_service_def and calls
 * osh_service_main from main(). */
#ifndef OSH_SERVICE_H
#define OSH_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "migrate.h"
#include "router.h"

struct event_base;

/* Settings every service reads (OSH_* variables). */
struct osh_common_config {
	const char *listen_addr;
	int64_t port;
	const char *listen_unix;
	const char *db_conninfo;
	const char *db_password_file;
	int64_t db_pool_size;
	int64_t db_timeout_ms;
	int64_t db_queue_max;
	const char *redis_host;
	int64_t redis_port;
	const char *redis_password_file;
	int64_t redis_timeout_ms;
	int64_t redis_queue_max;
	const char *jwt_alg;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	const char *log_level;
	const char *trusted_proxies;
	int64_t max_body;
	int64_t workers;
	int64_t work_queue_max;
	int64_t httpc_max_inflight;
	int64_t httpc_queue_max;
	int64_t shutdown_timeout_ms;
	int64_t http_max_connections;
	int64_t http_max_connections_per_client;
	int64_t http_first_byte_timeout_ms;
	int64_t http_header_timeout_ms;
	int64_t http_body_timeout_ms;
	int64_t http_idle_timeout_ms;
	int64_t http_write_timeout_ms;
};

struct osh_service {
	const struct osh_service_def *def;
	struct osh_common_config cfg;
	struct event_base *base;
	struct osh_db *db;
	struct osh_redis *redis;
	struct osh_work_pool *work;
	struct osh_router *router;
	struct osh_http *http;
	struct osh_metrics *metrics;
	struct osh_jwt_verifier *verifier;
	struct osh_audit *audit;
	struct osh_revocations *revoked; /* the token deny-lists */
	void *app; /* the service's own context, set by start() */
	/* TLS for the HTTP server: an SSL_CTX set by start() (NULL: plain
	 * HTTP), referenced by the server (see osh_http_options.tls); swap
	 * it later with osh_http_set_tls(svc->http, ...). */
	struct ssl_ctx_st *tls;
	bool stopping;
	struct event *drain; /* after SIGTERM: waits for requests */
	uint64_t drain_deadline_us;
};

struct osh_service_def {
	const char *name; /* "auth" */
	int default_port;
	const char *schema; /* PostgreSQL schema, NULL: no database */
	const struct osh_route *routes;
	size_t nroutes;
	const struct osh_config_item *config; /* the service's own items */
	size_t nconfig;
	const struct osh_migration *migrations;
	size_t nmigrations;
	/* After config, pools and router exist, before serving. Sets
	 * svc->app. Returns 0 or -1 (start-up fails). */
	int (*start)(struct osh_service *svc);
	/* On shutdown, after the last request. */
	void (*stop)(struct osh_service *svc);
	/* On SIGHUP (may be NULL). */
	void (*reload)(struct osh_service *svc);
	/* Lines --help prints after the common ones (flags of its own), or
	 * NULL. */
	const char *usage;
	/* A service that stands alone (the exporter): no access tokens, and
	 * Redis only when OSH_REDIS_HOST is set. Its routes are public. */
	bool standalone;
	/* Runs for every request before routing (may be NULL): the
	 * exporter's basic authentication. Returns true to send the request
	 * on to the router now; false when it has taken the request: it
	 * then answers it, or later hands it on with osh_service_route. */
	bool (*admit)(struct osh_service *svc, struct osh_req *req);
};

/* Parses argv (--check-config, --help), runs the service until SIGTERM or
 * SIGINT, and returns the process exit status. */
int osh_service_main(const struct osh_service_def *def, int argc, char **argv);

/* The service an HTTP request belongs to. */
struct osh_service *osh_service_of(const struct osh_req *req);

/* Sends a request an admit hook held back on to the router, which then
 * answers it. */
void osh_service_route(struct osh_req *req);

/* Another Redis connection with the service's settings, for subscriptions
 * and blocking reads; its command deadline is the usual one plus
 * extra_timeout_ms. NULL when no Redis is configured or on failure. */
struct osh_redis *osh_service_redis_new(
    struct osh_service *svc, int extra_timeout_ms);

#endif
