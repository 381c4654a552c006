/* prom.h - Prometheus' query API (POST /api/v1/query and
 * /api/v1/query_range) over libcommon's outgoing HTTP client, each call
 * within OSH_PROMETHEUS_TIMEOUT_MS (Prometheus is told the same
 * timeout). */
#ifndef AW_PROM_H
#define AW_PROM_H

#include "aw.h"
#include "promql.h"

/* Series an answer keeps, at most (the rest is "truncated"). */
#define PROM_MAX_SERIES 2000

/* How a query ended: AW_OK with json the API's answer (promans.h),
 * AW_INVALID with why Prometheus' reason (a bad raw query),
 * AW_PROM_TIMEOUT past the deadline, AW_PROM_UNAVAILABLE otherwise (down,
 * failing, not configured); json and why valid only during the call. */
typedef void (*prom_cb)(
    enum aw_result r, const char *json, const char *why, void *arg);

/* Runs query (PromQL) at now, or over range when range is not NULL; cb
 * runs exactly once, maybe before this returns. */
void prom_query(struct aw_app *app, const char *query,
    const struct promql_range *range, prom_cb cb, void *arg);

#endif
