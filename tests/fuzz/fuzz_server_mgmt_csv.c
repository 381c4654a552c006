/* libFuzzer target: server-mgmt's CSV bulk import parser (import_csv in
 * services/server-mgmt/import.c, the pure part of POST
 * /api/servers/import with Content-Type text/csv). The input is the
 * request body as is: no NUL terminator, any bytes. Besides the
 * sanitizers, it checks what callers rely on: an answer is either rows or
 * a 400 with a message; at most IMPORT_MAX_ROWS rows; every value is
 * valid UTF-8 text without NUL; passwords can be wiped. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osh/error.h>
#include <osh/util.h>

#include "server-mgmt/import.h"
#include "server-mgmt/sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_value(struct json_object *v, int depth)
{
	if (depth > 4)
		abort();
	switch (json_object_get_type(v)) {
	case json_type_string: {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (strlen(s) != n || !osh_utf8_valid(s, n) ||
		    n > IMPORT_MAX_FIELD)
			abort();
		break;
	}
	case json_type_object: {
		json_object_object_foreach(v, k, m)
		{
			if (!osh_utf8_valid(k, strlen(k)))
				abort();
			check_value(m, depth + 1);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			check_value(json_object_array_get_idx(v, i), depth + 1);
		break;
	default: break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osh_err err;
	struct json_object *rows;
	char *copy;

	/* The body is not NUL terminated: give the parser exactly its
	 * bytes, on the heap, so that reading past them is caught. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&err, 0, sizeof(err));
	rows = import_csv(copy, size, &err);
	if (rows == NULL) {
		if (err.status != 400 && err.status != 503)
			abort();
		if (err.message[0] == '\0')
			abort();
	} else {
		if (!json_object_is_type(rows, json_type_array) ||
		    json_object_array_length(rows) > IMPORT_MAX_ROWS)
			abort();
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			struct json_object *row =
			    json_object_array_get_idx(rows, i);
			if (!json_object_is_type(row, json_type_object))
				abort();
			check_value(row, 0);
		}
		json_wipe_passwords(rows);
		json_object_put(rows);
	}
	free(copy);
	return 0;
}
