/* libFuzzer target: server-mgmt's CSV bulk import parser (import_csv in
 * services/server-mgmt/import.c, the pure part of POST
 * /api/servers/import with Content-Type text/csv). The input is the
 * request body as is: no NUL terminator, any bytes. Besides the
 * sanitizers, it checks what callers rely on: an answer is either rows or
 * a 400 with a message; at most IMPORT_MAX_ROWS rows; every value is
 * valid UTF-8 text without NUL; passwords can be wiped. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/error.h>
#include <osh/json.h>
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

/* The text columns, written back as CSV, all fields quoted. */
static const char *const text_columns[] = {"name", "bmc_address", "description",
    "cluster", "ipmi_version", "privilege", "username", "password"};

static const char *
value_of(struct json_object *row, size_t col)
{
	struct json_object *o = row, *v;

	if (col >= 6 && !json_object_object_get_ex(row, "credentials", &o))
		return NULL;
	if (!json_object_object_get_ex(o, text_columns[col], &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
put_field(struct osh_buf *b, const char *v)
{
	osh_buf_append(b, "\"", 1);
	for (; v != NULL && *v; v++) {
		if (*v == '"')
			osh_buf_append(b, "\"\"", 2);
		else
			osh_buf_append(b, v, 1);
	}
	osh_buf_append(b, "\"", 1);
}

/* Round trip: the text values of rows, written as CSV and read again,
 * are the same values. */
static void
round_trip(struct json_object *rows)
{
	struct osh_buf b;
	struct osh_err err;
	struct json_object *again;
	size_t n = json_object_array_length(rows);

	osh_buf_init(&b, 64u << 20);
	for (size_t c = 0; c < OSH_ARRAY_LEN(text_columns); c++)
		osh_buf_printf(&b, "%s%s", c ? "," : "", text_columns[c]);
	osh_buf_append(&b, "\r\n", 2);
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		for (size_t c = 0; c < OSH_ARRAY_LEN(text_columns); c++) {
			if (c)
				osh_buf_append(&b, ",", 1);
			put_field(&b, value_of(row, c));
		}
		osh_buf_append(&b, "\r\n", 2);
	}
	if (b.overflow)
		abort();
	again = import_csv(b.data ? b.data : "", b.len, &err);
	if (again == NULL || json_object_array_length(again) != n) {
		fprintf(stderr, "round trip: %s\n",
		    again ? "row count differs" : err.message);
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(rows, i);
		struct json_object *y = json_object_array_get_idx(again, i);
		for (size_t c = 0; c < OSH_ARRAY_LEN(text_columns); c++) {
			const char *u = value_of(x, c), *v = value_of(y, c);
			if ((u == NULL) != (v == NULL) ||
			    (u != NULL && strcmp(u, v) != 0)) {
				fprintf(stderr, "round trip: row %zu %s\n", i,
				    text_columns[c]);
				abort();
			}
		}
	}
	osh_json_wipe_named(again, "password");
	json_object_put(again);
	osh_buf_release(&b);
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
		round_trip(rows);
		osh_json_wipe_named(rows, "password");
		json_object_put(rows);
	}
	free(copy);
	return 0;
}
