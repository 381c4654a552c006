/* redis.c - one asynchronous hiredis connection on the event loop.
 *
 * Commands sent while disconnected fail on the next loop turn. A watchdog
 * drops the connection when replies stop coming for longer than the
 * deadline, which fails every pending command: a hung Redis costs callers
 * at most timeout_ms. Connecting has the same deadline. The connection is
 * re-opened with backoff. At most max_pending commands wait for their
 * replies: more are refused at once (they fail on the next loop turn,
 * counted), so a slow Redis costs callers a 503, not a growing backlog.
 *
 * A subscribed connection owes nothing between messages, so silence
 * tells nothing there: a heartbeat makes it owe an answer now and then.
 * Redis answers only (P)SUBSCRIBE, (P)UNSUBSCRIBE, PING and QUIT in
 * subscribe mode, and hiredis drops the answer to PING there; SUBSCRIBE
 * to a channel of our own is answered, routed to its callback and costs
 * nothing when repeated. Subscription confirmations count as pending
 * replies for the watchdog like any other. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osh/crypto.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/redis.h"
#include "osh/util.h"

#define BACKOFF_MIN_MS 200
/* Reconnecting at least once a second: a Redis that comes back is used
 * within a second (clients are to see full service within 5 s of it);
 * a refused connect on a dead one costs next to nothing. */
#define BACKOFF_MAX_MS 1000
#define WATCHDOG_MS 100
#define DEFAULT_MAX_PENDING 1024

struct osh_redis {
	struct event_base *base;
	redisAsyncContext *ac;
	bool connected;
	bool was_connected;
	char *host;
	int port;
	char *password;
	int timeout_ms;
	int heartbeat_ms;
	int backoff_ms;
	struct event *reconnect;
	struct event *watchdog;
	struct event *heartbeat;
	unsigned pending;
	size_t max_pending;
	struct osh_pool_stats ps; /* reply times, refusals */
	uint64_t progress_us;
	bool connecting; /* since connect_us */
	uint64_t connect_us;
	bool subscribed; /* this connection has subscriptions */
	struct rcmd *hb; /* the heartbeat's subscription, while connected */
	void (*on_connect)(void *);
	void *on_connect_arg;
};

struct rcmd {
	struct osh_redis *r;
	osh_redis_cb cb;
	void *arg;
	bool persistent; /* a subscription: called for every message */
	bool awaiting; /* a confirmation of it is owed (counted in pending) */
	uint64_t sent_us;
};

static void schedule_reconnect(struct osh_redis *r);

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rcmd *c = arg;

	(void)fd;
	(void)what;
	if (c->cb != NULL)
		c->cb(NULL, c->arg);
	free(c);
}

/* True for the answer Redis gives to SUBSCRIBE. */
static bool
confirms_subscription(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    strcasecmp(reply->element[0]->str, "subscribe") == 0;
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rcmd *c = priv;

	(void)ac;
	if (c->persistent) {
		if (reply != NULL && c->awaiting &&
		    confirms_subscription(reply)) {
			c->awaiting = false;
			if (c->r->pending > 0)
				c->r->pending--;
			c->r->progress_us = osh_now_us();
		}
		if (c->cb != NULL)
			c->cb(reply, c->arg);
		if (reply == NULL) {
			/* The connection is gone. */
			if (c->r->hb == c)
				c->r->hb = NULL;
			free(c);
		}
		return;
	}
	if (c->r->pending > 0)
		c->r->pending--;
	c->r->progress_us = osh_now_us();
	if (reply != NULL && c->sent_us != 0)
		osh_pool_stats_wait(&c->r->ps, c->r->progress_us - c->sent_us);
	if (c->cb != NULL)
		c->cb(reply, c->arg);
	free(c);
}

static void
on_connected(const redisAsyncContext *ac, int status)
{
	struct osh_redis *r = ac->data;

	r->connecting = false;
	if (status != REDIS_OK) {
		osh_log_debug(NULL, "msg=\"redis connect failed\" error=\"%s\"",
		    ac->errstr);
		r->ac = NULL; /* hiredis frees it */
		r->pending = 0;
		schedule_reconnect(r);
		return;
	}
	r->connected = true;
	/* Connecting is progress: a reply owed since (AUTH, sent while
	 * connecting) is due within the deadline from now, not from the
	 * last reply before the connection was lost, or the watchdog would
	 * drop the new connection before its first reply is read (a service
	 * starting up reads it only once its loop runs). */
	r->progress_us = osh_now_us();
	r->backoff_ms = BACKOFF_MIN_MS;
	if (r->was_connected)
		osh_log_info(NULL, "msg=\"redis connection up\"");
	r->was_connected = true;
	if (r->on_connect != NULL)
		r->on_connect(r->on_connect_arg);
}

static void
on_disconnected(const redisAsyncContext *ac, int status)
{
	struct osh_redis *r = ac->data;

	(void)status;
	if (r == NULL)
		return;
	osh_log_warn(NULL, "msg=\"redis connection lost\"");
	r->connected = false;
	r->connecting = false;
	r->subscribed = false;
	r->ac = NULL;
	r->pending = 0;
	schedule_reconnect(r);
}

static void
connect_now(struct osh_redis *r)
{
	redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);

	if (ac == NULL || ac->err) {
		if (ac != NULL)
			redisAsyncFree(ac);
		schedule_reconnect(r);
		return;
	}
	ac->data = r;
	r->ac = ac;
	r->connecting = true;
	r->connect_us = osh_now_us();
	r->subscribed = false;
	redisLibeventAttach(ac, r->base);
	redisAsyncSetConnectCallback(ac, on_connected);
	redisAsyncSetDisconnectCallback(ac, on_disconnected);
	if (r->password != NULL && r->password[0] != '\0') {
		struct rcmd *c = calloc(1, sizeof(*c));
		if (c != NULL) {
			c->r = r;
			r->pending++;
			redisAsyncCommand(
			    ac, on_reply, c, "AUTH %s", r->password);
		}
	}
}

static void
on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	connect_now(arg);
}

static void
schedule_reconnect(struct osh_redis *r)
{
	struct timeval tv = {
	    r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};

	r->connected = false;
	event_add(r->reconnect, &tv);
	r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : r->backoff_ms * 2;
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct osh_redis *r = arg;
	uint64_t now = osh_now_us();
	redisAsyncContext *ac;

	(void)fd;
	(void)what;
	if (r->ac == NULL)
		return;
	if (r->connecting) {
		if (now - r->connect_us < (uint64_t)r->timeout_ms * 1000u)
			return;
		osh_log_warn(NULL, "msg=\"redis connect timed out\"");
	} else {
		if (r->pending == 0 ||
		    now - r->progress_us < (uint64_t)r->timeout_ms * 1000u)
			return;
		osh_log_warn(NULL,
		    "msg=\"redis not answering, reconnecting\" "
		    "pending=%u subscribed=%d",
		    r->pending, (int)r->subscribed);
	}
	ac = r->ac;
	r->ac = NULL;
	redisAsyncFree(ac); /* fails pending commands, then disconnects */
	r->connected = false;
	r->connecting = false;
	r->subscribed = false;
	r->pending = 0;
	if (!event_pending(r->reconnect, EV_TIMEOUT, NULL))
		schedule_reconnect(r);
}

/* Counts a subscription-mode command whose confirmation is owed. */
static void
owe_confirmation(struct osh_redis *r, struct rcmd *c)
{
	c->awaiting = true;
	if (r->pending++ == 0)
		r->progress_us = osh_now_us();
}

static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct osh_redis *r = arg;
	bool fresh = false;

	(void)fd;
	(void)what;
	if (!r->connected || r->ac == NULL || !r->subscribed)
		return;
	if (r->hb == NULL) {
		if ((r->hb = calloc(1, sizeof(*r->hb))) == NULL)
			return;
		r->hb->r = r;
		r->hb->persistent = true;
		fresh = true;
	}
	if (r->hb->awaiting)
		return; /* the watchdog is on it */
	/* Always the same callback data: hiredis keeps one per channel. */
	if (redisAsyncCommand(r->ac, on_reply, r->hb,
		"SUBSCRIBE " OSH_REDIS_HEARTBEAT) != REDIS_OK) {
		if (fresh) {
			free(r->hb);
			r->hb = NULL;
		}
		return;
	}
	owe_confirmation(r, r->hb);
}

struct osh_redis *
osh_redis_new(struct event_base *base, const struct osh_redis_options *opt)
{
	struct osh_redis *r;
	struct timeval wd = {0, WATCHDOG_MS * 1000};

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	r->host = strdup(opt->host);
	r->port = opt->port;
	r->password = opt->password ? strdup(opt->password) : NULL;
	r->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 2000;
	r->max_pending =
	    opt->max_pending > 0 ? opt->max_pending : DEFAULT_MAX_PENDING;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->reconnect = evtimer_new(base, on_reconnect, r);
	r->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, r);
	r->heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, r);
	if (r->host == NULL || r->reconnect == NULL || r->watchdog == NULL ||
	    r->heartbeat == NULL) {
		osh_redis_free(r);
		return NULL;
	}
	event_add(r->watchdog, &wd);
	osh_redis_set_heartbeat(r, OSH_REDIS_HEARTBEAT_MS);
	connect_now(r);
	return r;
}

void
osh_redis_free(struct osh_redis *r)
{
	if (r == NULL)
		return;
	if (r->ac != NULL) {
		r->ac->data = NULL;
		redisAsyncFree(r->ac);
	}
	if (r->reconnect != NULL)
		event_free(r->reconnect);
	if (r->watchdog != NULL)
		event_free(r->watchdog);
	if (r->heartbeat != NULL)
		event_free(r->heartbeat);
	free(r->host);
	osh_free_secret(r->password);
	free(r);
}

bool
osh_redis_connected(const struct osh_redis *r)
{
	return r->connected;
}

void
osh_redis_set_heartbeat(struct osh_redis *r, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_del(r->heartbeat);
	r->heartbeat_ms = ms > 0 ? ms : 0;
	if (r->heartbeat_ms > 0)
		event_add(r->heartbeat, &tv);
}

void
osh_redis_on_connect(struct osh_redis *r, void (*fn)(void *), void *arg)
{
	r->on_connect = fn;
	r->on_connect_arg = arg;
}

/* Wraps the callback; fails it later when the command cannot be sent. */
static struct rcmd *
prepare(struct osh_redis *r, osh_redis_cb cb, void *arg)
{
	struct rcmd *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->r = r;
	c->cb = cb;
	c->arg = arg;
	return c;
}

static int
sent(struct osh_redis *r, struct rcmd *c, int rc)
{
	struct timeval zero = {0, 0};

	if (rc == REDIS_OK) {
		c->sent_us = osh_now_us();
		if (r->pending++ == 0)
			r->progress_us = c->sent_us;
		return 0;
	}
	if (event_base_once(r->base, -1, EV_TIMEOUT, fail_cb, c, &zero) != 0) {
		free(c);
		return -1;
	}
	return 0;
}

/* Whether one more command may wait for its reply; counts a refusal. */
static bool
admit(struct osh_redis *r)
{
	if (r->pending < r->max_pending)
		return true;
	r->ps.rejected++;
	return false;
}

void
osh_redis_pool_stats(const struct osh_redis *r, struct osh_pool_stats *out)
{
	*out = r->ps;
	out->size = 1;
	out->in_use = r->pending > 0;
	out->depth = r->pending;
	out->limit = r->max_pending;
}

int
osh_redis_argv(struct osh_redis *r, osh_redis_cb cb, void *arg, int argc,
    const char **argv, const size_t *lens)
{
	struct rcmd *c = prepare(r, cb, arg);
	int rc = REDIS_ERR;

	if (c == NULL)
		return -1;
	if (r->connected && r->ac != NULL && admit(r))
		rc =
		    redisAsyncCommandArgv(r->ac, on_reply, c, argc, argv, lens);
	return sent(r, c, rc);
}

int
osh_redis_cmd(
    struct osh_redis *r, osh_redis_cb cb, void *arg, const char *fmt, ...)
{
	struct rcmd *c = prepare(r, cb, arg);
	int rc = REDIS_ERR;
	va_list ap;

	if (c == NULL)
		return -1;
	if (r->connected && r->ac != NULL && admit(r)) {
		va_start(ap, fmt);
		rc = redisvAsyncCommand(r->ac, on_reply, c, fmt, ap);
		va_end(ap);
	}
	return sent(r, c, rc);
}

int
osh_redis_subscribe(
    struct osh_redis *r, const char *channel, osh_redis_cb cb, void *arg)
{
	struct rcmd *c = prepare(r, cb, arg);

	if (c == NULL)
		return -1;
	c->persistent = true;
	if (!r->connected || r->ac == NULL ||
	    redisAsyncCommand(r->ac, on_reply, c, "SUBSCRIBE %s", channel) !=
		REDIS_OK) {
		free(c);
		return -1;
	}
	r->subscribed = true;
	owe_confirmation(r, c);
	return 0;
}
