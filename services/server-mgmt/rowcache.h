/* rowcache.h - recently loaded server rows, so that BMC requests need no
 * database round trip each. Entries live a few seconds and are dropped at
 * once when this process changes or deletes the server; other replicas'
 * changes are seen when entries expire. */
#ifndef SM_ROWCACHE_H
#define SM_ROWCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sm.h"

struct rowcache;

struct rowcache *rowcache_new(int ttl_ms);
void rowcache_free(struct rowcache *c);

/* Copies a fresh entry into *out (strings owned by the cache, valid until
 * the next call on it); false when there is none. */
bool rowcache_get(struct rowcache *c, int64_t id, struct server_row *out);
void rowcache_put(struct rowcache *c, const struct server_row *r);
void rowcache_drop(struct rowcache *c, int64_t id);
/* Notes a newly recorded status and power state (NULL: unchanged). */
void rowcache_note(
    struct rowcache *c, int64_t id, const char *status, const char *power);

#endif
