/* am.h - Alertmanager's v2 silences API (POST /api/v2/silences, DELETE
 * /api/v2/silence/{id}, GET /api/v2/silences and /api/v2/silence/{id})
 * over libcommon's outgoing HTTP client, each call within
 * OSH_ALERTMANAGER_TIMEOUT_MS. */
#ifndef AW_AM_H
#define AW_AM_H

#include <stdbool.h>
#include <stddef.h>

#include "aw.h"

/* How a call ended. */
enum am_status {
	AM_OK, /* 2xx: body is Alertmanager's answer */
	AM_NOT_FOUND, /* 404: no such silence */
	AM_REFUSED, /* 400: body is Alertmanager's reason (a JSON string or
		       text) */
	AM_UNAVAILABLE, /* no answer, a 5xx, or no Alertmanager configured */
	AM_TIMEOUT, /* no answer within the deadline */
};

/* What a call got, valid only during the callback. */
struct am_answer {
	enum am_status status;
	enum aw_result result; /* status as a domain result (am_result) */
	const char *body; /* Alertmanager's answer, NUL terminated */
	size_t len;
	const char *reason; /* a refusal's reason (am_reason), else NULL */
};

typedef void (*am_cb)(const struct am_answer *a, void *arg);

/* Creates a silence, or edits the one whose "id" silence holds
 * (postableSilence, JSON text): Alertmanager answers {"silenceID"},
 * which may be a new id after an edit. */
void am_silence_post(
    struct aw_app *app, const char *silence, am_cb cb, void *arg);

/* Expires a silence. An already expired one is AM_OK, an unknown one
 * AM_NOT_FOUND. */
void am_silence_expire(struct aw_app *app, const char *id, am_cb cb, void *arg);

/* Expires a silence nobody waits for (made for a record that then
 * failed): best effort, a failure logged; it ends at its end anyway. */
void am_silence_drop(struct aw_app *app, const char *id);

/* Every silence (gettableSilences), or one (id not NULL). */
void am_silences_get(struct aw_app *app, const char *id, am_cb cb, void *arg);

/* The result a status means (aw.h). */
enum aw_result am_result(enum am_status st);

/* The reason a refusal body gives, cut to fit buf: Alertmanager answers
 * a JSON string, or text. */
const char *am_reason(const char *body, size_t len, char *buf, size_t n);

/* Whether an expiry's answer means the silence is gone: expired now, or
 * unknown to Alertmanager (expired and forgotten). */
bool am_gone(const struct am_answer *a);

#endif
