/* watch.h - server.* events on osh:events (other replicas' writes and
 * polls, this process's own too) drop the single servers kept by
 * pagecache (app->items) as soon as they are heard. Losing events (Redis
 * away, the subscription cut) costs nothing but freshness: kept answers
 * expire after OSH_LIST_CACHE_MS anyway. */
#ifndef SM_WATCH_H
#define SM_WATCH_H

struct sm_app;
struct watch;

/* Subscribes on a Redis connection of its own; NULL when there is no
 * Redis (nothing to hear) or on failure. */
struct watch *watch_new(struct sm_app *app);
void watch_free(struct watch *w);

#endif
