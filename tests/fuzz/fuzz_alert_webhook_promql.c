/* fuzz_alert_webhook_promql.c - libFuzzer target: what the metrics API
 * of alert-webhook parses from outside: the caller's range, step, end,
 * name, kind and by (promql.c), and Prometheus' answers (promans.c).
 *
 * Input: byte 0 picks the parser (mod 2: query parameters, a Prometheus
 * answer), the rest is the text; query parameters are NUL-separated
 * (range, step, end, name, kind, by). "Now" is fixed. Invariants: an
 * accepted range has at most 11,000 points per series, a start before
 * its end and a span of at most 31 days, a refused one is a 400 naming
 * one of its fields; a built query holds no byte of the caller's text
 * but a known name; an answer read is JSON with series and truncated. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-webhook/promans.h"
#include "alert-webhook/promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1767225600LL

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_alert_webhook_promql: %s\n", what);
	abort();
}

static bool
known(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
params(const char *text, size_t len)
{
	const char *p[6] = {NULL};
	struct promql_range r;
	struct osh_err err = {0};
	char q[PROMQL_QUERY_MAX];
	size_t off = 0;

	for (size_t i = 0; i < 6 && off <= len; i++) {
		p[i] = text + off;
		off += strlen(text + off) + 1;
	}
	if (promql_range_parse(p[0], p[1], p[2], NOW, &r, &err) == 0) {
		check(r.step >= 1 && r.step <= PROMQL_MAX_STEP_S, "step");
		check(r.end > r.start && r.end - r.start <= PROMQL_MAX_RANGE_S,
		    "span");
		check((r.end - r.start) / r.step + 1 <= PROMQL_MAX_POINTS,
		    "points");
	} else {
		check(err.status == 400, "status");
		check(strcmp(err.field, "range") == 0 ||
			strcmp(err.field, "step") == 0 ||
			strcmp(err.field, "end") == 0,
		    "field");
	}
	if (p[3] != NULL && promql_server_query(p[3], 7, q, sizeof(q)))
		check(known(promql_names, p[3]), "name");
	if (p[4] != NULL && promql_hottest_query(p[4], 5, q, sizeof(q)))
		check(known(promql_kinds, p[4]), "kind");
	if (p[5] != NULL && promql_power_query(p[5], q, sizeof(q)))
		check(strcmp(p[5], "total") == 0 ||
			strcmp(p[5], "cluster") == 0 ||
			strcmp(p[5], "server") == 0,
		    "by");
}

static void
prometheus(const char *text, size_t len)
{
	struct json_object *o, *s;
	char why[64], *out = NULL;
	enum promans_kind k =
	    promans_read(text, len, 4, &out, why, sizeof(why));

	if (k != PROMANS_OK) {
		check(out == NULL, "out on error");
		check(memchr(why, '\0', sizeof(why)) != NULL, "why");
		return;
	}
	o = json_tokener_parse(out);
	check(o != NULL, "answer is JSON");
	s = json_object_object_get(o, "series");
	check(json_object_is_type(s, json_type_array), "series");
	check(json_object_array_length(s) <= 4, "series bound");
	check(json_object_is_type(
		  json_object_object_get(o, "truncated"), json_type_boolean),
	    "truncated");
	json_object_put(o);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* NUL terminated, as the service's strings are. */
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] % 2 == 0)
		params(text, size - 1);
	else
		prometheus(text, size - 1);
	free(text);
	return 0;
}
