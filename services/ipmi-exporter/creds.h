/* creds.h - module "osh": each target's BMC credentials come from
 * server-mgmt (an internal route, with a service token from auth), are
 * cached, and are forgotten when a server.updated or server.deleted event
 * says they may have changed. */
#ifndef EXP_CREDS_H
#define EXP_CREDS_H

#include <osh/ipmi.h>

struct creds;
struct event_base;
struct osh_redis;

struct creds_options {
	const char *server_mgmt_url;
	const char *auth_url;
	const char *secret; /* copied, wiped on free */
	int ttl_s;
	struct osh_redis *events; /* taken; NULL: TTL only */
};

struct creds *creds_new(
    struct event_base *base, const struct creds_options *opt);
void creds_free(struct creds *c);

/* t is NULL on failure, with status (404 unknown target, 502/503 no
 * answer) and a reason. The target is valid only during the callback. */
typedef void (*creds_cb)(
    const struct osh_ipmi_target *t, int status, const char *why, void *arg);
void creds_get(struct creds *c, const char *target, creds_cb cb, void *arg);

/* Cached entries, for the exporter's own metrics. */
size_t creds_cached(const struct creds *c);

#endif
