/* discovery.h - discovery scans: which addresses and ports to probe, and
 * the scan itself (probe without credentials, then try the credentials the
 * operator gave, nothing else). */
#ifndef SM_DISCOVERY_H
#define SM_DISCOVERY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>

struct scan_target {
	char host[64];
	uint16_t port;
};

/* Expands a range (CIDR, a-b, or a list of addresses, comma separated or
 * as a JSON array) and ports (a number, "a-b" or an array) into targets,
 * at most max of them. Returns a new array (count in *n), or NULL with err
 * naming the field. */
struct scan_target *scan_targets(struct json_object *range,
    struct json_object *ports, size_t max, size_t *n, struct osh_err *err);

#endif
