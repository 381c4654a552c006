/* throttle.c - attempt reservations in Redis (see throttle.h). */
#include <stdlib.h>

#include <osh/redis.h>
#include <osh/util.h>

#include "auth.h"
#include "throttle.h"

/* KEYS: user, address. ARGV: max user, max address, window. Returns
 * {1, 0} when reserved, {0, seconds} when a limit is reached. */
static const char reserve_script[] =
    "local u = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local a = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "local full = nil "
    "if u >= tonumber(ARGV[1]) then full = KEYS[1] "
    "elseif a >= tonumber(ARGV[2]) then full = KEYS[2] end "
    "if full then return {0, redis.call('TTL', full)} end "
    "for _, k in ipairs(KEYS) do "
    "if redis.call('INCR', k) == 1 then "
    "redis.call('EXPIRE', k, ARGV[3]) end end "
    "return {1, 0}";

/* Hands back one reservation on each key that still has one. */
static const char release_script[] =
    "for _, k in ipairs(KEYS) do "
    "if tonumber(redis.call('GET', k) or '0') > 0 then "
    "redis.call('DECR', k) end end "
    "return 1";

struct pending {
	struct throttle *t;
	throttle_cb cb;
	void *arg;
};

void
throttle_init(struct throttle *t, const char *username, const char *client)
{
	auth_throttle_keys(username, client, t->user_key, sizeof(t->user_key),
	    t->addr_key, sizeof(t->addr_key));
	t->reserved = false;
}

static void
on_reserved(redisReply *reply, void *arg)
{
	struct pending *p = arg;
	int64_t retry = 60;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER) {
		p->cb(THROTTLE_UNAVAILABLE, 0, p->arg);
		free(p);
		return;
	}
	if (reply->element[0]->integer == 1) {
		p->t->reserved = true;
		p->cb(THROTTLE_OK, 0, p->arg);
	} else {
		if (reply->element[1]->integer > 0)
			retry = reply->element[1]->integer;
		p->cb(THROTTLE_LIMITED, retry, p->arg);
	}
	free(p);
}

void
throttle_reserve(struct osh_redis *r, struct throttle *t, int64_t max_user,
    int64_t max_addr, int64_t window_s, throttle_cb cb, void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		cb(THROTTLE_UNAVAILABLE, 0, arg);
		return;
	}
	p->t = t;
	p->cb = cb;
	p->arg = arg;
	if (osh_redis_cmd(r, on_reserved, p, "EVAL %s 2 %s %s %lld %lld %lld",
		reserve_script, t->user_key, t->addr_key, (long long)max_user,
		(long long)max_addr, (long long)window_s) != 0) {
		free(p);
		cb(THROTTLE_UNAVAILABLE, 0, arg);
	}
}

void
throttle_failed(struct throttle *t)
{
	t->reserved = false;
}

void
throttle_succeeded(struct osh_redis *r, struct throttle *t)
{
	if (!t->reserved)
		return;
	t->reserved = false;
	osh_redis_cmd(r, NULL, NULL, "DEL %s", t->user_key);
	osh_redis_cmd(
	    r, NULL, NULL, "EVAL %s 1 %s", release_script, t->addr_key);
}

void
throttle_release(struct osh_redis *r, struct throttle *t)
{
	if (!t->reserved)
		return;
	t->reserved = false;
	osh_redis_cmd(r, NULL, NULL, "EVAL %s 2 %s %s", release_script,
	    t->user_key, t->addr_key);
}
