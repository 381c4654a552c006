/* inflight.h - how many password checks each client address has running,
 * so that one address cannot take every hashing worker: a small table of
 * counters keyed by address, holding only addresses with work in flight.
 * An address counts under its osh_client_key (an IPv6 client by its /64,
 * so cycling through one's own /64 gains no slots). Loop thread only. */
#ifndef AUTH_INFLIGHT_H
#define AUTH_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct inflight;

/* cap: most checks one address may have running at once. */
struct inflight *inflight_new(int cap);
void inflight_free(struct inflight *t);

/* Counts one more check for addr's key and returns true, or returns false
 * (nothing counted) when that key is at the cap or memory runs out. Every
 * true is matched by one inflight_leave with the same addr. */
bool inflight_enter(struct inflight *t, const char *addr);
void inflight_leave(struct inflight *t, const char *addr);

/* Checks running under addr's key; keys tracked at all. */
int inflight_count(const struct inflight *t, const char *addr);
size_t inflight_addresses(const struct inflight *t);

#endif
