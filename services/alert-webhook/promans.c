/* promans.c - Prometheus' answers rewritten in the metrics API's form. */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <osh/json.h>
#include <osh/util.h>

#include "promans.h"

/* Prometheus' answers nest 5 deep; a little room. */
#define DEPTH 10

/* Whether s is a JSON number (RFC 8259's grammar), so that it can be
 * written as it is. */
static bool
json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0' && p - s < 64;
}

/* A sample [t, "v"] as the API's [t, v]; NULL when it is not one. */
static struct json_object *
point(struct json_object *s, bool string)
{
	struct json_object *t, *v, *p;
	const char *text;
	char *end;
	double d;

	if (!json_object_is_type(s, json_type_array) ||
	    json_object_array_length(s) != 2)
		return NULL;
	t = json_object_array_get_idx(s, 0);
	v = json_object_array_get_idx(s, 1);
	if (!(json_object_is_type(t, json_type_double) ||
		json_object_is_type(t, json_type_int)) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	text = json_object_get_string(v);
	p = json_object_new_array_ext(2);
	json_object_array_add(p, json_object_get(t));
	if (string) {
		json_object_array_add(p, json_object_get(v));
		return p;
	}
	d = strtod(text, &end);
	if (end == text || *end != '\0') {
		json_object_put(p);
		return NULL;
	}
	if (!isfinite(d))
		json_object_array_add(p, NULL);
	else if (json_number(text))
		json_object_array_add(p, json_object_new_double_s(d, text));
	else
		json_object_array_add(p, json_object_new_double(d));
	return p;
}

/* The labels of a series: an object of strings; NULL when not one. */
static struct json_object *
labels(struct json_object *m)
{
	struct json_object *l;

	if (m == NULL)
		return json_object_new_object();
	if (!json_object_is_type(m, json_type_object))
		return NULL;
	l = json_object_new_object();
	json_object_object_foreach(m, k, v)
	{
		if (!json_object_is_type(v, json_type_string)) {
			json_object_put(l);
			return NULL;
		}
		json_object_object_add(l, k, json_object_get(v));
	}
	return l;
}

/* One series of the API from Prometheus' metric and samples (values, or
 * a single value when one is true). */
static struct json_object *
series(struct json_object *metric, struct json_object *samples, bool one,
    bool string)
{
	struct json_object *s, *l, *pts, *p;
	size_t n;

	if ((l = labels(metric)) == NULL)
		return NULL;
	s = json_object_new_object();
	json_object_object_add(s, "labels", l);
	pts = json_object_new_array();
	json_object_object_add(s, "points", pts);
	if (one) {
		if ((p = point(samples, string)) == NULL)
			goto out_put;
		json_object_array_add(pts, p);
		return s;
	}
	if (!json_object_is_type(samples, json_type_array))
		goto out_put;
	n = json_object_array_length(samples);
	for (size_t i = 0; i < n; i++) {
		p = point(json_object_array_get_idx(samples, i), false);
		if (p == NULL)
			goto out_put;
		json_object_array_add(pts, p);
	}
	return s;
out_put:
	json_object_put(s);
	return NULL;
}

/* The API's series of Prometheus' data; NULL when it is malformed. */
static struct json_object *
result(struct json_object *data, size_t max_series, bool *truncated)
{
	struct json_object *type, *res, *out, *s, *e, *m, *v;
	const char *t;
	bool matrix;
	size_t n;

	if (!json_object_object_get_ex(data, "resultType", &type) ||
	    !json_object_object_get_ex(data, "result", &res) ||
	    !json_object_is_type(type, json_type_string))
		return NULL;
	t = json_object_get_string(type);
	out = json_object_new_array();
	if (strcmp(t, "scalar") == 0 || strcmp(t, "string") == 0) {
		if ((s = series(NULL, res, true, t[1] == 't')) == NULL)
			goto out_put;
		json_object_array_add(out, s);
		return out;
	}
	matrix = strcmp(t, "matrix") == 0;
	if ((!matrix && strcmp(t, "vector") != 0) ||
	    !json_object_is_type(res, json_type_array))
		goto out_put;
	n = json_object_array_length(res);
	for (size_t i = 0; i < n; i++) {
		if (i == max_series) {
			*truncated = true;
			break;
		}
		e = json_object_array_get_idx(res, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "metric", &m) ||
		    !json_object_object_get_ex(
			e, matrix ? "values" : "value", &v) ||
		    (s = series(m, v, !matrix, false)) == NULL)
			goto out_put;
		json_object_array_add(out, s);
	}
	return out;
out_put:
	json_object_put(out);
	return NULL;
}

/* An error answer's kind, its reason in why. */
static enum promans_kind
failure(struct json_object *root, char *why, size_t whylen)
{
	struct json_object *et, *e;
	const char *type = "";

	if (json_object_object_get_ex(root, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		osh_utf8_copy(why, json_object_get_string(e), whylen);
	if (json_object_object_get_ex(root, "errorType", &et) &&
	    json_object_is_type(et, json_type_string))
		type = json_object_get_string(et);
	if (strcmp(type, "bad_data") == 0)
		return PROMANS_BAD_QUERY;
	if (strcmp(type, "timeout") == 0 || strcmp(type, "canceled") == 0)
		return PROMANS_TIMEOUT;
	return PROMANS_FAILED;
}

enum promans_kind
promans_read(const char *body, size_t len, size_t max_series, char **out,
    char *why, size_t whylen)
{
	struct json_object *root, *st, *data, *res, *a;
	enum promans_kind k = PROMANS_FAILED;
	struct osh_err err;
	bool truncated = false;
	const char *text;

	*out = NULL;
	if (whylen > 0)
		osh_strlcpy(
		    why, "prometheus answered what it should not", whylen);
	if ((root = osh_json_parse(body, len, DEPTH, &err)) == NULL)
		return PROMANS_FAILED;
	if (!json_object_object_get_ex(root, "status", &st) ||
	    !json_object_is_type(st, json_type_string))
		goto out_put;
	if (strcmp(json_object_get_string(st), "success") != 0) {
		k = failure(root, why, whylen);
		goto out_put;
	}
	if (!json_object_object_get_ex(root, "data", &data) ||
	    !json_object_is_type(data, json_type_object) ||
	    (res = result(data, max_series, &truncated)) == NULL)
		goto out_put;
	a = json_object_new_object();
	json_object_object_add(a, "result_type",
	    json_object_get(json_object_object_get(data, "resultType")));
	json_object_object_add(a, "series", res);
	json_object_object_add(
	    a, "truncated", json_object_new_boolean(truncated));
	text = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	if ((*out = strdup(text)) != NULL)
		k = PROMANS_OK;
	json_object_put(a);
out_put:
	json_object_put(root);
	return k;
}
