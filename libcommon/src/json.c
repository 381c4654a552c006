/* json.c - bounded parsing and strict validation of JSON bodies. */
#include <stdlib.h>
#include <string.h>

#include "osh/crypto.h"
#include "osh/json.h"
#include "osh/util.h"

/* json-c accepts more than JSON even in strict mode (single-quoted
 * strings, for one). Outside strings, JSON only has structure, numbers and
 * the words true, false and null: anything else is refused here. */
static bool
plain_json(const char *buf, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
			continue;
		}
		if (strchr(" \t\r\n{}[],:0123456789+-.eEtrufalsn", c) == NULL)
			return false;
	}
	return true;
}

/* json-c copies every string it reads into the tokener's buffer before
 * making an object of it, and frees that buffer as is: wipe it first, so
 * that secrets in a body live only in objects osh_json_wipe_secret can
 * reach. A parse that failed leaves what it had built on the tokener's
 * stack, freed with it: wiped too. (The fields are public but marked
 * internal; json-c 0.13-0.17 all have them.) */
static void
tokener_free_wiped(struct json_tokener *tok)
{
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		osh_wipe(tok->pb->buf, (size_t)tok->pb->size);
	for (int i = 0;
	     tok->stack != NULL && i <= tok->depth && i < tok->max_depth; i++)
		osh_json_wipe_all(tok->stack[i].current);
	json_tokener_free(tok);
}

struct json_object *
osh_json_parse(const char *buf, size_t len, int max_depth, struct osh_err *err)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	if (len == 0) {
		osh_err_set(
		    err, 400, "invalid_json", NULL, "request body is empty");
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL || !osh_utf8_valid(buf, len)) {
		osh_err_set(err, 400, "invalid_json", NULL,
		    "request body is not valid UTF-8 text");
		return NULL;
	}
	if (!plain_json(buf, len)) {
		osh_err_set(err, 400, "invalid_json", NULL,
		    "malformed JSON: unexpected character");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(max_depth)) == NULL) {
		osh_err_set(err, 503, "unavailable", NULL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	tokener_free_wiped(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		osh_json_wipe_all(obj);
		json_object_put(obj);
		if (jerr == json_tokener_error_depth)
			osh_err_set(err, 400, "invalid_json", NULL,
			    "JSON nested deeper than %d levels", max_depth);
		else
			osh_err_set(err, 400, "invalid_json", NULL,
			    "malformed JSON: %s",
			    jerr == json_tokener_continue
				? "unexpected end of input"
				: json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; used < len; used++) {
		char c = buf[used];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			osh_json_wipe_all(obj);
			json_object_put(obj);
			osh_err_set(err, 400, "invalid_json", NULL,
			    "unexpected data after the JSON value");
			return NULL;
		}
	}
	return obj;
}

static const char *
type_name(enum osh_field_type t)
{
	switch (t) {
	case OSH_FIELD_STRING: return "a string";
	case OSH_FIELD_INT: return "an integer";
	case OSH_FIELD_BOOL: return "a boolean";
	case OSH_FIELD_ENUM: return "a string";
	case OSH_FIELD_OBJECT: return "an object";
	case OSH_FIELD_ARRAY: return "an array";
	}
	return "a value";
}

static int
check_string(
    struct json_object *v, const struct osh_field *f, struct osh_err *err)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v), chars;

	if (memchr(s, '\0', len) != NULL || !osh_utf8_valid(s, len))
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must be valid UTF-8 without NUL characters", f->name);
	chars = osh_utf8_len(s, len);
	if (osh_field_type(f) == OSH_FIELD_ENUM) {
		for (const char *const *e = f->values; *e != NULL; e++)
			if (strcmp(*e, s) == 0)
				return 0;
		char allowed[160] = "";
		for (const char *const *e = f->values; *e != NULL; e++) {
			if (allowed[0] != '\0')
				strncat(allowed, ", ",
				    sizeof(allowed) - strlen(allowed) - 1);
			strncat(
			    allowed, *e, sizeof(allowed) - strlen(allowed) - 1);
		}
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must be one of: %s", f->name, allowed);
	}
	if ((int64_t)chars < f->min)
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must be at least %lld characters", f->name,
		    (long long)f->min);
	if (f->max > 0 && (int64_t)chars > f->max)
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must be at most %lld characters", f->name,
		    (long long)f->max);
	return 0;
}

static int
check_field(
    struct json_object *v, const struct osh_field *f, struct osh_err *err)
{
	enum json_type want;

	if (v == NULL) {
		if (f->nullable)
			return 0;
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must not be null", f->name);
	}
	switch (osh_field_type(f)) {
	case OSH_FIELD_STRING:
	case OSH_FIELD_ENUM: want = json_type_string; break;
	case OSH_FIELD_INT: want = json_type_int; break;
	case OSH_FIELD_BOOL: want = json_type_boolean; break;
	case OSH_FIELD_OBJECT: want = json_type_object; break;
	case OSH_FIELD_ARRAY: want = json_type_array; break;
	default: want = json_type_null; break;
	}
	if (!json_object_is_type(v, want))
		return osh_err_set(err, 400, "validation_failed", f->name,
		    "%s must be %s", f->name, type_name(osh_field_type(f)));
	switch (osh_field_type(f)) {
	case OSH_FIELD_STRING:
	case OSH_FIELD_ENUM: return check_string(v, f, err);
	case OSH_FIELD_INT: {
		int64_t i = json_object_get_int64(v);
		if ((f->min != 0 || f->max != 0) && (i < f->min || i > f->max))
			return osh_err_set(err, 400, "validation_failed",
			    f->name, "%s must be between %lld and %lld",
			    f->name, (long long)f->min, (long long)f->max);
		return 0;
	}
	case OSH_FIELD_ARRAY: {
		size_t n = json_object_array_length(v);
		if ((int64_t)n < f->min || (f->max > 0 && (int64_t)n > f->max))
			return osh_err_set(err, 400, "validation_failed",
			    f->name, "%s must hold %lld to %lld items", f->name,
			    (long long)f->min, (long long)f->max);
		return 0;
	}
	default: return 0;
	}
}

int
osh_json_check(struct json_object *obj, const struct osh_field *fields,
    size_t n, struct osh_err *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return osh_err_set(err, 400, "validation_failed", NULL,
		    "request body must be a JSON object");
	json_object_object_foreach(obj, key, val)
	{
		const struct osh_field *f = NULL;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(fields[i].name, key) == 0) {
				f = &fields[i];
				break;
			}
		}
		if (f == NULL) {
			char name[OSH_ERR_FIELD_MAX];
			char *clean = osh_utf8_clean(key, strlen(key), 64);
			osh_utf8_copy(
			    name, clean != NULL ? clean : "?", sizeof(name));
			free(clean);
			return osh_err_set(err, 400, "validation_failed", name,
			    "unknown field \"%s\"", name);
		}
		if (check_field(val, f, err) != 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].required &&
		    !json_object_object_get_ex(obj, fields[i].name, NULL))
			return osh_err_set(err, 400, "validation_failed",
			    fields[i].name, "%s is required", fields[i].name);
	}
	return 0;
}

const char *
osh_json_str(struct json_object *obj, const char *key, const char *def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return def;
	return json_object_get_string(v);
}

int64_t
osh_json_int(struct json_object *obj, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return def;
	return json_object_get_int64(v);
}

bool
osh_json_bool(struct json_object *obj, const char *key, bool def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return def;
	return json_object_get_boolean(v);
}

bool
osh_json_has(struct json_object *obj, const char *key)
{
	return json_object_object_get_ex(obj, key, NULL);
}

void
osh_json_wipe_secret(struct json_object *obj, const char *key)
{
	struct json_object *v;
	int len;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	if ((len = json_object_get_string_len(v)) > 0)
		osh_wipe(
		    (void *)(uintptr_t)json_object_get_string(v), (size_t)len);
}

void
osh_json_wipe_all(struct json_object *obj)
{
	int len;

	switch (json_object_get_type(obj)) {
	case json_type_string:
		if ((len = json_object_get_string_len(obj)) > 0)
			osh_wipe((void *)(uintptr_t)json_object_get_string(obj),
			    (size_t)len);
		return;
	case json_type_object: {
		json_object_object_foreach(obj, key, val)
		{
			(void)key;
			osh_json_wipe_all(val);
		}
		return;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(obj); i++)
			osh_json_wipe_all(json_object_array_get_idx(obj, i));
		return;
	default: return;
	}
}

static void
wipe_named(struct json_object *obj, const char *key, int depth)
{
	if (depth > OSH_JSON_MAX_DEPTH + 1)
		return;
	switch (json_object_get_type(obj)) {
	case json_type_object: {
		json_object_object_foreach(obj, k, v)
		{
			if (strcmp(k, key) == 0)
				osh_json_wipe_all(v);
			else
				wipe_named(v, key, depth + 1);
		}
		return;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(obj); i++)
			wipe_named(
			    json_object_array_get_idx(obj, i), key, depth + 1);
		return;
	default: return;
	}
}

void
osh_json_wipe_named(struct json_object *obj, const char *key)
{
	wipe_named(obj, key, 0);
}

void
osh_json_wipe_fields(
    struct json_object *obj, const struct osh_field *fields, size_t n)
{
	struct json_object *v;

	if (!json_object_is_type(obj, json_type_object))
		return;
	for (size_t i = 0; i < n; i++)
		if (osh_field_secret(&fields[i]) &&
		    json_object_object_get_ex(obj, fields[i].name, &v))
			osh_json_wipe_all(v);
}

void
osh_json_put_wiped(
    struct json_object *obj, const struct osh_field *fields, size_t n)
{
	osh_json_wipe_fields(obj, fields, n);
	json_object_put(obj);
}

char *
osh_json_dump(struct json_object *obj)
{
	return strdup(json_object_to_json_string_ext(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

size_t
osh_json_compact(char *dst, const char *src, size_t len)
{
	size_t n = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue;
		}
		dst[n++] = c;
	}
	return n;
}

void
osh_json_add_time(struct json_object *obj, const char *key, int64_t ms)
{
	char ts[OSH_TIME_LEN];

	if (ms < 0) {
		json_object_object_add(obj, key, NULL);
		return;
	}
	json_object_object_add(obj, key,
	    json_object_new_string(osh_time_format(ms, ts, sizeof(ts))));
}
