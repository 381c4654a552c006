/* sessions.c - HTTP <-> token pairs: opening a session (the pair a login
 * or a password change hands out), refreshing it with rotation and reuse
 * detection, logging out; and the tokens that are not sessions: the
 * public keys (JWKS) and service tokens.
 *
 * Browser sessions keep the refresh token out of scripts' reach: a login
 * with "session": "cookie" answers the access token in JSON (the page
 * keeps it in memory only) and sets the refresh token in the HttpOnly,
 * SameSite=Strict cookie SESSION_COOKIE, sent back to /api/auth/ only
 * (Secure when the request came over HTTPS). Refresh takes the cookie
 * when the request has no body, and only with the header CSRF_HEADER: 1,
 * which no cross-site form can send (and a cross-site script could only
 * after a CORS preflight nobody answers); it rotates the cookie like a
 * JSON token, reuse detection included. Logout clears it. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/auth.h>
#include <osh/cookie.h>
#include <osh/crypto.h>
#include <osh/http.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/revoke.h>
#include <osh/util.h>

#include "auth.h"
#include "handlers.h"
#include "store.h"

#define REFRESH_BYTES 32
#define TOKEN_STR (REFRESH_BYTES * 2 + 1)
#define COOKIE_PATH "/api/auth"
#define CSRF_HEADER "X-OSH-CSRF"

static void
revoke_family_tokens(
    struct osh_service *svc, struct auth_app *app, const char *family)
{
	osh_revoke_sid(svc->redis, svc->revoked, family,
	    osh_wall_ms() + (app->cfg.access_ttl_s + 60) * 1000, NULL, NULL);
}

/*
 * Token pairs.
 */

struct session {
	struct osh_req *req;
	int64_t user_id;
	char name[OSH_NAME_MAX];
	char role[OSH_ROLE_MAX];
	char family[OSH_JTI_MAX];
	char refresh[TOKEN_STR];
	char *user_json;
	int status; /* 200 or 201 */
	const char *action; /* audited on success */
	bool cookie; /* the refresh token goes in SESSION_COOKIE */
};

/* Sets (max_age > 0) or clears (value "", max_age 0) the session cookie
 * of req's answer. The header text is wiped: it holds the token. */
static void
set_session_cookie(struct osh_req *req, const char *value, int64_t max_age)
{
	struct osh_cookie_attrs a = {
	    .path = COOKIE_PATH,
	    .max_age = max_age,
	    .secure = req->https,
	    .http_only = true,
	    .same_site = "Strict",
	};
	char buf[TOKEN_STR + 128];

	if (osh_cookie_format(buf, sizeof(buf), SESSION_COOKIE, value, &a) == 0)
		osh_resp_header(req, "Set-Cookie", buf);
	osh_wipe(buf, sizeof(buf));
}

bool
session_cookie_sent(struct osh_req *req)
{
	char v[TOKEN_STR];
	enum osh_cookie_result r = osh_cookie_get(
	    osh_req_header(req, "Cookie"), SESSION_COOKIE, v, sizeof(v));

	osh_wipe(v, sizeof(v));
	return r != OSH_COOKIE_ABSENT;
}

void
session_use_cookie(struct session *s)
{
	s->cookie = true;
}

struct session *
session_new(struct osh_req *req, int64_t id, const char *name, const char *role,
    const char *family, const char *user_json)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->req = req;
	s->user_id = id;
	s->status = 200;
	osh_strlcpy(s->name, name, sizeof(s->name));
	osh_strlcpy(s->role, role, sizeof(s->role));
	if (family != NULL)
		osh_strlcpy(s->family, family, sizeof(s->family));
	else
		osh_random_token(s->family, sizeof(s->family), 16);
	osh_random_token(s->refresh, sizeof(s->refresh), REFRESH_BYTES);
	s->user_json = strdup(user_json ? user_json : "{}");
	return s;
}

static void
session_free(struct session *s)
{
	osh_wipe(s->refresh, sizeof(s->refresh));
	free(s->user_json);
	free(s);
}

/* Signs claims c and returns the JSON of the access token, {access_token,
 * token_type, expires_in}, the signed text wiped; NULL when signing
 * fails. */
static struct json_object *
access_token_json(struct auth_app *app, const struct osh_claims *c)
{
	struct json_object *o;
	char *token;

	if ((token = osh_jwt_sign(app->signer, c)) == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(
	    o, "access_token", json_object_new_string(token));
	json_object_object_add(
	    o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(
	    o, "expires_in", json_object_new_int64(app->cfg.access_ttl_s));
	osh_wipe(token, strlen(token));
	free(token);
	return o;
}

/* Signs an access token for the session and replies with the pair. */
static void
reply_tokens(struct session *s)
{
	struct osh_req *req = s->req;
	struct auth_app *app = handlers_app(req);
	struct osh_claims c;
	struct json_object *o;

	memset(&c, 0, sizeof(c));
	c.user_id = s->user_id;
	osh_strlcpy(c.name, s->name, sizeof(c.name));
	osh_strlcpy(c.role, s->role, sizeof(c.role));
	osh_strlcpy(c.sid, s->family, sizeof(c.sid));
	osh_random_token(c.jti, sizeof(c.jti), 16);
	c.iat_ms = osh_wall_ms();
	c.iat = c.iat_ms / 1000;
	c.exp = c.iat + app->cfg.access_ttl_s;
	if ((o = access_token_json(app, &c)) == NULL) {
		osh_log_error(req->request_id, "msg=\"token signing failed\"");
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		session_free(s);
		return;
	}
	if (s->cookie)
		set_session_cookie(req, s->refresh, app->cfg.refresh_ttl_s);
	else
		json_object_object_add(
		    o, "refresh_token", json_object_new_string(s->refresh));
	json_object_object_add(o, "refresh_expires_in",
	    json_object_new_int64(app->cfg.refresh_ttl_s));
	json_object_object_add(o, "user", json_tokener_parse(s->user_json));
	if (s->action != NULL) {
		struct osh_audit_entry e = {
		    .actor_id = s->user_id,
		    .actor = s->name,
		    .action = s->action,
		    .target = NULL,
		    .result = "success",
		    .client = req->client_addr,
		    .request_id = req->request_id,
		    .details = json_object_new_object(),
		};
		char target[32];
		snprintf(
		    target, sizeof(target), "user:%lld", (long long)s->user_id);
		e.target = target;
		json_object_object_add(e.details, "session",
		    json_object_new_string(s->cookie ? "cookie" : "json"));
		osh_audit_emit(osh_service_of(req)->audit, &e);
	}
	osh_reply_json_secret(req, s->status, o);
	session_free(s);
}

static void
on_session_open(enum store_status st, void *arg)
{
	struct session *s = arg;

	if (st != STORE_OK) {
		handlers_reply_result(s->req, AUTH_UNAVAILABLE, NULL);
		session_free(s);
		return;
	}
	reply_tokens(s);
}

/* Stores a new refresh token in the session's family, then replies. */
void
session_open(struct session *s, const char *action)
{
	char hash[OSH_TOKEN_HASH_LEN];

	s->action = action;
	osh_token_hash(s->refresh, hash);
	store_session_open(osh_service_of(s->req)->db, s->user_id, hash,
	    s->family, handlers_app(s->req)->cfg.refresh_ttl_s, on_session_open,
	    s);
}

/*
 * Refresh.
 */

struct refresh {
	struct osh_req *req;
	char hash[OSH_TOKEN_HASH_LEN];
	char family[OSH_JTI_MAX];
	struct session *next;
	bool cookie; /* the token came in SESSION_COOKIE */
};

/* Replies r's failure and frees r; a cookie that failed is cleared, so
 * that the page shows its login form rather than try it again. */
static void
refresh_fail(struct refresh *r, enum auth_result res)
{
	if (r->cookie && res != AUTH_UNAVAILABLE)
		set_session_cookie(r->req, "", 0);
	handlers_reply_result(
	    r->req, res, r->cookie ? SESSION_COOKIE : "refresh_token");
	free(r);
}

static void
on_reuse_revoked(enum store_status st, void *arg)
{
	(void)st;
	refresh_fail(arg, AUTH_TOKEN_REUSED);
}

static void
on_refresh_why(enum store_status st, const char *family, void *arg)
{
	struct refresh *r = arg;
	struct osh_service *svc = osh_service_of(r->req);

	if (st == STORE_ERROR) {
		refresh_fail(r, AUTH_UNAVAILABLE);
		return;
	}
	if (st != STORE_CONFLICT) {
		refresh_fail(r, AUTH_TOKEN_INVALID);
		return;
	}
	/* A spent token came back: somebody holds a stolen copy. */
	osh_strlcpy(r->family, family, sizeof(r->family));
	revoke_family_tokens(svc, handlers_app(r->req), r->family);
	{
		struct osh_audit_entry e = {
		    .action = "auth.refresh_reuse",
		    .target = NULL,
		    .result = "denied",
		    .client = r->req->client_addr,
		    .request_id = r->req->request_id,
		    .details = json_object_new_object(),
		};
		json_object_object_add(
		    e.details, "family", json_object_new_string(r->family));
		json_object_object_add(e.details, "session",
		    json_object_new_string(r->cookie ? "cookie" : "json"));
		osh_audit_emit(svc->audit, &e);
	}
	store_family_revoke(svc->db, r->family, on_reuse_revoked, r);
}

static void
on_rotated(enum store_status st, const struct login_user *u, void *arg)
{
	struct refresh *r = arg;
	struct session *s = r->next;

	if (st == STORE_ERROR) {
		session_free(s);
		refresh_fail(r, AUTH_UNAVAILABLE);
		return;
	}
	if (st == STORE_NOT_FOUND) {
		session_free(s);
		store_refresh_why(
		    osh_service_of(r->req)->db, r->hash, on_refresh_why, r);
		return;
	}
	s->user_id = u->id;
	osh_strlcpy(s->name, u->username, sizeof(s->name));
	osh_strlcpy(s->role, u->role, sizeof(s->role));
	osh_strlcpy(s->family, u->family, sizeof(s->family));
	free(s->user_json);
	s->user_json = strdup(u->json);
	free(r);
	reply_tokens(s);
}

/* Reads the refresh token of a request without a body from its
 * SESSION_COOKIE into token (TOKEN_STR bytes). Replies and returns false
 * when there is none (400, as a body without refresh_token), when it is
 * unusable (401, and cleared) or when CSRF_HEADER is missing (403). */
static bool
refresh_cookie(struct osh_req *req, char *token)
{
	const char *csrf;

	switch (osh_cookie_get(
	    osh_req_header(req, "Cookie"), SESSION_COOKIE, token, TOKEN_STR)) {
	case OSH_COOKIE_FOUND: break;
	case OSH_COOKIE_ABSENT:
		osh_reply_error(req, 400, "validation_failed", "refresh_token",
		    "refresh_token is required (or the %s cookie of a browser "
		    "login)",
		    SESSION_COOKIE);
		return false;
	case OSH_COOKIE_BAD:
		set_session_cookie(req, "", 0);
		handlers_reply_result(req, AUTH_TOKEN_INVALID, SESSION_COOKIE);
		return false;
	}
	csrf = osh_req_header(req, CSRF_HEADER);
	if (csrf == NULL || strcmp(csrf, "1") != 0) {
		osh_wipe(token, TOKEN_STR);
		osh_reply_error(req, 403, "csrf_header_required", CSRF_HEADER,
		    "a refresh with the %s cookie needs the header %s: 1",
		    SESSION_COOKIE, CSRF_HEADER);
		return false;
	}
	return true;
}

/* Refresh: with {"refresh_token"} in the body (API clients, answered in
 * JSON), or without a body from the session cookie (browsers, answered
 * with a new cookie). */
void
h_refresh(struct osh_req *req)
{
	struct json_object *o = NULL;
	char next_hash[OSH_TOKEN_HASH_LEN], token[TOKEN_STR];
	bool cookie = req->body_len == 0 && session_cookie_sent(req);
	struct refresh *r;

	if (cookie) {
		if (!refresh_cookie(req, token))
			return; /* replied */
	} else if ((o = handlers_body(req, AUTH_BODY_REFRESH)) == NULL) {
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL ||
	    (r->next = session_new(req, 0, "", "viewer", "-", NULL)) == NULL) {
		free(r);
		handlers_body_put(o);
		osh_wipe(token, sizeof(token));
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	r->req = req;
	r->cookie = r->next->cookie = cookie;
	osh_token_hash(
	    cookie ? token : osh_json_str(o, "refresh_token", ""), r->hash);
	osh_wipe(token, sizeof(token));
	if (o != NULL)
		handlers_body_put(o);
	osh_token_hash(r->next->refresh, next_hash);
	store_refresh_rotate(osh_service_of(req)->db, r->hash, next_hash,
	    handlers_app(req)->cfg.refresh_ttl_s, on_rotated, r);
}

/*
 * Logout: of the access token's session (its refresh token family), or
 * with {"everywhere": true} of every session of the user. A session
 * cookie sent along is cleared.
 */

static void
on_logout_revoked(enum store_status st, void *arg)
{
	struct osh_req *req = arg;
	bool everywhere = req->data != NULL;
	struct json_object *d = NULL;

	if (st == STORE_ERROR) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	if (everywhere) {
		handlers_revoke_user_tokens(req, req->claims.user_id);
		d = json_object_new_object();
		json_object_object_add(
		    d, "everywhere", json_object_new_boolean(true));
	}
	handlers_audit_user(
	    req, "auth.logout", req->claims.user_id, "success", d);
	if (session_cookie_sent(req))
		set_session_cookie(req, "", 0);
	osh_reply_json(req, 204, NULL);
}

static void
on_logout_denied(redisReply *reply, void *arg)
{
	struct osh_req *req = arg;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	if (req->data != NULL) {
		store_user_sessions_revoke(osh_service_of(req)->db,
		    req->claims.user_id, on_logout_revoked, req);
		return;
	}
	if (req->claims.sid[0] == '\0') {
		on_logout_revoked(STORE_OK, req);
		return;
	}
	revoke_family_tokens(
	    osh_service_of(req), handlers_app(req), req->claims.sid);
	store_family_revoke(
	    osh_service_of(req)->db, req->claims.sid, on_logout_revoked, req);
}

void
h_logout(struct osh_req *req)
{
	struct json_object *o = handlers_body(req, AUTH_BODY_LOGOUT);
	static char everywhere; /* req->data: its address, or NULL */

	if (o == NULL)
		return;
	/* A service token has no user whose sessions could end. */
	req->data =
	    osh_json_bool(o, "everywhere", false) && req->claims.user_id > 0
	    ? &everywhere
	    : NULL;
	handlers_body_put(o);
	/* Denied until the token would have expired anyway. */
	osh_revoke_jti(osh_service_of(req)->redis, osh_service_of(req)->revoked,
	    req->claims.jti, (req->claims.exp + 30) * 1000, on_logout_denied,
	    req);
}

void
h_jwks(struct osh_req *req)
{
	osh_resp_header(req, "Cache-Control", "public, max-age=300");
	handlers_reply_raw_json(req, 200, handlers_app(req)->jwks);
}

/*
 * Service tokens (internal route, never exposed by nginx).
 */

void
h_service_token(struct osh_req *req)
{
	struct json_object *o = handlers_body(req, AUTH_BODY_SERVICE_TOKEN);
	struct auth_app *app;
	struct osh_claims c;
	struct json_object *out;
	const char *name;

	if (o == NULL)
		return; /* replied: req is gone */
	app = handlers_app(req);
	name = osh_json_str(o, "service", "");
	if (!auth_username_valid(name) ||
	    !osh_const_streq(
		osh_json_str(o, "secret", ""), app->service_secret)) {
		struct osh_audit_entry e = {
		    .actor = name,
		    .action = "auth.service_token",
		    .result = "failure",
		    .client = req->client_addr,
		    .request_id = req->request_id,
		};
		osh_audit_emit(osh_service_of(req)->audit, &e);
		handlers_body_put(o);
		osh_reply_error(req, 401, "invalid_credentials", NULL,
		    "unknown service or wrong secret");
		return;
	}
	memset(&c, 0, sizeof(c));
	osh_strlcpy(c.name, name, sizeof(c.name));
	osh_strlcpy(c.role, "service", sizeof(c.role));
	osh_random_token(c.jti, sizeof(c.jti), 16);
	c.iat = osh_wall_s();
	c.exp = c.iat + app->cfg.access_ttl_s;
	handlers_body_put(o);
	if ((out = access_token_json(app, &c)) == NULL) {
		handlers_reply_result(req, AUTH_UNAVAILABLE, NULL);
		return;
	}
	osh_reply_json_secret(req, 200, out);
}
