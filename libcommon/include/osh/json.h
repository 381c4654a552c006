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
 * NULL with err set. Nothing parsed is left unwiped in freed memory: not
 * json-c's scratch buffer, nor what was built of a body that failed. */
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

/* Or'ed into any type above (OSH_FIELD_STRING | OSH_FIELD_SECRET): the
 * member is a secret, or an object or array holding secrets (a password,
 * a token, BMC credentials). osh_req_json wipes it on every path where it
 * frees the body itself, and osh_json_put_wiped wipes it when the handler
 * is done: each string it holds is overwritten in place, since json-c
 * frees strings unwiped. Read a field's type with osh_field_type(), not
 * f->type. (Not an enumerator, so that switches over the types need no
 * case for it.) */
enum {
	OSH_FIELD_SECRET = 0x100
};
_Static_assert(sizeof(enum osh_field_type) >= 2,
    "enum osh_field_type must hold OSH_FIELD_SECRET");

struct osh_field {
	const char *name;
	enum osh_field_type type; /* may carry OSH_FIELD_SECRET */
	bool required;
	bool nullable;
	int64_t min, max; /* INT: value range; STRING: length in characters;
			     ARRAY: item count (max 0 = no limit) */
	const char *const *values; /* ENUM: NULL-terminated list */
};

/* f's type without OSH_FIELD_SECRET. */
static inline enum osh_field_type
osh_field_type(const struct osh_field *f)
{
	return (enum osh_field_type)(
	    (unsigned)f->type & ~(unsigned)OSH_FIELD_SECRET);
}

static inline bool
osh_field_secret(const struct osh_field *f)
{
	return ((unsigned)f->type & (unsigned)OSH_FIELD_SECRET) != 0;
}

/* Checks that 'obj' is an object whose members are all described in
 * fields[0..n), of the right types and within bounds, with every required
 * field present. Strings must be valid UTF-8 without NUL. On failure sets
 * err (400 validation_failed, field named) and returns -1; obj is left
 * as it was (the caller puts it: osh_json_wipe_all first, since a
 * refused body may hold a password next to what was wrong). */
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

/* Overwrites in place every string obj holds, at any depth (member names
 * aside), so that putting it leaves no secret in freed memory. obj must
 * not be shared with anything that still reads it. NULL is fine. */
void osh_json_wipe_all(struct json_object *obj);
/* Wipes (as osh_json_wipe_all) the members of obj that fields[0..n) mark
 * OSH_FIELD_SECRET, whatever JSON type they turned out to be. */
void osh_json_wipe_fields(
    struct json_object *obj, const struct osh_field *fields, size_t n);
/* Wipes (as osh_json_wipe_all) every member named key at any depth of
 * obj, inside arrays too: for bodies whose secrets sit in nested records
 * (credentials of import rows, of a scan) next to values that other
 * objects still share. NULL is fine. */
void osh_json_wipe_named(struct json_object *obj, const char *key);
/* osh_json_wipe_fields, then json_object_put: how a handler lets go of a
 * body it had from osh_req_json with the same table. NULL is fine. */
void osh_json_put_wiped(
    struct json_object *obj, const struct osh_field *fields, size_t n);

/* Serializes compactly into a new string the caller frees. */
char *osh_json_dump(struct json_object *obj);

/* Copies the JSON text src (len bytes) to dst (room for len bytes) without
 * the blanks between tokens (space, tab, CR, LF outside strings), as
 * PostgreSQL's json functions put them after every ':' and ','. Strings,
 * escapes included, are copied as they are; text that is not JSON is
 * copied as well, never read or written past len. Returns the length
 * copied. */
size_t osh_json_compact(char *dst, const char *src, size_t len);

/* Adds a member holding epoch milliseconds as an RFC 3339 string, or null
 * when ms < 0. */
void osh_json_add_time(struct json_object *obj, const char *key, int64_t ms);

#endif
