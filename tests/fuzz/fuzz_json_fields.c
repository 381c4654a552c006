/* fuzz_json_fields.c - libFuzzer target: request bodies as the services
 * read them, osh_json_parse then osh_json_check against field tables
 * holding every field type and limit (osh/json.h), then the accessors,
 * osh_json_wipe_secret and osh_utf8_copy on what came through.
 *
 * Input: byte 0 picks the field table, byte 1 the depth limit, the rest
 * is the body.
 *
 * Invariants: an error names a status, a code and a message that are
 * valid UTF-8 (so is the field); a body that passes the check holds only
 * known members, each of its type and within its limits, required ones
 * present; a passed body written back parses and passes again; a wiped
 * secret reads as empty with all its bytes zero, and so does every string
 * in a member marked OSH_FIELD_SECRET once osh_json_wipe_fields ran; a
 * cut copy of any string is a prefix of it on a character boundary. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/json.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_json_fields: %s\n", what);
	abort();
}

static const char *const colors[] = {"red", "green", "blue", NULL};
static const char *const roles[] = {"admin", "operator", "viewer", NULL};

/* Every type, bounded. */
static const struct osh_field bounded[] = {
    {"name", OSH_FIELD_STRING, true, false, 1, 5, NULL},
    {"count", OSH_FIELD_INT, false, false, -3, 10, NULL},
    {"on", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"color", OSH_FIELD_ENUM, false, true, 0, 0, colors},
    {"tags", OSH_FIELD_ARRAY, false, false, 0, 2, NULL},
    {"labels", OSH_FIELD_OBJECT | OSH_FIELD_SECRET, false, false, 0, 0, NULL},
    {"password", OSH_FIELD_STRING, false, false, 0, 20, NULL},
};

/* Open limits: no maximum, unbounded integers, arrays of at least one. */
static const struct osh_field open_ended[] = {
    {"text", OSH_FIELD_STRING, false, true, 0, 0, NULL},
    {"n", OSH_FIELD_INT, false, true, 0, 0, NULL},
    {"items", OSH_FIELD_ARRAY, true, false, 1, 0, NULL},
    {"o", OSH_FIELD_OBJECT, false, true, 0, 0, NULL},
    {"secret", OSH_FIELD_STRING, false, false, 1, 0, NULL},
};

/* The login and user bodies of the auth service. */
static const struct osh_field login[] = {
    {"username", OSH_FIELD_STRING, true, false, 1, 256, NULL},
    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 1024,
	NULL},
};
static const struct osh_field user[] = {
    {"username", OSH_FIELD_STRING, true, false, 1, 64, NULL},
    {"password", OSH_FIELD_STRING, true, false, 1, 1024, NULL},
    {"role", OSH_FIELD_ENUM, true, false, 0, 0, roles},
    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
    {"active", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct {
	const struct osh_field *f;
	size_t n;
} tables[] = {
    {bounded, OSH_ARRAY_LEN(bounded)},
    {open_ended, OSH_ARRAY_LEN(open_ended)},
    {login, OSH_ARRAY_LEN(login)},
    {user, OSH_ARRAY_LEN(user)},
};

static void
check_err(const struct osh_err *err)
{
	check(err->status == 400 || err->status == 503, "odd error status");
	check(err->code != NULL && err->code[0] != '\0', "error without code");
	check(
	    strnlen(err->message, sizeof(err->message)) < sizeof(err->message),
	    "error message not terminated");
	check(osh_utf8_valid(err->message, strlen(err->message)),
	    "error message not UTF-8");
	check(strnlen(err->field, sizeof(err->field)) < sizeof(err->field),
	    "error field not terminated");
	check(osh_utf8_valid(err->field, strlen(err->field)),
	    "error field not UTF-8");
}

/* A member that passed the check is what its field says. */
static void
check_member(struct json_object *v, const struct osh_field *f)
{
	if (v == NULL) {
		check(f->nullable, "null passed a non-nullable field");
		return;
	}
	switch (osh_field_type(f)) {
	case OSH_FIELD_STRING:
	case OSH_FIELD_ENUM: {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v), chars;

		check(json_object_is_type(v, json_type_string), "not a string");
		check(memchr(s, '\0', len) == NULL, "NUL in a string");
		check(osh_utf8_valid(s, len), "string not UTF-8");
		chars = osh_utf8_len(s, len);
		if (osh_field_type(f) == OSH_FIELD_ENUM) {
			bool found = false;
			for (const char *const *e = f->values; *e != NULL; e++)
				found = found || strcmp(*e, s) == 0;
			check(found, "enum value not in the list");
		} else {
			check((int64_t)chars >= f->min, "string too short");
			check(f->max == 0 || (int64_t)chars <= f->max,
			    "string too long");
		}
		break;
	}
	case OSH_FIELD_INT: {
		int64_t i = json_object_get_int64(v);

		check(json_object_is_type(v, json_type_int), "not an int");
		if (f->min != 0 || f->max != 0)
			check(i >= f->min && i <= f->max, "int out of range");
		break;
	}
	case OSH_FIELD_BOOL:
		check(json_object_is_type(v, json_type_boolean), "not a bool");
		break;
	case OSH_FIELD_OBJECT:
		check(
		    json_object_is_type(v, json_type_object), "not an object");
		break;
	case OSH_FIELD_ARRAY: {
		size_t n = json_object_array_length(v);

		check(json_object_is_type(v, json_type_array), "not an array");
		check((int64_t)n >= f->min &&
			(f->max == 0 || (int64_t)n <= f->max),
		    "array length out of bounds");
		break;
	}
	}
}

/* Copies s into buffers of every small size: each copy is a prefix of s
 * that ends between characters. */
static void
check_cuts(const char *s)
{
	size_t len = strlen(s);
	char buf[16];

	for (size_t room = 1; room <= sizeof(buf); room++) {
		bool whole = osh_utf8_copy(buf, s, room);
		size_t n = strlen(buf);

		check(whole == (len < room), "osh_utf8_copy's answer");
		check(n < room && memcmp(buf, s, n) == 0,
		    "osh_utf8_copy not a prefix");
		check(whole || n + 4 >= room, "osh_utf8_copy cut too much");
		check(osh_utf8_valid(buf, n), "osh_utf8_copy cut a character");
	}
}

static void
check_passed(
    struct json_object *o, const struct osh_field *f, size_t n, int depth)
{
	struct osh_err err;
	struct json_object *again;
	char *text;

	json_object_object_foreach(o, key, val)
	{
		const struct osh_field *hit = NULL;

		for (size_t i = 0; i < n; i++)
			if (strcmp(f[i].name, key) == 0)
				hit = &f[i];
		check(hit != NULL, "an unknown member passed");
		check_member(val, hit);
		if (val != NULL && json_object_is_type(val, json_type_string))
			check_cuts(json_object_get_string(val));
	}
	for (size_t i = 0; i < n; i++) {
		check(!f[i].required || osh_json_has(o, f[i].name),
		    "a required member missing");
		(void)osh_json_str(o, f[i].name, "");
		(void)osh_json_int(o, f[i].name, 0);
		(void)osh_json_bool(o, f[i].name, false);
	}
	/* Written back, it reads the same way. */
	text = osh_json_dump(o);
	check(text != NULL, "osh_json_dump failed");
	again = osh_json_parse(text, strlen(text), depth, &err);
	check(again != NULL, "a dumped body does not parse");
	check(osh_json_check(again, f, n, &err) == 0,
	    "a dumped body does not pass");
	json_object_put(again);
	free(text);
}

static void
check_wipe(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		osh_json_wipe_secret(o, key); /* must leave others alone */
		return;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	osh_json_wipe_secret(o, key);
	for (size_t i = 0; i < len; i++)
		check(s[i] == '\0', "a secret byte survived the wipe");
	check(osh_json_str(o, key, "x")[0] == '\0', "a wiped secret reads");
}

/* True when every string in v, at any depth, is all zero bytes. */
static bool
all_wiped(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string: {
		const char *s = json_object_get_string(v);
		int len = json_object_get_string_len(v);

		for (int i = 0; i < len; i++)
			if (s[i] != '\0')
				return false;
		return true;
	}
	case json_type_object: {
		json_object_object_foreach(v, key, val)
		{
			(void)key;
			if (!all_wiped(val))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!all_wiped(json_object_array_get_idx(v, i)))
				return false;
		return true;
	default: return true;
	}
}

/* The members a table marks secret are wiped through and through, and
 * osh_json_wipe_all leaves no string unwiped. */
static void
check_wipe_fields(struct json_object *o, const struct osh_field *f, size_t n)
{
	struct json_object *v;

	osh_json_wipe_fields(o, f, n);
	for (size_t i = 0; i < n; i++)
		if (osh_field_secret(&f[i]) &&
		    json_object_object_get_ex(o, f[i].name, &v))
			check(all_wiped(v), "a secret field survived the wipe");
	osh_json_wipe_all(o);
	check(all_wiped(o), "a string survived osh_json_wipe_all");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct osh_field *f;
	struct json_object *o;
	struct osh_err err;
	size_t n;
	int depth;
	char *body;

	if (size < 2)
		return 0;
	f = tables[data[0] % OSH_ARRAY_LEN(tables)].f;
	n = tables[data[0] % OSH_ARRAY_LEN(tables)].n;
	depth = 1 + data[1] % OSH_JSON_MAX_DEPTH;
	/* An exact-size copy: ASan sees any read past the end. */
	if ((body = malloc(size - 2 + 1)) == NULL)
		return 0;
	memcpy(body, data + 2, size - 2);
	memset(&err, 0, sizeof(err));
	o = osh_json_parse(body, size - 2, depth, &err);
	if (o == NULL) {
		check_err(&err);
		free(body);
		return 0;
	}
	memset(&err, 0, sizeof(err));
	if (osh_json_check(o, f, n, &err) != 0)
		check_err(&err);
	else
		check_passed(o, f, n, depth);
	check_wipe(o, "password");
	check_wipe(o, "secret");
	check_wipe(o, "count");
	check_wipe_fields(o, f, n);
	json_object_put(o);
	free(body);
	return 0;
}
