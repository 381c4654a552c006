/* login.c - HTTP <-> the checks of a user's password: login, and the
 * change of one's own password. Both guess the same secret, so both go
 * through the same limits: the failure throttle per username and address
 * (throttle.c), the cap on checks in flight per address (inflight.c) and
 * the hashing queue (handlers_hash_submit). */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/auth.h>
#include <osh/crypto.h>
#include <osh/http.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/util.h>

#include "auth.h"
#include "handlers.h"
#include "inflight.h"
#include "store.h"
#include "throttle.h"

/*
 * Password checks: the limits every check of a password goes through
 * (login and password change alike, since both guess the same secret).
 */

/* Replies 429 with Retry-After. */
static void
reply_throttled(struct osh_req *req, int64_t retry_after_s, const char *msg)
{
	char secs[24];

	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(retry_after_s > 0 ? retry_after_s : 1));
	osh_resp_header(req, "Retry-After", secs);
	osh_reply_error(req, 429, NULL, NULL, "%s", msg);
}

/* What a password check holds while it runs, and hands back however it
 * ends: an in-flight slot of its client address, and an attempt reserved
 * against the throttle. Zeroed, it holds neither. */
struct check {
	char client[sizeof(((struct osh_req *)0)->client_addr)];
	struct throttle t;
	bool entered; /* holds an in-flight slot of client */
};

/* Takes one of the client address's password-check slots; replies 429
 * and returns false when it has none left. */
static bool
check_enter(struct check *k, struct osh_req *req)
{
	osh_strlcpy(k->client, req->client_addr, sizeof(k->client));
	if (inflight_enter(handlers_app(req)->inflight, k->client)) {
		k->entered = true;
		return true;
	}
	osh_log_warn(req->request_id,
	    "msg=\"password checks in flight capped\" client=\"%s\"",
	    req->client_addr);
	reply_throttled(req, 1,
	    "too many password checks in progress from this address; try "
	    "again");
	return false;
}

/* Reserves an attempt at username's password from the check's address,
 * under the login limits; cb runs later, exactly once. */
static void
check_reserve(struct osh_service *svc, struct check *k, const char *username,
    throttle_cb cb, void *arg)
{
	struct auth_app *app = svc->app;

	throttle_init(&k->t, username, k->client);
	throttle_reserve(svc->redis, &k->t, app->cfg.login_max_failures,
	    app->cfg.login_max_failures_addr, app->cfg.login_window_s, cb, arg);
}

/* Hands back what the check still holds: its in-flight slot, and an
 * attempt reserved but never checked. */
static void
check_release(struct osh_service *svc, struct check *k)
{
	struct auth_app *app = svc->app;

	throttle_release(svc->redis, &k->t);
	if (k->entered)
		inflight_leave(app->inflight, k->client);
}

/*
 * Login.
 */

struct login {
	struct osh_req *req;
	struct osh_service *svc; /* outlives req */
	char username[AUTH_USERNAME_MAX * 4 + 1]; /* as given, for the audit */
	char key[AUTH_USERNAME_MAX * 4 + 1]; /* auth_username_key: looked up */
	char *password;
	struct check k;
	bool cookie; /* a browser login: the refresh token in a cookie */
	bool found, active, verified;
	int64_t user_id;
	char role[OSH_ROLE_MAX];
	char name[OSH_NAME_MAX];
	char *hash;
	char *user_json;
};

/* Frees the login and hands back what it still holds: its in-flight slot
 * and an attempt reserved but never checked. */
static void
login_free(struct login *l)
{
	check_release(l->svc, &l->k);
	osh_free_secret(l->password);
	osh_free_secret(l->hash);
	free(l->user_json);
	free(l);
}

/* Replies and frees the login (the request goes with the reply). */
static void
login_end(struct login *l, enum auth_result r)
{
	handlers_reply_result(l->req, r, NULL);
	login_free(l);
}

/* A verified failure: the reserved attempt stays counted. */
static void
login_failed(struct login *l, const char *reason)
{
	struct osh_audit_entry e = {
	    .actor_id = l->found ? l->user_id : 0,
	    .actor = l->username,
	    .action = "auth.login",
	    .target = NULL,
	    .result = "failure",
	    .client = l->req->client_addr,
	    .request_id = l->req->request_id,
	    .details = json_object_new_object(),
	};
	char target[32];

	if (l->found) {
		snprintf(
		    target, sizeof(target), "user:%lld", (long long)l->user_id);
		e.target = target;
	}
	json_object_object_add(
	    e.details, "reason", json_object_new_string(reason));
	osh_audit_emit(osh_service_of(l->req)->audit, &e);
	throttle_failed(&l->k.t);
	login_end(l, AUTH_BAD_CREDENTIALS);
}

static void
verify_work(void *arg)
{
	struct login *l = arg;

	if (l->found && l->hash != NULL)
		l->verified = osh_password_verify(l->hash, l->password);
	else
		l->verified = osh_password_verify_dummy(l->password);
}

static void
verify_done(void *arg)
{
	struct login *l = arg;
	struct session *s;

	if (!l->verified) {
		login_failed(l, l->found ? "wrong password" : "unknown user");
		return;
	}
	if (!l->active) {
		login_failed(l, "account disabled");
		return;
	}
	throttle_succeeded(l->svc->redis, &l->k.t);
	s = session_new(
	    l->req, l->user_id, l->name, l->role, NULL, l->user_json);
	if (s == NULL) {
		login_end(l, AUTH_UNAVAILABLE);
		return;
	}
	if (l->cookie)
		session_use_cookie(s);
	login_free(l);
	session_open(s, "auth.login");
}

static void
on_login_user(enum store_status st, const struct login_user *u, void *arg)
{
	struct login *l = arg;

	if (st == STORE_ERROR) {
		login_end(l, AUTH_UNAVAILABLE);
		return;
	}
	if (st == STORE_OK) {
		l->found = true;
		l->active = u->active;
		l->user_id = u->id;
		osh_strlcpy(l->role, u->role, sizeof(l->role));
		osh_utf8_copy(l->name, u->username, sizeof(l->name));
		l->hash = strdup(u->password_hash);
		l->user_json = strdup(u->json);
	}
	if (handlers_hash_submit(l->req, verify_work, verify_done, l) != 0)
		login_free(l); /* replied */
}

static void
on_login_reserved(enum throttle_answer a, int64_t retry_after_s, void *arg)
{
	struct login *l = arg;

	switch (a) {
	case THROTTLE_OK:
		store_login_user(l->svc->db, l->key, 0, on_login_user, l);
		return;
	case THROTTLE_UNAVAILABLE: login_end(l, AUTH_UNAVAILABLE); return;
	case THROTTLE_LIMITED: break;
	}
	{
		struct osh_audit_entry e = {
		    .actor = l->username,
		    .action = "auth.login",
		    .result = "throttled",
		    .client = l->req->client_addr,
		    .request_id = l->req->request_id,
		};
		osh_audit_emit(l->svc->audit, &e);
	}
	reply_throttled(
	    l->req, retry_after_s, "too many failed logins; try again later");
	login_free(l);
}

void
h_login(struct osh_req *req)
{
	struct json_object *o = handlers_body(req, AUTH_BODY_LOGIN);
	struct login *l;

	if (o == NULL)
		return; /* replied: req is gone */
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		handlers_body_put(o);
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	l->req = req;
	l->svc = osh_service_of(req);
	osh_utf8_copy(
	    l->username, osh_json_str(o, "username", ""), sizeof(l->username));
	/* The user it names, and the counter it is charged to (check_reserve
	 * keys that by the same auth_username_key). */
	auth_username_key(l->username, l->key, sizeof(l->key));
	l->password = strdup(osh_json_str(o, "password", ""));
	l->cookie = strcmp(osh_json_str(o, "session", "json"), "cookie") == 0;
	handlers_body_put(o);
	osh_wipe(req->body, req->body_len);
	if (l->password == NULL) {
		login_end(l, AUTH_UNAVAILABLE);
		return;
	}
	if (!check_enter(&l->k, req)) {
		login_free(l); /* replied */
		return;
	}
	check_reserve(l->svc, &l->k, l->username, on_login_reserved, l);
}

/*
 * Password change.
 */

struct pwchange {
	struct osh_req *req;
	struct osh_service *svc;
	char *current, *next, *hash, *new_hash;
	char *user_json;
	char name[OSH_NAME_MAX];
	char role[OSH_ROLE_MAX];
	struct check k;
	bool ok;
};

/* Frees the change and hands back its in-flight slot and an attempt
 * reserved but never checked. */
static void
pwchange_free(struct pwchange *p)
{
	check_release(p->svc, &p->k);
	osh_free_secret(p->current);
	osh_free_secret(p->next);
	osh_free_secret(p->hash);
	osh_free_secret(p->new_hash);
	free(p->user_json);
	free(p);
}

static void
pw_work(void *arg)
{
	struct pwchange *p = arg;
	char out[OSH_PWHASH_LEN];

	p->ok = osh_password_verify(p->hash, p->current);
	if (p->ok && osh_password_hash(p->next, out) == 0)
		p->new_hash = strdup(out);
	osh_wipe(out, sizeof(out));
}

static void
on_pw_sessions_revoked(enum store_status st, void *arg)
{
	struct pwchange *p = arg;
	struct osh_req *req = p->req;
	struct session *s;

	if (st == STORE_ERROR) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		pwchange_free(p);
		return;
	}
	handlers_revoke_user_tokens(req, req->claims.user_id);
	s = session_new(
	    req, req->claims.user_id, p->name, p->role, NULL, p->user_json);
	pwchange_free(p);
	if (s == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	/* A browser's cookie (sent here too: Path=/api/auth) died with the
	 * user's sessions: the new session replaces it. */
	if (session_cookie_sent(req))
		session_use_cookie(s);
	session_open(s, NULL);
}

static void
on_pw_stored(enum store_status st, const char *json, void *arg)
{
	struct pwchange *p = arg;
	struct osh_req *req = p->req;

	handlers_audit_user(req, "auth.password_change", req->claims.user_id,
	    st == STORE_OK ? "success" : "failure", NULL);
	if (json != NULL)
		p->user_json = strdup(json);
	if (st != STORE_OK) {
		handlers_reply_result(req, handlers_from_store(st), NULL);
		pwchange_free(p);
		return;
	}
	store_user_sessions_revoke(osh_service_of(req)->db, req->claims.user_id,
	    on_pw_sessions_revoked, p);
}

static void
pw_done(void *arg)
{
	struct pwchange *p = arg;
	struct osh_req *req = p->req;
	struct user_fields f = {0};

	if (!p->ok) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(
		    d, "reason", json_object_new_string("wrong password"));
		handlers_audit_user(req, "auth.password_change",
		    req->claims.user_id, "failure", d);
		throttle_failed(&p->k.t);
		handlers_reply_result(
		    req, AUTH_WRONG_PASSWORD, "current_password");
		pwchange_free(p);
		return;
	}
	throttle_succeeded(p->svc->redis, &p->k.t);
	if (p->new_hash == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		pwchange_free(p);
		return;
	}
	f.password_hash = p->new_hash;
	store_user_update(
	    osh_service_of(req)->db, req->claims.user_id, &f, on_pw_stored, p);
}

static void
on_pw_reserved(enum throttle_answer a, int64_t retry_after_s, void *arg)
{
	struct pwchange *p = arg;
	struct osh_req *req = p->req;

	switch (a) {
	case THROTTLE_OK:
		if (handlers_hash_submit(req, pw_work, pw_done, p) != 0)
			pwchange_free(p); /* replied */
		return;
	case THROTTLE_UNAVAILABLE:
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		pwchange_free(p);
		return;
	case THROTTLE_LIMITED: break;
	}
	handlers_audit_user(req, "auth.password_change", req->claims.user_id,
	    "throttled", NULL);
	reply_throttled(
	    req, retry_after_s, "too many wrong passwords; try again later");
	pwchange_free(p);
}

static void
on_pw_user(enum store_status st, const struct login_user *u, void *arg)
{
	struct pwchange *p = arg;
	struct osh_err err;

	if (st != STORE_OK) {
		handlers_reply_result(p->req, handlers_from_store(st), NULL);
		pwchange_free(p);
		return;
	}
	if (!auth_password_acceptable(
		p->next, u->username, "new_password", &err)) {
		osh_reply_err(p->req, &err);
		pwchange_free(p);
		return;
	}
	osh_utf8_copy(p->name, u->username, sizeof(p->name));
	osh_strlcpy(p->role, u->role, sizeof(p->role));
	if ((p->hash = strdup(u->password_hash)) == NULL) {
		handlers_reply_result(p->req, AUTH_UNAVAILABLE, NULL);
		pwchange_free(p);
		return;
	}
	/* The same counters as logins: both guess the same password. */
	check_reserve(p->svc, &p->k, u->username, on_pw_reserved, p);
}

void
h_password(struct osh_req *req)
{
	struct json_object *o = handlers_body(req, AUTH_BODY_PASSWORD);
	struct pwchange *p;

	if (o == NULL)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		handlers_body_put(o);
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	p->req = req;
	p->svc = osh_service_of(req);
	p->current = strdup(osh_json_str(o, "current_password", ""));
	p->next = strdup(osh_json_str(o, "new_password", ""));
	handlers_body_put(o);
	osh_wipe(req->body, req->body_len);
	if (p->current == NULL || p->next == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		pwchange_free(p);
		return;
	}
	if (!check_enter(&p->k, req)) {
		pwchange_free(p);
		return;
	}
	store_login_user(
	    osh_service_of(req)->db, NULL, req->claims.user_id, on_pw_user, p);
}
