/* promql.h - the metrics API's queries (pure): named per-server queries
 * built from a table with the server's server_id label (never PromQL
 * from the caller), the fleet views, and the bounds of ranges and steps
 * that keep every answer within Prometheus' 11,000 points per series. */
#ifndef AW_PROMQL_H
#define AW_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>

/* Prometheus refuses a range query of more points per series. */
#define PROMQL_MAX_POINTS 11000
/* A step computed when the caller gives none aims at this many points. */
#define PROMQL_DEFAULT_POINTS 500
#define PROMQL_MAX_RANGE_S (31 * 86400LL) /* the longest range asked */
#define PROMQL_MAX_STEP_S (86400LL)
#define PROMQL_DEFAULT_RANGE_S 3600
#define PROMQL_MAX_TOP 100 /* fleet/hottest's n, at most */
#define PROMQL_QUERY_MAX 4096 /* a built (or raw) query's length, at most */

/* A range query's window: end and start in epoch seconds, step in
 * seconds; (end - start) / step + 1 <= PROMQL_MAX_POINTS. */
struct promql_range {
	int64_t start, end, step;
};

/* Parses a duration as Prometheus writes them: one or more <number><unit>
 * with units w, d, h, m, s in that order ("1h30m", "90s"), or a plain
 * number of seconds ("300"). false when s is not one, is 0, or is more
 * than max_s seconds. */
bool promql_duration(const char *s, int64_t max_s, int64_t *out);

/* The window of a range query from the caller's range (NULL: 1 hour),
 * step (NULL: computed, about PROMQL_DEFAULT_POINTS points) and end (RFC
 * 3339 or epoch seconds; NULL: now_s). 0, or -1 with err a 400 naming the
 * field ("range", "step" or "end"): a bad duration, a range past
 * PROMQL_MAX_RANGE_S, a step giving more than PROMQL_MAX_POINTS points. */
int promql_range_parse(const char *range, const char *step, const char *end,
    int64_t now_s, struct promql_range *out, struct osh_err *err);

/* The named per-server queries, for the API's docs and errors: NULL
 * terminated. */
extern const char *const promql_names[];

/* Writes into buf the query for name about server id: every series of
 * the name's families (readings and their thresholds) with
 * server_id="<id>". false when name is unknown or buf too small. */
bool promql_server_query(const char *name, int64_t id, char *buf, size_t len);

/* The sensor kinds fleet/hottest ranks by: NULL terminated. */
extern const char *const promql_kinds[];

/* The top n servers (1..PROMQL_MAX_TOP) by their highest reading of kind
 * (a promql_kinds name), labelled server_id, server_name and cluster.
 * false when kind is unknown, n out of range or buf too small. */
bool promql_hottest_query(const char *kind, int64_t n, char *buf, size_t len);

/* The fleet's power draw in watts: by "total" (one series), "cluster"
 * (the service discovery's cluster label) or "server". A server's draw is
 * its DCMI reading, else the sum of its power sensors that are not PSU
 * outputs, else the sum of its PSU outputs (each PSU counted once). false
 * when by is none of these or buf too small. */
bool promql_power_query(const char *by, char *buf, size_t len);

#endif
