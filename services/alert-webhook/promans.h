/* promans.h - Prometheus' HTTP API answers (/api/v1/query and
 * /api/v1/query_range) read and rewritten in the metrics API's form
 * (pure: no I/O). Prometheus' answers are outside input: every member is
 * checked, the series kept bounded. */
#ifndef AW_PROMANS_H
#define AW_PROMANS_H

#include <stddef.h>

/* How Prometheus' answer ended. */
enum promans_kind {
	PROMANS_OK, /* a result: *out holds the API's JSON */
	PROMANS_BAD_QUERY, /* errorType bad_data: the query is wrong (400) */
	PROMANS_TIMEOUT, /* errorType timeout or canceled (504) */
	PROMANS_FAILED, /* another error, or an answer not Prometheus' */
};

/* Reads Prometheus' answer (body, len bytes, NUL terminated) and, for a
 * result, makes *out (malloc'ed, the caller's to free):
 *   {"result_type": "matrix"|"vector"|"scalar"|"string",
 *    "series": [{"labels": {...}, "points": [[t, v], ...]}],
 *    "truncated": bool}
 * t in epoch seconds as Prometheus wrote it, v a number, or null for NaN
 * and infinities (a string for a string result); series past max_series
 * are left out (truncated true). For an error, why holds Prometheus'
 * reason (cut to fit). */
enum promans_kind promans_read(const char *body, size_t len, size_t max_series,
    char **out, char *why, size_t whylen);

#endif
