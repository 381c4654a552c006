/* cm.h - the cluster-mgmt service: its context and configuration, the
 * results its domain calls end in, and the rules for cluster input that
 * need no I/O (cluster.c), shared by its files. */
#ifndef CM_CM_H
#define CM_CM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include <osh/error.h>
#include <osh/service.h>

struct cm_config {
	const char *auth_url; /* OSH_AUTH_URL: for the service token */
	const char *server_mgmt_url; /* OSH_SERVER_MGMT_URL: the servers */
	const char *service_secret_file; /* OSH_SERVICE_SECRET_FILE */
	int64_t resync_s; /* OSH_CLUSTER_RESYNC_S: full rebuild period */
	int64_t sync_page; /* OSH_CLUSTER_SYNC_PAGE: servers per request */
	int64_t job_tick_ms; /* OSH_JOB_TICK_MS: scheduler period */
	int64_t job_grace_ms; /* OSH_JOB_LOST_GRACE_MS: past a deadline */
	int64_t job_max_picks; /* OSH_JOB_MAX_PICKS: requests per tick */
	int64_t job_retention_days; /* OSH_JOB_RETENTION_DAYS */
	int64_t job_events_ttl_s; /* OSH_JOB_EVENTS_TTL_S */
	int64_t power_claim_idle_ms; /* OSH_POWER_CLAIM_IDLE_MS */
};

struct readmodel;
struct scheduler;
struct osh_httpc;
struct osh_svctoken;

struct cm_app {
	struct osh_service *svc;
	struct cm_config cfg;
	struct osh_httpc *http;
	struct osh_svctoken *token;
	struct readmodel *rm;
	struct osh_metric *m_sync; /* rebuilds by result */
	struct osh_metric *m_events; /* server events applied by type */
	struct scheduler *sched;
	struct osh_metric *m_requests; /* power requests sent */
	struct osh_metric *m_results; /* power results read */
};

extern struct cm_config cm_config;

/* How a domain call ended; handlers map it to HTTP in one switch
 * (handlers_reply_result). */
enum cm_result {
	CM_OK,
	CM_CREATED,
	CM_DELETED, /* 204, no body */
	CM_NOT_FOUND, /* the cluster */
	CM_CONFLICT, /* the name is taken */
	CM_INVALID, /* the database refused a value */
	CM_UNKNOWN_SERVERS, /* ids that are no server */
	CM_BUSY, /* the database pool refused for overload */
	CM_UNAVAILABLE, /* database or Redis down */
	/* Jobs (jobs.c). */
	CM_JOB_NOT_FOUND, /* the path's job */
	CM_JOB_REFUSED, /* the job's state refuses the action (409) */
	CM_KEY_REUSED, /* Idempotency-Key seen with another body (422) */
	CM_NO_CLUSTER, /* the targeted cluster does not exist (400) */
	CM_NOTHING_FAILED, /* retry of a job without failed tasks (409) */
	CM_JOB_LIVE, /* retry of a job that still runs (409) */
};

/* Bounds of cluster input. */
#define CLUSTER_NAME_MAX 64
#define CLUSTER_DESCRIPTION_MAX 1024
#define CLUSTER_LABELS_MAX 32
#define CLUSTER_IDS_MAX 1000

/* A cluster as the API takes it: what a create or a patch sets. Fields not
 * given stay unset (NULL, has_* false). */
struct cluster_in {
	const char *name; /* points into the body */
	const char *description; /* points into the body */
	char *labels; /* JSON object text, owned */
	bool has_selector;
	char *selector; /* canonical text, owned; NULL: remove */
	char *selector_terms; /* JSON of the terms, owned; NULL: remove */
};

/* Checks a cluster body (create: name needed) against the field table and
 * the rules: names as servers' (no control characters, no '/', no
 * leading or trailing space), labels as servers' (at most 32, keys
 * [A-Za-z_][A-Za-z0-9_]{0,62}, string values of at most 256 bytes), the
 * selector a label selector (selector.h; null removes it, "" is refused).
 * Fills err naming the field on failure; out is released by the caller
 * either way. */
int cluster_in_parse(struct json_object *obj, bool create,
    struct cluster_in *out, struct osh_err *err);
void cluster_in_release(struct cluster_in *in);

/* Checks a {"server_ids": [ids]} body (1 to CLUSTER_IDS_MAX positive ids)
 * and writes them as a PostgreSQL array text ("{1,2}") into out (a new
 * string the caller frees). */
int cluster_ids_parse(struct json_object *obj, char **out, struct osh_err *err);

#endif
