/* pagecache.h - answers of the servers list and of the statistics kept
 * for a short while (OSH_LIST_CACHE_MS), so that many clients polling the
 * same pages cost one query, not one each. Any write this process makes
 * to servers empties it at once (pagecache_clear); poll results and other
 * replicas' writes show when entries expire. Requests for an answer being
 * fetched wait for that one query. Bounded: PAGECACHE_MAX entries,
 * PAGECACHE_MAX_BYTES of answers, PAGECACHE_MAX_WAITERS per query. */
#ifndef SM_PAGECACHE_H
#define SM_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <osh/db.h>

#define PAGECACHE_MAX 256
#define PAGECACHE_MAX_BYTES (64u << 20)
#define PAGECACHE_MAX_WAITERS 1024

struct osh_req;
struct pagecache;
struct pagecache_entry;

/* ttl_ms 0: nothing is kept (every lookup asks for a query). */
struct pagecache *pagecache_new(int ttl_ms);
/* Frees the cache; an entry whose query is in flight goes when its
 * answer comes (pagecache_filled answers its requests then). */
/* Frees the cache; requests still waiting are answered 503 first. */
void pagecache_free(struct pagecache *c);

/* Who answers a request from a query's outcome (handlers_on_json and
 * the like). */
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
 * unless the cache was cleared meanwhile. */
void pagecache_filled(
    enum osh_db_status st, const char *json, const char *state, void *arg);
/* Forgets every answer (entries in flight are not kept either). */
void pagecache_clear(struct pagecache *c);

#endif
