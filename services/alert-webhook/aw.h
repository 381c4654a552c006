/* aw.h - the alert-webhook service: its context and configuration, and
 * the results its domain calls end in, shared by its files. */
#ifndef AW_AW_H
#define AW_AW_H

#include <stdbool.h>
#include <stdint.h>

#include <osh/service.h>

struct aw_config {
	const char *auth_url; /* OSH_AUTH_URL: for the service token */
	const char *server_mgmt_url; /* OSH_SERVER_MGMT_URL: SEL evidence */
	const char *service_secret_file; /* OSH_SERVICE_SECRET_FILE */
	const char *webhook_secret_file; /* OSH_ALERT_WEBHOOK_SECRET_FILE */
	const char *alertmanager_url; /* OSH_ALERTMANAGER_URL; "": no poll */
	int64_t poll_interval_s; /* OSH_ALERT_POLL_INTERVAL_S */
	int64_t retention_days; /* OSH_ALERT_RETENTION_DAYS */
	int64_t prune_interval_s; /* OSH_ALERT_PRUNE_INTERVAL_S */
	int64_t sel_window_s; /* OSH_ALERT_SEL_WINDOW_S: around startsAt */
	int64_t sel_limit; /* OSH_ALERT_SEL_LIMIT: entries kept per alert */
	int64_t evidence_concurrency; /* OSH_ALERT_EVIDENCE_CONCURRENCY */
	int64_t alertmanager_timeout_ms; /* OSH_ALERTMANAGER_TIMEOUT_MS */
	int64_t ack_extend_s; /* OSH_ALERT_ACK_EXTEND_S: an ack's silence */
	int64_t ack_check_s; /* OSH_ALERT_ACK_CHECK_S: acks kept this often */
	int64_t silence_max_s; /* OSH_ALERT_SILENCE_MAX_S */
	int64_t maintenance_max_s; /* OSH_ALERT_MAINTENANCE_MAX_S */
	const char *prometheus_url; /* OSH_PROMETHEUS_URL; "": no metrics */
	int64_t prometheus_timeout_ms; /* OSH_PROMETHEUS_TIMEOUT_MS */
};

struct osh_httpc;
struct osh_svctoken;
struct osh_metric;
struct evidence;
struct poller;
struct ackkeeper;

/* The BLAKE2b-256 digest of the webhook secret: the secret itself is
 * wiped once read. */
#define AW_SECRET_HASH_LEN 32

struct aw_app {
	struct osh_service *svc;
	struct aw_config cfg;
	unsigned char secret_hash[AW_SECRET_HASH_LEN];
	struct osh_httpc *http;
	struct osh_svctoken *token;
	struct evidence *evidence; /* SEL evidence fetcher (evidence.c) */
	struct poller *poller; /* Alertmanager poll, retention (poller.c) */
	struct ackkeeper *acks; /* ack silences kept (ackkeeper.c) */
	struct osh_metric *m_notifications; /* webhook posts, by result */
	struct osh_metric *m_alerts; /* alerts stored, by outcome */
	struct osh_metric *m_truncated; /* truncatedAlerts summed */
	struct osh_metric *m_polls; /* Alertmanager polls, by result */
	struct osh_metric *m_evidence; /* SEL evidence fetches, by result */
	struct osh_metric *m_pruned; /* alerts deleted by retention */
};

/* How a domain call ended; handlers map it to HTTP in one switch
 * (handlers_reply). */
enum aw_result {
	AW_OK,
	AW_CREATED, /* 201 */
	AW_NOT_FOUND, /* the path's alert (or silence, window) */
	AW_INVALID, /* 400: a body Alertmanager refused */
	AW_CONFLICT, /* 409: not in a state that allows it */
	AW_BUSY, /* the database pool refused for overload (503) */
	AW_UNAVAILABLE, /* the database is down (503) */
	AW_AM_UNAVAILABLE, /* Alertmanager down or failing (503) */
	AW_AM_TIMEOUT, /* Alertmanager silent past the deadline (504) */
	AW_PROM_UNAVAILABLE, /* Prometheus down or failing (503) */
	AW_PROM_TIMEOUT, /* Prometheus silent past the deadline (504) */
};

#endif
