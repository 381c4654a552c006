/* metrics.c - a small Prometheus registry. Families keep their series in
 * a hash table keyed by the formatted label string. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/metrics.h"

#define NBUCKETS 64
#define MAX_BOUNDS 16

struct series {
	struct series *next; /* hash chain */
	struct series *order; /* creation order, for stable output */
	char *labels;
	double value; /* counter/gauge value, histogram sum */
	unsigned long count;
	unsigned long buckets[MAX_BOUNDS];
};

struct osh_metric {
	struct osh_metric *next;
	const char *name, *help;
	enum osh_metric_type type;
	double bounds[MAX_BOUNDS];
	size_t nbounds;
	struct series *table[NBUCKETS];
	struct series *first, *last;
};

struct collector {
	void (*fn)(struct osh_metrics *, void *);
	void *arg;
};

struct osh_metrics {
	struct osh_metric *first, *last;
	struct collector collectors[8];
	size_t ncollectors;
	struct osh_metric *http_total, *http_seconds;
	struct osh_metric *pool_depth, *pool_limit, *pool_in_use, *pool_size;
	struct osh_metric *pool_wait, *pool_rejected, *pool_timeouts;
};

const double osh_wait_bounds[OSH_WAIT_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

static const double http_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct osh_metrics *
osh_metrics_new(void)
{
	struct osh_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->http_total = osh_metric_new(m, "osh_http_requests_total",
	    "HTTP requests answered, by route, method and status", OSH_COUNTER,
	    NULL, 0);
	m->http_seconds = osh_metric_new(m, "osh_http_request_duration_seconds",
	    "Time from request to reply, by route", OSH_HISTOGRAM, http_buckets,
	    sizeof(http_buckets) / sizeof(http_buckets[0]));
	return m;
}

void
osh_metrics_free(struct osh_metrics *m)
{
	struct osh_metric *f, *fn;
	struct series *s, *sn;

	if (m == NULL)
		return;
	for (f = m->first; f != NULL; f = fn) {
		fn = f->next;
		for (s = f->first; s != NULL; s = sn) {
			sn = s->order;
			free(s->labels);
			free(s);
		}
		free(f);
	}
	free(m);
}

struct osh_metric *
osh_metric_new(struct osh_metrics *m, const char *name, const char *help,
    enum osh_metric_type type, const double *buckets, size_t nbuckets)
{
	struct osh_metric *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->name = name;
	f->help = help;
	f->type = type;
	f->nbounds = nbuckets > MAX_BOUNDS ? MAX_BOUNDS : nbuckets;
	for (size_t i = 0; i < f->nbounds; i++)
		f->bounds[i] = buckets[i];
	if (m->last != NULL)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	return f;
}

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct series *
series_get(struct osh_metric *f, const char *labels)
{
	unsigned h = hash(labels) % NBUCKETS;
	struct series *s;

	for (s = f->table[h]; s != NULL; s = s->next)
		if (strcmp(s->labels, labels) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->labels = strdup(labels)) == NULL) {
		free(s);
		return NULL;
	}
	s->next = f->table[h];
	f->table[h] = s;
	if (f->last != NULL)
		f->last->order = s;
	else
		f->first = s;
	f->last = s;
	return s;
}

void
osh_metric_add(struct osh_metric *f, const char *labels, double v)
{
	struct series *s = series_get(f, labels);

	if (s != NULL)
		s->value += v;
}

void
osh_metric_set(struct osh_metric *f, const char *labels, double v)
{
	struct series *s = series_get(f, labels);

	if (s != NULL)
		s->value = v;
}

void
osh_metric_observe(struct osh_metric *f, const char *labels, double v)
{
	struct series *s = series_get(f, labels);

	if (s == NULL)
		return;
	s->value += v;
	s->count++;
	for (size_t i = 0; i < f->nbounds; i++)
		if (v <= f->bounds[i])
			s->buckets[i]++;
}

void
osh_metric_set_histogram(struct osh_metric *f, const char *labels,
    const unsigned long *cum, size_t n, unsigned long count, double sum)
{
	struct series *s = series_get(f, labels);

	if (s == NULL)
		return;
	s->value = sum;
	s->count = count;
	for (size_t i = 0; i < f->nbounds; i++)
		s->buckets[i] = i < n ? cum[i] : count;
}

void
osh_metrics_on_collect(
    struct osh_metrics *m, void (*fn)(struct osh_metrics *, void *), void *arg)
{
	if (m->ncollectors < sizeof(m->collectors) / sizeof(m->collectors[0])) {
		m->collectors[m->ncollectors].fn = fn;
		m->collectors[m->ncollectors++].arg = arg;
	}
}

static void
render_value(struct osh_buf *out, double v)
{
	if (isnan(v))
		osh_buf_puts(out, "NaN");
	else if (isinf(v))
		osh_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		osh_buf_printf(out, "%.0f", v);
	else
		osh_buf_printf(out, "%.15g", v); /* a Unix time to the ms */
}

static void
render_histogram(
    struct osh_buf *out, const struct osh_metric *f, const struct series *s)
{
	const char *sep = s->labels[0] ? "," : "";

	for (size_t i = 0; i < f->nbounds; i++) {
		osh_buf_printf(
		    out, "%s_bucket{%s%sle=\"", f->name, s->labels, sep);
		render_value(out, f->bounds[i]);
		osh_buf_printf(out, "\"} %lu\n", s->buckets[i]);
	}
	osh_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", f->name,
	    s->labels, sep, s->count);
	osh_buf_printf(out, "%s_sum%s%s%s ", f->name, s->labels[0] ? "{" : "",
	    s->labels, s->labels[0] ? "}" : "");
	render_value(out, s->value);
	osh_buf_printf(out, "\n%s_count%s%s%s %lu\n", f->name,
	    s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "",
	    s->count);
}

void
osh_metrics_render(struct osh_metrics *m, struct osh_buf *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};

	for (size_t i = 0; i < m->ncollectors; i++)
		m->collectors[i].fn(m, m->collectors[i].arg);
	for (const struct osh_metric *f = m->first; f != NULL; f = f->next) {
		if (f->first == NULL)
			continue;
		osh_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name,
		    f->help, f->name, types[f->type]);
		for (const struct series *s = f->first; s != NULL;
		     s = s->order) {
			if (f->type == OSH_HISTOGRAM) {
				render_histogram(out, f, s);
				continue;
			}
			if (s->labels[0])
				osh_buf_printf(
				    out, "%s{%s} ", f->name, s->labels);
			else
				osh_buf_printf(out, "%s ", f->name);
			render_value(out, s->value);
			osh_buf_puts(out, "\n");
		}
	}
}

char *
osh_metrics_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return out;
	for (; in != NULL && *in != '\0'; in++) {
		const char *rep = NULL;
		char one[2] = {*in, '\0'};

		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		else
			rep = one;
		size_t k = strlen(rep);
		if (o + k >= len)
			break;
		memcpy(out + o, rep, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}

void
osh_metrics_http(struct osh_metrics *m, const char *route, const char *method,
    int status, double seconds)
{
	char labels[256], esc[160];

	osh_metrics_escape(route, esc, sizeof(esc));
	snprintf(labels, sizeof(labels),
	    "route=\"%s\",method=\"%s\",status=\"%d\"", esc, method, status);
	osh_metric_add(m->http_total, labels, 1);
	snprintf(labels, sizeof(labels), "route=\"%s\"", esc);
	osh_metric_observe(m->http_seconds, labels, seconds);
}

void
osh_pool_stats_wait(struct osh_pool_stats *s, uint64_t us)
{
	double v = (double)us / 1e6;

	s->waited++;
	s->wait_s += v;
	for (size_t i = 0; i < OSH_WAIT_BUCKETS; i++)
		if (v <= osh_wait_bounds[i])
			s->waits[i]++;
}

void
osh_metrics_pool(
    struct osh_metrics *m, const char *pool, const struct osh_pool_stats *s)
{
	char labels[96], esc[64];

	if (m->pool_depth == NULL) {
		m->pool_depth = osh_metric_new(m, "osh_pool_queue_depth",
		    "Requests waiting for a pool (database connections, Redis, "
		    "worker threads, BMC workers, outgoing HTTP)",
		    OSH_GAUGE, NULL, 0);
		m->pool_limit = osh_metric_new(m, "osh_pool_queue_limit",
		    "Most requests that may wait for a pool; more are refused "
		    "(503 with Retry-After)",
		    OSH_GAUGE, NULL, 0);
		m->pool_in_use = osh_metric_new(m, "osh_pool_in_use",
		    "Connections or threads of a pool busy now", OSH_GAUGE,
		    NULL, 0);
		m->pool_size = osh_metric_new(m, "osh_pool_size",
		    "Connections or threads of a pool", OSH_GAUGE, NULL, 0);
		m->pool_wait = osh_metric_new(m, "osh_pool_wait_seconds",
		    "Time requests waited for a pool (Redis: for the reply)",
		    OSH_HISTOGRAM, osh_wait_bounds, OSH_WAIT_BUCKETS);
		m->pool_rejected = osh_metric_new(m, "osh_pool_rejected_total",
		    "Requests refused at once because a pool's queue was full "
		    "(database: or the wait would pass the deadline)",
		    OSH_COUNTER, NULL, 0);
		m->pool_timeouts = osh_metric_new(m, "osh_pool_timeouts_total",
		    "Requests whose deadline passed while they waited for a "
		    "pool",
		    OSH_COUNTER, NULL, 0);
	}
	if (m->pool_depth == NULL || m->pool_limit == NULL ||
	    m->pool_in_use == NULL || m->pool_size == NULL ||
	    m->pool_wait == NULL || m->pool_rejected == NULL ||
	    m->pool_timeouts == NULL)
		return; /* out of memory at the first collection */
	snprintf(labels, sizeof(labels), "pool=\"%s\"",
	    osh_metrics_escape(pool, esc, sizeof(esc)));
	osh_metric_set(m->pool_depth, labels, (double)s->depth);
	osh_metric_set(m->pool_limit, labels, (double)s->limit);
	osh_metric_set(m->pool_in_use, labels, (double)s->in_use);
	if (s->size > 0)
		osh_metric_set(m->pool_size, labels, (double)s->size);
	osh_metric_set_histogram(m->pool_wait, labels, s->waits,
	    OSH_WAIT_BUCKETS, s->waited, s->wait_s);
	osh_metric_set(m->pool_rejected, labels, (double)s->rejected);
	osh_metric_set(m->pool_timeouts, labels, (double)s->timeouts);
}
