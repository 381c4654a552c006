/* fuzz_auth_bodies.c - libFuzzer target: the auth service's request
 * bodies as its handlers read them (handlers_body): osh_json_parse and
 * osh_json_check against the body's own field table (auth_bodies in
 * services/auth/bodies.c), then the rules of its kind (auth_body_check);
 * then what the handlers take out of a body that passed: a user's fields
 * (auth_user_fields), names folded into keys (auth_username_key), the
 * throttle's counter keys (auth_throttle_keys) and client keys
 * (osh_client_key) of the body's strings, taken as addresses; last the
 * body put with its secrets wiped (handlers_body_put).
 *
 * Input: byte 0 picks the body (enum auth_body), the rest is the body.
 *
 * Invariants: a refusal names status 400, a code and valid UTF-8, and a
 * refusal by the rules names one of the body's fields; a body that passed
 * holds only the table's members, required ones present, and meets its
 * kind's rules, checked here against plain references (a new user's name
 * is 1-64 of ASCII letters, digits and . _ - @; a password set is 10-256
 * characters and not the name; an e-mail holds '@' and no space; a new
 * password differs from the current one); a user's fields are the body's
 * own strings; a name's key is the name with A-Z lowered and nothing
 * else changed, its own key, and a valid name's key is valid; a client
 * key is the address itself for IPv4, the IPv4 address for mapped IPv6,
 * a /64 with its low half zero for other IPv6, and the text as it is
 * otherwise, and is its own key. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/bodies.h"
#include "auth/handlers.h"
#include "auth/store.h"
#include "osh/json.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken invariant; libFuzzer keeps the input. */
static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_auth_bodies: %s\n", what);
	abort();
}

static void
check_err(const struct osh_err *err)
{
	check(err->status == 400, "a refusal is not 400");
	check(err->code != NULL && err->code[0] != '\0', "a refusal's code");
	check(strnlen(err->message, sizeof(err->message)) <
		    sizeof(err->message) &&
		osh_utf8_valid(err->message, strlen(err->message)),
	    "a refusal's message");
	check(strnlen(err->field, sizeof(err->field)) < sizeof(err->field) &&
		osh_utf8_valid(err->field, strlen(err->field)),
	    "a refusal's field");
}

static const struct osh_field *
field_of(const struct auth_body_def *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	return NULL;
}

/* The reference of a user name: 1-64 of ASCII letters, digits, . _ - @ */
static bool
ref_username_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_USERNAME_MAX)
		return false;
	return strspn(s,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._-@") == n;
}

static size_t
chars(const char *s)
{
	return osh_utf8_len(s, strlen(s));
}

/* A name's key: the name, A-Z lowered, nothing else changed; its own key;
 * the key of a valid name valid. */
static void
check_name_key(const char *name)
{
	char key[AUTH_USERNAME_MAX * 4 + 1], again[sizeof(key)];
	bool whole = auth_username_key(name, key, sizeof(key));
	size_t n = strlen(key);

	check(whole == (strlen(name) < sizeof(key)), "key: cut or not");
	check(n <= strlen(name) && osh_utf8_valid(key, n), "key: not UTF-8");
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		char want = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		check(key[i] == want, "key: not the name lowered");
	}
	check(auth_username_key(key, again, sizeof(again)) &&
		strcmp(again, key) == 0,
	    "key: not its own key");
	if (ref_username_valid(name))
		check(auth_username_valid(key), "key of a valid name invalid");
}

/* A client key, against inet_pton and inet_ntop. */
static void
check_client_key(const char *addr)
{
	unsigned char a[16], k[16];
	char key[OSH_CLIENT_KEY_LEN], again[OSH_CLIENT_KEY_LEN];
	char text[INET6_ADDRSTRLEN];
	bool is4 = inet_pton(AF_INET, addr, a) == 1;
	bool is6 = !is4 && inet_pton(AF_INET6, addr, a) == 1;
	bool got = osh_client_key(addr, key, sizeof(key));
	size_t n = strnlen(key, sizeof(key));

	check(n < sizeof(key), "client key not terminated");
	check(got == (is4 || is6), "client key: address or not");
	osh_client_key(key, again, sizeof(again));
	check(strcmp(again, key) == 0, "client key not its own key");
	if (!got) {
		check(strncmp(key, addr, n) == 0 &&
			(addr[n] == '\0' || n + 4 >= sizeof(key)),
		    "client key of a text not the text");
		check(osh_utf8_valid(key, n), "client key cut a character");
		return;
	}
	if (is4 || (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)) {
		check(inet_pton(AF_INET, key, k) == 1 &&
			memcmp(k, is4 ? a : a + 12, 4) == 0,
		    "client key of IPv4 not its address");
		return;
	}
	check(n > 3 && strcmp(key + n - 3, "/64") == 0, "no /64");
	key[n - 3] = '\0';
	check(inet_pton(AF_INET6, key, k) == 1, "/64 not an address");
	check(memcmp(k, a, 8) == 0 && memcmp(k + 8, "\0\0\0\0\0\0\0\0", 8) == 0,
	    "client key not the /64");
	check(inet_ntop(AF_INET6, k, text, sizeof(text)) != NULL &&
		strcmp(text, key) == 0,
	    "client key not canonical");
}

/* A password set (NULL: none) is 10-256 characters. */
static void
check_policy(const char *pw)
{
	check(pw == NULL ||
		(chars(pw) >= AUTH_PASSWORD_MIN &&
		    chars(pw) <= AUTH_PASSWORD_MAX),
	    "a password out of the policy passed");
}

/* The rules of a kind, against their references. */
static void
check_rules(enum auth_body kind, struct json_object *o)
{
	const char *email = osh_json_str(o, "email", "");
	const char *name = osh_json_str(o, "username", "");
	const char *pw = osh_json_str(o, "password", NULL);

	if (kind == AUTH_BODY_PROFILE || kind == AUTH_BODY_USER_CREATE ||
	    kind == AUTH_BODY_USER_PATCH)
		check(email[0] == '\0' ||
			(strchr(email, '@') != NULL &&
			    strchr(email, ' ') == NULL),
		    "an e-mail without '@' passed");
	switch (kind) {
	case AUTH_BODY_PASSWORD:
		check(strcmp(osh_json_str(o, "current_password", ""),
			  osh_json_str(o, "new_password", "")) != 0,
		    "an unchanged password passed");
		break;
	case AUTH_BODY_USER_CREATE:
		check(ref_username_valid(name), "an invalid name passed");
		check(pw != NULL && strcasecmp(pw, name) != 0,
		    "no password, or one equal to the name, passed");
		check_policy(pw);
		break;
	case AUTH_BODY_USER_PATCH: check_policy(pw); break;
	case AUTH_BODY_LOGIN:
	case AUTH_BODY_PROFILE:
	case AUTH_BODY_REFRESH:
	case AUTH_BODY_LOGOUT:
	case AUTH_BODY_SERVICE_TOKEN: break;
	}
}

/* A user's fields are the body's own strings. */
static void
check_user_fields(enum auth_body kind, struct json_object *o)
{
	struct user_fields f;
	const char *role_default =
	    kind == AUTH_BODY_USER_CREATE ? "viewer" : NULL;
	bool role_ok = false;

	memset(&f, 0, sizeof(f));
	auth_user_fields(o, role_default, &f);
	check(f.username == osh_json_str(o, "username", NULL) &&
		f.display_name == osh_json_str(o, "display_name", NULL) &&
		f.email == osh_json_str(o, "email", NULL),
	    "user fields not the body's");
	check(f.username_key == NULL && f.password_hash == NULL,
	    "user fields set what they must not");
	check((f.active == NULL) == !osh_json_has(o, "active"),
	    "active set or not");
	check(f.active == NULL || strcmp(f.active, "true") == 0 ||
		strcmp(f.active, "false") == 0,
	    "active neither true nor false");
	if (f.role == NULL) {
		check(kind == AUTH_BODY_USER_PATCH, "a new user without role");
		return;
	}
	for (const char *const *r = auth_role_values; *r != NULL; r++)
		role_ok = role_ok || strcmp(*r, f.role) == 0;
	check(role_ok, "a role not among the roles");
	if (kind == AUTH_BODY_USER_CREATE) {
		check(f.username != NULL, "a new user without a name");
		check_name_key(f.username);
	}
}

/* Every string of a passed body: a name's key, a client's key, and the
 * throttle's keys with both. */
static void
check_strings(struct json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		char u[320], a[160];
		const char *s;

		(void)key;
		if (val == NULL || !json_object_is_type(val, json_type_string))
			continue;
		s = json_object_get_string(val);
		check_name_key(s);
		check_client_key(s);
		auth_throttle_keys(s, s, u, sizeof(u), a, sizeof(a));
		check(strncmp(u, "osh:login:fail:user:", 20) == 0 &&
			osh_utf8_valid(u, strlen(u)),
		    "a user counter's key");
		check(strncmp(a, "osh:login:fail:addr:", 20) == 0 &&
			osh_utf8_valid(a, strlen(a)),
		    "an address counter's key");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum auth_body kind;
	const struct auth_body_def *d;
	struct json_object *o;
	struct osh_err err;
	char *body;

	if (size < 1)
		return 0;
	kind = (enum auth_body)(data[0] % AUTH_NBODIES);
	d = &auth_bodies[kind];
	/* An exact-size copy: ASan sees any read past the end. */
	if ((body = malloc(size)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	memset(&err, 0, sizeof(err));
	/* As osh_req_json reads it: no body at all is an empty object. */
	o = size == 1
	    ? json_object_new_object()
	    : osh_json_parse(body, size - 1, OSH_JSON_MAX_DEPTH, &err);
	if (o == NULL) {
		check_err(&err);
		free(body);
		return 0;
	}
	if (osh_json_check(o, d->fields, d->n, &err) != 0) {
		check_err(&err);
		goto out_put;
	}
	memset(&err, 0, sizeof(err));
	if (auth_body_check(kind, o, &err) != 0) {
		check_err(&err);
		check(field_of(d, err.field) != NULL,
		    "a rule names no field of the body");
		goto out_put;
	}
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		check(field_of(d, key) != NULL, "an unknown member passed");
	}
	for (size_t i = 0; i < d->n; i++)
		check(!d->fields[i].required ||
			osh_json_has(o, d->fields[i].name),
		    "a required member missing");
	check_rules(kind, o);
	if (kind == AUTH_BODY_USER_CREATE || kind == AUTH_BODY_USER_PATCH)
		check_user_fields(kind, o);
	check_strings(o);
out_put:
	handlers_body_put(o);
	free(body);
	return 0;
}
