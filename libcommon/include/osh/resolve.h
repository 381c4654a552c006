/* resolve.h - host name lookups on the event loop (libevent's evdns):
 * address literals at once, then /etc/hosts, then DNS as resolv.conf
 * says, each lookup within its caller's deadline, a bounded number at
 * once, answers kept for a short time. Nothing blocks the loop or pins a
 * worker thread the way getaddrinfo(3) does; callers then hand an address,
 * not a name, to whatever connects (the IPMI engine, say). */
#ifndef OSH_RESOLVE_H
#define OSH_RESOLVE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct osh_resolver;
struct osh_resolve_req;

enum osh_resolve_status {
	OSH_RESOLVE_OK,
	OSH_RESOLVE_NOT_FOUND, /* no such name, or no address of the family */
	OSH_RESOLVE_TIMEOUT, /* no answer by the deadline */
	OSH_RESOLVE_BUSY, /* too many lookups under way */
	OSH_RESOLVE_INVALID, /* not a host name or an address */
	OSH_RESOLVE_FAILED, /* the resolver failed (no server, memory) */
	OSH_RESOLVE_CANCELLED, /* the resolver was freed */
};

/* "ok", "not_found", "timeout", ... */
const char *osh_resolve_status_str(enum osh_resolve_status st);

#define OSH_RESOLVE_MAX_ADDRS 8

/* The addresses a name has, in the order the resolver gave them (IPv4
 * before IPv6 for names DNS answers), at most OSH_RESOLVE_MAX_ADDRS. Ports
 * are 0. text[i] is addr[i] printed (inet_ntop). */
struct osh_resolved {
	size_t n;
	struct sockaddr_storage addr[OSH_RESOLVE_MAX_ADDRS];
	char text[OSH_RESOLVE_MAX_ADDRS][INET6_ADDRSTRLEN];
};

struct osh_resolver_options {
	int max_inflight; /* lookups at once, beyond: OSH_RESOLVE_BUSY; 0: 256 */
	int cache_ttl_s; /* how long an answer is reused; 0: not at all */
	size_t cache_max; /* names kept; 0: 1024 */
	/* "ip[:port],..." to ask instead of resolv.conf's; NULL or "": those
	 * of /etc/resolv.conf. */
	const char *nameservers;
};

/* Reads /etc/resolv.conf (unless nameservers are given) and /etc/hosts.
 * NULL on failure, a bad nameservers list included. */
struct osh_resolver *osh_resolver_new(
    struct event_base *base, const struct osh_resolver_options *opt);

/* Answers every lookup still under way with OSH_RESOLVE_CANCELLED, lets
 * libevent finish them (it runs the loop without blocking for that), then
 * frees the resolver. NULL is fine. */
void osh_resolver_free(struct osh_resolver *r);

/* st is OSH_RESOLVE_OK with at least one address, or says why not (res is
 * then NULL). res is valid only during the callback. */
typedef void (*osh_resolve_cb)(
    enum osh_resolve_status st, const struct osh_resolved *res, void *arg);

/* Looks up host (a name, or an IPv4/IPv6 address without brackets) for
 * family AF_INET, AF_INET6 or AF_UNSPEC (both). The callback runs exactly
 * once: by timeout_ms at the latest, or before this returns when the
 * answer is known at once (an address, a cached name, an /etc/hosts
 * entry, a refusal), in which case this returns NULL. Otherwise the
 * handle may cancel the lookup until the callback has run. */
struct osh_resolve_req *osh_resolve(struct osh_resolver *r, const char *host,
    int family, int timeout_ms, osh_resolve_cb cb, void *arg);

/* The callback of q will not run. */
void osh_resolve_cancel(struct osh_resolve_req *q);

/* Lookups under way, and names cached (for metrics and tests). */
size_t osh_resolver_inflight(const struct osh_resolver *r);
size_t osh_resolver_cached(const struct osh_resolver *r);

#endif
