/* query.c - the alert list's query string: filters, sort, keyset cursor. */
#include <stdio.h>
#include <string.h>

#include <osh/util.h>

#include "query.h"

static const char *const states[] = {
    "firing", "resolved", "silenced", "inhibited", "acknowledged", NULL};
static const char *const severities[] = {"critical", "warning", "info", NULL};

static bool
one_of(const char *v, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

/* A text filter: 1 to QUERY_TEXT_MAX bytes (the request is valid UTF-8
 * already). */
static bool
text_ok(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n <= QUERY_TEXT_MAX;
}

void
query_cursor_format(
    bool ascending, int64_t us, int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%c%lld_%lld", ascending ? 'a' : 'd', (long long)us,
	    (long long)id);
}

/* "d<us>_<id>" (or 'a' for ascending): the sort must be the one asked;
 * us up to the end of year 9999. */
static bool
cursor_parse(const char *v, struct alert_query *q)
{
	char us_text[24];
	const char *sep;
	size_t n;

	if (v[0] != (q->ascending ? 'a' : 'd') ||
	    (sep = strchr(v, '_')) == NULL)
		return false;
	n = (size_t)(sep - v - 1);
	if (n == 0 || n >= sizeof(us_text))
		return false;
	memcpy(us_text, v + 1, n);
	us_text[n] = '\0';
	return osh_parse_int(us_text, 0, 253402300799999999LL, &q->cursor_us) &&
	    osh_parse_int(sep + 1, 1, INT64_MAX, &q->cursor_id);
}

static const char *const known[] = {"state", "severity", "server_id", "cluster",
    "alertname", "since", "until", "q", "sort", "cursor", "limit", NULL};

int
query_parse(const struct query_param *p, size_t n, struct alert_query *q,
    struct osh_err *err)
{
	const char *cursor = NULL;

	memset(q, 0, sizeof(*q));
	q->since_ms = q->until_ms = -1;
	q->limit = QUERY_LIMIT_DEFAULT;
	for (size_t i = 0; i < n; i++) {
		const char *k = p[i].key, *v = p[i].value;

		if (!one_of(k, known))
			return osh_err_set(err, 400, "validation_failed", k,
			    "unknown query parameter %s", k);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p[j].key, k) == 0)
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "%s is given more than once", k);
		if (strcmp(k, "state") == 0) {
			if (!one_of(v, states))
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "state must be firing, resolved, "
				    "silenced, inhibited or acknowledged");
			q->state = v;
		} else if (strcmp(k, "severity") == 0) {
			if (!one_of(v, severities))
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "severity must be critical, warning or "
				    "info");
			q->severity = v;
		} else if (strcmp(k, "server_id") == 0) {
			if (!osh_parse_int(v, 1, INT64_MAX, &q->server_id))
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "server_id must be a server id");
		} else if (strcmp(k, "since") == 0 || strcmp(k, "until") == 0) {
			int64_t *ms = k[0] == 's' ? &q->since_ms : &q->until_ms;

			if (!osh_time_parse(v, ms) || *ms < 0)
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "%s must be an RFC 3339 time", k);
		} else if (strcmp(k, "sort") == 0) {
			if (strcmp(v, "starts_at") == 0)
				q->ascending = true;
			else if (strcmp(v, "-starts_at") != 0)
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "sort must be -starts_at (newest first) "
				    "or starts_at");
		} else if (strcmp(k, "limit") == 0) {
			if (!osh_parse_int(v, 1, QUERY_LIMIT_MAX, &q->limit))
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "limit must be an integer from 1 to %d",
				    QUERY_LIMIT_MAX);
		} else if (strcmp(k, "cursor") == 0) {
			cursor = v;
		} else {
			/* cluster, alertname, q: text */
			if (!text_ok(v))
				return osh_err_set(err, 400,
				    "validation_failed", k,
				    "%s must be 1 to %d bytes", k,
				    QUERY_TEXT_MAX);
			if (strcmp(k, "cluster") == 0)
				q->cluster = v;
			else if (strcmp(k, "alertname") == 0)
				q->alertname = v;
			else
				q->text = v;
		}
	}
	if (q->since_ms >= 0 && q->until_ms >= 0 && q->until_ms <= q->since_ms)
		return osh_err_set(err, 400, "validation_failed", "until",
		    "until must be later than since");
	/* Read last: it must match the sort, wherever sort came. */
	if (cursor != NULL) {
		if (!cursor_parse(cursor, q))
			return osh_err_set(err, 400, "validation_failed",
			    "cursor",
			    "cursor must be a next_cursor of this sort");
		q->has_cursor = true;
	}
	return 0;
}
