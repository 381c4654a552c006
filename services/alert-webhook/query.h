/* query.h - the query string of GET /api/monitoring/alerts checked and
 * turned into filters, sort and a keyset cursor (pure: no I/O). */
#ifndef AW_QUERY_H
#define AW_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>

#define QUERY_LIMIT_DEFAULT 50
#define QUERY_LIMIT_MAX 500
#define QUERY_TOTAL_MAX 1000 /* total is counted up to this */
#define QUERY_TEXT_MAX 256 /* bytes of q, and of a name filter */
#define QUERY_CURSOR_MAX 48

/* What a list asks for. Strings point into the query (owned by the
 * request); NULL or 0 or -1: no such filter. */
struct alert_query {
	const char *state; /* firing resolved silenced inhibited acknowledged */
	const char *severity;
	int64_t server_id;
	const char *cluster; /* the cluster label, or one of clusters */
	const char *alertname;
	int64_t since_ms, until_ms; /* starts_at in [since, until) */
	const char *text; /* q: searched in labels and annotations */
	bool ascending; /* sort=starts_at (oldest first); default newest */
	bool has_cursor;
	/* The last item of the page before: its starts_at in microseconds
	 * (what PostgreSQL keeps; a coarser cursor would skip the alerts
	 * that share its millisecond) and its id. */
	int64_t cursor_us, cursor_id;
	int64_t limit;
};

/* One query parameter. */
struct query_param {
	const char *key, *value;
};

/* Checks the parameters (every one known, none twice, each valid) and
 * fills q. On failure returns -1 with err a 400 naming the parameter. */
int query_parse(const struct query_param *p, size_t n, struct alert_query *q,
    struct osh_err *err);

/* Writes the cursor that continues after the item (starts_at in epoch
 * microseconds, id) in q's sort into buf (QUERY_CURSOR_MAX bytes). */
void query_cursor_format(
    bool ascending, int64_t us, int64_t id, char *buf, size_t len);

#endif
