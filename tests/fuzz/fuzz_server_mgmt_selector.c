/* libFuzzer target: server-mgmt's labels= and label= parameters of GET
 * /api/servers (parsed by libcommon's osh_selector_parse, translated to
 * SQL parameters by selector_sql.c) and list cursors (input_cursor_parse,
 * the cursor= parameter). The input is the parameter's text as the
 * router hands it over (NUL-terminated; a NUL inside ends it).
 *
 * Besides the sanitizers, it checks: a refusal names the field (and, for
 * labels, a position); the SQL parameters of what is taken have the
 * right shapes (eq a JSON object, keys an array literal of quoted label
 * names, rest a JSON array of {k, op, v}); and they select exactly what
 * osh_selector_match selects: eq, keys and rest are evaluated here as
 * PostgreSQL evaluates labels @> eq, labels ?& keys and labels_selected
 * (migrations/004) on a few label sets such as servers hold. A cursor
 * taken has a positive id and UTF-8 key. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <osh/selector.h>
#include <osh/util.h>

#include "server-mgmt/input.h"
#include "server-mgmt/selector_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "broken invariant: %s\n", what);
		abort();
	}
}

/* Label sets as servers hold them: label names, string values. */
static struct json_object *labels[5];

static void
setup(void)
{
	static const char *const texts[] = {
	    "{}",
	    "{\"rack\":\"r12\",\"env\":\"lab\",\"role\":\"db\"}",
	    "{\"a\":\"\",\"in\":\"notin\",\"k\":\"v\",\"NULL\":\"x\"}",
	    "{\"rack\":\"r1\",\"role\":\"web\",\"gpu\":\"a100\"}",
	    "{\"x\":\"1\",\"y\":\"2\",\"_\":\"\xc3\xa9\"}",
	};

	for (size_t i = 0; i < OSH_ARRAY_LEN(labels); i++)
		labels[i] = json_tokener_parse(texts[i]);
}

/* labels->>k, for string values (all of them here). */
static const char *
label(struct json_object *l, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(l, k, &v) ? json_object_get_string(v)
						   : NULL;
}

/* labels @> eq */
static bool
contains(struct json_object *l, struct json_object *eq)
{
	json_object_object_foreach(eq, k, v)
	{
		const char *have = label(l, k);

		if (have == NULL ||
		    strcmp(have, json_object_get_string(v)) != 0)
			return false;
	}
	return true;
}

/* labels ?& keys, keys an array literal of quoted names: {"a","b"}. */
static bool
has_all(struct json_object *l, const char *keys)
{
	char k[OSH_SELECTOR_KEY_MAX + 1];
	const char *p = keys + 1;

	check(keys[0] == '{', "keys is not an array literal");
	while (*p != '}') {
		size_t n = 0;

		check(*p == '"', "a key is not quoted");
		for (p++; *p != '"'; p++) {
			check(*p != '\0' && *p != '\\' &&
				n < OSH_SELECTOR_KEY_MAX,
			    "a key in keys is not a label name");
			k[n++] = *p;
		}
		k[n] = '\0';
		check(osh_selector_key_ok(k, n), "a bad key in keys");
		p++;
		check(*p == ',' || *p == '}', "keys is not an array literal");
		if (*p == ',')
			p++;
		if (label(l, k) == NULL)
			return false;
	}
	check(p[1] == '\0', "text after the array literal");
	return true;
}

/* labels_selected(labels, rest) */
static bool
selected(struct json_object *l, struct json_object *rest)
{
	for (size_t i = 0; i < json_object_array_length(rest); i++) {
		struct json_object *r = json_object_array_get_idx(rest, i);
		struct json_object *k, *op, *v;
		const char *have, *o;
		bool in = false;

		check(json_object_object_get_ex(r, "k", &k) &&
			json_object_object_get_ex(r, "op", &op) &&
			json_object_object_get_ex(r, "v", &v) &&
			json_object_is_type(v, json_type_array),
		    "a requirement of rest without k, op and v");
		have = label(l, json_object_get_string(k));
		for (size_t j = 0;
		     have != NULL && j < json_object_array_length(v); j++)
			in = in ||
			    strcmp(json_object_get_string(
				       json_object_array_get_idx(v, j)),
				have) == 0;
		o = json_object_get_string(op);
		check(strcmp(o, "in") == 0 || strcmp(o, "notin") == 0 ||
			strcmp(o, "!exists") == 0,
		    "an unknown op in rest");
		if (strcmp(o, "in") == 0 && !in)
			return false;
		if (strcmp(o, "notin") == 0 && in)
			return false;
		if (strcmp(o, "!exists") == 0 && have != NULL)
			return false;
	}
	return true;
}

static void
check_sql(const struct osh_selector *s)
{
	const struct osh_selector *sels[1] = {s};
	struct json_object *eq = NULL, *rest = NULL;
	char *e, *k, *r;

	check(selector_sql(sels, 1, &e, &k, &r) == 0, "selector_sql failed");
	check(s->nterms == 0 || e != NULL || k != NULL || r != NULL,
	    "no SQL at all");
	if (e != NULL) {
		eq = json_tokener_parse(e);
		check(json_object_is_type(eq, json_type_object) &&
			json_object_object_length(eq) > 0,
		    "eq is not a JSON object");
	}
	if (r != NULL) {
		rest = json_tokener_parse(r);
		check(json_object_is_type(rest, json_type_array) &&
			json_object_array_length(rest) <= s->nterms,
		    "rest is not a JSON array of requirements");
	}
	for (size_t i = 0; i < OSH_ARRAY_LEN(labels); i++) {
		bool sql = (eq == NULL || contains(labels[i], eq)) &&
		    (k == NULL || has_all(labels[i], k)) &&
		    (rest == NULL || selected(labels[i], rest));
		check(sql == osh_selector_match(s, labels[i]),
		    "the SQL selects other servers than the selector");
	}
	json_object_put(eq);
	json_object_put(rest);
	free(e);
	free(k);
	free(r);
}

/* The whole parameter, as input_servers_query takes it. */
static void
check_param(const char *name, const char *text)
{
	struct input_param p[] = {{name, text}};
	struct servers_query q;
	struct osh_err err = {0};

	if (input_servers_query(p, 1, &q, &err) != 0) {
		check(err.status == 400 || err.status == 503,
		    "a refusal that is not 400");
		check(err.status != 400 || strcmp(err.field, name) == 0,
		    "a refusal that does not name the field");
		check(strcmp(name, "labels") != 0 || err.status != 400 ||
			strstr(err.message, "position") != NULL ||
			strstr(err.message, "empty") != NULL,
		    "a refusal of labels without its position");
	}
	input_servers_query_release(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), key[INPUT_CURSOR_MAX];
	struct osh_selector_err serr = {0};
	struct osh_selector *s;
	int64_t id = 0;

	if (text == NULL)
		return 0;
	if (labels[0] == NULL)
		setup();
	memcpy(text, data, size);
	text[size] = '\0';
	if ((s = osh_selector_parse(text, strlen(text), &serr)) != NULL)
		check_sql(s);
	osh_selector_free(s);
	check_param("labels", text);
	check_param("label", text);
	if (input_cursor_parse(text, "id", key, sizeof(key), &id)) {
		check(id >= 1, "a cursor with a bad id");
		check(
		    osh_utf8_valid(key, strlen(key)), "a cursor key not UTF-8");
	}
	free(text);
	return 0;
}
