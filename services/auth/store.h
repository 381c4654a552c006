/* store.h - the auth service's SQL. Every function runs one statement on
 * the pool and calls back on the loop; JSON representations come ready
 * from SQL (user_json, audit_json in the migrations). Strings handed to a
 * callback are valid only during it. */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct osh_db;

enum store_status {
	STORE_OK,
	STORE_NOT_FOUND,
	STORE_CONFLICT, /* unique violation */
	STORE_LAST_ADMIN, /* the change would leave no active admin */
	STORE_ERROR, /* database unavailable or failed */
};

struct login_user {
	int64_t id;
	const char *username;
	const char *role;
	bool active;
	const char *password_hash; /* lookups only */
	const char *family; /* rotation only */
	const char *json;
};

/* json: the user's representation, or a page {"items":[...],"total":n}. */
typedef void (*store_json_cb)(
    enum store_status st, const char *json, void *arg);
typedef void (*store_login_cb)(
    enum store_status st, const struct login_user *u, void *arg);
typedef void (*store_done_cb)(enum store_status st, void *arg);

struct user_filter {
	const char *role; /* NULL: any */
	const char *active; /* "true"/"false"/NULL */
	const char *q; /* substring of username, name or email */
};

struct user_fields {
	const char *username;
	const char *username_key; /* auth_username_key of username */
	const char *display_name;
	const char *email;
	const char *role;
	const char *active; /* "true"/"false"/NULL: unchanged */
	const char *password_hash;
};

void store_user_get(struct osh_db *db, int64_t id, store_json_cb cb, void *arg);
void store_user_list(struct osh_db *db, const struct user_filter *f,
    int64_t limit, int64_t offset, const char *order, store_json_cb cb,
    void *arg);
void store_user_create(struct osh_db *db, const struct user_fields *f,
    store_json_cb cb, void *arg);
/* Changes the non-NULL fields. */
void store_user_update(struct osh_db *db, int64_t id,
    const struct user_fields *f, store_json_cb cb, void *arg);
void store_user_delete(
    struct osh_db *db, int64_t id, store_done_cb cb, void *arg);
/* Creates the first admin when there are no users at all. */
void store_user_bootstrap(struct osh_db *db, const char *username,
    const char *username_key, const char *hash, store_json_cb cb, void *arg);

/* The user, with hash, whose name has username_key (auth_username_key: the
 * one case-insensitive match), or when username_key is NULL by id. */
void store_login_user(struct osh_db *db, const char *username_key, int64_t id,
    store_login_cb cb, void *arg);
/* Records a login: a new refresh token in a new family, last_login_at. */
void store_session_open(struct osh_db *db, int64_t user_id,
    const char *token_hash, const char *family, int64_t ttl_s, store_done_cb cb,
    void *arg);

/* Spends a refresh token and stores its successor in the same family, in
 * one statement. On STORE_OK, u is the token's user (active). */
void store_refresh_rotate(struct osh_db *db, const char *old_hash,
    const char *new_hash, int64_t ttl_s, store_login_cb cb, void *arg);
/* Why a token could not be spent: STORE_NOT_FOUND (unknown, expired or
 * revoked) or STORE_CONFLICT (already spent: reuse) with its family. */
typedef void (*store_family_cb)(
    enum store_status st, const char *family, void *arg);
void store_refresh_why(
    struct osh_db *db, const char *hash, store_family_cb cb, void *arg);
void store_family_revoke(
    struct osh_db *db, const char *family, store_done_cb cb, void *arg);
void store_user_sessions_revoke(
    struct osh_db *db, int64_t user_id, store_done_cb cb, void *arg);

struct audit_filter {
	const char *actor, *action, *target, *result, *service, *request_id;
	const char *since, *until; /* RFC 3339, already validated */
};
void store_audit_list(struct osh_db *db, const struct audit_filter *f,
    int64_t limit, int64_t offset, const char *order, store_json_cb cb,
    void *arg);
/* CSV export: rows with id < before_id (0: from the newest), newest first.
 * rows holds n rows of 11 text columns (id first). */
typedef void (*store_rows_cb)(
    enum store_status st, const char *const *rows, int n, void *arg);
void store_audit_rows(struct osh_db *db, const struct audit_filter *f,
    int64_t before_id, int limit, store_rows_cb cb, void *arg);
/* Inserts stream entries given as a JSON array of objects; duplicates
 * (same stream_id) are ignored. */
void store_audit_insert(
    struct osh_db *db, const char *json_array, store_done_cb cb, void *arg);

#endif
