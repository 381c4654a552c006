/* redis.h - an asynchronous Redis connection on the event loop (hiredis),
 * reconnecting in the background, with a deadline on every command. */
#ifndef OSH_REDIS_H
#define OSH_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct osh_redis;
struct osh_pool_stats;

/* reply is NULL when the command failed to run (not connected, deadline,
 * connection lost). reply may be an error reply (REDIS_REPLY_ERROR). Valid
 * only during the callback. */
typedef void (*osh_redis_cb)(redisReply *reply, void *arg);

struct osh_redis_options {
	const char *host;
	int port;
	const char *password; /* copied, wiped on free; may be NULL */
	int timeout_ms; /* deadline for a reply (and for connecting) */
	/* Commands that may wait for their replies at once (0: 1024); more
	 * are refused at once: their callbacks get NULL on the next loop
	 * turn, counted as rejected. */
	size_t max_pending;
};

#define OSH_REDIS_HEARTBEAT "osh:heartbeat"

struct osh_redis *osh_redis_new(
    struct event_base *base, const struct osh_redis_options *opt);
void osh_redis_free(struct osh_redis *r);

/* Sends a command built from argv. The callback (may be NULL) always runs
 * later, exactly once. */
int osh_redis_argv(struct osh_redis *r, osh_redis_cb cb, void *arg, int argc,
    const char **argv, const size_t *lens);
/* Same with a hiredis format string ("SET %s %b"). */
int osh_redis_cmd(
    struct osh_redis *r, osh_redis_cb cb, void *arg, const char *fmt, ...);

bool osh_redis_connected(const struct osh_redis *r);

/* The connection's figures for osh_metrics_pool: commands waiting for
 * replies (depth), reply times (waits) and refusals. */
void osh_redis_pool_stats(
    const struct osh_redis *r, struct osh_pool_stats *out);

/* Subscribes this connection to a channel; it can then run nothing else.
 * cb gets the confirmation and every message (arrays as Redis sends them),
 * and a NULL reply once when the connection is lost. Call it from the
 * on_connect hook so the subscription follows reconnections. The
 * confirmation is owed within timeout_ms like any reply. */
int osh_redis_subscribe(
    struct osh_redis *r, const char *channel, osh_redis_cb cb, void *arg);

/* For a subscribed connection: every ms milliseconds, a command Redis
 * answers even in subscribe mode (SUBSCRIBE to OSH_REDIS_HEARTBEAT)
 * checks that the connection still works; no answer within timeout_ms
 * drops it, and the subscriptions come back with the reconnection
 * (osh_redis_on_connect). A silently dead subscription (a peer stopped or
 * cut off without a reset) is thus noticed within ms + timeout_ms.
 * Every connection starts with OSH_REDIS_HEARTBEAT_MS, which matters only
 * once it subscribes; 0 sends none. */
#define OSH_REDIS_HEARTBEAT_MS 5000
void osh_redis_set_heartbeat(struct osh_redis *r, int ms);

/* Called after every (re)connection, e.g. to resume a consumer loop. */
void osh_redis_on_connect(struct osh_redis *r, void (*fn)(void *), void *arg);

#endif
