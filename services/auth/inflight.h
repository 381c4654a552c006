/* inflight.h - how many password checks each client address has running,
 * so that one address cannot take every hashing worker: a small table of
 * counters keyed by address, holding only addresses with work in flight.
 * Loop thread only. */
#ifndef AUTH_INFLIGHT_H
#define AUTH_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct inflight;

/* cap: most checks one address may have running at once. */
struct inflight *inflight_new(int cap);
void inflight_free(struct inflight *t);

/* Counts one more check for addr and returns true, or returns false
 * (nothing counted) when addr is at the cap or memory runs out. Every
 * true is matched by one inflight_leave. */
bool inflight_enter(struct inflight *t, const char *addr);
void inflight_leave(struct inflight *t, const char *addr);

/* Checks running for addr; addresses tracked at all. */
int inflight_count(const struct inflight *t, const char *addr);
size_t inflight_addresses(const struct inflight *t);

#endif
