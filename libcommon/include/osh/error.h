/* error.h - the API error model: a status, a stable code, the offending
 * field and a message, rendered as {"error": {...}}. */
#ifndef OSH_ERROR_H
#define OSH_ERROR_H

#include <stdarg.h>
#include <stddef.h>

struct json_object;

#define OSH_ERR_MSG_MAX 256
#define OSH_ERR_FIELD_MAX 96

struct osh_err {
	int status; /* HTTP status, 0 when no error */
	const char *code; /* static string: "validation_failed", ... */
	char field[OSH_ERR_FIELD_MAX];
	char message[OSH_ERR_MSG_MAX];
};

/* Fills err; field may be NULL. Returns -1 so callers can
 * "return osh_err_set(...)". */
int osh_err_set(struct osh_err *err, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The default code for a status ("not_found" for 404, ...). */
const char *osh_err_code_for(int status);

/* Builds {"error": {"code", "message", "field"?, "request_id"}}. The caller
 * owns the returned object (json_object_put). */
struct json_object *osh_err_json(
    const struct osh_err *err, const char *request_id);

#endif
