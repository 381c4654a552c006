/* rmcp.h - asks a would-be BMC, without credentials, what it supports:
 * one Get Channel Authentication Capabilities over RMCP, on the event loop
 * (no thread, no session), for discovery scans and before the engine opens
 * a session. */
#ifndef OSH_RMCP_H
#define OSH_RMCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct osh_rmcp_probe;

/* A host sending this many datagrams that are not answers is given up
 * on before the timeout: it is not a BMC, or not one we understand. */
#define OSH_RMCP_MAX_JUNK 16

struct osh_rmcp_caps {
	bool answered;
	bool refused; /* the host said nothing listens on that port */
	unsigned junk; /* datagrams that were not answers */
	bool ipmi15, ipmi20;
	bool auth_none, auth_md2, auth_md5, auth_straight, auth_oem;
	bool anonymous_login, null_usernames, non_null_usernames;
	bool per_message_auth, user_level_auth;
	uint32_t oem_id;
	double rtt_ms;
};

typedef void (*osh_rmcp_cb)(const struct osh_rmcp_caps *caps, void *arg);

/* Probes an IPv4 or IPv6 address (numeric) and port. cb runs exactly once,
 * later, on the loop, within timeout_ms (at least 100) of the start,
 * whatever the host sends: answered=false when no answer came (one resend
 * at half time; OSH_RMCP_MAX_JUNK datagrams that are not answers end it
 * sooner). Returns NULL when the address is not numeric or the socket
 * cannot be made; cb never runs then. The handle is the caller's to
 * cancel until cb runs; the probe frees itself before cb runs. */
struct osh_rmcp_probe *osh_rmcp_probe_start(struct event_base *base,
    const char *addr, uint16_t port, int timeout_ms, osh_rmcp_cb cb, void *arg);

/* Stops a probe whose cb has not run yet: cb never runs, and its socket
 * and events are freed. Not from within cb (the probe is gone then). */
void osh_rmcp_probe_cancel(struct osh_rmcp_probe *p);

/* osh_rmcp_probe_start for callers that never cancel: 0, or -1 when it
 * could not start (cb never runs then). */
int osh_rmcp_probe(struct event_base *base, const char *addr, uint16_t port,
    int timeout_ms, osh_rmcp_cb cb, void *arg);

/* Parses an answer datagram of n bytes (untrusted: never read past it);
 * false when it is not one. */
bool osh_rmcp_parse(const uint8_t *p, size_t n, struct osh_rmcp_caps *out);

/* Builds the request datagram into buf (at least 23 bytes); v20 asks for
 * the IPMI 2.0 extended answer. Returns its length. */
size_t osh_rmcp_request(uint8_t *buf, bool v20);

#endif
