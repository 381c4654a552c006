/* audit.c - HTTP <-> the audit log: searching it a page at a time, and
 * exporting it as CSV streamed in chunks. Entries reach the log through
 * the osh:audit stream (consumer.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osh/http.h>
#include <osh/log.h>
#include <osh/util.h>

#include "auth.h"
#include "handlers.h"
#include "store.h"

#define CSV_PAGE 1000
#define CSV_MAX_ROWS 100000

static const struct auth_sort_key audit_sort[] = {
    {"ts", "ts DESC, id DESC", "ts DESC, id DESC"},
    {"id", "id", "id DESC"},
};

/* Reads the audit filters; replies and returns false when one is bad. */
static bool
audit_filter_parse(struct osh_req *req, struct audit_filter *f)
{
	static const struct {
		const char *name;
		size_t off;
	} text[] = {
	    {"actor", offsetof(struct audit_filter, actor)},
	    {"action", offsetof(struct audit_filter, action)},
	    {"target", offsetof(struct audit_filter, target)},
	    {"result", offsetof(struct audit_filter, result)},
	    {"service", offsetof(struct audit_filter, service)},
	    {"request_id", offsetof(struct audit_filter, request_id)},
	    {"since", offsetof(struct audit_filter, since)},
	    {"until", offsetof(struct audit_filter, until)},
	};
	int64_t ms;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < OSH_ARRAY_LEN(text); i++) {
		const char *v = osh_req_query(req, text[i].name);
		if (v == NULL)
			continue;
		if (strlen(v) > 256 || !osh_utf8_valid(v, strlen(v))) {
			osh_reply_error(req, 400, "validation_failed",
			    text[i].name,
			    "%s must be text of at most 256 "
			    "bytes",
			    text[i].name);
			return false;
		}
		*(const char **)((char *)f + text[i].off) = v;
	}
	if (f->since != NULL && !osh_time_parse(f->since, &ms)) {
		osh_reply_error(req, 400, "validation_failed", "since",
		    "since must be an RFC 3339 timestamp");
		return false;
	}
	if (f->until != NULL && !osh_time_parse(f->until, &ms)) {
		osh_reply_error(req, 400, "validation_failed", "until",
		    "until must be an RFC 3339 timestamp");
		return false;
	}
	return true;
}

static const char *const audit_params[] = {"actor", "action", "target",
    "result", "service", "request_id", "since", "until", "limit", "offset",
    "sort", NULL};

void
h_audit_list(struct osh_req *req)
{
	struct audit_filter f;
	struct auth_page page;
	struct osh_err err;

	if (!handlers_params_known(req, audit_params) ||
	    !audit_filter_parse(req, &f))
		return;
	if (auth_page_parse(osh_req_query(req, "limit"),
		osh_req_query(req, "offset"), osh_req_query(req, "sort"),
		audit_sort, OSH_ARRAY_LEN(audit_sort), 1000, &page,
		&err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	store_audit_list(osh_service_of(req)->db, &f, page.limit, page.offset,
	    page.order, handlers_on_page_json, req);
}

struct export
{
	struct osh_req *req;
	struct audit_filter f;
	int64_t before;
	int rows;
	bool started;
};

static void export_next(struct export *x);

static void
on_export_rows(enum store_status st, const char *const *rows, int n, void *arg)
{
	static const char *const header[] = {"id", "ts", "service", "actor_id",
	    "actor", "action", "target", "result", "client", "request_id",
	    "details"};
	struct export *x = arg;
	struct osh_buf b;

	if (st != STORE_OK) {
		if (!x->started) {
			handlers_reply_result(x->req, AUTH_UNAVAILABLE, NULL);
		} else {
			osh_log_warn(x->req->request_id,
			    "msg=\"audit export cut short\" rows=%d", x->rows);
			osh_reply_end(x->req);
		}
		free(x);
		return;
	}
	osh_buf_init(&b, 0);
	if (!x->started) {
		osh_resp_header(x->req, "Content-Disposition",
		    "attachment; filename=\"audit.csv\"");
		osh_reply_start(x->req, 200, "text/csv; charset=utf-8");
		for (size_t i = 0; i < OSH_ARRAY_LEN(header); i++)
			auth_csv_field(
			    &b, header[i], i + 1 == OSH_ARRAY_LEN(header));
		x->started = true;
	}
	for (int r = 0; r < n; r++)
		for (int k = 0; k < 11; k++)
			auth_csv_field(&b, rows[r * 11 + k], k == 10);
	osh_reply_chunk(x->req, b.data, b.len);
	osh_buf_release(&b);
	x->rows += n;
	if (n < CSV_PAGE || x->rows >= CSV_MAX_ROWS || !osh_req_alive(x->req)) {
		osh_reply_end(x->req);
		free(x);
		return;
	}
	if (!osh_parse_int(rows[(n - 1) * 11], 1, INT64_MAX, &x->before))
		x->before = 1;
	export_next(x);
}

static void
export_next(struct export *x)
{
	store_audit_rows(osh_service_of(x->req)->db, &x->f, x->before, CSV_PAGE,
	    on_export_rows, x);
}

void
h_audit_export(struct osh_req *req)
{
	static const char *const known[] = {"actor", "action", "target",
	    "result", "service", "request_id", "since", "until", NULL};
	struct export *x;

	if (!handlers_params_known(req, known))
		return;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	x->req = req;
	if (!audit_filter_parse(req, &x->f)) {
		free(x);
		return;
	}
	handlers_audit(req, "audit.export", NULL, "success", NULL);
	export_next(x);
}
