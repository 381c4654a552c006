/* fuzz_cookie.c - libFuzzer target: Cookie headers through
 * osh_cookie_get (libcommon/src/cookie.c), the parser the auth service
 * reads browser refresh tokens with.
 *
 * Input: byte 0 is the size of the output buffer (1-256), byte 1 the
 * length of the cookie name looked for (taken from the next bytes, up
 * to a NUL), the rest the header value.
 *
 * Invariants: out is always NUL terminated within its size; FOUND leaves
 * only cookie-octets in out, which osh_cookie_format writes back and
 * osh_cookie_get reads again to the same value; ABSENT and BAD leave out
 * empty. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_cookie: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[64], *header, *out, set[600], again[300];
	size_t outlen, nlen;
	enum osh_cookie_result r;
	struct osh_cookie_attrs a = {"/api/auth", 1, true, true, "Strict"};

	if (size < 2)
		return 0;
	outlen = (size_t)data[0] % 256 + 1;
	nlen = (size_t)data[1] % sizeof(name);
	data += 2;
	size -= 2;
	if (nlen > size)
		nlen = size;
	memcpy(name, data, nlen);
	name[nlen] = '\0';
	data += nlen;
	size -= nlen;
	if ((header = malloc(size + 1)) == NULL ||
	    (out = malloc(outlen)) == NULL) {
		free(header);
		return 0;
	}
	memcpy(header, data, size);
	header[size] = '\0';
	r = osh_cookie_get(header, name, out, outlen);
	check(memchr(out, '\0', outlen) != NULL, "out not terminated");
	if (r != OSH_COOKIE_FOUND) {
		check(out[0] == '\0', "out not empty unless found");
		goto out_free;
	}
	check(name[0] != '\0', "found under an empty name");
	if (osh_cookie_format(set, sizeof(set), name, out, &a) != 0)
		goto out_free; /* the name is no token: fine, not ours */
	*strchr(set, ';') = '\0';
	check(
	    osh_cookie_get(set, name, again, sizeof(again)) == OSH_COOKIE_FOUND,
	    "formatted cookie not found again");
	check(strcmp(out, again) == 0, "formatted cookie read differently");
out_free:
	free(header);
	free(out);
	return 0;
}
