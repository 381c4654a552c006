/* error.c - the API error body. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "osh/error.h"
#include "osh/util.h"

int
osh_err_set(struct osh_err *err, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->status = status;
	err->code = code != NULL ? code : osh_err_code_for(status);
	osh_utf8_copy(
	    err->field, field != NULL ? field : "", sizeof(err->field));
	va_start(ap, fmt);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* A message cut short must not end inside a character. */
	if (n >= (int)sizeof(err->message))
		err->message[osh_utf8_complete(
		    err->message, strlen(err->message))] = '\0';
	return -1;
}

const char *
osh_err_code_for(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 422: return "unprocessable";
	case 429: return "too_many_requests";
	case 503: return "unavailable";
	case 504: return "timeout";
	default: return status >= 500 ? "internal" : "error";
	}
}

struct json_object *
osh_err_json(const struct osh_err *err, const char *request_id)
{
	struct json_object *root = json_object_new_object();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code",
	    json_object_new_string(
		err->code != NULL ? err->code : osh_err_code_for(err->status)));
	json_object_object_add(
	    e, "message", json_object_new_string(err->message));
	if (err->field[0] != '\0')
		json_object_object_add(
		    e, "field", json_object_new_string(err->field));
	if (request_id != NULL)
		json_object_object_add(
		    e, "request_id", json_object_new_string(request_id));
	json_object_object_add(root, "error", e);
	return root;
}
