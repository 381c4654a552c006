/* metrics.h - counters, gauges and histograms rendered in the Prometheus
 * text format for /metrics. Single-threaded: update from the loop only. */
#ifndef OSH_METRICS_H
#define OSH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct osh_metrics;
struct osh_metric;

enum osh_metric_type {
	OSH_COUNTER,
	OSH_GAUGE,
	OSH_HISTOGRAM
};

struct osh_metrics *osh_metrics_new(void);
void osh_metrics_free(struct osh_metrics *m);

/* Registers a family; 'buckets' (ascending, n of them) for histograms. The
 * name and help strings must be static. */
struct osh_metric *osh_metric_new(struct osh_metrics *m, const char *name,
    const char *help, enum osh_metric_type type, const double *buckets,
    size_t nbuckets);

/* labels: already formatted and escaped ("route=\"/x\",status=\"200\""),
 * or "" for none. A series is created on first use. */
void osh_metric_add(struct osh_metric *f, const char *labels, double v);
void osh_metric_set(struct osh_metric *f, const char *labels, double v);
void osh_metric_observe(struct osh_metric *f, const char *labels, double v);

/* Sets a histogram series outright from figures kept elsewhere: cum[i]
 * counts the observations <= the family's i-th bound (n of them, as many
 * as the family has), count all of them, sum their total. */
void osh_metric_set_histogram(struct osh_metric *f, const char *labels,
    const unsigned long *cum, size_t n, unsigned long count, double sum);

/* Called before rendering, to refresh gauges. */
void osh_metrics_on_collect(
    struct osh_metrics *m, void (*fn)(struct osh_metrics *, void *), void *arg);

/* Appends the exposition text to out. */
void osh_metrics_render(struct osh_metrics *m, struct osh_buf *out);

/* Escapes a label value (backslash, quote, newline) into out. */
char *osh_metrics_escape(const char *in, char *out, size_t len);

/* Records one HTTP request (route pattern or "unmatched"). */
void osh_metrics_http(struct osh_metrics *m, const char *route,
    const char *method, int status, double seconds);

/* What a pool with a wait queue reports (database connections, Redis,
 * worker threads, BMC workers, outgoing HTTP): the pool keeps it, and
 * osh_metrics_pool renders it under pool="<name>" in the families
 * osh_pool_queue_depth, osh_pool_queue_limit, osh_pool_in_use,
 * osh_pool_size, osh_pool_wait_seconds (histogram), osh_pool_rejected_total
 * and osh_pool_timeouts_total. */
#define OSH_WAIT_BUCKETS 12
extern const double osh_wait_bounds[OSH_WAIT_BUCKETS]; /* seconds */

struct osh_pool_stats {
	size_t size; /* connections or threads (0: not a fixed number) */
	size_t in_use; /* of them, busy now */
	size_t depth; /* requests waiting now */
	size_t limit; /* most that may wait; more are refused */
	unsigned long waits[OSH_WAIT_BUCKETS]; /* waits <= each bound */
	unsigned long waited; /* waits recorded */
	double wait_s; /* their total, seconds */
	unsigned long rejected; /* refused at once: queue full (or, for the
				 * database, a wait that would pass the
				 * deadline) */
	unsigned long timeouts; /* deadline passed while waiting */
};

/* Records one wait of us microseconds. */
void osh_pool_stats_wait(struct osh_pool_stats *s, uint64_t us);

/* Sets the series of pool 'pool' (a static name) from s. */
void osh_metrics_pool(
    struct osh_metrics *m, const char *pool, const struct osh_pool_stats *s);

#endif
