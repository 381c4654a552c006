/* webauth.h - what the web configuration asks of every request before it
 * is routed: its response headers, its rate limit, and HTTP basic
 * authentication against bcrypt hashes (libxcrypt's crypt_r). bcrypt
 * costs tens of milliseconds of CPU by design, so it runs on the worker
 * threads, a bounded number at once and a few per client, and each
 * successful check is remembered for a while (keyed by a keyed hash of
 * the user, the stored hash and the password): a Prometheus scraping
 * every 15 s pays it once, not per scrape. A refused password is
 * remembered briefly for the client that sent it, so that a client
 * repeating one does not cost a bcrypt each time; a password not seen
 * before is always checked. An unknown user's password is checked
 * against the configured hash of the largest cost, so that it takes as
 * long as the slowest known user's. GET (and HEAD) /health and /ready
 * stay open for probes. */
#ifndef EXP_WEBAUTH_H
#define EXP_WEBAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/http.h>

#include "webcfg.h"

struct osh_work_pool;
struct webauth;

/* Checks waiting for or running on a worker at most; more answer 503. A
 * last resort: each client has a smaller share of them. */
#define WEBAUTH_MAX_PENDING 32
/* Checks of one client (an IPv4 address, or an IPv6 /64) at most; more
 * answer 429 with Retry-After, so that one client sending wrong
 * passwords cannot keep the others out. */
#define WEBAUTH_MAX_PENDING_PER_CLIENT 4
/* How long a successful check is remembered, and how many are. */
#define WEBAUTH_CACHE_TTL_S 300
#define WEBAUTH_CACHE_SLOTS 256
/* How long a refused password is remembered for its client. */
#define WEBAUTH_FAILURE_TTL_S 60
/* A client's key: an address, or an IPv6 /64 ("2001:db8::/64"). */
#define WEBAUTH_CLIENT_MAX 64
/* bcrypt reads 72 bytes at most: longer passwords are refused, not cut. */
#define WEBAUTH_MAX_PASSWORD 72

struct webauth *webauth_new(struct osh_work_pool *work);

/* Checks still on a worker answer 503 when they finish (after this
 * returns); the last one frees what is left. NULL is fine. */
void webauth_free(struct webauth *a);

/* Uses w from now on and frees the previous configuration; w is taken.
 * Remembered checks stay valid only for unchanged users and hashes. */
void webauth_set_config(struct webauth *a, struct web_config *w);
const struct web_config *webauth_config(const struct webauth *a);

/* The hash an unknown user's password is checked against: the configured
 * users' hash of the largest cost (the first of them), or a built-in
 * cost-10 one without users. Valid until the next webauth_set_config. */
const char *webauth_dummy_hash(const struct webauth *a);

/* The service's admit hook: true to route req now; false when it has
 * answered req (401, 429, 503) or holds it for a bcrypt check, after
 * which it routes it (osh_service_route) or answers 401. */
bool webauth_admit(struct webauth *a, struct osh_req *req);

struct webauth_stats {
	uint64_t verified; /* bcrypt checks run */
	uint64_t cache_hits;
	uint64_t failures; /* 401 answers */
	uint64_t failure_hits; /* 401 from a remembered refusal */
	uint64_t busy; /* 503: too many checks pending */
	uint64_t client_limited; /* 429: too many checks of one client */
	uint64_t rate_limited; /* 429: rate_limit */
	size_t pending;
};
void webauth_stats(const struct webauth *a, struct webauth_stats *out);

/*
 * The pieces, for tests.
 */

/* Splits an "Authorization: Basic base64(user:password)" value. False
 * when it is not one, or when the parts do not fit. */
bool webauth_parse_basic(const char *header, char *user, size_t userlen,
    char *password, size_t passlen);

/* Whether password matches the bcrypt hash (crypt_r, constant-time
 * comparison). Blocks for the hash's cost: call it on a worker. */
bool webauth_bcrypt_verify(const char *hash, const char *password);

/* Writes a new bcrypt hash ($2y$, cost 04 to 31) of password into out
 * (at least 61 bytes), for basic_auth_users. Returns 0, or -1 when the
 * password is longer than WEBAUTH_MAX_PASSWORD or hashing failed. */
int webauth_bcrypt_hash(const char *password, int cost, char *out, size_t len);

/* Remembered checks: a fixed table of WEBAUTH_CACHE_SLOTS slots, each
 * kept ttl_s seconds. */
struct webauth_cache;
struct webauth_cache *webauth_cache_new(unsigned ttl_s);
void webauth_cache_free(struct webauth_cache *c);
/* The key of one check: keyed BLAKE2b (a secret of the cache's own) of
 * the client's key (NULL: any client), the user, the stored hash and
 * the password. */
void webauth_cache_key(const struct webauth_cache *c, const char *client,
    const char *user, const char *hash, const char *password,
    unsigned char key[32]);
bool webauth_cache_hit(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us);
void webauth_cache_put(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us);
size_t webauth_cache_count(const struct webauth_cache *c, uint64_t now_us);

/* The key checks of addr count under (out: WEBAUTH_CLIENT_MAX bytes): an
 * IPv4 address as it is, an IPv4-mapped IPv6 address as IPv4, another
 * IPv6 address as its /64 (one site's hosts share a /64, and one host
 * may have many of its addresses); anything else as it is, cut. */
void webauth_client_key(const char *addr, char *out, size_t len);

/* Checks pending per client: WEBAUTH_MAX_PENDING counters, enough for
 * every pending check to belong to another client. Zeroed is empty. */
struct webauth_clients {
	struct {
		char key[WEBAUTH_CLIENT_MAX];
		unsigned n; /* 0: free */
	} slot[WEBAUTH_MAX_PENDING];
};
/* Counts one more check of key and returns true, or returns false when
 * key has WEBAUTH_MAX_PENDING_PER_CLIENT already (or no slot is free).
 * Each true is matched by one webauth_clients_leave. */
bool webauth_clients_enter(struct webauth_clients *t, const char *key);
void webauth_clients_leave(struct webauth_clients *t, const char *key);
unsigned webauth_clients_count(
    const struct webauth_clients *t, const char *key);

#endif
