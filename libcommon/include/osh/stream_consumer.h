/* stream_consumer.h - one consumer of a Redis stream in a consumer group,
 * on the event loop: the loop every stream consumer of ours runs
 * (POWER-STREAMS.md, DESIGN.md "Events and work queues").
 *
 * The cycle, one read-side command at a time on the consumer's own
 * connection (rd):
 * 1. after every (re)connection: XGROUP CREATE stream group 0 MKSTREAM
 *    (a group there already is fine);
 * 2. claim: XAUTOCLAIM takes the entries idle for claim_idle_ms in any
 *    consumer's pending list (a consumer that died, or entries of this
 *    one that were left pending); it runs after each (re)connection and
 *    then every claim_every_ms, before the next read;
 * 3. own pending: XREADGROUP ... 0 re-reads this consumer's own pending
 *    entries (a restarted consumer of the same name, a batch whose state
 *    could not be stored): after each (re)connection and after an entry
 *    was handed back with OSH_STREAM_RETRY;
 * 4. new entries: XREADGROUP ... BLOCK block_ms ... >.
 * A read-side error (NOGROUP included: the group is created again) is
 * retried after retry_ms; a lost connection restarts at 1 once it is
 * back. Claimed and re-read entries get their delivery counts (XPENDING):
 * one delivered more than max_deliveries times goes to the dead callback
 * instead of the entry callback (or, without one, straight to the
 * dead-letter stream). An entry read again while this consumer still
 * holds it (a slow one claimed from itself) is not handed out twice.
 *
 * Handed out, an entry is the service's until it says what became of it
 * (osh_stream_consumer_done): its state stored, it is acknowledged
 * (XACK); not stored, it stays pending and comes back. At most
 * max_inflight entries are taken and not yet acknowledged; reads ask
 * for no more than there is room for. Acknowledgements and dead letters
 * go over cmd (the service's own connection, so that they do not wait
 * behind a blocking read) or over rd when cmd is NULL; one that fails is
 * sent again after retry_ms. Errors are logged with the config's what:
 * "<what> read failed", "<what> claim failed", "<what> group not
 * created", "<what> reclaimed". */
#ifndef OSH_STREAM_CONSUMER_H
#define OSH_STREAM_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>

#include "stream.h"

struct event_base;
struct osh_metric;
struct osh_stream_consumer;

/* Fields of an entry the consumer keeps at most (more are dropped), so
 * that a dead letter (its fields and three of its own) fits one XADD. */
#define OSH_STREAM_MSG_FIELDS 60

/* An entry taken from the stream: the consumer's copy, valid from the
 * callback that hands it out until osh_stream_consumer_done (or _dead,
 * or _done_all) for it. */
struct osh_stream_msg {
	const char *id;
	/* Times Redis delivered it, this time included: 1 for a new
	 * entry. */
	long long deliveries;
	/* Deleted from the stream while pending: no fields. */
	bool deleted;
	size_t nfields;
	/* NUL-terminated copies; lens[i] is value i's length (a value may
	 * hold a NUL byte of its own). */
	const struct osh_stream_field *fields;
	const size_t *lens;
};

/* What became of an entry the service was handed. */
enum osh_stream_outcome {
	/* Its state is stored: acknowledge it. */
	OSH_STREAM_STORED,
	/* Not stored: it stays pending and this consumer reads its own
	 * pending entries again after retry_ms, before anything new (a
	 * batch that the database refused, say). */
	OSH_STREAM_RETRY,
	/* Not handled: it stays pending, to be claimed once it has been
	 * idle for claim_idle_ms (by this consumer or another). */
	OSH_STREAM_LEAVE,
};

struct osh_stream_consumer_config {
	const char *stream;
	const char *group;
	const char *consumer; /* this consumer's name in the group */
	const char *what; /* subject of log lines: "power requests" */
	size_t count; /* entries one read asks for at most (COUNT) */
	/* Entries taken and not acknowledged yet, at most (0: count). */
	size_t max_inflight;
	/* One batch at a time: the next read waits until every entry of
	 * the last one is acknowledged (or handed back), and a batch is
	 * acknowledged in one XACK once all of its entries are done. */
	bool one_batch;
	int block_ms; /* how long a read of new entries waits */
	long long claim_idle_ms;
	/* How often to claim (0: claim_idle_ms / 4, between 100 and 5000). */
	int claim_every_ms;
	/* An entry delivered more often is dead (0: no limit). */
	long long max_deliveries;
	/* Where dead letters go: the entry's fields and dead_reason,
	 * dead_stream_id, dead_deliveries. NULL: dead entries are only
	 * acknowledged. */
	const char *dead_stream;
	size_t dead_maxlen; /* MAXLEN ~ of the dead-letter stream (0: none) */
	int retry_ms; /* after a failed command (0: 1000) */
	/* Counted when not NULL: entries claimed from pending lists and
	 * handed out, dead letters written. */
	struct osh_metric *reclaimed;
	struct osh_metric *dead_lettered;
};

/* What the consumer calls; arg is osh_stream_consumer_new's. */
struct osh_stream_consumer_ops {
	/* An entry to handle: the service stores its state, then calls
	 * osh_stream_consumer_done (at once or later, from any callback).
	 * Required. */
	void (*entry)(struct osh_stream_msg *m, void *arg);
	/* An entry delivered more than max_deliveries times: not to be
	 * run. The service settles it and calls osh_stream_consumer_dead
	 * (or _done). NULL: the consumer dead-letters it itself, with the
	 * reason "delivered N times". */
	void (*dead)(struct osh_stream_msg *m, void *arg);
	/* After the entries of one read were handed to entry and dead
	 * (services that store a batch in one statement store it here).
	 * May be NULL. */
	void (*batch_end)(void *arg);
	/* After osh_stream_consumer_close, once the consumer is gone (its
	 * last entry settled, its last command answered); it may run
	 * inside close or inside a done call. May be NULL. */
	void (*released)(void *arg);
};

/* Starts a consumer reading over rd, which it owns from now on (its
 * on_connect hook is the consumer's; rd's deadline must allow
 * block_ms more than a command's, see osh_service_redis_new). cmd is
 * borrowed (may be NULL: everything goes over rd). The config's strings
 * are copied. NULL on failure (rd is then freed). */
struct osh_stream_consumer *osh_stream_consumer_new(struct event_base *base,
    struct osh_redis *rd, struct osh_redis *cmd,
    const struct osh_stream_consumer_config *cfg,
    const struct osh_stream_consumer_ops *ops, void *arg);

/* Says what became of entry m; m is invalid afterwards. Exactly once
 * per entry handed out. */
void osh_stream_consumer_done(struct osh_stream_consumer *c,
    struct osh_stream_msg *m, enum osh_stream_outcome how);
/* Dead-letters m (reason is copied, at most 191 bytes), then
 * acknowledges it; m is invalid afterwards. */
void osh_stream_consumer_dead(struct osh_stream_consumer *c,
    struct osh_stream_msg *m, const char *reason);
/* osh_stream_consumer_done for every entry the service holds: for one
 * batch at a time. */
void osh_stream_consumer_done_all(
    struct osh_stream_consumer *c, enum osh_stream_outcome how);

/* Entries taken and not acknowledged yet. */
size_t osh_stream_consumer_inflight(const struct osh_stream_consumer *c);

/* Stops reading and claiming at once and frees rd. Entries the service
 * holds stay valid: settled later, they are acknowledged if cmd is still
 * there (a failure then leaves them pending), or left pending. The
 * consumer frees itself with the last of them and calls released. NULL
 * is fine. */
void osh_stream_consumer_close(struct osh_stream_consumer *c);

/* The value of field name in m, NULL when absent; *len (may be NULL)
 * gets its length. */
const char *osh_stream_msg_field(
    const struct osh_stream_msg *m, const char *name, size_t *len);

#endif
