/* stream_consumer_int.h - what the two files of the stream consumer
 * share: its entries and the consumer itself (stream_consumer.c: the read
 * side and the API; stream_consumer_out.c: the entries, dead letters and
 * acknowledgements). Not a public header. */
#ifndef OSH_STREAM_CONSUMER_INT_H
#define OSH_STREAM_CONSUMER_INT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "osh/redis.h"
#include "osh/stream.h"
#include "osh/stream_consumer.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST((head));                                      \
	     (var) && ((tvar) = TAILQ_NEXT((var), field), 1); (var) = (tvar))
#endif

#define ID_MAX 48
#define REASON_MAX 192

enum mstate {
	M_STAGED, /* read; its delivery count is being asked */
	M_OUT, /* with the service */
	M_DEAD, /* its dead letter is being written */
	M_DEAD_WAIT, /* its dead letter failed: again after retry_ms */
	M_ACKQ, /* waiting for the next XACK */
	M_ACKING, /* in the XACK out */
};

/* How the entries being staged were read. */
enum source {
	SRC_NEW,
	SRC_CLAIM,
	SRC_PENDING,
};

struct msg {
	struct osh_stream_msg pub; /* first: the service's pointer is ours */
	struct osh_stream_consumer *c;
	TAILQ_ENTRY(msg) link;
	enum mstate state;
	char id[ID_MAX];
	char reason[REASON_MAX];
	struct osh_stream_field fields[OSH_STREAM_MSG_FIELDS];
	size_t lens[OSH_STREAM_MSG_FIELDS];
	char *buf; /* the names and values */
};

TAILQ_HEAD(msg_list, msg);

struct osh_stream_consumer {
	struct osh_redis *rd; /* ours: the read side */
	struct osh_redis *cmd; /* borrowed, may be NULL: the out side */
	struct osh_stream_consumer_config cfg; /* strings: the copies below */
	char *stream, *group, *name, *what, *dead_stream;
	struct osh_stream_consumer_ops ops;
	void *arg;
	struct event *claim_tick, *read_retry, *out_retry;
	struct msg_list msgs;
	size_t nmsgs, nout, nstaged;
	unsigned ncmds; /* commands whose callbacks are owed */
	size_t asked; /* COUNT of the read out */
	enum source staged_from;
	char cursor[ID_MAX]; /* XAUTOCLAIM's next start */
	char pending_from[ID_MAX]; /* own pending entries after this id */
	bool busy; /* a read-side command is out */
	bool group_ok, claim_due, need_pending;
	bool read_hold; /* until read_retry fires */
	bool acking, ack_hold; /* an XACK is out; until out_retry fires */
	bool dispatching, closing, in_close;
};

/* Entries (stream_consumer_out.c). */
void sc_set_state(struct msg *m, enum mstate s);
/* A copy of entry e, staged. NULL when out of memory. */
struct msg *sc_msg_new(
    struct osh_stream_consumer *c, const struct osh_stream_entry *e);
void sc_msg_free(struct msg *m);
/* Whether an entry of this id is taken already. */
bool sc_held(struct osh_stream_consumer *c, const char *id);
void sc_free_in_state(struct osh_stream_consumer *c, enum mstate s);

/* The out side (stream_consumer_out.c). */
/* Sends the acknowledgements waiting, in one XACK, unless one is out
 * already (they go with the next) or a batch is not all settled. */
void sc_ack_flush(struct osh_stream_consumer *c);
/* XADD dead_stream: the entry's fields and why it is there; then it
 * waits for an XACK. */
void sc_dead_send(struct msg *m);
void sc_on_out_retry(evutil_socket_t fd, short what, void *arg);

/* The read side (stream_consumer.c). */
void sc_next(struct osh_stream_consumer *c);
/* Ends every callback and public call: sends the acknowledgements
 * waiting, then carries on reading or, once closed, frees the consumer
 * when nothing of it is left. */
void sc_tail(struct osh_stream_consumer *c);

#endif
