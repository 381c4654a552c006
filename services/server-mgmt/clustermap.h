/* clustermap.h - the clusters each server belongs to, as cluster-mgmt
 * tells (GET /internal/clusters/membership, with a service token), for
 * Prometheus service discovery. Kept for CLUSTERMAP_TTL_S; a failed
 * lookup keeps what was known before and is not retried within that
 * time, so discovery never waits on cluster-mgmt for long. */
#ifndef SM_CLUSTERMAP_H
#define SM_CLUSTERMAP_H

struct event_base;
struct clustermap;

#define CLUSTERMAP_TTL_S 10

/* cluster_mgmt_url "" (or no secret): no clusters are ever known. The
 * secret is copied. NULL when out of memory. */
struct clustermap *clustermap_new(struct event_base *base,
    const char *cluster_mgmt_url, const char *auth_url, const char *secret);
/* Waiting callers get NULL first. */
void clustermap_free(struct clustermap *m);

/* map is {"<server id>": ["name", ...]} as JSON text, or NULL when not
 * known; valid only during the callback, which runs at once when the map
 * is fresh, else within a few seconds. */
typedef void (*clustermap_cb)(const char *map, void *arg);
void clustermap_get(struct clustermap *m, clustermap_cb cb, void *arg);

#endif
