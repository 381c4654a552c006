/* bodies.c - the auth service's request bodies (see bodies.h). */
#include <stdbool.h>
#include <string.h>

#include <osh/util.h>

#include "auth.h"
#include "bodies.h"
#include "store.h"

const char *const auth_role_values[] = {"admin", "operator", "viewer", NULL};

/* Where a login's refresh token goes: the JSON answer (API clients) or an
 * HttpOnly cookie (browsers; see sessions.c). */
static const char *const session_values[] = {"json", "cookie", NULL};

static const struct osh_field login_fields[] = {
    {"username", OSH_FIELD_STRING, true, false, 1, 256, NULL},
    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 1024,
	NULL},
    {"session", OSH_FIELD_ENUM, false, false, 0, 0, session_values},
};

static const struct osh_field password_fields[] = {
    {"current_password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1,
	1024, NULL},
    {"new_password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 1024,
	NULL},
};

static const struct osh_field profile_fields[] = {
    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
};

static const struct osh_field user_create_fields[] = {
    {"username", OSH_FIELD_STRING, true, false, 1, AUTH_USERNAME_MAX, NULL},
    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 1024,
	NULL},
    {"role", OSH_FIELD_ENUM, true, false, 0, 0, auth_role_values},
    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
    {"active", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct osh_field user_patch_fields[] = {
    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, false, false, 1, 1024,
	NULL},
    {"role", OSH_FIELD_ENUM, false, false, 0, 0, auth_role_values},
    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
    {"active", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct osh_field refresh_fields[] = {
    {"refresh_token", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 256,
	NULL},
};

static const struct osh_field logout_fields[] = {
    {"refresh_token", OSH_FIELD_STRING | OSH_FIELD_SECRET, false, false, 0, 256,
	NULL},
    {"everywhere", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct osh_field service_token_fields[] = {
    {"service", OSH_FIELD_STRING, true, false, 1, 32, NULL},
    {"secret", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 512, NULL},
};

#define BODY(kind, name, t) [kind] = {name, t, OSH_ARRAY_LEN(t)}
const struct auth_body_def auth_bodies[AUTH_NBODIES] = {
    BODY(AUTH_BODY_LOGIN, "login", login_fields),
    BODY(AUTH_BODY_PASSWORD, "password", password_fields),
    BODY(AUTH_BODY_PROFILE, "profile", profile_fields),
    BODY(AUTH_BODY_USER_CREATE, "user_create", user_create_fields),
    BODY(AUTH_BODY_USER_PATCH, "user_patch", user_patch_fields),
    BODY(AUTH_BODY_REFRESH, "refresh", refresh_fields),
    BODY(AUTH_BODY_LOGOUT, "logout", logout_fields),
    BODY(AUTH_BODY_SERVICE_TOKEN, "service_token", service_token_fields),
};
#undef BODY

/* An e-mail address, when given, looks like name@domain. */
static int
check_email(struct json_object *o, struct osh_err *err)
{
	const char *email = osh_json_str(o, "email", NULL);

	if (email == NULL || email[0] == '\0')
		return 0;
	if (strchr(email, '@') == NULL || strchr(email, ' ') != NULL)
		return osh_err_set(err, 400, "validation_failed", "email",
		    "email must look like name@domain");
	return 0;
}

/* A password the body sets meets the policy (username: NULL when the
 * body does not name the user). */
static int
check_password(struct json_object *o, const char *field, const char *username,
    struct osh_err *err)
{
	if (!osh_json_has(o, field))
		return 0;
	if (!auth_password_acceptable(
		osh_json_str(o, field, ""), username, field, err))
		return -1;
	return 0;
}

int
auth_body_check(enum auth_body kind, struct json_object *o, struct osh_err *err)
{
	switch (kind) {
	case AUTH_BODY_PASSWORD:
		/* The policy needs the user's name: checked once it is read. */
		if (strcmp(osh_json_str(o, "current_password", ""),
			osh_json_str(o, "new_password", "")) == 0)
			return osh_err_set(err, 400, "validation_failed",
			    "new_password",
			    "new_password must differ from current_password");
		return 0;
	case AUTH_BODY_PROFILE: return check_email(o, err);
	case AUTH_BODY_USER_CREATE:
		if (!auth_username_valid(osh_json_str(o, "username", "")))
			return osh_err_set(err, 400, "validation_failed",
			    "username",
			    "username may hold only letters, digits and . _ - "
			    "@");
		if (check_email(o, err) != 0)
			return -1;
		return check_password(
		    o, "password", osh_json_str(o, "username", ""), err);
	case AUTH_BODY_USER_PATCH:
		if (check_email(o, err) != 0)
			return -1;
		return check_password(o, "password", NULL, err);
	case AUTH_BODY_LOGIN:
	case AUTH_BODY_REFRESH:
	case AUTH_BODY_LOGOUT:
	case AUTH_BODY_SERVICE_TOKEN: return 0;
	}
	return osh_err_set(err, 400, "validation_failed", NULL, "unknown body");
}

void
auth_user_fields(
    struct json_object *body, const char *role_default, struct user_fields *f)
{
	f->username = osh_json_str(body, "username", NULL);
	f->display_name = osh_json_str(body, "display_name", NULL);
	f->email = osh_json_str(body, "email", NULL);
	f->role = osh_json_str(body, "role", role_default);
	f->active = osh_json_has(body, "active")
	    ? (osh_json_bool(body, "active", true) ? "true" : "false")
	    : NULL;
}
