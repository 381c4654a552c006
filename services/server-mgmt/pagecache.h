/* pagecache.h - answers kept for a short while (OSH_LIST_CACHE_MS), so
 * that many clients polling the same thing cost one query, not one each:
 * the servers list and the statistics (app->pages), single servers
 * (app->items). Requests for an answer being fetched wait for that one
 * query; a kept answer is one shared body (osh_body) sent to every client
 * by reference, its JSON without blanks between tokens.
 *
 * What keeps answers true. Any write this process makes to servers drops
 * what it touches at once (pagecache_clear, pagecache_drop); so does a
 * poll that records a server (items), and a server.* event of another
 * replica (events_in.c). Whatever is missed (an event lost) shows when
 * entries expire. A query in flight when its key is dropped still answers
 * its waiters, but its answer is not kept.
 *
 * Bounded: max entries (the least recently used one goes for a new key),
 * PAGECACHE_MAX_BYTES of answers, PAGECACHE_MAX_WAITERS per query. Keys
 * are looked up in a hash table keyed with a random secret, so clients
 * choosing list parameters cannot make them collide. Kept answers must
 * hold no secret (they are not wiped). */
#ifndef SM_PAGECACHE_H
#define SM_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/db.h>

#define PAGECACHE_MAX 256 /* list pages and statistics */
#define PAGECACHE_ITEMS_MAX 4096 /* single servers */
#define PAGECACHE_MAX_BYTES (64u << 20)
#define PAGECACHE_MAX_WAITERS 1024
#define PAGECACHE_KEY_MAX 8192

struct osh_req;
struct pagecache;
struct pagecache_entry;

/* ttl_ms 0: nothing is kept (every lookup asks for a query). max: how many
 * entries at most (> 0). */
struct pagecache *pagecache_new(int ttl_ms, size_t max);
/* Frees the cache; an entry whose query is in flight goes when its
 * answer comes (pagecache_filled answers its requests then). */
void pagecache_free(struct pagecache *c);

/* Who answers a request from a query's outcome when it is not a good one
 * (handlers_on_json and the like); good answers are sent from the kept
 * body. */
typedef void (*pagecache_answer)(
    enum osh_db_status st, const char *json, const char *state, void *req);

/* Looks 'key' up for req. A fresh answer is sent at once (true, *fill
 * NULL); behind a query in flight, req waits for it (true, *fill NULL).
 * Otherwise false: the caller runs the query and hands its outcome to
 * pagecache_filled(*fill, ...) (or, *fill NULL when nothing may be kept,
 * answers req itself). */
bool pagecache_lookup(struct pagecache *c, const char *key, struct osh_req *req,
    pagecache_answer answer, struct pagecache_entry **fill);
/* An osh_db_json_cb for the query of pagecache_lookup (arg: the
 * entry): answers every request waiting for it and keeps a good answer
 * unless its key was dropped (or the cache cleared) meanwhile. */
void pagecache_filled(
    enum osh_db_status st, const char *json, const char *state, void *arg);
/* Forgets every answer (entries in flight are not kept either). */
void pagecache_clear(struct pagecache *c);
/* Forgets the answer of key, if any (one in flight is not kept). */
void pagecache_drop(struct pagecache *c, const char *key);

/* Single servers (app->items) are kept under "server:<id>". */
#define PAGECACHE_SERVER_KEY_LEN 32
const char *pagecache_server_key(
    int64_t id, char key[PAGECACHE_SERVER_KEY_LEN]);
/* Forgets the answer kept of server id (a write or a poll changed it). */
void pagecache_drop_server(struct pagecache *items, int64_t id);

#endif
