/* stream_consumer_out.c - the stream consumer's entries (one list, a
 * state each) and its out side: dead letters, and acknowledgements in one
 * XACK at a time (those settled meanwhile go together in the next). */
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

#define ACK_MAX 1024

/*
 * Entries.
 */

static size_t *
state_count(struct osh_stream_consumer *c, enum mstate s)
{
	if (s == M_OUT)
		return &c->nout;
	if (s == M_STAGED)
		return &c->nstaged;
	return NULL;
}

void
sc_set_state(struct msg *m, enum mstate s)
{
	size_t *n;

	if ((n = state_count(m->c, m->state)) != NULL)
		(*n)--;
	m->state = s;
	if ((n = state_count(m->c, s)) != NULL)
		(*n)++;
}

/* A copy of entry e, staged. NULL when out of memory. */
struct msg *
sc_msg_new(struct osh_stream_consumer *c, const struct osh_stream_entry *e)
{
	struct msg *m = calloc(1, sizeof(*m));
	size_t n = 0, size = 0;
	char *p;

	if (m == NULL)
		return NULL;
	for (size_t i = 0; e->fields != NULL && i + 1 < e->fields->elements;
	     i += 2)
		size += e->fields->element[i]->len +
		    e->fields->element[i + 1]->len + 2;
	if ((m->buf = malloc(size + 1)) == NULL) {
		free(m);
		return NULL;
	}
	p = m->buf;
	for (size_t i = 0; e->fields != NULL && i + 1 < e->fields->elements &&
	     n < OSH_STREAM_MSG_FIELDS;
	     i += 2) {
		const redisReply *k = e->fields->element[i];
		const redisReply *v = e->fields->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		m->fields[n].name = p;
		memcpy(p, k->str, k->len);
		p += k->len;
		*p++ = '\0';
		m->fields[n].value = p;
		memcpy(p, v->str, v->len);
		p += v->len;
		*p++ = '\0';
		m->lens[n++] = v->len;
	}
	m->c = c;
	osh_strlcpy(m->id, e->id, sizeof(m->id));
	m->pub.id = m->id;
	m->pub.deliveries = 1;
	m->pub.deleted = e->fields == NULL;
	m->pub.nfields = n;
	m->pub.fields = m->fields;
	m->pub.lens = m->lens;
	m->state = M_STAGED;
	c->nstaged++;
	TAILQ_INSERT_TAIL(&c->msgs, m, link);
	c->nmsgs++;
	return m;
}

void
sc_msg_free(struct msg *m)
{
	struct osh_stream_consumer *c = m->c;
	size_t *n = state_count(c, m->state);

	if (n != NULL)
		(*n)--;
	TAILQ_REMOVE(&c->msgs, m, link);
	c->nmsgs--;
	free(m->buf);
	free(m);
}

bool
sc_held(struct osh_stream_consumer *c, const char *id)
{
	struct msg *m;

	TAILQ_FOREACH(m, &c->msgs, link)
	if (strcmp(m->id, id) == 0)
		return true;
	return false;
}

void
sc_free_in_state(struct osh_stream_consumer *c, enum mstate s)
{
	struct msg *m, *tmp;

	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	if (m->state == s)
		sc_msg_free(m);
}

/*
 * The out side: dead letters and acknowledgements.
 */

static struct osh_redis *
out_conn(struct osh_stream_consumer *c)
{
	return c->cmd != NULL ? c->cmd : c->rd;
}

static void
out_later(struct osh_stream_consumer *c)
{
	struct timeval tv = {
	    c->cfg.retry_ms / 1000, (c->cfg.retry_ms % 1000) * 1000};

	if (c->out_retry != NULL)
		evtimer_add(c->out_retry, &tv);
}

static void on_acked(redisReply *reply, void *arg);

/* The XACK that was out failed: its entries wait for the next. */
static void
ack_failed(struct osh_stream_consumer *c)
{
	struct msg *m, *tmp;
	size_t n = 0;

	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	{
		if (m->state != M_ACKING)
			continue;
		if (c->closing) {
			sc_msg_free(m); /* stays pending */
			continue;
		}
		sc_set_state(m, M_ACKQ);
		n++;
	}
	if (n == 0)
		return;
	osh_log_warn(NULL,
	    "msg=\"%s: acknowledging failed, will retry\" count=%zu", c->what,
	    n);
	c->ack_hold = true;
	out_later(c);
}

/* Sends the acknowledgements waiting, in one XACK, unless one is out
 * already (they go with the next) or a batch is not all settled. */
void
sc_ack_flush(struct osh_stream_consumer *c)
{
	const char *ids[ACK_MAX];
	struct osh_redis *r = out_conn(c);
	struct msg *m;
	size_t n = 0;

	if (c->acking || c->ack_hold || (c->cfg.one_batch && c->nout > 0))
		return;
	if (r == NULL) { /* closed: they stay pending */
		sc_free_in_state(c, M_ACKQ);
		return;
	}
	TAILQ_FOREACH(m, &c->msgs, link)
	{
		if (m->state != M_ACKQ)
			continue;
		if (n == ACK_MAX)
			break;
		ids[n++] = m->id;
		sc_set_state(m, M_ACKING);
	}
	if (n == 0)
		return;
	c->acking = true;
	c->ncmds++;
	if (osh_stream_ack(r, c->stream, c->group, ids, n, on_acked, c) != 0) {
		c->ncmds--;
		c->acking = false;
		ack_failed(c);
	}
}

static void
on_acked(redisReply *reply, void *arg)
{
	struct osh_stream_consumer *c = arg;

	c->ncmds--;
	c->acking = false;
	if (reply != NULL && reply->type != REDIS_REPLY_ERROR)
		sc_free_in_state(c, M_ACKING);
	else
		ack_failed(c);
	sc_tail(c);
}

static void
dead_failed(struct msg *m)
{
	struct osh_stream_consumer *c = m->c;

	if (c->closing) {
		sc_msg_free(m); /* stays pending */
		return;
	}
	sc_set_state(m, M_DEAD_WAIT);
	osh_log_warn(NULL,
	    "msg=\"%s: dead-lettering failed, will retry\" stream_id=%s",
	    c->what, m->id);
	out_later(c);
}

static void
on_dead_written(redisReply *reply, void *arg)
{
	struct msg *m = arg;
	struct osh_stream_consumer *c = m->c;

	c->ncmds--;
	if (reply != NULL && reply->type != REDIS_REPLY_ERROR) {
		if (c->cfg.dead_lettered != NULL)
			osh_metric_add(c->cfg.dead_lettered, "", 1);
		sc_set_state(m, M_ACKQ);
	} else {
		dead_failed(m);
	}
	sc_tail(c);
}

/* XADD dead_stream: the entry's fields and why it is there. */
void
sc_dead_send(struct msg *m)
{
	struct osh_stream_consumer *c = m->c;
	struct osh_stream_field f[OSH_STREAM_MSG_FIELDS + 3];
	struct osh_redis *r = out_conn(c);
	char deliveries[24];
	size_t n = 0;

	sc_set_state(m, M_DEAD);
	if (c->dead_stream == NULL) {
		sc_set_state(m, M_ACKQ); /* sent by sc_tail() */
		return;
	}
	if (r == NULL) {
		sc_msg_free(m); /* closed: stays pending */
		return;
	}
	snprintf(deliveries, sizeof(deliveries), "%lld", m->pub.deliveries);
	for (size_t i = 0; i < m->pub.nfields; i++)
		f[n++] = m->fields[i];
	f[n++] = (struct osh_stream_field){"dead_reason", m->reason};
	f[n++] = (struct osh_stream_field){"dead_stream_id", m->id};
	f[n++] = (struct osh_stream_field){"dead_deliveries", deliveries};
	c->ncmds++;
	if (osh_stream_add(r, c->dead_stream, c->cfg.dead_maxlen, f, n,
		on_dead_written, m) != 0) {
		c->ncmds--;
		dead_failed(m);
	}
}

void
sc_on_out_retry(evutil_socket_t fd, short what, void *arg)
{
	struct osh_stream_consumer *c = arg;
	struct msg *m, *tmp;

	(void)fd;
	(void)what;
	c->ack_hold = false;
	TAILQ_FOREACH_SAFE(m, &c->msgs, link, tmp)
	if (m->state == M_DEAD_WAIT)
		sc_dead_send(m);
	sc_tail(c);
}
