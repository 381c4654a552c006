/* rmcp.h - asks a would-be BMC, without credentials, what it supports:
 * one Get Channel Authentication Capabilities over RMCP, on the event loop
 * (no thread, no session), for discovery scans. */
#ifndef OSH_RMCP_H
#define OSH_RMCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

struct osh_rmcp_caps {
	bool answered;
	bool refused; /* the host said nothing listens on that port */
	bool ipmi15, ipmi20;
	bool auth_none, auth_md2, auth_md5, auth_straight, auth_oem;
	bool anonymous_login, null_usernames, non_null_usernames;
	bool per_message_auth, user_level_auth;
	uint32_t oem_id;
	double rtt_ms;
};

typedef void (*osh_rmcp_cb)(const struct osh_rmcp_caps *caps, void *arg);

/* Probes an IPv4 or IPv6 address (numeric) and port; cb runs once, later:
 * answered=false when nothing came back within timeout_ms (one resend at
 * half time). Returns -1 when the address is not numeric. */
int osh_rmcp_probe(struct event_base *base, const char *addr, uint16_t port,
    int timeout_ms, osh_rmcp_cb cb, void *arg);

/* Parses an answer datagram; false when it is not one. */
bool osh_rmcp_parse(const uint8_t *p, size_t n, struct osh_rmcp_caps *out);

/* Builds the request datagram into buf (at least 23 bytes); v20 asks for
 * the IPMI 2.0 extended answer. Returns its length. */
size_t osh_rmcp_request(uint8_t *buf, bool v20);

#endif
