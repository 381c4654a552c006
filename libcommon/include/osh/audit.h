/* audit.h - audit emission: every state-changing action is appended to the
 * Redis stream osh:audit, from which the auth service stores it. Entries
 * that cannot be sent (Redis down) wait in an in-memory spool of at most
 * max_backlog entries (100,000 in osh_service_main) and are sent in
 * order on reconnection; a full spool drops its oldest entry. The spool
 * lives in the process: entries still in it when the process is killed
 * are lost (a clean stop logs how many). Delivery is at least once. */
#ifndef OSH_AUDIT_H
#define OSH_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct osh_metrics;
struct osh_redis;
struct osh_req;
struct osh_audit;

#define OSH_AUDIT_STREAM "osh:audit"

struct osh_audit_entry {
	int64_t actor_id; /* 0: none */
	const char *actor; /* user or service name, or the login attempted */
	const char *action; /* "user.create", "auth.login", ... */
	const char *target; /* "user:42", may be NULL */
	const char *result; /* "success", "failure", "denied" */
	const char *client;
	const char *request_id;
	struct json_object *details; /* taken; members whose names suggest
					secrets are dropped */
};

struct osh_audit *osh_audit_new(
    struct osh_redis *redis, const char *service, size_t max_backlog);
void osh_audit_free(struct osh_audit *a);

void osh_audit_emit(struct osh_audit *a, const struct osh_audit_entry *e);

/* Emits with actor, client and request id taken from an authenticated
 * request. details is taken. */
void osh_audit_req(struct osh_audit *a, const struct osh_req *req,
    const char *action, const char *target, const char *result,
    struct json_object *details);

/* Details naming the fields a request body set: {"fields": [names]}, never
 * their values (passwords are among them). Any JSON (a refused body may
 * be an array) or NULL gives an empty list. */
struct json_object *osh_audit_fields(struct json_object *body);

/* Re-sends the backlog; the service calls it when Redis reconnects. */
void osh_audit_resume(struct osh_audit *a);

/* Entries waiting to be sent (the spool). */
size_t osh_audit_backlog(const struct osh_audit *a);

/* Entries dropped because the spool was full, since start. */
uint64_t osh_audit_dropped(const struct osh_audit *a);

/* Counts the entries dropped in m as osh_audit_dropped_total (m may be
 * NULL: not counted). osh_service_main does it for every service. */
void osh_audit_set_metrics(struct osh_audit *a, struct osh_metrics *m);

#endif
