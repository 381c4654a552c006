/* proxy.h - trusted proxies: address ranges (CIDR, IPv4 and IPv6) and the
 * client address a request came from when it passed through them. */
#ifndef OSH_PROXY_H
#define OSH_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define OSH_CIDR_LIST_MAX 64
#define OSH_ADDR_TEXT_MAX 64 /* INET6_ADDRSTRLEN and room to spare */

struct osh_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order, host bits cleared */
	unsigned bits;
};

/* A bounded list of ranges; embedded, nothing to free. */
struct osh_cidr_list {
	struct osh_cidr net[OSH_CIDR_LIST_MAX];
	size_t n;
};

/* Parses "10.0.0.0/8", "fd00::/8" or a single address ("10.1.2.3", "::1":
 * every bit). Host bits set in the address are cleared ("10.1.2.3/8" is
 * 10.0.0.0/8). An IPv4-mapped IPv6 address (::ffff:a.b.c.d/n, n >= 96) is
 * taken as the IPv4 range it maps. False on anything else (names, zone
 * ids, brackets, ports, a prefix past the family's width). */
bool osh_cidr_parse(const char *s, struct osh_cidr *out);

/* Writes the range as "addr/bits" into out (at least OSH_ADDR_TEXT_MAX). */
void osh_cidr_format(const struct osh_cidr *c, char *out, size_t len);

/* Parses a list of ranges separated by commas and/or white space ("" is
 * the empty list). On a bad entry, or more than OSH_CIDR_LIST_MAX, writes
 * a reason naming the entry into err and returns -1; out is then empty. */
int osh_cidr_list_parse(
    const char *text, struct osh_cidr_list *out, char *err, size_t errlen);

/* Whether an address is in one of the ranges: as a socket address
 * (AF_INET or AF_INET6; anything else is in none), or as text (an IPv4
 * or IPv6 address; anything else is in none). An IPv4-mapped IPv6 address
 * counts as its IPv4 address. */
/* Whether sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * its IPv4 address) is in one of the n ranges of net. */
bool osh_cidr_array_has_sa(
    const struct osh_cidr *net, size_t n, const struct sockaddr *sa);
bool osh_cidr_list_has_sa(
    const struct osh_cidr_list *l, const struct sockaddr *sa);
bool osh_cidr_list_has(const struct osh_cidr_list *l, const char *addr);

/* Writes addr (text) in canonical form into out (OSH_ADDR_TEXT_MAX): an
 * IPv4-mapped IPv6 address as its IPv4 address, IPv6 compressed and lower
 * case. False (out untouched) when addr is not an IP address. */
bool osh_addr_canonical(const char *addr, char *out, size_t len);

/* The client a request speaks for, when its peer (text) is a trusted
 * proxy: X-Forwarded-For (its nxff header fields, in arrival order, each a
 * comma list) is read from the right, skipping the trusted proxies that
 * appended to it; the first address not trusted is the client. A malformed
 * entry stops the walk (what is left of it was written by no one
 * trusted): the last trusted address read is then the client, as when
 * every entry is trusted. Without X-Forwarded-For, X-Real-IP (xreal, may
 * be NULL) when it is an address. When the peer is not trusted, or the
 * headers say nothing usable, the peer itself. The result, canonical
 * (osh_addr_canonical) unless it is the peer as given, goes into out
 * (OSH_ADDR_TEXT_MAX). Pure: no allocation, bounded by the input. */
void osh_proxy_client(const struct osh_cidr_list *trusted, const char *peer,
    bool peer_trusted, const char *const *xff, size_t nxff, const char *xreal,
    char *out, size_t len);

#endif
