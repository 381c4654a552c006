/* Unit tests: the auth service's request bodies (services/auth/bodies.c),
 * read the way the handlers read them: parsed, checked against the field
 * table, then against the rules of their kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "auth/bodies.h"
#include "auth/store.h"
#include "osh/json.h"
#include "osh/util.h"

/* Reads text as a body of kind; NULL with err set when refused. */
static struct json_object *
read_body(enum auth_body kind, const char *text, struct osh_err *err)
{
	const struct auth_body_def *d = &auth_bodies[kind];
	struct json_object *o;

	memset(err, 0, sizeof(*err));
	o = osh_json_parse(text, strlen(text), OSH_JSON_MAX_DEPTH, err);
	if (o == NULL)
		return NULL;
	if (osh_json_check(o, d->fields, d->n, err) != 0 ||
	    auth_body_check(kind, o, err) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void
bodies(void **state)
{
	static const struct {
		enum auth_body kind;
		const char *text;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    /* Edges first. */
	    {AUTH_BODY_LOGIN, "{}", "username"},
	    {AUTH_BODY_LOGIN, "[]", ""},
	    {AUTH_BODY_LOGIN, "{\"username\":\"a\",\"password\":\"\"}",
		"password"},
	    {AUTH_BODY_LOGIN, "{\"username\":\"a\",\"password\":\"p\",\"x\":1}",
		"x"},
	    /* Any name may be tried at login: it names nobody when invalid. */
	    {AUTH_BODY_LOGIN,
		"{\"username\":\"\\u212aevin\",\"password\":\"p\"}", NULL},
	    {AUTH_BODY_LOGIN, "{\"username\":\"Ada\",\"password\":\"p\"}",
		NULL},
	    {AUTH_BODY_PASSWORD,
		"{\"current_password\":\"same-password\","
		"\"new_password\":\"same-password\"}",
		"new_password"},
	    {AUTH_BODY_PASSWORD,
		"{\"current_password\":\"old-password\","
		"\"new_password\":\"new-password\"}",
		NULL},
	    {AUTH_BODY_PROFILE, "{\"email\":\"nobody\"}", "email"},
	    {AUTH_BODY_PROFILE, "{\"email\":\"a b@c\"}", "email"},
	    {AUTH_BODY_PROFILE, "{\"email\":\"\"}", NULL},
	    {AUTH_BODY_PROFILE, "{\"email\":\"a@b\",\"display_name\":\"A\"}",
		NULL},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"ada\",\"password\":\"long enough pw\"}",
		"role"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"\\u212aevin\",\"password\":\"long enough "
		"pw\",\"role\":\"viewer\"}",
		"username"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"ada lovelace\",\"password\":\"long enough "
		"pw\",\"role\":\"viewer\"}",
		"username"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"ada\",\"password\":\"short\",\"role\":"
		"\"viewer\"}",
		"password"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"AdaLovelace1\",\"password\":\"adalovelace1\","
		"\"role\":\"viewer\"}",
		"password"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"ada\",\"password\":\"long enough pw\","
		"\"role\":\"service\"}",
		"role"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"ada\",\"password\":\"long enough pw\","
		"\"role\":\"viewer\",\"email\":\"x\"}",
		"email"},
	    {AUTH_BODY_USER_CREATE,
		"{\"username\":\"Ada\",\"password\":\"long enough pw\","
		"\"role\":\"viewer\",\"email\":\"ada@example.org\","
		"\"active\":false}",
		NULL},
	    {AUTH_BODY_USER_PATCH, "{\"username\":\"ada\"}", "username"},
	    {AUTH_BODY_USER_PATCH, "{\"password\":\"short\"}", "password"},
	    {AUTH_BODY_USER_PATCH, "{\"email\":\"x\"}", "email"},
	    {AUTH_BODY_USER_PATCH, "{}", NULL},
	    {AUTH_BODY_USER_PATCH, "{\"role\":\"admin\",\"active\":true}",
		NULL},
	    {AUTH_BODY_REFRESH, "{}", "refresh_token"},
	    {AUTH_BODY_REFRESH, "{\"refresh_token\":\"t\"}", NULL},
	    {AUTH_BODY_LOGOUT, "{}", NULL},
	    {AUTH_BODY_SERVICE_TOKEN, "{\"service\":\"x\"}", "secret"},
	    {AUTH_BODY_SERVICE_TOKEN, "{\"service\":\"x\",\"secret\":\"s\"}",
		NULL},
	};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o =
		    read_body(cases[i].kind, cases[i].text, &err);

		if (cases[i].field == NULL) {
			if (o == NULL)
				fail_msg("%s %s refused: %s",
				    auth_bodies[cases[i].kind].name,
				    cases[i].text, err.message);
			json_object_put(o);
			continue;
		}
		if (o != NULL)
			fail_msg("%s %s accepted",
			    auth_bodies[cases[i].kind].name, cases[i].text);
		assert_int_equal(err.status, 400);
		if (strcmp(err.field, cases[i].field) != 0)
			fail_msg("%s %s: field \"%s\", not \"%s\"",
			    auth_bodies[cases[i].kind].name, cases[i].text,
			    err.field, cases[i].field);
	}
}

/* Every body has a table, named. */
static void
tables(void **state)
{
	(void)state;
	for (size_t i = 0; i < AUTH_NBODIES; i++) {
		assert_non_null(auth_bodies[i].name);
		assert_non_null(auth_bodies[i].fields);
		assert_true(auth_bodies[i].n > 0);
	}
}

static void
user_fields(void **state)
{
	struct user_fields f;
	struct osh_err err;
	struct json_object *o;

	(void)state;
	o = read_body(AUTH_BODY_USER_CREATE,
	    "{\"username\":\"Ada\",\"password\":\"long enough pw\","
	    "\"role\":\"operator\",\"active\":false}",
	    &err);
	assert_non_null(o);
	memset(&f, 0, sizeof(f));
	auth_user_fields(o, "viewer", &f);
	assert_string_equal(f.username, "Ada");
	assert_string_equal(f.role, "operator");
	assert_string_equal(f.active, "false");
	assert_null(f.display_name);
	assert_null(f.email);
	assert_null(f.username_key);
	json_object_put(o);

	o = read_body(AUTH_BODY_USER_PATCH, "{\"email\":\"a@b\"}", &err);
	assert_non_null(o);
	auth_user_fields(o, NULL, &f);
	assert_null(f.username);
	assert_null(f.role);
	assert_null(f.active);
	assert_string_equal(f.email, "a@b");
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tables),
	    cmocka_unit_test(bodies),
	    cmocka_unit_test(user_fields),
	};
	return cmocka_run_group_tests_name("auth_bodies", tests, NULL, NULL);
}
