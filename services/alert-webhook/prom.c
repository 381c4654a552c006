/* prom.c - Prometheus' query API over libcommon's outgoing HTTP client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/httpc.h>
#include <osh/log.h>
#include <osh/util.h>

#include "prom.h"
#include "promans.h"

/* A call under way. */
struct call {
	prom_cb cb;
	void *arg;
};

/* Appends s form-encoded (application/x-www-form-urlencoded). */
static int
form_add(struct osh_buf *b, const char *name, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = {'%', 0, 0};

	if (b->len > 0 && osh_buf_puts(b, "&") != 0)
		return -1;
	if (osh_buf_puts(b, name) != 0 || osh_buf_puts(b, "=") != 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			if (osh_buf_append(b, p, 1) != 0)
				return -1;
			continue;
		}
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		if (osh_buf_append(b, e, 3) != 0)
			return -1;
	}
	return 0;
}

static bool
timed_out(const char *error)
{
	return error != NULL &&
	    (strstr(error, "imed out") != NULL ||
		strstr(error, "imeout") != NULL ||
		strstr(error, "deadline") != NULL);
}

static void
on_answer(
    int status, const char *body, size_t len, const char *error, void *arg)
{
	struct call *c = arg;
	enum promans_kind k = PROMANS_FAILED;
	enum aw_result r = AW_PROM_UNAVAILABLE;
	char why[512], q[256];
	char *json = NULL;

	why[0] = '\0';
	if (status == 0) {
		if (timed_out(error))
			r = AW_PROM_TIMEOUT;
	} else if (body != NULL) {
		/* Prometheus answers its JSON with errors too (400, 422,
		 * 503). */
		k = promans_read(
		    body, len, PROM_MAX_SERIES, &json, why, sizeof(why));
		switch (k) {
		case PROMANS_OK:
			r = status == 200 ? AW_OK : AW_PROM_UNAVAILABLE;
			break;
		case PROMANS_BAD_QUERY: r = AW_INVALID; break;
		case PROMANS_TIMEOUT: r = AW_PROM_TIMEOUT; break;
		case PROMANS_FAILED: break;
		}
	}
	if (r == AW_PROM_UNAVAILABLE || r == AW_PROM_TIMEOUT)
		osh_log_warn(NULL,
		    "msg=\"prometheus query failed\" status=%d error=\"%s\"",
		    status, osh_log_quote(error ? error : why, q, sizeof(q)));
	c->cb(r, r == AW_OK ? json : NULL, why[0] ? why : NULL, c->arg);
	free(json);
	free(c);
}

void
prom_query(struct aw_app *app, const char *query,
    const struct promql_range *range, prom_cb cb, void *arg)
{
	static const char *const headers[] = {"Accept: application/json",
	    "Content-Type: application/x-www-form-urlencoded", NULL};
	struct osh_buf form;
	struct call *c = NULL;
	char url[1024], num[32];
	int64_t ms = app->cfg.prometheus_timeout_ms;
	int rc;

	osh_buf_init(&form, 64 * 1024);
	if (app->cfg.prometheus_url[0] == '\0')
		goto out_unavailable;
	/* Prometheus gives up a little before us, so that a slow query
	 * usually ends in its own timeout answer. */
	snprintf(num, sizeof(num), "%lldms", (long long)(ms * 9 / 10));
	if (form_add(&form, "query", query) != 0 ||
	    form_add(&form, "timeout", num) != 0)
		goto out_unavailable;
	if (range != NULL) {
		snprintf(num, sizeof(num), "%lld", (long long)range->start);
		if (form_add(&form, "start", num) != 0)
			goto out_unavailable;
		snprintf(num, sizeof(num), "%lld", (long long)range->end);
		if (form_add(&form, "end", num) != 0)
			goto out_unavailable;
		snprintf(num, sizeof(num), "%lld", (long long)range->step);
		if (form_add(&form, "step", num) != 0)
			goto out_unavailable;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out_unavailable;
	c->cb = cb;
	c->arg = arg;
	snprintf(url, sizeof(url), "%s/api/v1/%s", app->cfg.prometheus_url,
	    range != NULL ? "query_range" : "query");
	rc = osh_httpc_request(app->http, "POST", url, headers, form.data,
	    form.len, (int)ms, on_answer, c);
	if (rc != 0)
		goto out_unavailable;
	osh_buf_release(&form);
	return;
out_unavailable:
	free(c);
	osh_buf_release(&form);
	cb(AW_PROM_UNAVAILABLE, NULL, NULL, arg);
}
