/* cookie.c - the Cookie header parser and Set-Cookie writer (cookie.h). */
#include <stdio.h>
#include <string.h>

#include "osh/cookie.h"

/* RFC 6265 cookie-octet: printable US-ASCII but space, DQUOTE, ',', ';'
 * and '\'. */
static bool
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

/* RFC 9110 tchar. */
static bool
token_char(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether value[0..n) is a cookie-value: cookie-octets, optionally in
 * one pair of double quotes; sets *v, *vn to the octets. */
static bool
value_ok(const char *value, size_t n, const char **v, size_t *vn)
{
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++)
		if (!cookie_octet((unsigned char)value[i]))
			return false;
	*v = value;
	*vn = n;
	return true;
}

enum osh_cookie_result
osh_cookie_get(const char *header, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name), hlen;
	const char *p, *end, *found = NULL;
	size_t found_len = 0;
	bool bad = false;

	out[0] = '\0';
	if (header == NULL || nlen == 0)
		return OSH_COOKIE_ABSENT;
	hlen = strnlen(header, OSH_COOKIE_HEADER_MAX + 1);
	if (hlen > OSH_COOKIE_HEADER_MAX)
		return OSH_COOKIE_BAD;
	end = header + hlen;
	for (p = header; p < end;) {
		const char *pair = p, *stop = memchr(p, ';', (size_t)(end - p));
		const char *pend = stop != NULL ? stop : end, *eq;

		p = stop != NULL ? stop + 1 : end;
		while (pair < pend && is_ows(*pair))
			pair++;
		while (pend > pair && is_ows(pend[-1]))
			pend--;
		eq = memchr(pair, '=', (size_t)(pend - pair));
		if (eq == NULL || (size_t)(eq - pair) != nlen ||
		    memcmp(pair, name, nlen) != 0)
			continue; /* another cookie, or no pair at all */
		if (found != NULL || bad) {
			bad = true; /* twice: which one is ours? */
			continue;
		}
		if (!value_ok(
			eq + 1, (size_t)(pend - eq - 1), &found, &found_len)) {
			found = NULL;
			bad = true;
		}
	}
	if (bad)
		return OSH_COOKIE_BAD;
	if (found == NULL)
		return OSH_COOKIE_ABSENT;
	if (found_len >= len)
		return OSH_COOKIE_BAD;
	memcpy(out, found, found_len);
	out[found_len] = '\0';
	return OSH_COOKIE_FOUND;
}

int
osh_cookie_format(char *out, size_t len, const char *name, const char *value,
    const struct osh_cookie_attrs *a)
{
	const char *v;
	size_t vn;
	int n;

	if (len == 0)
		return -1;
	out[0] = '\0';
	if (name[0] == '\0' || a->max_age < 0)
		return -1;
	for (const char *c = name; *c != '\0'; c++)
		if (!token_char((unsigned char)*c))
			return -1;
	if (!value_ok(value, strlen(value), &v, &vn) || vn != strlen(value))
		return -1; /* no quotes: a value is written as it is */
	for (const char *c = a->path ? a->path : ""; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ';')
			return -1;
	n = snprintf(out, len, "%s=%s%s%s; Max-Age=%lld%s%s%s%s", name, value,
	    a->path ? "; Path=" : "", a->path ? a->path : "",
	    (long long)a->max_age, a->secure ? "; Secure" : "",
	    a->http_only ? "; HttpOnly" : "", a->same_site ? "; SameSite=" : "",
	    a->same_site ? a->same_site : "");
	if (n < 0 || (size_t)n >= len) {
		memset(out, 0, len);
		return -1;
	}
	return 0;
}
