/* import.c - CSV and JSON bulk import parsing. The CSV dialect is RFC
 * 4180: comma separated, fields quoted with "" when they hold commas,
 * quotes or line breaks, "" for a quote inside, CRLF or LF line ends. */
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/util.h>

#include "import.h"
#include "sm.h"

static const char *const columns[] = {"name", "bmc_address", "username",
    "password", "ipmi_version", "privilege", "cipher_suite", "workarounds",
    "labels", "description", "monitoring", "cluster"};

const char *
import_template(void)
{
	return "name,bmc_address,username,password,ipmi_version,privilege,"
	       "cipher_suite,workarounds,labels,description,monitoring,cluster\r\n"
	       "web-01,10.0.0.21:623,admin,changeme,2.0,admin,3,opensesspriv,"
	       "rack=r12;role=web,Front web server,true,prod\r\n";
}

/* How reading a record ended, when it did not give fields. */
enum {
	CSV_END = 0,
	CSV_BAD_QUOTE = -1,
	CSV_TOO_MANY_FIELDS = -2,
	CSV_FIELD_TOO_LONG = -3,
	CSV_NO_MEMORY = -4,
};

static const char *
csv_error(int rc)
{
	switch (rc) {
	case CSV_BAD_QUOTE:
		return "a quote is not closed, or text follows a closing "
		       "quote, or a quote sits inside an unquoted field";
	case CSV_TOO_MANY_FIELDS: return "too many fields";
	case CSV_FIELD_TOO_LONG: return "a field is too long";
	default: return "out of memory";
	}
}

static void
free_fields(char **f, int n)
{
	for (int i = 0; i < n; i++) {
		osh_wipe(f[i], strlen(f[i]));
		free(f[i]);
		f[i] = NULL;
	}
}

/* Reads one CSV record from s[*pos..len) into fields (at most max, each
 * at most fieldmax bytes). Returns the number of fields, CSV_END at the
 * end of the text, or another CSV_* below zero for a malformed record.
 * Fields are built in 'scratch' (fieldmax + 1 bytes, wiped before
 * returning) and copied out at their exact size, so no text of a field
 * (a password, say) is left behind in freed memory; on failure nothing
 * stays allocated. *pos advances past the record; *lines counts the line
 * ends it read. */
static int
csv_record(const char *s, size_t len, size_t *pos, size_t *lines, char **fields,
    int max, char *scratch, size_t fieldmax)
{
	size_t i = *pos;
	int n = 0, rc;

	if (i >= len)
		return CSV_END;
	for (;;) {
		size_t k = 0;
		bool quoted = false;

		if (s[i] == '"') {
			quoted = true;
			i++;
			for (;;) {
				if (i >= len) {
					rc = CSV_BAD_QUOTE;
					goto out_fail;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						i++; /* "" is one quote */
					} else {
						i++;
						break;
					}
				}
				if (k == fieldmax) {
					rc = CSV_FIELD_TOO_LONG;
					goto out_fail;
				}
				if (s[i] == '\n')
					(*lines)++;
				scratch[k++] = s[i++];
			}
		}
		while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
			if (quoted || s[i] == '"') {
				rc = CSV_BAD_QUOTE;
				goto out_fail;
			}
			if (k == fieldmax) {
				rc = CSV_FIELD_TOO_LONG;
				goto out_fail;
			}
			scratch[k++] = s[i++];
		}
		if (n == max) {
			rc = CSV_TOO_MANY_FIELDS;
			goto out_fail;
		}
		scratch[k] = '\0';
		if ((fields[n] = malloc(k + 1)) == NULL) {
			rc = CSV_NO_MEMORY;
			goto out_fail;
		}
		memcpy(fields[n++], scratch, k + 1);
		osh_wipe(scratch, k);
		if (i < len && s[i] == ',') {
			i++;
			if (i < len)
				continue;
			/* "a," at the very end: one more, empty field. */
			if (n == max) {
				rc = CSV_TOO_MANY_FIELDS;
				goto out_fail;
			}
			if ((fields[n] = calloc(1, 1)) == NULL) {
				rc = CSV_NO_MEMORY;
				goto out_fail;
			}
			n++;
			break;
		}
		if (i < len && s[i] == '\r')
			i++;
		if (i < len && s[i] == '\n')
			i++;
		(*lines)++;
		break;
	}
	*pos = i;
	return n;
out_fail:
	osh_wipe(scratch, fieldmax + 1);
	free_fields(fields, n);
	return rc;
}

/* Turns one CSV value into the JSON the API takes for that column. */
static void
add_value(struct json_object *row, const char *col, const char *v)
{
	if (v[0] == '\0')
		return; /* empty: not given */
	if (strcmp(col, "username") == 0 || strcmp(col, "password") == 0) {
		struct json_object *c;
		if (!json_object_object_get_ex(row, "credentials", &c)) {
			c = json_object_new_object();
			json_object_object_add(row, "credentials", c);
		}
		json_object_object_add(c, col, json_object_new_string(v));
	} else if (strcmp(col, "cipher_suite") == 0) {
		int64_t n;
		if (osh_parse_int(v, 0, 1000, &n))
			json_object_object_add(
			    row, col, json_object_new_int((int)n));
		else
			json_object_object_add(
			    row, col, json_object_new_string(v));
	} else if (strcmp(col, "monitoring") == 0) {
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
			json_object_object_add(
			    row, col, json_object_new_boolean(v[0] == 't'));
		else
			json_object_object_add(
			    row, col, json_object_new_string(v));
	} else if (strcmp(col, "workarounds") == 0) {
		struct json_object *a = json_object_new_array();
		char *copy = strdup(v), *tok, *save = NULL;
		for (tok = copy ? strtok_r(copy, ";, ", &save) : NULL; tok;
		     tok = strtok_r(NULL, ";, ", &save))
			json_object_array_add(a, json_object_new_string(tok));
		free(copy);
		json_object_object_add(row, col, a);
	} else if (strcmp(col, "labels") == 0) {
		struct json_object *o = json_object_new_object();
		char *copy = strdup(v), *tok, *save = NULL;
		for (tok = copy ? strtok_r(copy, ";", &save) : NULL; tok;
		     tok = strtok_r(NULL, ";", &save)) {
			char *eq = strchr(tok, '=');
			if (eq == NULL) {
				/* Leave it to the row's check to refuse. */
				json_object_object_add(o, tok, NULL);
				continue;
			}
			*eq = '\0';
			json_object_object_add(
			    o, tok, json_object_new_string(eq + 1));
		}
		free(copy);
		json_object_object_add(row, col, o);
	} else {
		json_object_object_add(row, col, json_object_new_string(v));
	}
}

/* Drops rows built so far: their passwords are wiped first. */
static void
rows_drop(struct json_object *rows)
{
	osh_json_wipe_named(rows, "password");
	json_object_put(rows);
}

struct json_object *
import_csv(const char *text, size_t len, struct osh_err *err)
{
	char *head[IMPORT_MAX_COLUMNS], *f[IMPORT_MAX_COLUMNS], *scratch;
	int map[IMPORT_MAX_COLUMNS], nh, n;
	size_t pos = 0, lines = 0, first;
	struct json_object *rows = NULL;

	if (text == NULL || len == 0) {
		osh_err_set(
		    err, 400, "validation_failed", NULL, "the CSV is empty");
		return NULL;
	}
	if (!osh_utf8_valid(text, len) || memchr(text, '\0', len) != NULL) {
		osh_err_set(err, 400, "validation_failed", NULL,
		    "the CSV must be UTF-8 text");
		return NULL;
	}
	if ((scratch = malloc(IMPORT_MAX_FIELD + 1)) == NULL) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		return NULL;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* byte order mark */
	nh = csv_record(text, len, &pos, &lines, head, IMPORT_MAX_COLUMNS,
	    scratch, IMPORT_MAX_HEADER);
	if (nh <= 0 || (nh == 1 && head[0][0] == '\0')) {
		osh_err_set(err, 400, "validation_failed", NULL,
		    "the CSV needs a header row (%s)",
		    nh == CSV_END ? "it is empty"
			: nh > 0  ? "the first line is empty"
				  : csv_error(nh));
		if (nh > 0)
			goto out_free_head;
		goto out_free_scratch;
	}
	for (int i = 0; i < nh; i++) {
		map[i] = -1;
		for (size_t k = 0; k < OSH_ARRAY_LEN(columns); k++)
			if (strcmp(head[i], columns[k]) == 0)
				map[i] = (int)k;
		if (map[i] < 0) {
			osh_err_set(err, 400, "validation_failed", head[i],
			    "unknown column \"%s\"", head[i]);
			goto out_free_head;
		}
		for (int k = 0; k < i; k++) {
			if (map[k] == map[i]) {
				osh_err_set(err, 400, "validation_failed",
				    head[i], "column \"%s\" appears twice",
				    head[i]);
				goto out_free_head;
			}
		}
	}
	rows = json_object_new_array();
	for (;;) {
		struct json_object *row;

		first = lines + 1;
		n = csv_record(text, len, &pos, &lines, f, IMPORT_MAX_COLUMNS,
		    scratch, IMPORT_MAX_FIELD);
		if (n == CSV_END)
			break;
		if (n < 0) {
			osh_err_set(err, 400, "validation_failed", NULL,
			    "the record on line %zu is not valid CSV: %s",
			    first, csv_error(n));
			goto out_drop_rows;
		}
		if (n == 1 && f[0][0] == '\0') { /* blank line */
			free_fields(f, n);
			continue;
		}
		if (json_object_array_length(rows) >= IMPORT_MAX_ROWS) {
			free_fields(f, n);
			osh_err_set(err, 400, "validation_failed", NULL,
			    "at most %d rows at once", IMPORT_MAX_ROWS);
			goto out_drop_rows;
		}
		row = json_object_new_object();
		for (int i = 0; i < n && i < nh; i++)
			add_value(row, columns[map[i]], f[i]);
		if (n > nh)
			json_object_object_add(
			    row, "extra_columns", json_object_new_int(n - nh));
		json_object_array_add(rows, row);
		free_fields(f, n);
	}
	free_fields(head, nh);
	free(scratch);
	return rows;
out_drop_rows:
	rows_drop(rows);
out_free_head:
	free_fields(head, nh);
out_free_scratch:
	free(scratch);
	return NULL;
}

struct json_object *
import_json(const char *text, size_t len, struct osh_err *err)
{
	struct json_object *o =
	    osh_json_parse(text, len, OSH_JSON_MAX_DEPTH, err);

	if (o == NULL)
		return NULL;
	if (json_object_is_type(o, json_type_object)) {
		struct json_object *items;
		if (json_object_object_get_ex(o, "servers", &items) &&
		    json_object_is_type(items, json_type_array)) {
			json_object_get(items);
			json_object_put(o);
			o = items;
		}
	}
	if (!json_object_is_type(o, json_type_array)) {
		rows_drop(o);
		osh_err_set(err, 400, "validation_failed", "servers",
		    "the body must be an array of servers (or {\"servers\": "
		    "[...]})");
		return NULL;
	}
	if (json_object_array_length(o) > IMPORT_MAX_ROWS) {
		rows_drop(o);
		osh_err_set(err, 400, "validation_failed", "servers",
		    "at most %d servers at once", IMPORT_MAX_ROWS);
		return NULL;
	}
	return o;
}
