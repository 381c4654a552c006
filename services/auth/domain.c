/* domain.c - rules of the auth service that need no I/O. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"

bool
auth_username_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= AUTH_USERNAME_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-' || c == '@'))
			return false;
	}
	return n > 0;
}

bool
auth_username_key(const char *name, char *key, size_t len)
{
	bool whole = osh_utf8_copy(key, name, len);

	for (char *p = key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return whole;
}

bool
auth_password_acceptable(const char *password, const char *username,
    const char *field, struct osh_err *err)
{
	size_t chars = osh_utf8_len(password, strlen(password));

	if (chars < AUTH_PASSWORD_MIN) {
		osh_err_set(err, 400, "validation_failed", field,
		    "%s must be at least %d characters", field,
		    AUTH_PASSWORD_MIN);
		return false;
	}
	if (chars > AUTH_PASSWORD_MAX) {
		osh_err_set(err, 400, "validation_failed", field,
		    "%s must be at most %d characters", field,
		    AUTH_PASSWORD_MAX);
		return false;
	}
	if (username != NULL && strcasecmp(password, username) == 0) {
		osh_err_set(err, 400, "validation_failed", field,
		    "%s must differ from the username", field);
		return false;
	}
	return true;
}

int
auth_page_parse(const char *limit, const char *offset, const char *sort,
    const struct auth_sort_key *keys, size_t nkeys, int64_t max_limit,
    struct auth_page *out, struct osh_err *err)
{
	out->limit = 50;
	out->offset = 0;
	out->order = keys[0].asc;
	if (limit != NULL && !osh_parse_int(limit, 1, max_limit, &out->limit))
		return osh_err_set(err, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to %lld",
		    (long long)max_limit);
	if (offset != NULL &&
	    !osh_parse_int(offset, 0, 100000000, &out->offset))
		return osh_err_set(err, 400, "validation_failed", "offset",
		    "offset must be a non-negative integer");
	if (sort != NULL) {
		bool desc = sort[0] == '-';
		const char *name = desc ? sort + 1 : sort;

		for (size_t i = 0; i < nkeys; i++) {
			if (strcmp(keys[i].name, name) == 0) {
				out->order = desc ? keys[i].desc : keys[i].asc;
				return 0;
			}
		}
		return osh_err_set(err, 400, "validation_failed", "sort",
		    "sort must name a sortable field, '-' first for "
		    "descending");
	}
	return 0;
}

void
auth_csv_field(struct osh_buf *b, const char *s, bool last)
{
	bool quote = false, formula;

	if (s == NULL)
		s = "";
	formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	    s[0] == '\t' || s[0] == '\r';
	quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		osh_buf_puts(b, "\"");
	if (formula)
		osh_buf_puts(b, "'");
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			osh_buf_puts(b, "\"\"");
		else
			osh_buf_append(b, p, 1);
	}
	if (quote)
		osh_buf_puts(b, "\"");
	osh_buf_puts(b, last ? "\r\n" : ",");
}

void
auth_throttle_keys(const char *username, const char *client, char *user_key,
    size_t ulen, char *addr_key, size_t alen)
{
	char name[AUTH_USERNAME_MAX * 4 + 1], addr[OSH_CLIENT_KEY_LEN];
	int n;

	auth_username_key(username, name, sizeof(name));
	osh_client_key(client, addr, sizeof(addr));
	/* Cut between characters: the keys are valid UTF-8 like the name. */
	n = snprintf(user_key, ulen, "osh:login:fail:user:%s", name);
	if (n >= 0 && (size_t)n >= ulen && ulen > 0)
		user_key[osh_utf8_complete(user_key, ulen - 1)] = '\0';
	n = snprintf(addr_key, alen, "osh:login:fail:addr:%s", addr);
	if (n >= 0 && (size_t)n >= alen && alen > 0)
		addr_key[osh_utf8_complete(addr_key, alen - 1)] = '\0';
}
