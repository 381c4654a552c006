/* auth.h - the auth service: its context, configuration and the pure
 * domain rules (passwords, list queries, CSV) that need no I/O. */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/auth.h>
#include <osh/error.h>
#include <osh/service.h>
#include <osh/util.h>

struct auth_config {
	const char *private_key_file;
	const char *service_secret_file;
	const char *bootstrap_user;
	const char *bootstrap_password_file;
	int64_t access_ttl_s;
	int64_t refresh_ttl_s;
	int64_t login_max_failures;
	int64_t login_max_failures_addr;
	int64_t login_window_s;
	int64_t login_inflight_addr;
	int64_t hash_queue_max;
};

struct auth_app {
	struct osh_service *svc;
	struct auth_config cfg;
	struct osh_jwt_signer *signer;
	char *jwks; /* served as is */
	char *service_secret; /* wiped on exit */
	struct audit_consumer *consumer;
	struct inflight *inflight; /* password checks running per address */
	int64_t hashing; /* hashing jobs queued or running */
};

extern struct auth_config auth_config;

/* Outcomes of auth operations; handlers.c maps each to a status. */
enum auth_result {
	AUTH_OK,
	AUTH_BAD_CREDENTIALS,
	AUTH_THROTTLED,
	AUTH_TOKEN_INVALID,
	AUTH_TOKEN_REUSED,
	AUTH_NOT_FOUND,
	AUTH_USERNAME_TAKEN,
	AUTH_LAST_ADMIN,
	AUTH_SELF_DELETE,
	AUTH_WEAK_PASSWORD,
	AUTH_WRONG_PASSWORD,
	AUTH_UNAVAILABLE,
};

#define AUTH_USERNAME_MAX 64
#define AUTH_PASSWORD_MIN 10
#define AUTH_PASSWORD_MAX 256

/* Checks a new password against the policy (length, not the username).
 * Fills err naming 'field' and returns false when it fails. */
bool auth_password_acceptable(const char *password, const char *username,
    const char *field, struct osh_err *err);

/* A username is 1-64 of ASCII letters, digits and . _ - @ (whatever the
 * locale: never isalnum). */
bool auth_username_valid(const char *s);

/* User names match case-insensitively by one rule, ASCII case folding,
 * wherever two are compared: the key stored with each user (unique), the
 * key a login looks up, and the key of the user's failure counter are all
 * this function's output, so an attempt is always counted against the one
 * user it could log in as. The database never folds (lower() follows its
 * locale, which may fold the Kelvin sign to 'k' or 'I' to a dotless i).
 * Since valid names are ASCII, no locale folds two of them differently.
 * Writes name with A-Z folded to a-z into key (len bytes with the
 * terminator), cut between characters when it does not fit; returns false
 * when it was cut. Any valid name fits AUTH_USERNAME_KEY_LEN. */
#define AUTH_USERNAME_KEY_LEN (AUTH_USERNAME_MAX + 1)
bool auth_username_key(const char *name, char *key, size_t len);

/* Paging and sorting of list endpoints. */
struct auth_page {
	int64_t limit, offset;
	const char *order; /* a fixed SQL ORDER BY text from the allow-list */
};

/* Parses ?limit=&offset=&sort= against an allow-list of sortable columns
 * ("name" -> SQL). Fills err naming the field on failure. */
struct auth_sort_key {
	const char *name;
	const char *asc, *desc;
};
int auth_page_parse(const char *limit, const char *offset, const char *sort,
    const struct auth_sort_key *keys, size_t nkeys, int64_t max_limit,
    struct auth_page *out, struct osh_err *err);

/* Appends one CSV field: quoted when needed, and prefixed with a quote
 * when it would start a spreadsheet formula. */
void auth_csv_field(struct osh_buf *b, const char *s, bool last);

/* Keys of the per-user and per-address login failure counters: the
 * user's name by auth_username_key, the client address by osh_client_key
 * (an IPv6 client by its /64). Both are cut between characters to fit. */
void auth_throttle_keys(const char *username, const char *client,
    char *user_key, size_t ulen, char *addr_key, size_t alen);

#endif
