/* fuzz_cluster_mgmt_jobs.c - libFuzzer target: the body of POST /api/jobs
 * (jobinput.c) behind the bounded JSON parser.
 *
 * Input: the JSON text. Invariants: what is refused is a 400 naming a
 * field (unless the body is no object) or a 503, with a reason and no
 * spec; what is accepted is a spec with every option present and within
 * its bounds, exactly one kind of target, a request action of the
 * stream's grammar, verify only for power actions, and it is a fixed
 * point: the same body gives the same text twice. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-mgmt/jobinput.h"
#include "osh/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_cluster_mgmt_jobs: %s\n", what);
	abort();
}

static bool
in_range(struct json_object *spec, const char *key, int64_t lo, int64_t hi)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(spec, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	n = json_object_get_int64(v);
	return n >= lo && n <= hi;
}

static void
check_spec(struct json_object *spec)
{
	struct json_object *t = json_object_object_get(spec, "targets");
	const char *action = osh_json_str(spec, "action", "");
	const char *kind = osh_json_str(spec, "kind", "");
	const char *target = osh_json_str(spec, "target_state", NULL);
	int kinds;

	check(t != NULL, "no targets");
	kinds = osh_json_has(t, "server_ids") + osh_json_has(t, "cluster") +
	    osh_json_has(t, "selector");
	check(kinds == 1, "not exactly one kind of target");
	check(in_range(spec, "concurrency", 1, JOB_CONCURRENCY_MAX),
	    "concurrency");
	check(in_range(spec, "timeout_s", 1, JOB_TIMEOUT_MAX_S), "timeout_s");
	check(in_range(spec, "retries", 0, JOB_RETRIES_MAX), "retries");
	check(in_range(spec, "canary", 0, 100), "canary");
	check(in_range(spec, "verify_timeout_s", 1, JOB_VERIFY_TIMEOUT_MAX_S),
	    "verify_timeout_s");
	check(osh_json_has(spec, "stagger") ||
		json_object_object_get_ex(spec, "stagger", NULL),
	    "stagger absent");
	if (strcmp(kind, "boot") == 0)
		check(strncmp(action, "boot:", 5) == 0, "boot action");
	else if (strcmp(kind, "identify") == 0)
		check(strncmp(action, "identify:", 9) == 0, "identify action");
	else
		check(strcmp(action, kind) == 0, "action is not its kind");
	check(strlen(action) < 64, "action too long");
	if (osh_json_bool(spec, "verify", false))
		check(target != NULL, "verify without a state to reach");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o, *spec = NULL, *again = NULL;
	struct osh_err err = {0};
	char *text;
	int rc;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	o = osh_json_parse(text, size, OSH_JSON_MAX_DEPTH, &err);
	free(text);
	if (o == NULL)
		return 0;
	rc = job_in_parse(o, &spec, &err);
	if (rc != 0) {
		check(spec == NULL, "spec left on failure");
		check(err.status == 400 || err.status == 503, "odd status");
		check(err.status != 400 || err.field[0] != '\0' ||
			!json_object_is_type(o, json_type_object) ||
			json_object_object_get_ex(o, "", NULL),
		    "refused without naming a field");
		check(err.message[0] != '\0', "refused without a reason");
	} else {
		check(spec != NULL, "accepted without a spec");
		check_spec(spec);
		check(job_in_parse(o, &again, &err) == 0, "second parse fails");
		check(strcmp(json_object_to_json_string_ext(
				 spec, JSON_C_TO_STRING_PLAIN),
			  json_object_to_json_string_ext(
			      again, JSON_C_TO_STRING_PLAIN)) == 0,
		    "not deterministic");
	}
	json_object_put(again);
	json_object_put(spec);
	json_object_put(o);
	return 0;
}
