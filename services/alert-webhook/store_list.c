/* store_list.c - the alert list: one statement that selects a keyset page
 * of plain columns, and its JSON written here from the rows.
 *
 * The list is the busiest read of the service (dashboards poll it).
 * Building its JSON in SQL (jsonb_build_object per row, jsonb_agg, then
 * the page object around them) took most of the statement's time; the
 * rows themselves are cheap to select, and writing their JSON here costs
 * a few microseconds a page. An item is what alert_json() || alert_extra()
 * make (001_init.sql, 003_list_maintenance.sql) for the detail answer:
 * keep the two in step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <osh/util.h>

#include "store.h"

/* Bytes of a page's JSON at most (500 items of large label sets). */
#define LIST_JSON_MAX (16u << 20)

/* Appends " AND <cond>" with the next parameter number for value. */
struct where {
	struct osh_buf *sql;
	const char **v;
	int n;
};

static void
cond(struct where *w, const char *fmt, const char *value)
{
	char num[16];

	w->v[w->n++] = value;
	snprintf(num, sizeof(num), "$%d", w->n);
	osh_buf_puts(w->sql, " AND ");
	/* fmt holds "%1" where the parameter goes, any number of times. */
	for (const char *p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '1') {
			osh_buf_puts(w->sql, num);
			p++;
		} else {
			osh_buf_append(w->sql, p, 1);
		}
	}
}

/* The filters of q (not the cursor) as SQL on alerts a, parameters from
 * $1 in v (texts kept in bufs). */
static void
filters(struct where *w, const struct alert_query *q, char bufs[][32])
{
	if (q->state != NULL && strcmp(q->state, "acknowledged") == 0)
		osh_buf_puts(w->sql,
		    " AND a.acknowledged_at IS NOT NULL AND "
		    "a.state <> 'resolved'");
	else if (q->state != NULL)
		cond(w, "a.state = %1", q->state);
	if (q->severity != NULL)
		cond(w, "a.severity = %1", q->severity);
	if (q->server_id > 0)
		cond(w, "a.server_id = %1::bigint",
		    osh_db_num(bufs[0], 32, q->server_id));
	if (q->cluster != NULL)
		cond(w,
		    "(a.cluster = %1 OR strpos(a.clusters, ',' || %1 || ',') "
		    "> 0)",
		    q->cluster);
	if (q->alertname != NULL)
		cond(w, "a.alertname = %1", q->alertname);
	if (q->since_ms >= 0)
		cond(w, "a.starts_at >= %1::timestamptz",
		    osh_time_format(q->since_ms, bufs[1], 32));
	if (q->until_ms >= 0)
		cond(w, "a.starts_at < %1::timestamptz",
		    osh_time_format(q->until_ms, bufs[2], 32));
	if (q->text != NULL)
		cond(w, "strpos(a.search, lower(%1)) > 0", q->text);
}

/* Epoch microseconds as an RFC 3339 time with all six digits. */
static const char *
us_format(int64_t us, char *buf, size_t len)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	char day[24];

	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		day[0] = '\0';
	snprintf(buf, len, "%s.%06lldZ", day, (long long)(us % 1000000));
	return buf;
}

/* The columns of a row, in the order the statement selects them. */
enum col {
	COL_TOTAL, /* the count, on every row (on the only one when empty) */
	COL_ID,
	COL_FINGERPRINT,
	COL_ALERTNAME,
	COL_SEVERITY,
	COL_STATE,
	COL_ACKED,
	COL_SERVER_ID,
	COL_SERVER_NAME,
	COL_CLUSTER,
	COL_SUMMARY,
	COL_LABELS,
	COL_STARTS_AT,
	COL_ENDS_AT,
	COL_FIRST_SEEN,
	COL_LAST_SEEN,
	COL_REPEATS,
	COL_FIRES,
	COL_STARTS_US,
	COL_MAINTENANCE,
	COL_COUNT
};

/* The page's columns (COL_ID on) as the lateral subquery selects them
 * from alerts a (times as ts() writes them), and as the outer query reads
 * them from it. */
static const char page_cols[] =
    "a.id, a.fingerprint, a.alertname, a.severity, a.state, "
    "a.acknowledged_at IS NOT NULL AS acked, a.server_id, a.server_name, "
    "a.cluster, a.summary, a.labels, "
    "to_char(a.starts_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS s, "
    "to_char(a.ends_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS e, "
    "to_char(a.first_seen_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS fs, "
    "to_char(a.last_seen_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS ls, "
    "greatest(a.notifications - 1, 0) AS repeats, "
    "(extract(epoch FROM a.starts_at) * 1000000)::bigint AS us, "
    "(SELECT w FROM alert_maintenance(a) w) AS maint, a.starts_at";
static const char outer_cols[] =
    "c.n, a.id, a.fingerprint, a.alertname, a.severity, a.state, a.acked, "
    "a.server_id, a.server_name, a.cluster, a.summary, a.labels, a.s, a.e, "
    "a.fs, a.ls, a.repeats, coalesce(f.fires, 1), a.us, a.maint";

/* s as a JSON string: quotes, backslashes and control characters
 * escaped (PostgreSQL's text is valid UTF-8 already). */
static void
put_str(struct osh_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s, *p;

	osh_buf_append(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		osh_buf_append(b, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"':
		case '\\': esc[1] = (char)c; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default: n = 6; break;
		}
		osh_buf_append(b, esc, n);
	}
	osh_buf_append(b, run, (size_t)(p - run));
	osh_buf_append(b, "\"", 1);
}

/* ,"key": then the column as a string, raw JSON (numbers, booleans,
 * jsonb text) or null. */
enum kind {
	STR,
	RAW,
	BOOL
};

static void
put_col(struct osh_buf *b, const PGresult *res, int row, enum col c,
    const char *key, enum kind kind)
{
	const char *v;

	osh_buf_printf(b, "%s\"%s\":", c == COL_ID ? "" : ",", key);
	if (PQgetisnull(res, row, c)) {
		osh_buf_puts(b, "null");
		return;
	}
	v = PQgetvalue(res, row, c);
	if (kind == STR)
		put_str(b, v);
	else if (kind == BOOL)
		osh_buf_puts(b, v[0] == 't' ? "true" : "false");
	else
		osh_buf_puts(b, v);
}

/* One item: the columns under their keys. */
static void
put_item(struct osh_buf *b, const PGresult *res, int row)
{
	static const struct {
		enum col c;
		const char *key;
		enum kind kind;
	} cols[] = {
	    {COL_ID, "id", RAW},
	    {COL_FINGERPRINT, "fingerprint", STR},
	    {COL_ALERTNAME, "alertname", STR},
	    {COL_SEVERITY, "severity", STR},
	    {COL_STATE, "state", STR},
	    {COL_ACKED, "acknowledged", BOOL},
	    {COL_SERVER_ID, "server_id", RAW},
	    {COL_SERVER_NAME, "server_name", STR},
	    {COL_CLUSTER, "cluster", STR},
	    {COL_SUMMARY, "summary", STR},
	    {COL_LABELS, "labels", RAW},
	    {COL_STARTS_AT, "starts_at", STR},
	    {COL_ENDS_AT, "ends_at", STR},
	    {COL_FIRST_SEEN, "first_seen_at", STR},
	    {COL_LAST_SEEN, "last_seen_at", STR},
	    {COL_REPEATS, "repeats", RAW},
	    {COL_FIRES, "fires", RAW},
	    {COL_MAINTENANCE, "maintenance", RAW},
	};

	osh_buf_append(b, "{", 1);
	for (size_t i = 0; i < OSH_ARRAY_LEN(cols); i++)
		put_col(b, res, row, cols[i].c, cols[i].key, cols[i].kind);
	osh_buf_append(b, "}", 1);
}

void
store_list_render(
    const PGresult *res, int64_t limit, bool ascending, struct osh_buf *out)
{
	int rows = PQntuples(res), items = 0;
	int64_t total = 0;
	char cursor[QUERY_CURSOR_MAX];

	cursor[0] = '\0';
	if (rows > 0 && !PQgetisnull(res, 0, COL_TOTAL))
		osh_parse_int(
		    PQgetvalue(res, 0, COL_TOTAL), 0, INT64_MAX, &total);
	osh_buf_puts(out, "{\"items\":[");
	for (int r = 0; r < rows && items < limit; r++) {
		if (PQgetisnull(res, r, COL_ID))
			continue; /* the count's row of an empty page */
		if (items++ > 0)
			osh_buf_append(out, ",", 1);
		put_item(out, res, r);
		/* A row after the page's last: the next page begins there. */
		if (items == limit && r + 1 < rows &&
		    !PQgetisnull(res, r + 1, COL_ID)) {
			int64_t us = 0, id = 0;

			osh_parse_int(PQgetvalue(res, r, COL_STARTS_US),
			    INT64_MIN, INT64_MAX, &us);
			osh_parse_int(
			    PQgetvalue(res, r, COL_ID), 0, INT64_MAX, &id);
			query_cursor_format(
			    ascending, us, id, cursor, sizeof(cursor));
		}
	}
	osh_buf_puts(out, "],\"next_cursor\":");
	if (cursor[0] != '\0')
		put_str(out, cursor);
	else
		osh_buf_puts(out, "null");
	osh_buf_printf(out, ",\"total\":%lld,\"total_capped\":%s}",
	    (long long)(total < QUERY_TOTAL_MAX ? total : QUERY_TOTAL_MAX),
	    total > QUERY_TOTAL_MAX ? "true" : "false");
}

struct list_call {
	osh_db_json_cb cb;
	void *arg;
	int64_t limit;
	bool ascending;
};

static void
on_rows(PGresult *res, const char *error, void *arg)
{
	struct list_call *c = arg;
	enum osh_db_status st = osh_db_status_with(res, error);
	struct osh_buf out;

	osh_buf_init(&out, LIST_JSON_MAX);
	if (st == OSH_DB_OK &&
	    (PQresultStatus(res) != PGRES_TUPLES_OK ||
		PQnfields(res) != COL_COUNT))
		st = OSH_DB_ERROR;
	if (st == OSH_DB_OK) {
		store_list_render(res, c->limit, c->ascending, &out);
		if (out.overflow || out.data == NULL)
			st = OSH_DB_ERROR;
	}
	c->cb(st, st == OSH_DB_OK ? out.data : NULL, osh_db_sqlstate(res),
	    c->arg);
	osh_buf_release(&out);
	free(c);
}

void
store_alert_list(struct osh_db *db, const struct alert_query *q,
    osh_db_json_cb cb, void *arg)
{
	char bufs[6][32];
	const char *v[12];
	struct osh_buf sql, where_sql;
	struct where w = {&where_sql, v, 0};
	const char *dir = q->ascending ? "" : " DESC";
	struct list_call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		cb(OSH_DB_ERROR, NULL, "", arg);
		return;
	}
	*c = (struct list_call){cb, arg, q->limit, q->ascending};
	osh_buf_init(&sql, 16384);
	osh_buf_init(&where_sql, 4096);
	osh_buf_puts(&where_sql, "true");
	filters(&w, q, bufs);
	/* The count (up to one past the cap) joined with the page, so that
	 * an empty page still has a row to carry it; the page: the
	 * filters, then the keyset after the cursor, one row more than
	 * asked (there is a next page when it comes). */
	osh_buf_printf(&sql,
	    "SELECT %s FROM (SELECT count(*) AS n FROM (SELECT 1 FROM alerts "
	    "a WHERE %s LIMIT %d) l) c LEFT JOIN LATERAL (SELECT %s FROM "
	    "alerts a WHERE %s",
	    outer_cols, where_sql.data, QUERY_TOTAL_MAX + 1, page_cols,
	    where_sql.data);
	if (q->has_cursor) {
		w.sql = &sql;
		cond(&w,
		    q->ascending ? "(a.starts_at, a.id) > "
				   "(%1::timestamptz, "
				 : "(a.starts_at, a.id) < (%1::timestamptz, ",
		    us_format(q->cursor_us, bufs[3], 32));
		v[w.n++] = osh_db_num(bufs[4], 32, q->cursor_id);
		osh_buf_printf(&sql, "$%d::bigint)", w.n);
	}
	v[w.n++] = osh_db_num(bufs[5], 32, q->limit);
	osh_buf_printf(&sql,
	    " ORDER BY a.starts_at%s, a.id%s LIMIT $%d::bigint + 1) a ON true "
	    "LEFT JOIN fingerprints f ON f.fingerprint = a.fingerprint "
	    "ORDER BY a.starts_at%s, a.id%s",
	    dir, dir, w.n, dir, dir);
	if (sql.overflow || where_sql.overflow) {
		free(c);
		cb(OSH_DB_ERROR, NULL, "", arg);
	} else {
		osh_db_query(db, sql.data, w.n, v, on_rows, c);
	}
	osh_buf_release(&where_sql);
	osh_buf_release(&sql);
}
