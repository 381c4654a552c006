/* metrics.h - counters, gauges and histograms rendered in the Prometheus
 * text format for /metrics. Single-threaded: update from the loop only. */
#ifndef OSH_METRICS_H
#define OSH_METRICS_H

#include <stddef.h>

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

#endif
