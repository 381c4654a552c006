/* cidr.h - address ranges (CIDR) and the test whether an address is in
 * one: a module's allowed_targets. */
#ifndef EXP_CIDR_H
#define EXP_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order, host bits cleared */
	unsigned bits;
};

/* Parses "10.0.0.0/8", "fd00::/8", or a single address ("10.1.2.3",
 * "::1": all bits). Host bits set in the address are cleared
 * ("10.1.2.3/8" is 10.0.0.0/8). False on anything else. */
bool cidr_parse(const char *s, struct cidr *out);

/* Writes the range back as "addr/bits". */
void cidr_format(const struct cidr *c, char *out, size_t len);

/* Whether addr (AF_INET or AF_INET6) is in c. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) counts as its IPv4 address. */
bool cidr_contains(const struct cidr *c, const struct sockaddr *addr);

/* Whether addr is in any of the n ranges. */
bool cidr_list_contains(
    const struct cidr *list, size_t n, const struct sockaddr *addr);

#endif
