/* import.c - CSV and JSON bulk import parsing. The CSV dialect is RFC
 * 4180: comma separated, fields quoted with "" when they hold commas,
 * quotes or line breaks, "" for a quote inside, CRLF or LF line ends. */
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/util.h>

#include "import.h"

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

/* Reads one CSV record into fields; returns the number of fields, 0 at
 * the end, -1 on a malformed record. *pos advances. */
static int
csv_record(const char *s, size_t len, size_t *pos, char **fields, int max,
    size_t fieldmax)
{
	size_t i = *pos;
	int n = 0;

	if (i >= len)
		return 0;
	for (;;) {
		struct osh_buf b;
		bool quoted = false;

		osh_buf_init(&b, fieldmax);
		if (i < len && s[i] == '"') {
			quoted = true;
			i++;
			for (;;) {
				if (i >= len) {
					osh_buf_release(&b);
					return -1; /* unterminated quote */
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						osh_buf_append(&b, "\"", 1);
						i += 2;
						continue;
					}
					i++;
					break;
				}
				osh_buf_append(&b, s + i, 1);
				i++;
			}
		}
		while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
			if (quoted || s[i] == '"') {
				osh_buf_release(&b);
				return -1;
			}
			osh_buf_append(&b, s + i, 1);
			i++;
		}
		if (b.overflow || n == max) {
			osh_buf_release(&b);
			return -1;
		}
		fields[n++] = osh_buf_steal(&b);
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == '\r')
			i++;
		if (i < len && s[i] == '\n')
			i++;
		break;
	}
	*pos = i;
	return n;
}

static void
free_fields(char **f, int n)
{
	for (int i = 0; i < n; i++) {
		osh_wipe(f[i], strlen(f[i]));
		free(f[i]);
	}
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
		for (tok = strtok_r(copy, ";, ", &save); tok;
		     tok = strtok_r(NULL, ";, ", &save))
			json_object_array_add(a, json_object_new_string(tok));
		free(copy);
		json_object_object_add(row, col, a);
	} else if (strcmp(col, "labels") == 0) {
		struct json_object *o = json_object_new_object();
		char *copy = strdup(v), *tok, *save = NULL;
		for (tok = strtok_r(copy, ";", &save); tok;
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

struct json_object *
import_csv(const char *text, size_t len, struct osh_err *err)
{
	char *head[32], *f[32];
	int map[32], nh, n;
	size_t pos = 0;
	struct json_object *rows;

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
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* byte order mark */
	if ((nh = csv_record(text, len, &pos, head, 32, 64)) <= 0) {
		osh_err_set(err, 400, "validation_failed", NULL,
		    "the CSV needs a header row");
		return NULL;
	}
	for (int i = 0; i < nh; i++) {
		map[i] = -1;
		for (size_t k = 0; k < OSH_ARRAY_LEN(columns); k++)
			if (strcmp(head[i], columns[k]) == 0)
				map[i] = (int)k;
		if (map[i] < 0) {
			osh_err_set(err, 400, "validation_failed", head[i],
			    "unknown column \"%s\"", head[i]);
			free_fields(head, nh);
			return NULL;
		}
	}
	rows = json_object_new_array();
	while ((n = csv_record(text, len, &pos, f, 32, 2048)) != 0) {
		struct json_object *row;

		if (n < 0 ||
		    json_object_array_length(rows) >= IMPORT_MAX_ROWS) {
			osh_err_set(err, 400, "validation_failed", NULL,
			    n < 0 ? "row %zu is not valid CSV"
				  : "at most %zu rows at once",
			    n < 0 ? json_object_array_length(rows) + 2
				  : (size_t)IMPORT_MAX_ROWS);
			json_object_put(rows);
			free_fields(head, nh);
			return NULL;
		}
		if (n == 1 && f[0][0] == '\0') { /* blank line */
			free_fields(f, n);
			continue;
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
	return rows;
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
		json_object_put(o);
		osh_err_set(err, 400, "validation_failed", "servers",
		    "the body must be an array of servers (or {\"servers\": "
		    "[...]})");
		return NULL;
	}
	if (json_object_array_length(o) > IMPORT_MAX_ROWS) {
		json_object_put(o);
		osh_err_set(err, 400, "validation_failed", "servers",
		    "at most %d servers at once", IMPORT_MAX_ROWS);
		return NULL;
	}
	return o;
}
