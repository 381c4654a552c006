/* handlers.h - HTTP handlers of the auth service (see routes.c), and the
 * helpers they share (handlers.c): the one mapping of outcomes to replies,
 * request bodies that hold secrets, audit entries about users, token
 * revocation and the password hashing queue. */
#ifndef AUTH_HANDLERS_H
#define AUTH_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include <osh/http.h>
#include <osh/service.h>
#include <osh/work.h>

#include "auth.h"
#include "bodies.h"
#include "store.h"

struct json_object;

/* login.c: the handlers that check a user's password. */
void h_login(struct osh_req *req);
void h_password(struct osh_req *req);

/* sessions.c: token pairs, the signing keys (JWKS), service tokens. */
void h_refresh(struct osh_req *req);
void h_logout(struct osh_req *req);
void h_jwks(struct osh_req *req);
void h_service_token(struct osh_req *req);

/* A token pair about to be handed to a user (login, password change): a
 * new refresh token in family (NULL: a new family). Copies its arguments
 * (user_json: the user's representation, NULL for {}); NULL when out of
 * memory. */
struct session;
struct session *session_new(struct osh_req *req, int64_t id, const char *name,
    const char *role, const char *family, const char *user_json);
/* Browser sessions: the refresh token goes into the HttpOnly cookie
 * SESSION_COOKIE (Path=/api/auth, SameSite=Strict, Secure when the request
 * came over HTTPS) instead of the JSON answer. */
#define SESSION_COOKIE "osh_refresh"
void session_use_cookie(struct session *s);
/* Whether req carries a SESSION_COOKIE (usable or not). */
bool session_cookie_sent(struct osh_req *req);
/* Stores the session's refresh token, then replies to its request with
 * 200 and the token pair, or 503; on success audits action (NULL: not
 * audited) as the user. Takes s. */
void session_open(struct session *s, const char *action);

/* users.c: one's own profile, and users for admins. */
void h_profile_get(struct osh_req *req);
void h_profile_patch(struct osh_req *req);
void h_users_list(struct osh_req *req);
void h_users_create(struct osh_req *req);
void h_users_get(struct osh_req *req);
void h_users_patch(struct osh_req *req);
void h_users_delete(struct osh_req *req);

/* audit.c: the audit log. */
void h_audit_list(struct osh_req *req);
void h_audit_export(struct osh_req *req);

/* The auth service's context of the service a request came to. */
static inline struct auth_app *
handlers_app(const struct osh_req *req)
{
	return osh_service_of(req)->app;
}

/* The one place where domain outcomes become HTTP replies; field names
 * the input at fault, where the answer has one (may be NULL). */
void handlers_reply_result(
    struct osh_req *req, enum auth_result r, const char *field);

/* The outcome a store status means. */
enum auth_result handlers_from_store(enum store_status st);

/* Replies with status and a JSON text from the store, as it is. */
void handlers_reply_raw_json(struct osh_req *req, int status, const char *json);

/* Store callback replying 200 with a page of JSON, or 503. arg: the req. */
void handlers_on_page_json(enum store_status st, const char *json, void *arg);

/* Reads the request's body of kind: parsed and checked against its field
 * table (osh_req_json), then against the rules of its kind
 * (auth_body_check). Returns the body, which the caller puts with
 * handlers_body_put; or replies 400 and returns NULL (req is gone). */
struct json_object *handlers_body(struct osh_req *req, enum auth_body kind);

/* Puts a request body (may be NULL) wiped whole: json-c frees its
 * strings as they are. */
void handlers_body_put(struct json_object *o);

/* Replies 400 naming the first query parameter not in names (a NULL
 * terminated list) and returns false; true when all are known. */
bool handlers_params_known(struct osh_req *req, const char *const *names);

/* Audits an action of the request's caller; details is taken. */
void handlers_audit(struct osh_req *req, const char *action, const char *target,
    const char *result, struct json_object *details);
/* The same with "user:<id>" as the target. */
void handlers_audit_user(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details);

/* Denies every access token of a user issued before now. */
void handlers_revoke_user_tokens(struct osh_req *req, int64_t user_id);

/* Hands password hashing to the workers: work runs on a worker thread,
 * then done on the loop, both with arg. When as many jobs as
 * OSH_HASH_QUEUE_MAX are waiting or running already, replies 503 with
 * Retry-After and returns -1: neither runs, and arg stays the caller's. */
int handlers_hash_submit(
    struct osh_req *req, osh_work_fn work, osh_done_fn done, void *arg);

#endif
