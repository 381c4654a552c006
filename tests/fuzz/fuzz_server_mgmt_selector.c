/* libFuzzer target: server-mgmt's label selectors (selector.c, the
 * labels= parameter of GET /api/servers) and list cursors
 * (input_cursor_parse in input.c, the cursor= parameter). The input is
 * the parameter's text as the router hands it over (NUL-terminated; a
 * NUL inside ends it). Besides the sanitizers, it checks: a refusal has
 * a reason and leaves nothing; what is taken is within bounds (keys are
 * label names, values UTF-8 without the selector's punctuation, sets not
 * empty); writing it back and parsing again gives the same selector; the
 * SQL parameters are JSON and array text of the right shapes; a cursor
 * taken has a positive id and UTF-8 key. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <osh/util.h>

#include "server-mgmt/input.h"
#include "server-mgmt/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "broken invariant: %s\n", what);
		abort();
	}
}

static bool
key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > SELECTOR_MAX_KEY ||
	    !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

static bool
value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n > SELECTOR_MAX_VALUE || !osh_utf8_valid(v, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || v[i] == 0x7f ||
		    strchr(",()=!", v[i]) != NULL)
			return false;
	return true;
}

static void
check_selector(const struct selector *s)
{
	check(s->n >= 1 && s->n <= SELECTOR_MAX_REQS, "requirement count");
	for (size_t i = 0; i < s->n; i++) {
		const struct selector_req *r = &s->reqs[i];
		bool valued = r->op == SELECTOR_IN || r->op == SELECTOR_NOTIN;

		check(key_ok(r->key), "a key that is not a label name");
		check(valued ? r->nvalues >= 1 : r->nvalues == 0,
		    "values of a requirement");
		check(r->nvalues <= SELECTOR_MAX_VALUES, "too many values");
		check(r->set || r->nvalues <= 1, "several values without ()");
		for (size_t j = 0; j < r->nvalues; j++) {
			check(value_ok(r->values[j]), "a bad value");
			check(!r->set || r->values[j][0] != '\0',
			    "an empty value in ()");
		}
	}
}

static bool
same(const struct selector *a, const struct selector *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct selector_req *x = &a->reqs[i], *y = &b->reqs[i];
		if (strcmp(x->key, y->key) != 0 || x->op != y->op ||
		    x->set != y->set || x->nvalues != y->nvalues)
			return false;
		for (size_t j = 0; j < x->nvalues; j++)
			if (strcmp(x->values[j], y->values[j]) != 0)
				return false;
	}
	return true;
}

static void
check_sql(const struct selector *s)
{
	char *eq, *keys, *rest;
	struct json_object *o;

	check(selector_sql(s, &eq, &keys, &rest) == 0, "selector_sql failed");
	check(eq != NULL || keys != NULL || rest != NULL, "no SQL at all");
	if (eq != NULL) {
		o = json_tokener_parse(eq);
		check(json_object_is_type(o, json_type_object) &&
			json_object_object_length(o) > 0,
		    "eq is not a JSON object");
		json_object_put(o);
	}
	if (keys != NULL)
		check(keys[0] == '{' && keys[strlen(keys) - 1] == '}' &&
			strchr(keys, '\\') == NULL,
		    "keys is not an array literal");
	if (rest != NULL) {
		o = json_tokener_parse(rest);
		check(json_object_is_type(o, json_type_array) &&
			json_object_array_length(o) <= s->n,
		    "rest is not a JSON array of requirements");
		json_object_put(o);
	}
	free(eq);
	free(keys);
	free(rest);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct selector a, b;
	char *text = malloc(size + 1), why[160], key[INPUT_CURSOR_MAX];
	static char back[2 * SELECTOR_MAX_TEXT + 64];
	int64_t id = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	selector_init(&a);
	why[0] = '\0';
	if (selector_parse(text, &a, why, sizeof(why)) != 0) {
		check(why[0] != '\0', "a refusal without a reason");
		check(a.n == 0, "a refusal left requirements");
	} else {
		check_selector(&a);
		check_sql(&a);
		check(selector_format(&a, back, sizeof(back)),
		    "cannot write back");
		selector_init(&b);
		check(selector_parse(back, &b, why, sizeof(why)) == 0,
		    "what was written back does not parse");
		check(same(&a, &b), "the round trip changed the selector");
		selector_release(&b);
	}
	selector_release(&a);
	if (input_cursor_parse(text, "id", key, sizeof(key), &id)) {
		check(id >= 1, "a cursor with a bad id");
		check(
		    osh_utf8_valid(key, strlen(key)), "a cursor key not UTF-8");
	}
	free(text);
	return 0;
}
