/* webauth.h - what the web configuration asks of every request before it
 * is routed: its response headers, its rate limit, and HTTP basic
 * authentication against bcrypt hashes (libxcrypt's crypt_r). bcrypt
 * costs tens of milliseconds of CPU by design, so it runs on the worker
 * threads, a bounded number at once, and each successful check is
 * remembered for a while (keyed by a keyed hash of the user, the stored
 * hash and the password): a Prometheus scraping every 15 s pays it once,
 * not per scrape. GET (and HEAD) /health and /ready stay open for
 * probes. */
#ifndef EXP_WEBAUTH_H
#define EXP_WEBAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/http.h>

#include "webcfg.h"

struct osh_work_pool;
struct webauth;

/* Checks waiting for or running on a worker at most; more answer 503. */
#define WEBAUTH_MAX_PENDING 32
/* How long a successful check is remembered, and how many are. */
#define WEBAUTH_CACHE_TTL_S 300
#define WEBAUTH_CACHE_SLOTS 256
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

/* The service's admit hook: true to route req now; false when it has
 * answered req (401, 429, 503) or holds it for a bcrypt check, after
 * which it routes it (osh_service_route) or answers 401. */
bool webauth_admit(struct webauth *a, struct osh_req *req);

struct webauth_stats {
	uint64_t verified; /* bcrypt checks run */
	uint64_t cache_hits;
	uint64_t failures; /* 401 answers */
	uint64_t busy; /* 503: too many checks pending */
	uint64_t rate_limited; /* 429 */
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

/* Remembered successes: a fixed table of WEBAUTH_CACHE_SLOTS slots. */
struct webauth_cache;
struct webauth_cache *webauth_cache_new(void);
void webauth_cache_free(struct webauth_cache *c);
/* The key of one check: keyed BLAKE2b of the three strings. */
void webauth_cache_key(const struct webauth_cache *c, const char *user,
    const char *hash, const char *password, unsigned char key[32]);
bool webauth_cache_hit(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us);
void webauth_cache_put(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us);
size_t webauth_cache_count(const struct webauth_cache *c, uint64_t now_us);

#endif
