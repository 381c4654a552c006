/* cookie.h - HTTP cookies (RFC 6265): finding one cookie in a request's
 * Cookie header, which is outside input, and writing a Set-Cookie value.
 * Pure: no I/O, no allocation. Values may be credentials (a refresh
 * token): the caller wipes what it copied out or formatted. */
#ifndef OSH_COOKIE_H
#define OSH_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest Cookie header looked at: a longer one is refused whole. */
#define OSH_COOKIE_HEADER_MAX 8192

enum osh_cookie_result {
	OSH_COOKIE_FOUND, /* the value is in out */
	OSH_COOKIE_ABSENT, /* no cookie called name (or no header) */
	/* The cookie is there but unusable: sent twice (another path or a
	 * sibling host may have planted one), a value with characters
	 * outside cookie-octet, one that does not fit out, or a header
	 * longer than OSH_COOKIE_HEADER_MAX. out is empty. */
	OSH_COOKIE_BAD,
};

/* Finds the cookie called name (not empty: an empty name is never found)
 * in the value of a Cookie header (header may be NULL: absent), "a=1; b=2" as user agents send it: pairs split on
 * ';', spaces and tabs around each pair ignored, a value optionally in
 * double quotes (removed). Other cookies are skipped whatever they hold,
 * so that one malformed cookie of another application on the same host
 * does not lock users out. Names compare exactly (case matters). Copies
 * the value with a NUL into out (len bytes, len > 0); out is "" unless
 * FOUND. */
enum osh_cookie_result osh_cookie_get(
    const char *header, const char *name, char *out, size_t len);

/* Attributes of a Set-Cookie. */
struct osh_cookie_attrs {
	const char *path; /* Path=, NULL: none */
	int64_t max_age; /* Max-Age= in seconds; 0 deletes the cookie */
	bool secure; /* Secure: sent over HTTPS only */
	bool http_only; /* HttpOnly: out of scripts' reach */
	const char *same_site; /* "Strict", "Lax", or NULL: none */
};

/* Writes "name=value; Path=...; Max-Age=...; ..." into out (len bytes
 * with the NUL), for a Set-Cookie header. Returns 0, or -1 (out "") when
 * name is no token, value holds characters outside cookie-octet or the
 * path a ';' or control character, max_age is negative, or it does not
 * fit. */
int osh_cookie_format(char *out, size_t len, const char *name,
    const char *value, const struct osh_cookie_attrs *a);

#endif
