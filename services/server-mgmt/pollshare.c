/* pollshare.c - the poller's share among replicas, kept in Redis. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osh/log.h>
#include <osh/redis.h>

#include "pollshare.h"

/* One step, with Redis' clock (replicas' clocks may disagree): drop the
 * lapsed, announce this one until now + ARGV[2] ms, list the live by
 * name. */
static const char announce_script[] =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) "
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) "
    "local m = redis.call('ZRANGE', KEYS[1], 0, -1) "
    "table.sort(m) "
    "return m";

struct pollshare {
	struct sm_app *app;
	struct event *timer;
	char name[300]; /* host:port, as the replica is reached */
	int64_t count, index; /* 1 and 0 until known */
	bool pending; /* an announcement is on its way */
	bool closed; /* freed while pending: the reply frees */
};

static void
on_announced(redisReply *reply, void *arg)
{
	struct pollshare *ps = arg;
	int64_t index = -1;

	ps->pending = false;
	if (ps->closed) {
		free(ps);
		return;
	}
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		/* Alone, as far as anyone can tell: every server. */
		ps->count = 1;
		ps->index = 0;
		return;
	}
	for (size_t i = 0; i < reply->elements; i++) {
		redisReply *e = reply->element[i];

		if (e->type == REDIS_REPLY_STRING &&
		    strcmp(e->str, ps->name) == 0)
			index = (int64_t)i;
	}
	if (index < 0) {
		ps->count = 1;
		ps->index = 0;
		return;
	}
	if (ps->count != (int64_t)reply->elements || ps->index != index)
		osh_log_info(NULL,
		    "msg=\"poller share\" replicas=%zu place=%lld",
		    reply->elements, (long long)index);
	ps->count = (int64_t)reply->elements;
	ps->index = index;
}

static void
announce(struct pollshare *ps)
{
	struct osh_redis *r = sm_svc(ps->app)->redis;
	long long lapse_ms = (long long)ps->app->cfg.poll_interval_s * 1000 *
	    POLLSHARE_LAPSE_ROUNDS;

	if (ps->pending || r == NULL)
		return;
	ps->pending = true;
	if (osh_redis_cmd(r, on_announced, ps, "EVAL %s 1 %s %s %lld",
		announce_script, POLLSHARE_KEY, ps->name, lapse_ms) != 0)
		on_announced(NULL, ps);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	announce(arg);
}

struct pollshare *
pollshare_new(struct sm_app *app)
{
	struct pollshare *ps = calloc(1, sizeof(*ps));
	struct timeval tv = {(time_t)app->cfg.poll_interval_s, 0};
	char host[256] = "";

	if (ps == NULL)
		return NULL;
	ps->app = app;
	ps->count = 1;
	gethostname(host, sizeof(host) - 1);
	snprintf(ps->name, sizeof(ps->name), "%s:%lld", host,
	    (long long)sm_svc(app)->cfg.port);
	ps->timer = event_new(sm_svc(app)->base, -1, EV_PERSIST, on_timer, ps);
	if (ps->timer == NULL) {
		free(ps);
		return NULL;
	}
	evtimer_add(ps->timer, &tv);
	announce(ps);
	return ps;
}

void
pollshare_free(struct pollshare *ps)
{
	struct osh_redis *r;

	if (ps == NULL)
		return;
	r = sm_svc(ps->app)->redis;
	event_free(ps->timer);
	if (r != NULL)
		osh_redis_cmd(
		    r, NULL, NULL, "ZREM %s %s", POLLSHARE_KEY, ps->name);
	if (ps->pending) {
		ps->closed = true;
		return;
	}
	free(ps);
}

bool
pollshare_mine(const struct pollshare *ps, int64_t id)
{
	if (ps == NULL || ps->count <= 1)
		return true;
	return id % ps->count == ps->index;
}

void
pollshare_place(const struct pollshare *ps, int64_t *count, int64_t *index)
{
	*count = ps != NULL ? ps->count : 1;
	*index = ps != NULL ? ps->index : 0;
}
