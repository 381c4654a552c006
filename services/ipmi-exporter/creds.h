/* creds.h - module "osh": each target's BMC credentials come from
 * server-mgmt (an internal route, with a service token from auth), are
 * cached in a bounded hash table (least recently used out first, each
 * entry for ttl_s), and are forgotten when a server.* event says they may
 * have changed. A target server-mgmt does not know is refused before any
 * packet goes to it. */
#ifndef EXP_CREDS_H
#define EXP_CREDS_H

#include <osh/ipmi.h>

struct creds;
struct event_base;
struct osh_metrics;
struct osh_redis;

struct creds_options {
	const char *server_mgmt_url;
	const char *auth_url;
	const char *secret; /* copied, wiped on free */
	int ttl_s;
	size_t max_entries; /* targets cached at most; 0: 16384 */
	struct osh_redis *events; /* taken; NULL: TTL only */
	/* Outgoing requests running and waiting at most (0: httpc's
	 * defaults); metrics, when set, shows them as pool="httpc". */
	size_t http_max_inflight, http_queue_max;
	struct osh_metrics *metrics;
};

struct creds *creds_new(
    struct event_base *base, const struct creds_options *opt);
void creds_free(struct creds *c);

/* t is NULL on failure, with status (404 not a registered server, 502 an
 * answer for another address, 503 no answer or too many lookups at once)
 * and a reason. t->host and t->port are the server's BMC as server-mgmt
 * has it, the same address as target's (its host compared without case).
 * The target is valid only during the callback. */
typedef void (*creds_cb)(
    const struct osh_ipmi_target *t, int status, const char *why, void *arg);
/* target: "host", "host:port" or "[v6]:port", as the scrape gave it. The
 * callback runs at once from the cache, else within timeout_ms. */
void creds_get(struct creds *c, const char *target, int timeout_ms, creds_cb cb,
    void *arg);

/* Cached entries, for the exporter's own metrics. */
size_t creds_cached(const struct creds *c);

#endif
