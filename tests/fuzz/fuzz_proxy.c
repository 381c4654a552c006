/* fuzz_proxy.c - libFuzzer target: trusted proxy ranges and the client
 * behind them (proxy.c): osh_cidr_parse, osh_cidr_list_parse and
 * osh_proxy_client, the parsers of OSH_TRUSTED_PROXIES and of the
 * X-Forwarded-For / X-Real-IP headers a request brings.
 *
 * Input: byte 0 picks the function. 0: the rest is one range, parsed,
 * written back and parsed again (the same range). 1: the rest is a list
 * (up to its first NUL). 2: the rest is "peer\ntrusted list\nX-Real-IP\n"
 * then X-Forwarded-For fields, one a line; the client must be the peer,
 * or an address, canonical, that the peer was trusted to name. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 8

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_proxy: %s\n", what);
	abort();
}

static bool
is_addr(const char *s)
{
	unsigned char raw[16];

	return inet_pton(AF_INET, s, raw) == 1 ||
	    inet_pton(AF_INET6, s, raw) == 1;
}

static void
one_range(const char *s)
{
	struct osh_cidr c, again;
	char text[OSH_ADDR_TEXT_MAX];

	if (!osh_cidr_parse(s, &c))
		return;
	check(c.family == AF_INET ? c.bits <= 32 : c.bits <= 128, "bits");
	osh_cidr_format(&c, text, sizeof(text));
	check(osh_cidr_parse(text, &again), "written back does not parse");
	check(memcmp(&c, &again, sizeof(c)) == 0, "round trip differs");
}

static void
list(const char *s)
{
	struct osh_cidr_list l;
	char err[160];

	if (osh_cidr_list_parse(s, &l, err, sizeof(err)) != 0) {
		check(l.n == 0, "a failed list is not empty");
		check(
		    memchr(err, '\0', sizeof(err)) != NULL, "err unterminated");
		return;
	}
	check(l.n <= OSH_CIDR_LIST_MAX, "list too long");
	for (size_t i = 0; i < l.n; i++) {
		char text[OSH_ADDR_TEXT_MAX];

		osh_cidr_format(&l.net[i], text, sizeof(text));
		/* The range's own network address is in it. */
		*strchr(text, '/') = '\0';
		check(osh_cidr_list_has(&l, text), "network not in its list");
	}
}

static void
client(char *s)
{
	char *line[3 + MAX_FIELDS];
	const char *xff[MAX_FIELDS];
	size_t n = 0, nxff;
	struct osh_cidr_list l;
	char err[160], out[OSH_ADDR_TEXT_MAX], canon[OSH_ADDR_TEXT_MAX];
	bool trusted;

	line[n++] = s;
	while (n < sizeof(line) / sizeof(line[0]) &&
	    (s = strchr(s, '\n')) != NULL) {
		*s++ = '\0';
		line[n++] = s;
	}
	if (n < 3)
		return;
	if (strlen(line[0]) >= OSH_ADDR_TEXT_MAX ||
	    osh_cidr_list_parse(line[1], &l, err, sizeof(err)) != 0)
		return;
	nxff = n - 3;
	for (size_t i = 0; i < nxff; i++)
		xff[i] = line[3 + i];
	for (int t = 0; t < 2; t++) {
		trusted = t == 1;
		memset(out, 0x55, sizeof(out));
		osh_proxy_client(&l, line[0], trusted, xff, nxff,
		    line[2][0] ? line[2] : NULL, out, sizeof(out));
		check(memchr(out, '\0', sizeof(out)) != NULL, "unterminated");
		if (!trusted) {
			check(strcmp(out, line[0]) == 0, "untrusted believed");
			continue;
		}
		if (strcmp(out, line[0]) == 0)
			continue;
		check(is_addr(out), "the client is no address");
		check(osh_addr_canonical(out, canon, sizeof(canon)) &&
			strcmp(out, canon) == 0,
		    "the client is not canonical");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0: one_range(s); break;
	case 1: list(s); break;
	default: client(s); break;
	}
	free(s);
	return 0;
}
