/* selector_sql.c - a parsed label selector as SQL parameters for the GIN
 * index on servers.labels (selector_sql.h). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <osh/selector.h>

#include "selector_sql.h"

/* The JSON text of o, as a new string. */
static char *
take_text(struct json_object *o)
{
	const char *t =
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	return t != NULL ? strdup(t) : NULL;
}

/* A PostgreSQL array literal of the strings of arr, each one quoted (an
 * unquoted NULL would be SQL's null, which ?& skips); label names need no
 * escapes, '"' and '\' get them all the same. */
static char *
array_literal(struct json_object *arr)
{
	size_t n = json_object_array_length(arr), len = 3, at = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += 2 *
			strlen(json_object_get_string(
			    json_object_array_get_idx(arr, i))) +
		    3;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[at++] = '{';
	for (size_t i = 0; i < n; i++) {
		const char *k =
		    json_object_get_string(json_object_array_get_idx(arr, i));
		if (i > 0)
			out[at++] = ',';
		out[at++] = '"';
		for (; *k != '\0'; k++) {
			if (*k == '"' || *k == '\\')
				out[at++] = '\\';
			out[at++] = *k;
		}
		out[at++] = '"';
	}
	out[at++] = '}';
	out[at] = '\0';
	return out;
}

/* A requirement for labels_selected: {"k", "op", "v"}. */
static int
add_rest(
    struct json_object *rest, const struct osh_selector_term *t, const char *op)
{
	struct json_object *o = json_object_new_object();
	struct json_object *vs = json_object_new_array();

	if (o == NULL || vs == NULL) {
		json_object_put(o);
		json_object_put(vs);
		return -1;
	}
	for (size_t j = 0; j < t->nvalues; j++)
		json_object_array_add(vs, json_object_new_string(t->values[j]));
	json_object_object_add(o, "k", json_object_new_string(t->key));
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "v", vs);
	return json_object_array_add(rest, o) == 0 ? 0 : -1;
}

/* Sorts one term into eq, keys or rest. */
static int
add_term(const struct osh_selector_term *t, struct json_object *eq,
    struct json_object *keys, struct json_object *rest)
{
	struct json_object *had;

	switch (t->op) {
	case OSH_SEL_EQ:
	case OSH_SEL_IN:
		/* One value: containment, unless the key has another there
		 * already (a=1,a=2 then matches nothing, as it should). */
		if (t->nvalues == 1 &&
		    (!json_object_object_get_ex(eq, t->key, &had) ||
			strcmp(json_object_get_string(had), t->values[0]) == 0))
			return json_object_object_add(
			    eq, t->key, json_object_new_string(t->values[0]));
		if (json_object_array_add(
			keys, json_object_new_string(t->key)) != 0)
			return -1;
		return add_rest(rest, t, "in");
	case OSH_SEL_NE:
	case OSH_SEL_NOTIN: return add_rest(rest, t, "notin");
	case OSH_SEL_EXISTS:
		return json_object_array_add(
		    keys, json_object_new_string(t->key));
	case OSH_SEL_NOT_EXISTS: return add_rest(rest, t, "!exists");
	}
	return -1;
}

int
selector_sql(const struct osh_selector *const *sels, size_t n, char **eq,
    char **keys, char **rest)
{
	struct json_object *e = json_object_new_object();
	struct json_object *k = json_object_new_array();
	struct json_object *r = json_object_new_array();
	int rc = -1;

	*eq = *keys = *rest = NULL;
	if (e == NULL || k == NULL || r == NULL)
		goto out_put;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sels[i]->nterms; j++)
			if (add_term(&sels[i]->terms[j], e, k, r) != 0)
				goto out_put;
	if (json_object_object_length(e) > 0 && (*eq = take_text(e)) == NULL)
		goto out_free;
	if (json_object_array_length(k) > 0 &&
	    (*keys = array_literal(k)) == NULL)
		goto out_free;
	if (json_object_array_length(r) > 0 && (*rest = take_text(r)) == NULL)
		goto out_free;
	rc = 0;
	goto out_put;
out_free:
	free(*eq);
	free(*keys);
	free(*rest);
	*eq = *keys = *rest = NULL;
out_put:
	json_object_put(e);
	json_object_put(k);
	json_object_put(r);
	return rc;
}
