/* bodies.h - the request bodies the auth service reads: the field table
 * of each (osh/json.h) and the rules beyond what a table can say (user
 * names, e-mail addresses, the password policy), and how a user's fields
 * are read out of a body. Pure, no I/O: the handlers, the unit tests and
 * the fuzz target (tests/fuzz/fuzz_auth_bodies.c) run the same code. */
#ifndef AUTH_BODIES_H
#define AUTH_BODIES_H

#include <stddef.h>

#include <osh/error.h>
#include <osh/json.h>

struct user_fields;

enum auth_body {
	AUTH_BODY_LOGIN, /* POST /api/auth/login */
	AUTH_BODY_PASSWORD, /* POST /api/auth/password */
	AUTH_BODY_PROFILE, /* PATCH /api/auth/profile */
	AUTH_BODY_USER_CREATE, /* POST /api/users */
	AUTH_BODY_USER_PATCH, /* PATCH /api/users/{id} */
	AUTH_BODY_REFRESH, /* POST /api/auth/refresh */
	AUTH_BODY_LOGOUT, /* POST /api/auth/logout */
	AUTH_BODY_SERVICE_TOKEN, /* POST /internal/auth/service-token */
};
#define AUTH_NBODIES ((size_t)AUTH_BODY_SERVICE_TOKEN + 1)

struct auth_body_def {
	const char *name;
	const struct osh_field *fields;
	size_t n;
};

/* The field table of each body, indexed by enum auth_body. */
extern const struct auth_body_def auth_bodies[AUTH_NBODIES];

/* The roles an admin may give a user. */
extern const char *const auth_role_values[];

/* Checks what the field table of kind cannot: a body that passed it
 * (osh_json_check) is checked for the rules of its kind. Returns 0, or
 * -1 with err set (400 validation_failed naming the field). o is only
 * read. */
int auth_body_check(
    enum auth_body kind, struct json_object *o, struct osh_err *err);

/* Reads the fields of a user that a create or patch body sets: username
 * when present, display_name, email, role (role_default when absent) and
 * active ("true", "false", or NULL when absent). The strings point into
 * body; username_key and password_hash are left as they are. */
void auth_user_fields(
    struct json_object *body, const char *role_default, struct user_fields *f);

#endif
