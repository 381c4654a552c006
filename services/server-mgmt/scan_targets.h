/* scan_targets.h - what a discovery scan may probe: the addresses and
 * ports of a scan request expanded into targets, and the networks refused
 * unless the allow list (OSH_SCAN_ALLOW) holds them. Pure functions. */
#ifndef SM_SCAN_TARGETS_H
#define SM_SCAN_TARGETS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>

struct scan_target {
	char host[64];
	uint16_t port;
};

/* Networks a scan may reach although they are refused by default
 * (OSH_SCAN_ALLOW): IPv4 and IPv6 CIDRs. */
#define SCAN_ALLOW_MAX 32
struct scan_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order, host bits zero */
	int bits;
};
struct scan_allow {
	struct scan_cidr nets[SCAN_ALLOW_MAX];
	size_t n;
};

/* Parses a comma separated list of CIDRs ("127.0.0.1/32, fd00::/8"; a
 * bare address is one host; spaces around items are fine; "" is none).
 * False with a reason in err on anything else. */
bool scan_allow_parse(
    const char *list, struct scan_allow *out, char *err, size_t errlen);
/* The config validator of OSH_SCAN_ALLOW (field: const char *). */
bool scan_allow_valid(const void *field, char *err, size_t errlen);

/* Why a scan may not probe 'addr' (an IPv4 or IPv6 address): loopback,
 * link-local, multicast, broadcast, unspecified or reserved addresses are
 * refused unless 'allow' (may be NULL) holds them; IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they map. Returns NULL when it
 * may, else a static phrase ("a loopback address"). */
const char *scan_refusal(const char *addr, const struct scan_allow *allow);

/* Expands a range (CIDR, a-b, or a list of addresses, comma separated or
 * as a JSON array) and ports (a number, "a-b" or an array) into targets,
 * at most max of them, every address passing scan_refusal. Returns a new
 * array (count in *n), or NULL with err naming the field. */
struct scan_target *scan_targets(struct json_object *range,
    struct json_object *ports, size_t max, const struct scan_allow *allow,
    size_t *n, struct osh_err *err);

#endif
