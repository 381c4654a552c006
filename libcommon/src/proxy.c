/* proxy.c - trusted proxy ranges and the client behind them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "osh/log.h"
#include "osh/proxy.h"
#include "osh/util.h"

static const unsigned char v4mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool
osh_cidr_parse(const char *s, struct osh_cidr *out)
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
	/* osh_parse_int takes a sign and white space: digits only here. */
	if (slash != NULL &&
	    (slash[1] < '0' || slash[1] > '9' ||
		!osh_parse_int(slash + 1, 0, max, &bits) ||
		strspn(slash + 1, "0123456789") != strlen(slash + 1)))
		return false;
	out->bits = (unsigned)bits;
	if (out->family == AF_INET6 && out->bits >= 96 &&
	    memcmp(out->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = AF_INET;
		out->bits -= 96;
	}
	max = out->family == AF_INET ? 32 : 128;
	for (unsigned i = out->bits; i < max; i++)
		out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	return true;
}

void
osh_cidr_format(const struct osh_cidr *c, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		osh_strlcpy(a, "?", sizeof(a));
	snprintf(out, len, "%s/%u", a, c->bits);
}

int
osh_cidr_list_parse(
    const char *text, struct osh_cidr_list *out, char *err, size_t errlen)
{
	static const char sep[] = ", \t\r\n";
	const char *p = text;

	out->n = 0;
	for (;;) {
		char item[INET6_ADDRSTRLEN + 8];
		size_t n;

		p += strspn(p, sep);
		if (*p == '\0')
			return 0;
		n = strcspn(p, sep);
		if (n >= sizeof(item)) {
			snprintf(err, errlen,
			    "\"%.*s...\" is not an address range", 20, p);
			goto out_fail;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (out->n == OSH_CIDR_LIST_MAX) {
			snprintf(err, errlen, "more than %d address ranges",
			    OSH_CIDR_LIST_MAX);
			goto out_fail;
		}
		if (!osh_cidr_parse(item, &out->net[out->n])) {
			char q[64];

			snprintf(err, errlen,
			    "\"%s\" is not an address or a CIDR range "
			    "(10.0.0.0/8, fd00::/8)",
			    osh_log_quote(item, q, sizeof(q)));
			goto out_fail;
		}
		out->n++;
		p += n;
	}
out_fail:
	out->n = 0;
	return -1;
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

/* Whether raw (family's width, network order) is in one of the ranges. */
static bool
list_has_raw(
    const struct osh_cidr *net, size_t n, int family, const unsigned char *raw)
{
	if (family == AF_INET6 &&
	    memcmp(raw, v4mapped, sizeof(v4mapped)) == 0) {
		raw += sizeof(v4mapped);
		family = AF_INET;
	}
	for (size_t i = 0; i < n; i++)
		if (net[i].family == family &&
		    prefix_eq(raw, net[i].addr, net[i].bits))
			return true;
	return false;
}

bool
osh_cidr_array_has_sa(
    const struct osh_cidr *net, size_t n, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return list_has_raw(net, n, AF_INET,
		    (const unsigned char *)&(
			(const struct sockaddr_in *)(const void *)sa)
			->sin_addr);
	if (sa->sa_family == AF_INET6)
		return list_has_raw(net, n, AF_INET6,
		    (const unsigned char *)&(
			(const struct sockaddr_in6 *)(const void *)sa)
			->sin6_addr);
	return false;
}

bool
osh_cidr_list_has_sa(const struct osh_cidr_list *l, const struct sockaddr *sa)
{
	return osh_cidr_array_has_sa(l->net, l->n, sa);
}

/* addr (text) as raw bytes; its family, or 0 when it is no address. */
static int
addr_raw(const char *addr, unsigned char raw[16])
{
	if (inet_pton(AF_INET, addr, raw) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, addr, raw) == 1)
		return AF_INET6;
	return 0;
}

bool
osh_cidr_list_has(const struct osh_cidr_list *l, const char *addr)
{
	unsigned char raw[16];
	int family = addr_raw(addr, raw);

	return family != 0 && list_has_raw(l->net, l->n, family, raw);
}

bool
osh_addr_canonical(const char *addr, char *out, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char raw[16];
	int family = addr_raw(addr, raw);
	const unsigned char *p = raw;

	if (family == AF_INET6 &&
	    memcmp(raw, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		p += sizeof(v4mapped);
	}
	if (family == 0 || inet_ntop(family, p, buf, sizeof(buf)) == NULL)
		return false;
	osh_strlcpy(out, buf, len);
	return true;
}

/* The entry of list ending just before 'end' (exclusive), trimmed: its
 * start into *start and length returned; *next is where the walk goes
 * on (NULL when this was the first entry). */
static size_t
last_entry(
    const char *list, const char *end, const char **start, const char **next)
{
	const char *e = end, *s;

	while (e > list && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	s = e;
	while (s > list && s[-1] != ',')
		s--;
	*next = s > list ? s - 1 : NULL;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	*start = s;
	return (size_t)(e - s);
}

void
osh_proxy_client(const struct osh_cidr_list *trusted, const char *peer,
    bool peer_trusted, const char *const *xff, size_t nxff, const char *xreal,
    char *out, size_t len)
{
	char last[OSH_ADDR_TEXT_MAX] = "";
	bool any = false;

	osh_strlcpy(out, peer, len);
	if (!peer_trusted)
		return;
	for (size_t f = nxff; f-- > 0;) {
		const char *end = xff[f] + strlen(xff[f]), *s, *next;

		while (end != NULL) {
			char item[OSH_ADDR_TEXT_MAX];
			size_t n = last_entry(xff[f], end, &s, &next);

			end = next;
			if (n == 0 && next != NULL)
				continue; /* "a,,b": an empty list element */
			if (n == 0)
				break;
			any = true;
			if (n >= sizeof(item))
				goto out_stop;
			memcpy(item, s, n);
			item[n] = '\0';
			if (!osh_addr_canonical(item, last, sizeof(last)))
				goto out_stop;
			if (!osh_cidr_list_has(trusted, last)) {
				osh_strlcpy(out, last, len);
				return;
			}
		}
	}
	if (any)
		goto out_stop;
	if (xreal != NULL && osh_addr_canonical(xreal, last, sizeof(last)))
		osh_strlcpy(out, last, len);
	return;
out_stop:
	if (last[0] != '\0')
		osh_strlcpy(out, last, len);
}
