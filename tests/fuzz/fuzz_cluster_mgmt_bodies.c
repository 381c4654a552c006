/* fuzz_cluster_mgmt_bodies.c - libFuzzer target: cluster-mgmt's request
 * bodies (cluster.c) behind the bounded JSON parser.
 *
 * Input: byte 0 picks the body (0: a cluster to create, 1: a change,
 * 2: server ids), the rest is the JSON text. Invariants: what is refused
 * is a 400 (or 503) naming a field (unless the body is no object); an accepted selector is canonical
 * (it parses to itself) with its JSON terms; accepted ids are a
 * PostgreSQL array of positive integers. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-mgmt/cm.h"
#include "osh/json.h"
#include "osh/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_cluster_mgmt_bodies: %s\n", what);
	abort();
}

static void
check_selector(const char *text)
{
	struct osh_selector_err err = {0};
	struct osh_selector *s = osh_selector_parse(text, strlen(text), &err);
	char *again;
	size_t n;

	check(s != NULL, "stored selector does not parse");
	n = osh_selector_format(s, NULL, 0);
	again = malloc(n + 1);
	check(again != NULL, "out of memory");
	osh_selector_format(s, again, n + 1);
	check(strcmp(again, text) == 0, "stored selector not canonical");
	free(again);
	osh_selector_free(s);
}

static void
check_ids(const char *ids)
{
	const char *p = ids;

	check(*p++ == '{', "ids do not open with {");
	for (;;) {
		check(*p >= '1' && *p <= '9', "id does not start with 1-9");
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '}')
			break;
		check(*p++ == ',', "ids not separated by ,");
	}
	check(p[1] == '\0', "garbage after the ids");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	struct osh_err err = {0};
	struct cluster_in in;
	char *text, *ids = NULL;
	int rc;

	if (size < 1)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	o = osh_json_parse(text, size - 1, OSH_JSON_MAX_DEPTH, &err);
	free(text);
	if (o == NULL)
		return 0;
	if (data[0] % 3 == 2) {
		rc = cluster_ids_parse(o, &ids, &err);
		if (rc == 0)
			check_ids(ids);
		else
			check(ids == NULL, "ids left on failure");
		free(ids);
	} else {
		rc = cluster_in_parse(o, data[0] % 3 == 0, &in, &err);
		if (rc == 0 && in.selector != NULL) {
			check(in.has_selector && in.selector_terms != NULL,
			    "selector without terms");
			check_selector(in.selector);
		}
		if (rc == 0 && data[0] % 3 == 0)
			check(in.name != NULL, "created without a name");
		cluster_in_release(&in);
	}
	if (rc != 0) {
		check(err.status == 400 || err.status == 503, "odd status");
		/* A body that is no object has no field to name, and a
		 * member named "" is named so. */
		check(err.status != 400 || err.field[0] != '\0' ||
			!json_object_is_type(o, json_type_object) ||
			json_object_object_get_ex(o, "", NULL),
		    "refused without naming a field");
		check(err.message[0] != '\0', "refused without a reason");
	}
	json_object_put(o);
	return 0;
}
