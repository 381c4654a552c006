/* stream_consumer.c - the consumer-group loop of stream_consumer.h.
 *
 * The read side is a chain of single commands on rd (busy while one is
 * out): group, claim, own pending, delivery counts, new entries. Every
 * entry taken is a struct msg on one list, in one state, until it is
 * acknowledged or left pending; the list bounds what is taken
 * (max_inflight) and tells an entry already held from a new one. The
 * out side (dead letters, XACK) runs beside it, one XACK at a time:
 * acknowledgements settled meanwhile go together in the next one.
 *
 * Every callback and public call ends in sc_tail(): carry on reading, or,
 * once closing, free the consumer when nothing of it is left (no entry,
 * no command whose callback is owed). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/redis.h"
#include "osh/stream.h"
#include "osh/stream_consumer.h"
#include "osh/util.h"
#include "stream_consumer_int.h"

#define COUNTS_SLACK 256

/*
 * The read side.
 */

static void
read_later(struct osh_stream_consumer *c)
{
	struct timeval tv = {
	    c->cfg.retry_ms / 1000, (c->cfg.retry_ms % 1000) * 1000};

	if (c->closing || c->read_retry == NULL)
		return;
	c->read_hold = true;
	evtimer_add(c->read_retry, &tv);
}

static void
on_read_retry(evutil_socket_t fd, short what, void *arg)
{
	struct osh_stream_consumer *c = arg;

	(void)fd;
	(void)what;
	c->read_hold = false;
	sc_tail(c);
}

/* A read-side command was sent (rc 0) or could not be. */
static void
read_sent(struct osh_stream_consumer *c, int rc)
{
	if (rc == 0) {
		c->busy = true;
		c->ncmds++;
	} else {
		read_later(c);
	}
}

/* A read-side answer came: true when the loop goes on with it. */
static bool
read_answered(
    struct osh_stream_consumer *c, const redisReply *reply, const char *failed)
{
	c->busy = false;
	c->ncmds--;
	if (c->closing)
		return false;
	if (reply == NULL) {
		/* Lost with the connection: its return starts over. */
		if (osh_redis_connected(c->rd))
			read_later(c);
		return false;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		osh_log_warn(NULL, "msg=\"%s %s\" error=\"%s\"", c->what,
		    failed, reply->str);
		if (strncmp(reply->str, "NOGROUP", 7) == 0)
			c->group_ok = false;
		read_later(c);
		return false;
	}
	return true;
}

/* Hands the staged entries out, in order. */
static void
dispatch(struct osh_stream_consumer *c)
{
	struct msg *m, *tmp;
	size_t handed = 0, served = 0; /* served: to the service */

	c->dispatching = true;
	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	{
		if (m->state != M_STAGED)
			continue;
		if (c->closing) {
			sc_msg_free(m);
			continue;
		}
		sc_set_state(m, M_OUT);
		handed++;
		if (c->cfg.max_deliveries <= 0 ||
		    m->pub.deliveries <= c->cfg.max_deliveries) {
			served++;
			c->ops.entry(&m->pub, c->arg);
		} else if (c->ops.dead != NULL) {
			served++;
			c->ops.dead(&m->pub, c->arg);
		} else {
			snprintf(m->reason, sizeof(m->reason),
			    "delivered %lld times", m->pub.deliveries);
			osh_log_warn(NULL,
			    "msg=\"%s: entry dead-lettered\" stream_id=%s "
			    "reason=\"%s\"",
			    c->what, m->id, m->reason);
			sc_dead_send(m);
		}
	}
	if (served > 0 && c->ops.batch_end != NULL && !c->closing)
		c->ops.batch_end(c->arg);
	c->dispatching = false;
	if (handed > 0 && c->staged_from == SRC_CLAIM) {
		if (c->cfg.reclaimed != NULL)
			osh_metric_add(c->cfg.reclaimed, "", (double)handed);
		osh_log_info(
		    NULL, "msg=\"%s reclaimed\" count=%zu", c->what, handed);
	}
}

static void
on_counts(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;
	struct msg *m, *tmp;

	bool ok = read_answered(c, reply, "read failed");

	if (!ok || reply->type != REDIS_REPLY_ARRAY) {
		/* They stay pending, ours: read again from the start. */
		if (ok)
			read_later(c);
		sc_free_in_state(c, M_STAGED);
		c->need_pending = true;
		osh_strlcpy(c->pending_from, "0", sizeof(c->pending_from));
		sc_tail(c);
		return;
	}
	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	{
		if (m->state != M_STAGED)
			continue;
		m->pub.deliveries = osh_stream_deliveries(reply, m->id);
		if (m->pub.deliveries == 0)
			sc_msg_free(m); /* not ours any more */
	}
	dispatch(c);
	sc_tail(c);
}

/* Asks the delivery counts of the staged entries (XPENDING over their
 * range, this consumer's). */
static void
ask_counts(struct osh_stream_consumer *c, enum source from)
{
	const char *first = NULL, *last = NULL;
	struct msg *m;

	TAILQ_FOREACH(m, &c->msgs, link)
	{
		/* cppcheck-suppress uninitvar ; it does not know TAILQ */
		if (m->state != M_STAGED)
			continue;
		if (first == NULL)
			first = m->id;
		last = m->id;
	}
	if (first == NULL)
		return;
	c->staged_from = from;
	read_sent(c,
	    osh_stream_pending(c->rd, c->stream, c->group, first, last,
		c->nmsgs + COUNTS_SLACK, c->name, on_counts, c));
	if (!c->busy)
		sc_free_in_state(c, M_STAGED);
}

struct walk {
	struct osh_stream_consumer *c;
	long long deliveries;
	size_t n;
	char last[ID_MAX];
};

static void
on_walk_entry(const struct osh_stream_entry *e, void *arg)
{
	struct walk *w = arg;
	struct msg *m;

	w->n++;
	osh_strlcpy(w->last, e->id, sizeof(w->last));
	if (sc_held(w->c, e->id) || (m = sc_msg_new(w->c, e)) == NULL)
		return;
	m->pub.deliveries = w->deliveries;
}

static void
on_new(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;
	struct walk w = {.c = c, .deliveries = 1};

	if (read_answered(c, reply, "read failed")) {
		osh_stream_entries(reply, on_walk_entry, &w);
		c->staged_from = SRC_NEW;
		dispatch(c);
	}
	sc_tail(c);
}

static void
on_pending(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;
	struct walk w = {.c = c, .deliveries = 1};

	if (read_answered(c, reply, "read failed")) {
		osh_stream_entries(reply, on_walk_entry, &w);
		/* A full page: more may follow it. */
		if (w.n >= c->asked)
			osh_strlcpy(
			    c->pending_from, w.last, sizeof(c->pending_from));
		else
			c->need_pending = false;
		ask_counts(c, SRC_PENDING);
	}
	sc_tail(c);
}

static void
on_claimed(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;
	struct walk w = {.c = c, .deliveries = 1};

	if (!read_answered(c, reply, "claim failed")) {
		sc_tail(c);
		return;
	}
	c->claim_due = false;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		osh_log_warn(NULL,
		    "msg=\"%s claim failed\" error=\"unexpected reply\"",
		    c->what);
		read_later(c);
		sc_tail(c);
		return;
	}
	osh_strlcpy(c->cursor, reply->element[0]->str, sizeof(c->cursor));
	osh_stream_entries(reply, on_walk_entry, &w);
	ask_counts(c, SRC_CLAIM);
	sc_tail(c);
}

static void
on_group(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;

	c->busy = false;
	c->ncmds--;
	if (!c->closing && reply == NULL && osh_redis_connected(c->rd))
		read_later(c);
	if (!c->closing && reply != NULL) {
		if (osh_stream_group_ok(reply)) {
			c->group_ok = true;
		} else {
			osh_log_warn(NULL,
			    "msg=\"%s group not created\" error=\"%s\"",
			    c->what, reply->str);
			read_later(c);
		}
	}
	sc_tail(c);
}

/* Room for more entries: how many the next read may ask for. */
static size_t
room(const struct osh_stream_consumer *c)
{
	size_t left;

	if (c->cfg.one_batch && c->nmsgs > 0)
		return 0;
	left =
	    c->cfg.max_inflight > c->nmsgs ? c->cfg.max_inflight - c->nmsgs : 0;
	return left < c->cfg.count ? left : c->cfg.count;
}

/* The next read-side command of the cycle, when nothing holds it up. */
void
sc_next(struct osh_stream_consumer *c)
{
	int rc;

	if (c->closing || c->busy || c->dispatching || c->read_hold ||
	    c->rd == NULL || !osh_redis_connected(c->rd))
		return;
	if (!c->group_ok) {
		read_sent(c,
		    osh_stream_group_create(
			c->rd, c->stream, c->group, "0", on_group, c));
		return;
	}
	if ((c->asked = room(c)) == 0)
		return;
	if (c->claim_due)
		rc = osh_stream_autoclaim(c->rd, c->stream, c->group, c->name,
		    c->cfg.claim_idle_ms, c->cursor, c->asked, on_claimed, c);
	else if (c->need_pending)
		rc = osh_stream_read(c->rd, c->stream, c->group, c->name,
		    c->asked, 0, c->pending_from, on_pending, c);
	else
		rc = osh_stream_read(c->rd, c->stream, c->group, c->name,
		    c->asked, c->cfg.block_ms, ">", on_new, c);
	read_sent(c, rc);
}

/* Frees a closed consumer once nothing of it is left. */
static void
maybe_release(struct osh_stream_consumer *c)
{
	void (*released)(void *) = c->ops.released;
	void *arg = c->arg;

	if (!c->closing || c->in_close || c->dispatching || c->nmsgs > 0 ||
	    c->ncmds > 0)
		return;
	free(c->stream);
	free(c->group);
	free(c->name);
	free(c->what);
	free(c->dead_stream);
	free(c);
	if (released != NULL)
		released(arg);
}

void
sc_tail(struct osh_stream_consumer *c)
{
	sc_ack_flush(c);
	if (c->closing)
		maybe_release(c);
	else
		sc_next(c);
}

static void
on_claim_tick(evutil_socket_t fd, short what, void *arg)
{
	struct osh_stream_consumer *c = arg;

	(void)fd;
	(void)what;
	c->claim_due = true;
	sc_tail(c);
}

/* After every (re)connection of rd: the whole cycle from the group. */
static void
on_connect(void *arg)
{
	struct osh_stream_consumer *c = arg;

	c->group_ok = false;
	c->claim_due = true;
	c->need_pending = true;
	osh_strlcpy(c->pending_from, "0", sizeof(c->pending_from));
	sc_tail(c);
}

/*
 * The API.
 */

struct osh_stream_consumer *
osh_stream_consumer_new(struct event_base *base, struct osh_redis *rd,
    struct osh_redis *cmd, const struct osh_stream_consumer_config *cfg,
    const struct osh_stream_consumer_ops *ops, void *arg)
{
	struct osh_stream_consumer *c;
	struct timeval tv;
	long long every;

	if (rd == NULL || ops->entry == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		osh_redis_free(rd);
		return NULL;
	}
	c->rd = rd;
	c->cmd = cmd;
	c->cfg = *cfg;
	c->ops = *ops;
	c->arg = arg;
	TAILQ_INIT(&c->msgs);
	c->stream = strdup(cfg->stream);
	c->group = strdup(cfg->group);
	c->name = strdup(cfg->consumer);
	c->what = strdup(cfg->what != NULL ? cfg->what : cfg->stream);
	c->dead_stream =
	    cfg->dead_stream != NULL ? strdup(cfg->dead_stream) : NULL;
	if (c->cfg.count == 0)
		c->cfg.count = 1;
	if (c->cfg.max_inflight == 0)
		c->cfg.max_inflight = c->cfg.count;
	if (c->cfg.retry_ms <= 0)
		c->cfg.retry_ms = 1000;
	every = cfg->claim_every_ms > 0 ? cfg->claim_every_ms
					: cfg->claim_idle_ms / 4;
	if (cfg->claim_every_ms <= 0)
		every = every < 100 ? 100 : every > 5000 ? 5000 : every;
	tv.tv_sec = (time_t)(every / 1000);
	tv.tv_usec = (suseconds_t)(every % 1000) * 1000;
	osh_strlcpy(c->cursor, "0-0", sizeof(c->cursor));
	osh_strlcpy(c->pending_from, "0", sizeof(c->pending_from));
	c->claim_tick = event_new(base, -1, EV_PERSIST, on_claim_tick, c);
	c->read_retry = evtimer_new(base, on_read_retry, c);
	c->out_retry = evtimer_new(base, sc_on_out_retry, c);
	if (c->stream == NULL || c->group == NULL || c->name == NULL ||
	    c->what == NULL ||
	    (cfg->dead_stream != NULL && c->dead_stream == NULL) ||
	    c->claim_tick == NULL || c->read_retry == NULL ||
	    c->out_retry == NULL) {
		c->ops.released = NULL;
		osh_stream_consumer_close(c);
		return NULL;
	}
	event_add(c->claim_tick, &tv);
	osh_redis_on_connect(rd, on_connect, c);
	if (osh_redis_connected(rd))
		on_connect(c);
	return c;
}

void
osh_stream_consumer_done(struct osh_stream_consumer *c,
    struct osh_stream_msg *pub, enum osh_stream_outcome how)
{
	struct msg *m = (struct msg *)pub;

	switch (how) {
	case OSH_STREAM_STORED: sc_set_state(m, M_ACKQ); break;
	case OSH_STREAM_RETRY:
		sc_msg_free(m);
		c->need_pending = true;
		osh_strlcpy(c->pending_from, "0", sizeof(c->pending_from));
		read_later(c);
		break;
	case OSH_STREAM_LEAVE: sc_msg_free(m); break;
	}
	sc_tail(c);
}

void
osh_stream_consumer_done_all(
    struct osh_stream_consumer *c, enum osh_stream_outcome how)
{
	struct msg *m, *tmp;

	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	{
		if (m->state != M_OUT)
			continue;
		if (how == OSH_STREAM_STORED)
			sc_set_state(m, M_ACKQ);
		else
			sc_msg_free(m);
	}
	if (how == OSH_STREAM_RETRY) {
		c->need_pending = true;
		osh_strlcpy(c->pending_from, "0", sizeof(c->pending_from));
		read_later(c);
	}
	sc_tail(c);
}

void
osh_stream_consumer_dead(struct osh_stream_consumer *c,
    struct osh_stream_msg *pub, const char *reason)
{
	struct msg *m = (struct msg *)pub;

	osh_strlcpy(m->reason, reason != NULL ? reason : "", sizeof(m->reason));
	sc_dead_send(m);
	sc_tail(c);
}

size_t
osh_stream_consumer_inflight(const struct osh_stream_consumer *c)
{
	return c->nmsgs;
}

void
osh_stream_consumer_close(struct osh_stream_consumer *c)
{
	struct osh_redis *rd;
	struct msg *m, *tmp;

	if (c == NULL)
		return;
	c->closing = true;
	c->in_close = true;
	if (c->claim_tick != NULL)
		event_free(c->claim_tick);
	if (c->read_retry != NULL)
		event_free(c->read_retry);
	if (c->out_retry != NULL)
		event_free(c->out_retry);
	c->claim_tick = c->read_retry = c->out_retry = NULL;
	c->ack_hold = false;
	/* Commands out on rd are answered (NULL) now. */
	rd = c->rd;
	c->rd = NULL;
	osh_redis_free(rd);
	/* What waited for a retry goes now, or stays pending. */
	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	if (m->state == M_DEAD_WAIT)
		sc_dead_send(m);
	sc_free_in_state(c, M_STAGED);
	sc_ack_flush(c);
	c->in_close = false;
	maybe_release(c);
}

const char *
osh_stream_msg_field(
    const struct osh_stream_msg *m, const char *name, size_t *len)
{
	for (size_t i = 0; i < m->nfields; i++) {
		if (strcmp(m->fields[i].name, name) != 0)
			continue;
		if (len != NULL)
			*len = m->lens[i];
		return m->fields[i].value;
	}
	return NULL;
}
