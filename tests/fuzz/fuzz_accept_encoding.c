/* fuzz_accept_encoding.c - libFuzzer target: Accept-Encoding headers
 * through osh_http_accepts_gzip (libcommon/src/http_encoding.c), which
 * decides whether a shared reply body goes out gzip-encoded.
 *
 * Input: the header value (up to its first NUL).
 *
 * Invariants: empty elements in front change nothing; a header naming
 * neither gzip nor "*" never takes gzip; the first mention of gzip counts
 * ("gzip;q=0," in front refuses it, "gzip," in front takes it). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osh/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_accept_encoding: %s\n", what);
	abort();
}

static bool
with_prefix(const char *prefix, const char *h)
{
	size_t n = strlen(prefix) + strlen(h) + 1;
	char *s = malloc(n);
	bool r;

	if (s == NULL)
		abort();
	snprintf(s, n, "%s%s", prefix, h);
	r = osh_http_accepts_gzip(s);
	free(s);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	bool r;

	if (h == NULL)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	r = osh_http_accepts_gzip(h);
	check(
	    with_prefix(" ,\t, ", h) == r, "empty elements changed the answer");
	if (strcasestr(h, "gzip") == NULL && strchr(h, '*') == NULL)
		check(!r, "gzip taken though not named");
	check(!with_prefix("gzip;q=0,", h), "a refusal in front did not count");
	check(with_prefix("gzip,", h), "gzip in front was not taken");
	free(h);
	return 0;
}
