/* handlers.c - what the auth service's handlers share. The handlers live
 * by concern (login.c, sessions.c, users.c, audit.c); each validates its
 * input, runs its steps (store, Redis, worker threads) as a chain of
 * callbacks holding one context, and maps the outcome to a reply here. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/http.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/revoke.h>
#include <osh/util.h>
#include <osh/work.h>

#include "auth.h"
#include "handlers.h"
#include "store.h"

/* The one place where domain outcomes become HTTP replies. */
void
handlers_reply_result(
    struct osh_req *req, enum auth_result r, const char *field)
{
	switch (r) {
	case AUTH_OK: osh_reply_json(req, 204, NULL); return;
	case AUTH_BAD_CREDENTIALS:
		osh_reply_error(req, 401, "invalid_credentials", NULL,
		    "invalid username or password");
		return;
	case AUTH_THROTTLED:
		osh_reply_error(req, 429, NULL, NULL,
		    "too many failed logins; try again later");
		return;
	case AUTH_TOKEN_INVALID:
		osh_reply_error(req, 401, "invalid_token", field,
		    "refresh token is invalid, expired or revoked");
		return;
	case AUTH_TOKEN_REUSED:
		osh_reply_error(req, 401, "token_reused", field,
		    "refresh token was already used; all sessions of its "
		    "family are revoked");
		return;
	case AUTH_NOT_FOUND:
		osh_reply_error(req, 404, NULL, NULL, "user not found");
		return;
	case AUTH_USERNAME_TAKEN:
		osh_reply_error(req, 409, "username_taken", "username",
		    "username is already taken");
		return;
	case AUTH_LAST_ADMIN:
		osh_reply_error(req, 409, "last_admin", field,
		    "the last active admin cannot be deleted, disabled or "
		    "demoted");
		return;
	case AUTH_SELF_DELETE:
		osh_reply_error(req, 409, "self_delete", NULL,
		    "you cannot delete your own account");
		return;
	case AUTH_WEAK_PASSWORD:
		osh_reply_error(req, 400, "validation_failed", field,
		    "password does not meet the policy");
		return;
	case AUTH_WRONG_PASSWORD:
		osh_reply_error(req, 400, "wrong_password", field,
		    "current password is wrong");
		return;
	case AUTH_UNAVAILABLE:
		osh_reply_error(req, 503, NULL, NULL,
		    "a dependency is unavailable; try again");
		return;
	}
}

enum auth_result
handlers_from_store(enum store_status st)
{
	switch (st) {
	case STORE_OK: return AUTH_OK;
	case STORE_NOT_FOUND: return AUTH_NOT_FOUND;
	case STORE_CONFLICT: return AUTH_USERNAME_TAKEN;
	case STORE_LAST_ADMIN: return AUTH_LAST_ADMIN;
	case STORE_ERROR: return AUTH_UNAVAILABLE;
	}
	return AUTH_UNAVAILABLE;
}

/* Puts a request body, wiping first whatever secret it may hold: json-c
 * frees its strings as they are. */
void
handlers_body_put(struct json_object *o)
{
	static const char *const secret[] = {"password", "current_password",
	    "new_password", "refresh_token", "secret"};

	for (size_t i = 0; i < OSH_ARRAY_LEN(secret); i++)
		osh_json_wipe_secret(o, secret[i]);
	json_object_put(o);
}

/* Replies with a raw JSON text from the store. */
void
handlers_reply_raw_json(struct osh_req *req, int status, const char *json)
{
	osh_reply(req, status, "application/json", json, strlen(json));
}

void
handlers_audit(struct osh_req *req, const char *action, const char *target,
    const char *result, struct json_object *details)
{
	osh_audit_req(
	    osh_service_of(req)->audit, req, action, target, result, details);
}

void
handlers_audit_user(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details)
{
	char target[32];

	snprintf(target, sizeof(target), "user:%lld", (long long)id);
	handlers_audit(req, action, target, result, details);
}

/* Marks every access token of a user issued before now as revoked. */
void
handlers_revoke_user_tokens(struct osh_req *req, int64_t user_id)
{
	struct auth_app *app = handlers_app(req);
	int64_t now = osh_wall_ms();

	osh_revoke_user(osh_service_of(req)->redis,
	    osh_service_of(req)->revoked, user_id, now,
	    now + (app->cfg.access_ttl_s + 60) * 1000, NULL, NULL);
}

struct hash_job {
	struct auth_app *app;
	osh_work_fn work;
	osh_done_fn done;
	void *arg;
};

static void
hash_job_work(void *arg)
{
	struct hash_job *j = arg;

	j->work(j->arg);
}

static void
hash_job_done(void *arg)
{
	struct hash_job *j = arg;
	osh_done_fn done = j->done;
	void *done_arg = j->arg;

	j->app->hashing--;
	free(j);
	done(done_arg);
}

/* Hands password hashing to the workers, unless as many jobs as
 * OSH_HASH_QUEUE_MAX are waiting or running already: then replies 503
 * with Retry-After and returns -1 (done never runs). */
int
handlers_hash_submit(
    struct osh_req *req, osh_work_fn work, osh_done_fn done, void *arg)
{
	struct auth_app *app = handlers_app(req);
	struct hash_job *j;

	if (app->hashing >= app->cfg.hash_queue_max ||
	    (j = calloc(1, sizeof(*j))) == NULL)
		goto out_busy;
	j->app = app;
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (osh_work_submit(osh_service_of(req)->work, hash_job_work,
		hash_job_done, j) != 0) {
		free(j);
		goto out_busy;
	}
	app->hashing++;
	return 0;
out_busy:
	osh_log_warn(req->request_id,
	    "msg=\"password hashing queue full\" jobs=%lld",
	    (long long)app->hashing);
	osh_resp_header(req, "Retry-After", "2");
	osh_reply_error(req, 503, NULL, NULL,
	    "too many password checks in progress; try again");
	return -1;
}

void
handlers_on_page_json(enum store_status st, const char *json, void *arg)
{
	struct osh_req *req = arg;

	if (st != STORE_OK) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	handlers_reply_raw_json(req, 200, json);
}

/* Rejects query parameters the endpoint does not know. */
struct known_params {
	const char *const *names;
	const char *bad;
};

static bool
check_param(const char *key, const char *value, void *arg)
{
	struct known_params *k = arg;

	(void)value;
	for (const char *const *n = k->names; *n != NULL; n++)
		if (strcmp(*n, key) == 0)
			return true;
	k->bad = key;
	return false;
}

bool
handlers_params_known(struct osh_req *req, const char *const *names)
{
	struct known_params k = {names, NULL};

	osh_req_query_each(req, check_param, &k);
	if (k.bad != NULL) {
		char *clean = osh_utf8_clean(k.bad, strlen(k.bad), 64);
		osh_reply_error(req, 400, "validation_failed", clean,
		    "unknown query parameter \"%s\"", clean ? clean : "?");
		free(clean);
		return false;
	}
	return true;
}
