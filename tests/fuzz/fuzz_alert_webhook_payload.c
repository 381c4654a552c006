/* fuzz_alert_webhook_payload.c - libFuzzer target: Alertmanager's payloads
 * as alert-webhook reads them (payload.c): the webhook body (version 4)
 * and the answer of GET /api/v2/alerts.
 *
 * Input: byte 0 picks the parser (even: webhook, odd: poll), the rest is
 * the body. Invariants: a refused payload is a 400 naming a field; an
 * accepted one has as many rows as alerts, each with a fingerprint of 1
 * to 64 hex digits, a known state, an RFC 3339 starts_at, an ends_at only
 * when resolved and not before starts_at, and a positive server_id or
 * none; truncatedAlerts is never negative. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-webhook/payload.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_alert_webhook_payload: %s\n", what);
	abort();
}

static const char *
str(struct json_object *row, const char *key)
{
	struct json_object *v = json_object_object_get(row, key);

	return json_object_is_type(v, json_type_string)
	    ? json_object_get_string(v)
	    : NULL;
}

static void
check_row(struct json_object *row, bool webhook)
{
	const char *fp = str(row, "fp"), *state = str(row, "state");
	const char *starts = str(row, "starts_at"), *ends = str(row, "ends_at");
	struct json_object *sid = json_object_object_get(row, "server_id");
	int64_t s_ms, e_ms;

	check(fp != NULL && strlen(fp) >= 1 && strlen(fp) <= 64, "fingerprint");
	for (const char *p = fp; *p != '\0'; p++)
		check(osh_hex_digit((unsigned char)*p) >= 0, "fingerprint hex");
	check(state != NULL, "state");
	if (webhook)
		check(strcmp(state, "firing") == 0 ||
			strcmp(state, "resolved") == 0,
		    "webhook state");
	else
		check(strcmp(state, "firing") == 0 ||
			strcmp(state, "silenced") == 0 ||
			strcmp(state, "inhibited") == 0,
		    "poll state");
	check(starts != NULL && osh_time_parse(starts, &s_ms) && s_ms > 0,
	    "starts_at");
	if (ends != NULL) {
		check(
		    strcmp(state, "resolved") == 0, "ends_at unless resolved");
		check(osh_time_parse(ends, &e_ms) && e_ms >= s_ms, "ends_at");
	}
	check(sid == NULL ||
		(json_object_is_type(sid, json_type_int) &&
		    json_object_get_int64(sid) > 0),
	    "server_id");
	check(json_object_is_type(
		  json_object_object_get(row, "labels"), json_type_object),
	    "labels");
	/* What the store is handed serializes. */
	check(json_object_to_json_string(row) != NULL, "serialize");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload p;
	struct osh_err err = {0};
	bool webhook;
	int rc;

	if (size < 1)
		return 0;
	webhook = (data[0] & 1) == 0;
	rc = webhook
	    ? payload_webhook((const char *)data + 1, size - 1, &p, &err)
	    : payload_poll((const char *)data + 1, size - 1, &p, &err);
	if (rc != 0) {
		check(err.status == 400 || err.status == 503, "status");
		check(err.message[0] != '\0', "message");
	} else {
		check(json_object_array_length(p.rows) == p.nalerts, "rows");
		check(p.truncated >= 0, "truncated");
		for (size_t i = 0; i < p.nalerts; i++)
			check_row(
			    json_object_array_get_idx(p.rows, i), webhook);
	}
	payload_release(&p);
	return 0;
}
