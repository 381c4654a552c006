/* revoke.c - deny-lists in Redis with an in-memory copy per service.
 *
 * Keys: osh:revoked:jti:<jti>, osh:revoked:sid:<sid> (value 1) and
 * osh:revoked:user:<id> (value: ms before which tokens are void), each
 * expiring with the longest token it can affect. Every change is also
 * published as "<key> <value> <expire_at_ms>". A service subscribes first,
 * then loads the keys, so no change falls between the two; until both are
 * done (and whenever the subscription is down) answers are UNKNOWN and the
 * router asks Redis directly.
 *
 * A subscription can die without a word (Redis stopped, a link cut
 * without a reset): the subscribed connection has a heartbeat, so that
 * such a death is noticed within OSH_REVOKE_HEARTBEAT_MS plus the Redis
 * deadline; the reconnection subscribes again and re-reads every key, so
 * what was announced meanwhile takes effect. A failed load is retried. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/log.h"
#include "osh/redis.h"
#include "osh/revoke.h"
#include "osh/util.h"

#define NBUCKETS 8192
#define SWEEP_S 30
#define RELOAD_MS 1000
#define PREFIX "osh:revoked:"

struct entry {
	struct entry *next;
	int64_t value;
	int64_t expire_ms;
	char key[]; /* "jti:<id>", "sid:<id>", "user:<id>" */
};

struct osh_revocations {
	struct osh_redis *sub;
	struct osh_redis *cmd;
	struct entry *table[NBUCKETS];
	size_t count;
	bool subscribed, loaded;
	struct event *sweep;
	struct event *reload; /* retries a load that failed */
	unsigned long loads; /* completed loads, for tests and logs */
};

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

static struct entry *
find(struct osh_revocations *r, const char *key)
{
	for (struct entry *e = r->table[hash(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
put(struct osh_revocations *r, const char *key, int64_t value,
    int64_t expire_ms)
{
	struct entry *e = find(r, key);
	size_t len = strlen(key);
	unsigned h;

	if (e != NULL) {
		if (value > e->value)
			e->value = value;
		if (expire_ms > e->expire_ms)
			e->expire_ms = expire_ms;
		return;
	}
	if (len > 200 || (e = malloc(sizeof(*e) + len + 1)) == NULL)
		return;
	memcpy(e->key, key, len + 1);
	e->value = value;
	e->expire_ms = expire_ms;
	h = hash(key);
	e->next = r->table[h];
	r->table[h] = e;
	r->count++;
}

static void
clear(struct osh_revocations *r)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry *e = r->table[i], *n;
		for (; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
		r->table[i] = NULL;
	}
	r->count = 0;
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct osh_revocations *r = arg;
	int64_t now = osh_wall_ms();

	(void)fd;
	(void)what;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &r->table[i];
		while (*pp != NULL) {
			struct entry *e = *pp;
			if (e->expire_ms <= now) {
				*pp = e->next;
				free(e);
				r->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Applies "osh:revoked:<kind>:<id> <value> <expire_at_ms>". */
static void
apply(struct osh_revocations *r, const char *msg)
{
	char key[256];
	long long value, expire;

	if (sscanf(msg, PREFIX "%255s %lld %lld", key, &value, &expire) != 3)
		return;
	put(r, key, value, expire);
}

static void
on_loaded(redisReply *reply, void *arg)
{
	struct osh_revocations *r = arg;
	int64_t now = osh_wall_ms();

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		struct timeval tv = {
		    RELOAD_MS / 1000, (RELOAD_MS % 1000) * 1000};
		osh_log_warn(NULL, "msg=\"revocation list not loaded\"");
		if (r->subscribed)
			event_add(r->reload, &tv);
		return;
	}
	for (size_t i = 0; i + 2 < reply->elements; i += 3) {
		const redisReply *k = reply->element[i];
		const redisReply *v = reply->element[i + 1];
		const redisReply *t = reply->element[i + 2];
		int64_t value = 0;

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING ||
		    t->type != REDIS_REPLY_INTEGER || t->integer <= 0 ||
		    strncmp(k->str, PREFIX, strlen(PREFIX)) != 0)
			continue;
		osh_parse_int(v->str, 0, INT64_MAX, &value);
		put(r, k->str + strlen(PREFIX), value, now + t->integer);
	}
	r->loaded = true;
	r->loads++;
	osh_log_debug(
	    NULL, "msg=\"revocation list loaded\" entries=%zu", r->count);
}

/* Reads every deny-list key with its value and remaining lifetime. */
static void
load(struct osh_revocations *r)
{
	static const char script[] =
	    "local out, cursor = {}, '0' "
	    "repeat "
	    "local res = redis.call('SCAN', cursor, 'MATCH', "
	    "'osh:revoked:*', 'COUNT', 1000) "
	    "cursor = res[1] "
	    "for _, k in ipairs(res[2]) do "
	    "local v = redis.call('GET', k) "
	    "if v then table.insert(out, k) table.insert(out, v) "
	    "table.insert(out, redis.call('PTTL', k)) end end "
	    "until cursor == '0' "
	    "return out";

	osh_redis_cmd(r->cmd, on_loaded, r, "EVAL %s 0", script);
}

static void
on_reload(evutil_socket_t fd, short what, void *arg)
{
	struct osh_revocations *r = arg;

	(void)fd;
	(void)what;
	if (r->subscribed && !r->loaded)
		load(r);
}

static void
on_message(redisReply *reply, void *arg)
{
	struct osh_revocations *r = arg;

	if (reply == NULL) {
		r->subscribed = r->loaded = false;
		event_del(r->reload);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(reply->element[0]->str, "subscribe") == 0) {
		r->subscribed = true;
		load(r);
	} else if (strcmp(reply->element[0]->str, "message") == 0 &&
	    reply->element[2]->type == REDIS_REPLY_STRING) {
		apply(r, reply->element[2]->str);
	}
}

static void
on_connect(void *arg)
{
	struct osh_revocations *r = arg;

	r->subscribed = r->loaded = false;
	osh_redis_subscribe(r->sub, OSH_REVOKE_CHANNEL, on_message, r);
}

struct osh_revocations *
osh_revocations_new(struct event_base *base,
    const struct osh_redis_options *opt, struct osh_redis *cmd)
{
	struct osh_revocations *r = calloc(1, sizeof(*r));
	struct timeval tv = {SWEEP_S, 0};

	if (r == NULL)
		return NULL;
	r->cmd = cmd;
	r->sweep = event_new(base, -1, EV_PERSIST, on_sweep, r);
	r->reload = evtimer_new(base, on_reload, r);
	if (r->sweep == NULL || r->reload == NULL ||
	    (r->sub = osh_redis_new(base, opt)) == NULL) {
		osh_revocations_free(r);
		return NULL;
	}
	event_add(r->sweep, &tv);
	osh_redis_set_heartbeat(r->sub, OSH_REVOKE_HEARTBEAT_MS);
	osh_redis_on_connect(r->sub, on_connect, r);
	return r;
}

void
osh_revocations_set_heartbeat(struct osh_revocations *r, int ms)
{
	osh_redis_set_heartbeat(r->sub, ms);
}

unsigned long
osh_revocations_loads(const struct osh_revocations *r)
{
	return r->loads;
}

void
osh_revocations_free(struct osh_revocations *r)
{
	if (r == NULL)
		return;
	osh_redis_free(r->sub);
	if (r->sweep != NULL)
		event_free(r->sweep);
	if (r->reload != NULL)
		event_free(r->reload);
	clear(r);
	free(r);
}

static bool
live(const struct entry *e, int64_t now_ms)
{
	return e != NULL && e->expire_ms > now_ms;
}

enum osh_revoke_answer
osh_revocations_check(
    struct osh_revocations *r, const struct osh_claims *c, int64_t now_ms)
{
	char key[OSH_JTI_MAX + 8];
	const struct entry *e;

	if (r == NULL || !r->subscribed || !r->loaded ||
	    !osh_redis_connected(r->sub))
		return OSH_REVOKE_UNKNOWN;
	snprintf(key, sizeof(key), "jti:%s", c->jti);
	if (live(find(r, key), now_ms))
		return OSH_REVOKED;
	if (c->sid[0] != '\0') {
		snprintf(key, sizeof(key), "sid:%s", c->sid);
		if (live(find(r, key), now_ms))
			return OSH_REVOKED;
	}
	snprintf(key, sizeof(key), "user:%lld", (long long)c->user_id);
	e = find(r, key);
	if (live(e, now_ms) && c->iat_ms < e->value)
		return OSH_REVOKED;
	return OSH_NOT_REVOKED;
}

/* SET with expiry, then PUBLISH: both on one connection, so in order.
 * The local copy learns at once; cb gets the PUBLISH reply. */
static void
announce(struct osh_redis *redis, struct osh_revocations *local,
    const char *key, int64_t value, int64_t expire_at_ms, osh_redis_cb cb,
    void *arg)
{
	int64_t ttl = expire_at_ms - osh_wall_ms();
	char msg[300];

	if (ttl < 1000)
		ttl = 1000;
	if (local != NULL)
		put(local, key + strlen(PREFIX), value, expire_at_ms);
	osh_redis_cmd(redis, NULL, NULL, "SET %s %lld PX %lld", key,
	    (long long)value, (long long)ttl);
	snprintf(msg, sizeof(msg), "%s %lld %lld", key, (long long)value,
	    (long long)expire_at_ms);
	osh_redis_cmd(redis, cb, arg, "PUBLISH " OSH_REVOKE_CHANNEL " %s", msg);
}

void
osh_revoke_jti(struct osh_redis *redis, struct osh_revocations *local,
    const char *jti, int64_t expire_at_ms, osh_redis_cb cb, void *arg)
{
	char key[OSH_JTI_MAX + 32];

	snprintf(key, sizeof(key), PREFIX "jti:%s", jti);
	announce(redis, local, key, 1, expire_at_ms, cb, arg);
}

void
osh_revoke_sid(struct osh_redis *redis, struct osh_revocations *local,
    const char *sid, int64_t expire_at_ms, osh_redis_cb cb, void *arg)
{
	char key[OSH_JTI_MAX + 32];

	snprintf(key, sizeof(key), PREFIX "sid:%s", sid);
	announce(redis, local, key, 1, expire_at_ms, cb, arg);
}

void
osh_revoke_user(struct osh_redis *redis, struct osh_revocations *local,
    int64_t user_id, int64_t before_ms, int64_t expire_at_ms, osh_redis_cb cb,
    void *arg)
{
	char key[64];

	snprintf(key, sizeof(key), PREFIX "user:%lld", (long long)user_id);
	announce(redis, local, key, before_ms, expire_at_ms, cb, arg);
}
