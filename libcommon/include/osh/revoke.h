/* revoke.h - the token deny-lists: revoked access tokens (by jti), revoked
 * session families (by sid) and users whose tokens issued before a moment
 * are void. They live in Redis with the tokens' lifetime; every service
 * keeps a copy in memory, loaded at connection and kept current through
 * the osh:revocations channel, so checking a token costs no round trip. */
#ifndef OSH_REVOKE_H
#define OSH_REVOKE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "redis.h"

struct event_base;
struct osh_redis;
struct osh_redis_options;
struct osh_revocations;

#define OSH_REVOKE_CHANNEL "osh:revocations"

enum osh_revoke_answer {
	OSH_NOT_REVOKED,
	OSH_REVOKED,
	OSH_REVOKE_UNKNOWN, /* copy not in sync: ask Redis */
};

/* How often the subscription proves it still works: a silently dead one
 * is noticed within this plus the Redis deadline (opt->timeout_ms), and
 * answers are UNKNOWN from then until it is back and reloaded. */
#define OSH_REVOKE_HEARTBEAT_MS 5000

/* Subscribes on a connection of its own (opt) and loads the current lists
 * through 'cmd' (a command connection). Every (re)subscription loads them
 * again, so changes announced while the subscription was down count. */
struct osh_revocations *osh_revocations_new(struct event_base *base,
    const struct osh_redis_options *opt, struct osh_redis *cmd);
void osh_revocations_free(struct osh_revocations *r);

/* Another heartbeat period than OSH_REVOKE_HEARTBEAT_MS (tests). */
void osh_revocations_set_heartbeat(struct osh_revocations *r, int ms);
/* Loads completed so far: one per (re)subscription that succeeded. */
unsigned long osh_revocations_loads(const struct osh_revocations *r);

enum osh_revoke_answer osh_revocations_check(
    struct osh_revocations *r, const struct osh_claims *c, int64_t now_ms);

/* Publishing side (the auth service). Each sets the Redis key with its
 * expiry, announces it on the channel and notes it in 'local' (may be
 * NULL) at once. cb (may be NULL) gets the reply of the announcement: NULL
 * or an error when Redis could not take it. */
void osh_revoke_jti(struct osh_redis *redis, struct osh_revocations *local,
    const char *jti, int64_t expire_at_ms, osh_redis_cb cb, void *arg);
void osh_revoke_sid(struct osh_redis *redis, struct osh_revocations *local,
    const char *sid, int64_t expire_at_ms, osh_redis_cb cb, void *arg);
void osh_revoke_user(struct osh_redis *redis, struct osh_revocations *local,
    int64_t user_id, int64_t before_ms, int64_t expire_at_ms, osh_redis_cb cb,
    void *arg);

#endif
