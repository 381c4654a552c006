/* payload.h - Alertmanager's payloads checked and turned into the rows the
 * store takes (pure: no I/O). Two sources: the webhook body (version 4)
 * and the answer of Alertmanager's GET /api/v2/alerts, which also holds
 * the silenced and inhibited alerts a webhook never carries.
 *
 * A row is a JSON object {"fp", "state", "starts_at", "ends_at", "labels",
 * "annotations", "url", "server_id"}: state is firing, resolved, silenced
 * or inhibited; times are RFC 3339 UTC with milliseconds (ends_at null
 * unless resolved); server_id is the server_id label when it is a
 * positive integer, else null. */
#ifndef AW_PAYLOAD_H
#define AW_PAYLOAD_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>

/* Bounds of what one payload may hold; beyond, it is refused (400). */
#define PAYLOAD_WEBHOOK_ALERTS_MAX 5000
#define PAYLOAD_POLL_ALERTS_MAX 20000
#define PAYLOAD_LABELS_MAX 128 /* labels, and annotations, per alert */
#define PAYLOAD_NAME_MAX 256 /* bytes of a label or annotation name */
#define PAYLOAD_LABEL_VALUE_MAX 4096 /* bytes of a label value */
#define PAYLOAD_ANNOTATION_MAX 16384 /* bytes of an annotation value */
#define PAYLOAD_FINGERPRINT_MAX 64
#define PAYLOAD_URL_MAX 4096
#define PAYLOAD_DEPTH 8 /* JSON nesting the parser allows */

struct payload {
	struct json_object *rows; /* a JSON array of rows, owned */
	size_t nalerts;
	int64_t truncated; /* the webhook's truncatedAlerts (0 for a poll) */
	char status[16]; /* the webhook's group status */
	char receiver[128]; /* the webhook's receiver, cut to fit */
};

/* Checks a webhook body (Alertmanager webhook_config, "version": "4") and
 * fills out. Unknown members are ignored (Alertmanager may add some);
 * what is there must be of the right type. On failure returns -1 with err
 * a 400 whose field names the member ("alerts[3].startsAt") and whose
 * message says what is wrong; out is released by the caller either
 * way. */
int payload_webhook(
    const char *body, size_t len, struct payload *out, struct osh_err *err);

/* The same for the answer of GET /api/v2/alerts (a JSON array of
 * gettableAlert): an active alert is firing, a suppressed one silenced
 * when a silence holds it, else inhibited. */
int payload_poll(
    const char *body, size_t len, struct payload *out, struct osh_err *err);

/* Frees what out holds and empties it. */
void payload_release(struct payload *out);

#endif
