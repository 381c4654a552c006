/* cidr.c - CIDR ranges for allowed_targets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <osh/util.h>

#include "cidr.h"

bool
cidr_parse(const char *s, struct cidr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	int64_t bits;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	bits = max;
	if (slash != NULL && !osh_parse_int(slash + 1, 0, max, &bits))
		return false;
	out->bits = (unsigned)bits;
	for (unsigned i = out->bits; i < max; i++)
		out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	return true;
}

void
cidr_format(const struct cidr *c, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		osh_strlcpy(a, "?", sizeof(a));
	snprintf(out, len, "%s/%u", a, c->bits);
}

static bool
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

bool
cidr_contains(const struct cidr *c, const struct sockaddr *addr)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *raw;
	int family = addr->sa_family;

	if (family == AF_INET) {
		raw = (const unsigned char *)&(
		    (const struct sockaddr_in *)(const void *)addr)
			  ->sin_addr;
	} else if (family == AF_INET6) {
		raw = (const unsigned char *)&(
		    (const struct sockaddr_in6 *)(const void *)addr)
			  ->sin6_addr;
		if (c->family == AF_INET &&
		    memcmp(raw, mapped, sizeof(mapped)) == 0) {
			raw += sizeof(mapped);
			family = AF_INET;
		}
	} else {
		return false;
	}
	return family == c->family && prefix_eq(raw, c->addr, c->bits);
}

bool
cidr_list_contains(
    const struct cidr *list, size_t n, const struct sockaddr *addr)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&list[i], addr))
			return true;
	return false;
}
