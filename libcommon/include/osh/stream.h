/* stream.h - Redis Streams on an osh_redis connection: adding entries,
 * consumer groups, reading, acknowledging and claiming, and walking the
 * entries of a reply. Every call is one command with the connection's
 * deadline and bounded queue (redis.h): the callback runs exactly once,
 * with NULL when the command could not run. A blocking read (block_ms
 * > 0) belongs on a connection of its own (osh_service_redis_new with
 * block_ms of extra deadline), so that it holds up nothing else. */
#ifndef OSH_STREAM_H
#define OSH_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "redis.h"

/* A field of an entry. */
struct osh_stream_field {
	const char *name;
	const char *value;
};

/* XADD key MAXLEN ~ maxlen * name value ... (maxlen 0: no trimming). The
 * reply is the new entry's id. At most 64 fields. */
int osh_stream_add(struct osh_redis *r, const char *key, size_t maxlen,
    const struct osh_stream_field *f, size_t n, osh_redis_cb cb, void *arg);

/* XGROUP CREATE key group $start MKSTREAM ("0": the whole stream).
 * osh_stream_group_ok tells a created group, or one there already
 * (BUSYGROUP), from a failure. */
int osh_stream_group_create(struct osh_redis *r, const char *key,
    const char *group, const char *start, osh_redis_cb cb, void *arg);
bool osh_stream_group_ok(const redisReply *reply);

/* XREADGROUP GROUP group consumer COUNT count [BLOCK block_ms] STREAMS key
 * id: id ">" for new entries, "0" for the consumer's own pending ones.
 * block_ms 0 does not block. */
int osh_stream_read(struct osh_redis *r, const char *key, const char *group,
    const char *consumer, size_t count, int block_ms, const char *id,
    osh_redis_cb cb, void *arg);

/* XACK key group id...; n at most 1024. */
int osh_stream_ack(struct osh_redis *r, const char *key, const char *group,
    const char *const *ids, size_t n, osh_redis_cb cb, void *arg);

/* XAUTOCLAIM key group consumer min_idle_ms start COUNT count: entries
 * idle that long in any consumer's pending list become this consumer's,
 * their delivery counts raised. The reply: [next start, entries, deleted
 * ids]; osh_stream_entries walks its entries. */
int osh_stream_autoclaim(struct osh_redis *r, const char *key,
    const char *group, const char *consumer, long long min_idle_ms,
    const char *start, size_t count, osh_redis_cb cb, void *arg);

/* XPENDING key group first last count [consumer]: the reply lists
 * [id, consumer, idle ms, deliveries] per entry; osh_stream_deliveries
 * reads an id's count out of it. consumer may be NULL. */
int osh_stream_pending(struct osh_redis *r, const char *key, const char *group,
    const char *first, const char *last, size_t count, const char *consumer,
    osh_redis_cb cb, void *arg);
/* Deliveries of entry id in an XPENDING reply, 0 when not listed. */
long long osh_stream_deliveries(const redisReply *pending, const char *id);

/* An entry of a reply, as Redis sent it (valid during the callback).
 * fields is NULL for an entry deleted while pending. */
struct osh_stream_entry {
	const char *id;
	const redisReply *fields; /* array: name, value, name, value... */
};

/* The entries of an XREADGROUP or XRANGE reply (one stream) or of an
 * XAUTOCLAIM reply: calls fn for each, in order. Returns how many there
 * were, or -1 when the reply has no such shape. */
long osh_stream_entries(const redisReply *reply,
    void (*fn)(const struct osh_stream_entry *e, void *arg), void *arg);

/* The value of field name in an entry, NULL when absent or not a
 * string; *len (may be NULL) gets its length. */
const char *osh_stream_field(
    const struct osh_stream_entry *e, const char *name, size_t *len);

#endif
