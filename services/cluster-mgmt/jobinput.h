/* jobinput.h - the body of POST /api/jobs checked and normalized without
 * I/O (jobinput.c): what the store turns into a job or a plan. */
#ifndef CM_JOBINPUT_H
#define CM_JOBINPUT_H

#include <json-c/json.h>

#include <osh/error.h>

/* Bounds of job input. */
#define JOB_IDS_MAX 5000
#define JOB_CONCURRENCY_DEFAULT 32
#define JOB_CONCURRENCY_MAX 256
#define JOB_TIMEOUT_DEFAULT_S 30
#define JOB_TIMEOUT_MAX_S 900
#define JOB_RETRIES_DEFAULT 2
#define JOB_RETRIES_MAX 10
#define JOB_VERIFY_TIMEOUT_DEFAULT_S 120
#define JOB_VERIFY_TIMEOUT_MAX_S 3600

/* Checks a job body and builds its normalized form into *spec (a new
 * object the caller puts), every option present with its default:
 *   {"action": request action as POWER-STREAMS.md spells it ("on",
 *    "boot:pxe:persistent", "identify:15"), "kind": "on" | ... | "boot" |
 *    "identify" | "status" (reads the power state only), "target_state":
 *    "on" | "off" | null,
 *    "targets": {"server_ids": [..]} | {"cluster": id} |
 *               {"selector": canonical text, "terms": [..]},
 *    "concurrency", "stagger": null | {"count", "interval_ms", "label",
 *    "label_count", "jitter_ms"}, "max_failures": null | count,
 *    "max_failures_percent": null | percent, "canary", "timeout_s",
 *    "retries", "backoff_ms", "verify", "verify_timeout_s",
 *    "not_before", "not_after" (RFC 3339 or null), "on_conflict":
 *    "wait" | "skip", "dry_run"}
 * The same body always gives the same text (the idempotency key compares
 * it). On failure fills err (400 naming the field, 503 out of memory) and
 * returns -1 with *spec NULL. */
int job_in_parse(
    struct json_object *body, struct json_object **spec, struct osh_err *err);

#endif
