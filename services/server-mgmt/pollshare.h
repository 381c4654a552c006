/* pollshare.h - which servers this replica's poller polls. Replicas of
 * server-mgmt share one database; each would poll every BMC. Instead
 * each replica announces itself in Redis (the sorted set
 * osh:poller:replicas, scored by when its announcement lapses) once per
 * poll interval, reads the live replicas back in name order, and polls
 * the servers whose id modulo their number is its place among them.
 *
 * A replica that stops leaves at once; one that dies lapses after
 * POLLSHARE_LAPSE_ROUNDS poll intervals, and its share goes unpolled
 * until then (its servers' status stays what was last seen). While
 * replicas come or go, a round may poll a server twice or miss it once.
 * Without Redis (not configured, down), a replica polls every server: the
 * BMCs see more requests, never fewer. */
#ifndef SM_POLLSHARE_H
#define SM_POLLSHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "sm.h"

#define POLLSHARE_KEY "osh:poller:replicas"
#define POLLSHARE_LAPSE_ROUNDS 3

struct pollshare;

/* Announces this replica now and every poll interval. NULL when out of
 * memory. */
struct pollshare *pollshare_new(struct sm_app *app);
/* Leaves the set (a last command, not waited for) and frees. */
void pollshare_free(struct pollshare *ps);

/* Whether server id is this replica's to poll (true for every id when
 * ps is NULL or the set is not known). */
bool pollshare_mine(const struct pollshare *ps, int64_t id);

/* The live replicas and this one's place among them (1 and 0 when
 * alone or without Redis). */
void pollshare_place(
    const struct pollshare *ps, int64_t *count, int64_t *index);

#endif
