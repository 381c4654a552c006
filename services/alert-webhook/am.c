/* am.c - Alertmanager's v2 silences API over libcommon's outgoing HTTP
 * client. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/httpc.h>
#include <osh/log.h>
#include <osh/util.h>

#include "am.h"

/* A call under way. */
struct call {
	am_cb cb;
	void *arg;
	bool expire; /* a DELETE: "already expired" is done */
};

static enum am_status
status_of(int status, const char *error)
{
	if (status >= 200 && status < 300)
		return AM_OK;
	if (status == 404)
		return AM_NOT_FOUND;
	if (status == 400 || status == 422)
		return AM_REFUSED;
	/* No answer: a deadline (curl's or the queue's) or a refusal. */
	if (status == 0 && error != NULL &&
	    (strstr(error, "imed out") != NULL ||
		strstr(error, "imeout") != NULL ||
		strstr(error, "deadline") != NULL))
		return AM_TIMEOUT;
	return AM_UNAVAILABLE;
}

/* Hands st and Alertmanager's answer to cb. */
static void
answer(am_cb cb, void *arg, enum am_status st, const char *body, size_t len)
{
	struct am_answer a = {
	    st, am_result(st), body ? body : "", body ? len : 0, NULL};
	char why[256];

	if (st == AM_REFUSED)
		a.reason = am_reason(a.body, a.len, why, sizeof(why));
	cb(&a, arg);
}

static void
on_answer(
    int status, const char *body, size_t len, const char *error, void *arg)
{
	struct call *c = arg;
	enum am_status st = status_of(status, error);
	char why[256];

	/* Alertmanager answers 500 "silence ... already expired" when
	 * asked to expire an expired silence: what was asked holds. */
	if (c->expire && status == 500 && body != NULL &&
	    strstr(body, "already expired") != NULL)
		st = AM_OK;
	/* And 500 "silence not found" for an unknown id (before 0.26). */
	if (status == 500 && body != NULL && strstr(body, "not found") != NULL)
		st = AM_NOT_FOUND;
	if (st == AM_UNAVAILABLE || st == AM_TIMEOUT)
		osh_log_warn(NULL,
		    "msg=\"alertmanager call failed\" status=%d error=\"%s\"",
		    status,
		    osh_log_quote(
			error ? error : (body ? body : ""), why, sizeof(why)));
	answer(c->cb, c->arg, st, body, len);
	free(c);
}

static void
call(struct aw_app *app, const char *method, const char *path, const char *body,
    bool expire, am_cb cb, void *arg)
{
	static const char *const json_headers[] = {
	    "Accept: application/json", "Content-Type: application/json", NULL};
	char url[1024];
	struct call *c;
	int rc;

	if (app->cfg.alertmanager_url[0] == '\0') {
		answer(cb, arg, AM_UNAVAILABLE, NULL, 0);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		answer(cb, arg, AM_UNAVAILABLE, NULL, 0);
		return;
	}
	c->cb = cb;
	c->arg = arg;
	c->expire = expire;
	snprintf(url, sizeof(url), "%s%s", app->cfg.alertmanager_url, path);
	rc = osh_httpc_request(app->http, method, url, json_headers, body,
	    body ? strlen(body) : 0, (int)app->cfg.alertmanager_timeout_ms,
	    on_answer, c);
	if (rc != 0) {
		free(c);
		answer(cb, arg, AM_UNAVAILABLE, NULL, 0);
	}
}

void
am_silence_post(struct aw_app *app, const char *silence, am_cb cb, void *arg)
{
	call(app, "POST", "/api/v2/silences", silence, false, cb, arg);
}

void
am_silence_expire(struct aw_app *app, const char *id, am_cb cb, void *arg)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v2/silence/%s", id);
	call(app, "DELETE", path, NULL, true, cb, arg);
}

static void
on_dropped(const struct am_answer *a, void *arg)
{
	char *id = arg;

	if (!am_gone(a))
		osh_log_warn(NULL,
		    "msg=\"silence of a failed record not expired\" "
		    "silence_id=\"%s\"",
		    id);
	free(id);
}

void
am_silence_drop(struct aw_app *app, const char *id)
{
	char *copy = strdup(id);

	if (copy != NULL)
		am_silence_expire(app, copy, on_dropped, copy);
}

void
am_silences_get(struct aw_app *app, const char *id, am_cb cb, void *arg)
{
	char path[128];

	if (id == NULL)
		osh_strlcpy(path, "/api/v2/silences", sizeof(path));
	else
		snprintf(path, sizeof(path), "/api/v2/silence/%s", id);
	call(app, "GET", path, NULL, false, cb, arg);
}

enum aw_result
am_result(enum am_status st)
{
	switch (st) {
	case AM_OK: return AW_OK;
	case AM_NOT_FOUND: return AW_NOT_FOUND;
	case AM_REFUSED: return AW_INVALID;
	case AM_TIMEOUT: return AW_AM_TIMEOUT;
	case AM_UNAVAILABLE: break;
	}
	return AW_AM_UNAVAILABLE;
}

const char *
am_reason(const char *body, size_t len, char *buf, size_t n)
{
	struct json_object *o = json_tokener_parse(body);
	size_t k;

	if (o != NULL && json_object_is_type(o, json_type_string)) {
		osh_strlcpy(buf, json_object_get_string(o), n);
	} else {
		k = len < n - 1 ? len : n - 1;
		memcpy(buf, body, k);
		buf[k] = '\0';
		/* One line, cut at the first control character. */
		for (size_t i = 0; i < k; i++)
			if ((unsigned char)buf[i] < 0x20) {
				buf[i] = '\0';
				break;
			}
	}
	json_object_put(o);
	if (buf[0] == '\0')
		osh_strlcpy(buf, "refused by alertmanager", n);
	return buf;
}

bool
am_gone(const struct am_answer *a)
{
	return a->status == AM_OK || a->status == AM_NOT_FOUND;
}
