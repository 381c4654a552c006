/* cluster.c - rules for cluster input that need no I/O: names, labels,
 * selectors and lists of server ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/selector.h>
#include <osh/util.h>

#include "cm.h"

static const struct osh_field cluster_fields[] = {
    {"name", OSH_FIELD_STRING, false, false, 1, CLUSTER_NAME_MAX, NULL},
    {"description", OSH_FIELD_STRING, false, false, 0, CLUSTER_DESCRIPTION_MAX,
	NULL},
    {"labels", OSH_FIELD_OBJECT, false, false, 0, 0, NULL},
    {"selector", OSH_FIELD_STRING, false, true, 0, OSH_SELECTOR_MAX_LEN, NULL},
};

static const struct osh_field ids_fields[] = {
    {"server_ids", OSH_FIELD_ARRAY, true, false, 1, CLUSTER_IDS_MAX, NULL},
};

static int
parse_labels(
    struct json_object *labels, struct cluster_in *out, struct osh_err *err)
{
	size_t n = 0;

	json_object_object_foreach(labels, k, v)
	{
		const char *val;

		if (++n > CLUSTER_LABELS_MAX)
			return osh_err_set(err, 400, "validation_failed",
			    "labels", "at most %d labels", CLUSTER_LABELS_MAX);
		if (!osh_selector_key_ok(k, strlen(k)))
			return osh_err_set(err, 400, "validation_failed",
			    "labels",
			    "label names are letters, digits and _ (1 to 63, "
			    "not starting with a digit)");
		if (!json_object_is_type(v, json_type_string))
			return osh_err_set(err, 400, "validation_failed",
			    "labels", "label \"%s\" must be a string", k);
		val = json_object_get_string(v);
		if (strlen(val) > 256)
			return osh_err_set(err, 400, "validation_failed",
			    "labels",
			    "label \"%s\" must be text of at most 256 bytes",
			    k);
	}
	out->labels = strdup(
	    json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN));
	if (out->labels == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	return 0;
}

static int
parse_selector(
    struct json_object *v, struct cluster_in *out, struct osh_err *err)
{
	struct osh_selector_err serr;
	struct osh_selector *s;
	struct json_object *terms;
	const char *text;
	size_t n;
	int rc = -1;

	out->has_selector = true;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0; /* removes it */
	text = json_object_get_string(v);
	if (text[0] == '\0')
		return osh_err_set(err, 400, "validation_failed", "selector",
		    "selector must not be empty (null removes it)");
	if ((s = osh_selector_parse(text, strlen(text), &serr)) == NULL)
		return osh_err_set(err, 400, "validation_failed", "selector",
		    "selector: %s at position %zu", serr.message, serr.pos);
	if (s->nterms == 0) {
		osh_err_set(err, 400, "validation_failed", "selector",
		    "selector must not be empty (null removes it)");
		goto out_free;
	}
	n = osh_selector_format(s, NULL, 0);
	if ((out->selector = malloc(n + 1)) == NULL ||
	    (terms = osh_selector_json(s)) == NULL) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		goto out_free;
	}
	osh_selector_format(s, out->selector, n + 1);
	out->selector_terms = strdup(
	    json_object_to_json_string_ext(terms, JSON_C_TO_STRING_PLAIN));
	json_object_put(terms);
	if (out->selector_terms == NULL) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		goto out_free;
	}
	rc = 0;
out_free:
	osh_selector_free(s);
	return rc;
}

int
cluster_in_parse(struct json_object *obj, bool create, struct cluster_in *out,
    struct osh_err *err)
{
	struct json_object *v;

	memset(out, 0, sizeof(*out));
	if (osh_json_check(
		obj, cluster_fields, OSH_ARRAY_LEN(cluster_fields), err) != 0)
		return -1;
	out->name = osh_json_str(obj, "name", NULL);
	if (create && out->name == NULL)
		return osh_err_set(
		    err, 400, "validation_failed", "name", "name is required");
	if (out->name != NULL && !osh_name_ok(out->name))
		return osh_err_set(err, 400, "validation_failed", "name",
		    "name must not hold control characters, slashes or "
		    "surrounding spaces");
	out->description = osh_json_str(obj, "description", NULL);
	if (json_object_object_get_ex(obj, "labels", &v) &&
	    parse_labels(v, out, err) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "selector", &v) &&
	    parse_selector(v, out, err) != 0)
		return -1;
	return 0;
}

void
cluster_in_release(struct cluster_in *in)
{
	free(in->labels);
	free(in->selector);
	free(in->selector_terms);
	memset(in, 0, sizeof(*in));
}

int
cluster_ids_parse(struct json_object *obj, char **out, struct osh_err *err)
{
	struct json_object *arr;
	struct osh_buf b;
	size_t n;

	*out = NULL;
	if (osh_json_check(obj, ids_fields, OSH_ARRAY_LEN(ids_fields), err) !=
	    0)
		return -1;
	arr = json_object_object_get(obj, "server_ids");
	n = json_object_array_length(arr);
	osh_buf_init(&b, 32 * CLUSTER_IDS_MAX);
	osh_buf_puts(&b, "{");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		int64_t id;
		if (!json_object_is_type(e, json_type_int) ||
		    (id = json_object_get_int64(e)) < 1) {
			osh_buf_release(&b);
			return osh_err_set(err, 400, "validation_failed",
			    "server_ids",
			    "server_ids must be positive integers (item %zu "
			    "is not)",
			    i);
		}
		osh_buf_printf(&b, "%s%lld", i ? "," : "", (long long)id);
	}
	osh_buf_puts(&b, "}");
	if (b.overflow || b.data == NULL) {
		osh_buf_release(&b);
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	}
	*out = osh_buf_steal(&b);
	return 0;
}
