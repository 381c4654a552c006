/* json.h - bounded JSON parsing and strict, table-driven validation of
 * request bodies (json-c underneath). */
#ifndef OSH_JSON_H
#define OSH_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OSH_JSON_MAX_DEPTH 16

/* Parses exactly one JSON value from buf[0..len) with at most max_depth
 * levels of nesting. Trailing non-space bytes, invalid UTF-8 and NUL bytes
 * are errors (400 invalid_json). Returns a new object the caller puts, or
 * NULL with err set. */
struct json_object *osh_json_parse(
    const char *buf, size_t len, int max_depth, struct osh_err *err);

enum osh_field_type {
	OSH_FIELD_STRING,
	OSH_FIELD_INT,
	OSH_FIELD_BOOL,
	OSH_FIELD_ENUM, /* a string from 'values' */
	OSH_FIELD_OBJECT,
	OSH_FIELD_ARRAY,
};

struct osh_field {
	const char *name;
	enum osh_field_type type;
	bool required;
	bool nullable;
	int64_t min, max; /* INT: value range; STRING: length in characters;
			     ARRAY: item count (max 0 = no limit) */
	const char *const *values; /* ENUM: NULL-terminated list */
};

/* Checks that 'obj' is an object whose members are all described in
 * fields[0..n), of the right types and within bounds, with every required
 * field present. Strings must be valid UTF-8 without NUL. On failure sets
 * err (400 validation_failed, field named) and returns -1. */
int osh_json_check(struct json_object *obj, const struct osh_field *fields,
    size_t n, struct osh_err *err);

/* Member accessors returning a default when the member is absent or null. */
const char *osh_json_str(
    struct json_object *obj, const char *key, const char *def);
int64_t osh_json_int(struct json_object *obj, const char *key, int64_t def);
bool osh_json_bool(struct json_object *obj, const char *key, bool def);
bool osh_json_has(struct json_object *obj, const char *key);

/* Overwrites the string value of member 'key' of obj in place, when there
 * is one. json-c owns that memory and frees it without wiping it, so a
 * secret copied out of a request body (a password) is wiped this way
 * before the object is put; the member reads as "" afterwards. Bodies
 * parsed by osh_json_parse leave no other copy behind in json-c: the
 * parser's buffer is wiped when it is freed. */
void osh_json_wipe_secret(struct json_object *obj, const char *key);

/* Serializes compactly into a new string the caller frees. */
char *osh_json_dump(struct json_object *obj);

/* Adds a member holding epoch milliseconds as an RFC 3339 string, or null
 * when ms < 0. */
void osh_json_add_time(struct json_object *obj, const char *key, int64_t ms);

#endif
