/* users.c - HTTP <-> user records: one's own profile, and the users
 * admins list, create, read, change and delete. A new password is hashed
 * on the workers; a change of role, activity or password revokes the
 * user's tokens and sessions. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/auth.h>
#include <osh/crypto.h>
#include <osh/http.h>
#include <osh/json.h>
#include <osh/util.h>

#include "auth.h"
#include "handlers.h"
#include "store.h"

/*
 * Profile.
 */

static void
on_user_json(enum store_status st, const char *json, void *arg)
{
	struct osh_req *req = arg;

	if (st != STORE_OK) {
		handlers_reply_result(req, handlers_from_store(st), NULL);
		return;
	}
	handlers_reply_raw_json(req, 200, json);
}

void
h_profile_get(struct osh_req *req)
{
	store_user_get(
	    osh_service_of(req)->db, req->claims.user_id, on_user_json, req);
}

static const struct osh_field profile_fields[] = {
    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
};

static bool
email_ok(struct osh_req *req, struct json_object *o)
{
	const char *email = osh_json_str(o, "email", NULL);

	if (email == NULL || email[0] == '\0')
		return true;
	if (strchr(email, '@') == NULL || strchr(email, ' ') != NULL) {
		osh_reply_error(req, 400, "validation_failed", "email",
		    "email must look like name@domain");
		return false;
	}
	return true;
}

static void
on_profile_patched(enum store_status st, const char *json, void *arg)
{
	struct osh_req *req = arg;

	handlers_audit_user(req, "profile.update", req->claims.user_id,
	    st == STORE_OK ? "success" : "failure", NULL);
	on_user_json(st, json, req);
}

void
h_profile_patch(struct osh_req *req)
{
	struct json_object *o =
	    osh_req_json(req, profile_fields, OSH_ARRAY_LEN(profile_fields));
	struct user_fields f = {0};

	if (o == NULL)
		return;
	if (!email_ok(req, o)) {
		handlers_body_put(o);
		return;
	}
	f.display_name = osh_json_str(o, "display_name", NULL);
	f.email = osh_json_str(o, "email", NULL);
	store_user_update(osh_service_of(req)->db, req->claims.user_id, &f,
	    on_profile_patched, req);
	handlers_body_put(o);
}

/*
 * Users (admin).
 */

static const struct auth_sort_key user_sort[] = {
    {"id", "id", "id DESC"},
    {"username", "lower(username), id", "lower(username) DESC, id"},
    {"role", "role, id", "role DESC, id"},
    {"created_at", "created_at, id", "created_at DESC, id"},
    {"last_login_at", "last_login_at NULLS FIRST, id",
	"last_login_at DESC NULLS LAST, id"},
};

void
h_users_list(struct osh_req *req)
{
	static const char *const known[] = {
	    "limit", "offset", "sort", "role", "active", "q", NULL};
	struct user_filter f = {0};
	struct auth_page page;
	struct osh_err err;

	if (!handlers_params_known(req, known))
		return;
	if (auth_page_parse(osh_req_query(req, "limit"),
		osh_req_query(req, "offset"), osh_req_query(req, "sort"),
		user_sort, OSH_ARRAY_LEN(user_sort), 500, &page, &err) != 0) {
		osh_reply_err(req, &err);
		return;
	}
	f.role = osh_req_query(req, "role");
	if (f.role != NULL &&
	    (!osh_role_valid(f.role) || strcmp(f.role, "service") == 0)) {
		osh_reply_error(req, 400, "validation_failed", "role",
		    "role must be admin, operator or viewer");
		return;
	}
	f.active = osh_req_query(req, "active");
	if (f.active != NULL && strcmp(f.active, "true") != 0 &&
	    strcmp(f.active, "false") != 0) {
		osh_reply_error(req, 400, "validation_failed", "active",
		    "active must be true or false");
		return;
	}
	f.q = osh_req_query(req, "q");
	if (f.q != NULL &&
	    (strlen(f.q) > 128 || !osh_utf8_valid(f.q, strlen(f.q)))) {
		osh_reply_error(req, 400, "validation_failed", "q",
		    "q must be valid text of at most 128 bytes");
		return;
	}
	store_user_list(osh_service_of(req)->db, &f, page.limit, page.offset,
	    page.order, handlers_on_page_json, req);
}

static const char *const role_values[] = {"admin", "operator", "viewer", NULL};

struct user_change {
	struct osh_req *req;
	int64_t id;
	struct json_object *body;
	char *password;
	char *hash;
	bool revoke; /* role, active or password changed */
};

static void
change_free(struct user_change *c)
{
	handlers_body_put(c->body);
	osh_free_secret(c->password);
	osh_free_secret(c->hash);
	free(c);
}

static void
hash_work(void *arg)
{
	struct user_change *c = arg;
	char out[OSH_PWHASH_LEN];

	if (osh_password_hash(c->password, out) == 0)
		c->hash = strdup(out);
	osh_wipe(out, sizeof(out));
}

static void
on_user_created(enum store_status st, const char *json, void *arg)
{
	struct user_change *c = arg;
	struct json_object *u;
	int64_t id = 0;

	if (st != STORE_OK) {
		handlers_audit(c->req, "user.create", NULL, "failure",
		    osh_audit_fields(c->body));
		handlers_reply_result(c->req, handlers_from_store(st), NULL);
		change_free(c);
		return;
	}
	if ((u = json_tokener_parse(json)) != NULL) {
		id = osh_json_int(u, "id", 0);
		json_object_put(u);
	}
	handlers_audit_user(
	    c->req, "user.create", id, "success", osh_audit_fields(c->body));
	handlers_reply_raw_json(c->req, 201, json);
	change_free(c);
}

/* Reads the user fields an admin's body sets (role: role_default when
 * absent; active: "true", "false" or NULL when absent). The strings
 * point into body. */
static void
fields_of(
    struct json_object *body, const char *role_default, struct user_fields *f)
{
	f->display_name = osh_json_str(body, "display_name", NULL);
	f->email = osh_json_str(body, "email", NULL);
	f->role = osh_json_str(body, "role", role_default);
	f->active = osh_json_has(body, "active")
	    ? (osh_json_bool(body, "active", true) ? "true" : "false")
	    : NULL;
}

static void
create_hashed(void *arg)
{
	struct user_change *c = arg;
	struct user_fields f = {0};

	if (c->hash == NULL) {
		handlers_reply_result(c->req, AUTH_UNAVAILABLE, NULL);
		change_free(c);
		return;
	}
	f.username = osh_json_str(c->body, "username", "");
	fields_of(c->body, "viewer", &f);
	f.password_hash = c->hash;
	store_user_create(osh_service_of(c->req)->db, &f, on_user_created, c);
}

static struct user_change *
change_new(struct osh_req *req, struct json_object *body)
{
	struct user_change *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		handlers_body_put(body);
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return NULL;
	}
	c->req = req;
	c->body = body;
	if (osh_json_has(body, "password")) {
		c->password = strdup(osh_json_str(body, "password", ""));
		osh_json_wipe_secret(body, "password");
		json_object_object_del(body, "password");
		/* Keep the name for the audit's list of changed fields. */
		json_object_object_add(body, "password", NULL);
		osh_wipe(req->body, req->body_len);
	}
	return c;
}

void
h_users_create(struct osh_req *req)
{
	static const struct osh_field fields[] = {
	    {"username", OSH_FIELD_STRING, true, false, 1, AUTH_USERNAME_MAX,
		NULL},
	    {"password", OSH_FIELD_STRING, true, false, 1, 1024, NULL},
	    {"role", OSH_FIELD_ENUM, true, false, 0, 0, role_values},
	    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
	    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
	    {"active", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
	};
	struct json_object *o =
	    osh_req_json(req, fields, OSH_ARRAY_LEN(fields));
	struct user_change *c;
	struct osh_err err;

	if (o == NULL)
		return;
	if (!auth_username_valid(osh_json_str(o, "username", ""))) {
		handlers_body_put(o);
		osh_reply_error(req, 400, "validation_failed", "username",
		    "username may hold only letters, digits and . _ - @");
		return;
	}
	if (!email_ok(req, o)) {
		handlers_body_put(o);
		return;
	}
	if (!auth_password_acceptable(osh_json_str(o, "password", ""),
		osh_json_str(o, "username", ""), "password", &err)) {
		handlers_body_put(o);
		osh_reply_err(req, &err);
		return;
	}
	if ((c = change_new(req, o)) == NULL)
		return;
	if (handlers_hash_submit(req, hash_work, create_hashed, c) != 0)
		change_free(c); /* replied */
}

void
h_users_get(struct osh_req *req)
{
	int64_t id;

	if (osh_req_id(req, "id", "user", &id))
		store_user_get(osh_service_of(req)->db, id, on_user_json, req);
}

static void
on_user_revoked(enum store_status st, void *arg)
{
	(void)st;
	(void)arg;
}

static void
on_user_patched(enum store_status st, const char *json, void *arg)
{
	struct user_change *c = arg;

	handlers_audit_user(c->req, "user.update", c->id,
	    st == STORE_OK ? "success" : "failure", osh_audit_fields(c->body));
	if (st != STORE_OK) {
		enum auth_result r = handlers_from_store(st);
		handlers_reply_result(c->req, r,
		    r == AUTH_LAST_ADMIN
			? (osh_json_has(c->body, "role") ? "role" : "active")
			: NULL);
		change_free(c);
		return;
	}
	if (c->revoke) {
		handlers_revoke_user_tokens(c->req, c->id);
		store_user_sessions_revoke(
		    osh_service_of(c->req)->db, c->id, on_user_revoked, NULL);
	}
	handlers_reply_raw_json(c->req, 200, json);
	change_free(c);
}

static void
patch_hashed(void *arg)
{
	struct user_change *c = arg;
	struct user_fields f = {0};

	if (c->password != NULL && c->hash == NULL) {
		handlers_reply_result(c->req, AUTH_UNAVAILABLE, NULL);
		change_free(c);
		return;
	}
	fields_of(c->body, NULL, &f);
	f.password_hash = c->hash;
	c->revoke = f.role != NULL || f.active != NULL || c->hash != NULL;
	store_user_update(
	    osh_service_of(c->req)->db, c->id, &f, on_user_patched, c);
}

void
h_users_patch(struct osh_req *req)
{
	static const struct osh_field fields[] = {
	    {"password", OSH_FIELD_STRING, false, false, 1, 1024, NULL},
	    {"role", OSH_FIELD_ENUM, false, false, 0, 0, role_values},
	    {"display_name", OSH_FIELD_STRING, false, false, 0, 128, NULL},
	    {"email", OSH_FIELD_STRING, false, false, 0, 254, NULL},
	    {"active", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
	};
	struct json_object *o;
	struct user_change *c;
	struct osh_err err;
	int64_t id;

	if (!osh_req_id(req, "id", "user", &id))
		return;
	if ((o = osh_req_json(req, fields, OSH_ARRAY_LEN(fields))) == NULL)
		return;
	if (!email_ok(req, o)) {
		handlers_body_put(o);
		return;
	}
	if (osh_json_has(o, "password") &&
	    !auth_password_acceptable(
		osh_json_str(o, "password", ""), NULL, "password", &err)) {
		handlers_body_put(o);
		osh_reply_err(req, &err);
		return;
	}
	if ((c = change_new(req, o)) == NULL)
		return;
	c->id = id;
	if (c->password == NULL) {
		patch_hashed(c);
		return;
	}
	if (handlers_hash_submit(req, hash_work, patch_hashed, c) != 0)
		change_free(c); /* replied */
}

struct user_delete {
	struct osh_req *req;
	int64_t id;
};

static void
on_user_deleted(enum store_status st, void *arg)
{
	struct user_delete *d = arg;

	handlers_audit_user(d->req, "user.delete", d->id,
	    st == STORE_OK ? "success" : "failure", NULL);
	if (st != STORE_OK) {
		handlers_reply_result(d->req, handlers_from_store(st), NULL);
		free(d);
		return;
	}
	handlers_revoke_user_tokens(d->req, d->id);
	osh_reply_json(d->req, 204, NULL);
	free(d);
}

void
h_users_delete(struct osh_req *req)
{
	struct user_delete *d;
	int64_t id;

	if (!osh_req_id(req, "id", "user", &id))
		return;
	if (id == req->claims.user_id) {
		handlers_reply_result(req, AUTH_SELF_DELETE, NULL);
		return;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	d->req = req;
	d->id = id;
	store_user_delete(osh_service_of(req)->db, id, on_user_deleted, d);
}
