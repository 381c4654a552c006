/* Unit tests: server-mgmt's CSV and JSON import parsing (import.c), the
 * pure part of bulk import. Malformed records must leave nothing
 * allocated (run under `make SAN=1`: LeakSanitizer checks at exit) and
 * rows holding passwords can be wiped before they are freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/json.h"
#include "osh/util.h"
#include "server-mgmt/import.h"
#include "server-mgmt/sm.h"

#define HEAD "name,bmc_address,username,password\r\n"

static struct json_object *
csv(const char *text, struct osh_err *err)
{
	memset(err, 0, sizeof(*err));
	return import_csv(text, strlen(text), err);
}

static const char *
row_str(struct json_object *rows, size_t i, const char *key)
{
	struct json_object *row = json_object_array_get_idx(rows, i);

	return json_object_get_string(json_object_object_get(row, key));
}

static const char *
row_cred(struct json_object *rows, size_t i, const char *key)
{
	struct json_object *row = json_object_array_get_idx(rows, i), *c;

	if (!json_object_object_get_ex(row, "credentials", &c))
		return NULL;
	return json_object_get_string(json_object_object_get(c, key));
}

static void
good_records(void **state)
{
	static const struct {
		const char *text;
		size_t rows;
		const char *name, *addr, *user, *pass; /* of the last row */
	} cases[] = {
	    {HEAD "a,10.0.0.1,admin,pw\r\n", 1, "a", "10.0.0.1", "admin", "pw"},
	    /* LF only, no final line end */
	    {"name,bmc_address\nb,10.0.0.2", 1, "b", "10.0.0.2", NULL, NULL},
	    /* byte order mark */
	    {"\xef\xbb\xbf" HEAD "c,10.0.0.3,u,p\n", 1, "c", "10.0.0.3", "u",
		"p"},
	    /* quoted fields, embedded quotes, commas and line breaks */
	    {HEAD "\"d, \"\"x\"\"\",10.0.0.4,\"u\",\"p,\"\"\r\n\"\r\n", 1,
		"d, \"x\"", "10.0.0.4", "u", "p,\"\r\n"},
	    /* blank lines are skipped; empty values are not given */
	    {HEAD "\r\n\r\ne,10.0.0.5,,\r\n\n", 1, "e", "10.0.0.5", NULL, NULL},
	    /* a trailing comma is one more, empty field */
	    {HEAD "f,10.0.0.6,u,", 1, "f", "10.0.0.6", "u", NULL},
	    /* a lone CR ends a record too */
	    {HEAD "g,10.0.0.7,u,p\rh,10.0.0.8,u2,p2", 2, "h", "10.0.0.8", "u2",
		"p2"},
	    /* an empty quoted password is given, and empty */
	    {HEAD "i,10.0.0.9,u,\"\"\r\n", 1, "i", "10.0.0.9", "u", NULL},
	};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *rows = csv(cases[i].text, &err);
		size_t last;
		const char *v;

		assert_non_null(rows);
		assert_int_equal(json_object_array_length(rows), cases[i].rows);
		last = cases[i].rows - 1;
		assert_string_equal(row_str(rows, last, "name"), cases[i].name);
		assert_string_equal(
		    row_str(rows, last, "bmc_address"), cases[i].addr);
		v = row_cred(rows, last, "username");
		if (cases[i].user == NULL)
			assert_null(v);
		else
			assert_string_equal(v, cases[i].user);
		v = row_cred(rows, last, "password");
		if (cases[i].pass == NULL)
			assert_null(v);
		else
			assert_string_equal(v, cases[i].pass);
		osh_json_wipe_named(rows, "password");
		json_object_put(rows);
	}
}

static void
typed_columns(void **state)
{
	struct osh_err err;
	struct json_object *rows, *row, *v;

	(void)state;
	rows = csv("name,bmc_address,cipher_suite,monitoring,workarounds,"
		   "labels\r\n"
		   "a,10.0.0.1,3,false,opensesspriv;intel20,rack=r1;role=db\r\n"
		   "b,10.0.0.2,x,perhaps,,novalue\r\n"
		   "c,10.0.0.3,,,,,extra\r\n",
	    &err);
	assert_non_null(rows);
	row = json_object_array_get_idx(rows, 0);
	assert_int_equal(
	    json_object_get_int(json_object_object_get(row, "cipher_suite")),
	    3);
	v = json_object_object_get(row, "monitoring");
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_false(json_object_get_boolean(v));
	v = json_object_object_get(row, "workarounds");
	assert_int_equal(json_object_array_length(v), 2);
	v = json_object_object_get(row, "labels");
	assert_string_equal(
	    json_object_get_string(json_object_object_get(v, "role")), "db");
	/* Bad values are kept for the row's own check to refuse. */
	row = json_object_array_get_idx(rows, 1);
	assert_true(json_object_is_type(
	    json_object_object_get(row, "cipher_suite"), json_type_string));
	assert_true(json_object_is_type(
	    json_object_object_get(row, "monitoring"), json_type_string));
	row = json_object_array_get_idx(rows, 2);
	assert_int_equal(
	    json_object_get_int(json_object_object_get(row, "extra_columns")),
	    1);
	json_object_put(rows);
}

/* A long enough value to fill fields up to their limit. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
malformed_records(void **state)
{
	static const struct {
		const char *text;
		const char *field; /* "" when none */
		const char *message_part;
	} cases[] = {
	    {"", "", "empty"},
	    {"\r\n", "", "header"},
	    {"nom,adresse\r\n", "nom", "unknown column"},
	    {"name,name\r\n", "name", "twice"},
	    {"name,\"bmc_address\r\n", "", "header"},
	    /* The password field is read, then the record turns bad: the
	     * fields read so far must be freed (and wiped). */
	    {HEAD "a,10.0.0.1,admin,s3cret,\"open\r\n", "", "line 2"},
	    {HEAD "a,10.0.0.1,admin,\"s3cret\"x\r\n", "", "closing quote"},
	    {HEAD "a,10.0.0.1,ad\"min,s3cret\r\n", "", "not valid CSV"},
	    {HEAD "a,10.0.0.1,admin,\"s3cret", "", "not closed"},
	    {HEAD "ok,10.0.0.1,u,p\r\n\"two\r\nlines\",10.0.0.2,u,\"p\r\n", "",
		"line 3"},
	    {HEAD "a,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,"
		  "22,23,24,25,26,27,28,29,30,31,32,33\r\n",
		"", "too many fields"},
	    {"name,bmc\0address\r\n", "", "UTF-8"},
	    {"name,bmc_address\r\n\xff\xfe,x\r\n", "", "UTF-8"},
	};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		size_t len = strlen(cases[i].text);
		if (i == 11)
			len = sizeof("name,bmc\0address\r\n") - 1;
		memset(&err, 0, sizeof(err));
		assert_null(import_csv(cases[i].text, len, &err));
		assert_int_equal(err.status, 400);
		assert_string_equal(err.field, cases[i].field);
		if (strstr(err.message, cases[i].message_part) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
			    err.message, cases[i].message_part);
	}
}

static void
limits(void **state)
{
	struct osh_err err;
	struct osh_buf b;
	char *big;

	(void)state;
	/* A value of exactly the limit is fine; one more byte is not. */
	big = repeat('p', IMPORT_MAX_FIELD);
	osh_buf_init(&b, 1 << 20);
	osh_buf_printf(&b, HEAD "a,10.0.0.1,u,%s\r\n", big);
	struct json_object *rows = import_csv(b.data, b.len, &err);
	assert_non_null(rows);
	assert_int_equal(
	    strlen(row_cred(rows, 0, "password")), IMPORT_MAX_FIELD);
	osh_json_wipe_named(rows, "password");
	json_object_put(rows);
	osh_buf_release(&b);
	osh_buf_init(&b, 1 << 20);
	osh_buf_printf(&b, HEAD "a,10.0.0.1,u,\"%sp\"\r\n", big);
	assert_null(import_csv(b.data, b.len, &err));
	assert_non_null(strstr(err.message, "too long"));
	osh_buf_release(&b);
	free(big);
	/* A header field longer than any column name. */
	big = repeat('n', IMPORT_MAX_HEADER + 1);
	osh_buf_init(&b, 1 << 20);
	osh_buf_printf(&b, "name,%s\r\n", big);
	assert_null(import_csv(b.data, b.len, &err));
	assert_non_null(strstr(err.message, "header"));
	osh_buf_release(&b);
	free(big);
	/* Rows past the limit: what was built is dropped. */
	osh_buf_init(&b, 1 << 22);
	osh_buf_puts(&b, HEAD);
	for (int i = 0; i <= IMPORT_MAX_ROWS; i++)
		osh_buf_printf(
		    &b, "s%d,10.0.%d.%d,u,pw%d\r\n", i, i / 250, i % 250, i);
	assert_null(import_csv(b.data, b.len, &err));
	assert_non_null(strstr(err.message, "at most"));
	osh_buf_release(&b);
}

static void
passwords_wiped_in_place(void **state)
{
	struct osh_err err;
	struct json_object *rows;
	const char *p, *q;
	size_t plen, qlen;

	(void)state;
	rows =
	    csv(HEAD "a,10.0.0.1,u,s3cret-one\r\nb,10.0.0.2,u,two\r\n", &err);
	assert_non_null(rows);
	p = row_cred(rows, 0, "password");
	q = row_cred(rows, 1, "password");
	plen = strlen(p);
	qlen = strlen(q);
	osh_json_wipe_named(rows, "password");
	for (size_t i = 0; i < plen; i++)
		assert_int_equal(p[i], 0);
	for (size_t i = 0; i < qlen; i++)
		assert_int_equal(q[i], 0);
	/* Other values stay. */
	assert_string_equal(row_cred(rows, 0, "username"), "u");
	json_object_put(rows);
}

static void
json_import(void **state)
{
	static const struct {
		const char *text;
		int status;
		size_t rows;
	} cases[] = {
	    {"[{\"name\": \"a\"}, {\"name\": \"b\"}]", 0, 2},
	    {"{\"servers\": [{\"name\": \"a\", \"credentials\": "
	     "{\"username\": \"u\", \"password\": \"p\"}}]}",
		0, 1},
	    {"{\"name\": \"not a list\", \"credentials\": {\"password\": "
	     "\"p\"}}",
		400, 0},
	    {"[{\"name\": ", 400, 0},
	    {"", 400, 0},
	};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *rows;

		memset(&err, 0, sizeof(err));
		rows = import_json(cases[i].text, strlen(cases[i].text), &err);
		if (cases[i].status != 0) {
			assert_null(rows);
			assert_int_equal(err.status, cases[i].status);
			continue;
		}
		assert_non_null(rows);
		assert_int_equal(json_object_array_length(rows), cases[i].rows);
		osh_json_wipe_named(rows, "password");
		json_object_put(rows);
	}
}

static void
template_parses(void **state)
{
	struct osh_err err;
	struct json_object *rows = csv(import_template(), &err);

	(void)state;
	assert_non_null(rows);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_string_equal(row_str(rows, 0, "name"), "web-01");
	osh_json_wipe_named(rows, "password");
	json_object_put(rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_records),
	    cmocka_unit_test(typed_columns),
	    cmocka_unit_test(malformed_records),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(passwords_wiped_in_place),
	    cmocka_unit_test(json_import),
	    cmocka_unit_test(template_parses),
	};
	return cmocka_run_group_tests_name(
	    "server_mgmt_import", tests, NULL, NULL);
}
