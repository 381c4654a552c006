/* stream.c - Redis Streams commands built as argv (values may hold any
 * byte) and the walking of their replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osh/redis.h"
#include "osh/stream.h"

#define MAX_FIELDS 64
#define MAX_ACK 1024

int
osh_stream_add(struct osh_redis *r, const char *key, size_t maxlen,
    const struct osh_stream_field *f, size_t n, osh_redis_cb cb, void *arg)
{
	const char *argv[6 + 2 * MAX_FIELDS];
	char max[24];
	int argc = 0;

	if (n > MAX_FIELDS)
		return -1;
	argv[argc++] = "XADD";
	argv[argc++] = key;
	if (maxlen > 0) {
		snprintf(max, sizeof(max), "%zu", maxlen);
		argv[argc++] = "MAXLEN";
		argv[argc++] = "~";
		argv[argc++] = max;
	}
	argv[argc++] = "*";
	for (size_t i = 0; i < n; i++) {
		argv[argc++] = f[i].name;
		argv[argc++] = f[i].value != NULL ? f[i].value : "";
	}
	return osh_redis_argv(r, cb, arg, argc, argv, NULL);
}

int
osh_stream_group_create(struct osh_redis *r, const char *key, const char *group,
    const char *start, osh_redis_cb cb, void *arg)
{
	const char *argv[] = {
	    "XGROUP", "CREATE", key, group, start, "MKSTREAM"};

	return osh_redis_argv(r, cb, arg, 6, argv, NULL);
}

bool
osh_stream_group_ok(const redisReply *reply)
{
	if (reply == NULL)
		return false;
	if (reply->type != REDIS_REPLY_ERROR)
		return true;
	return reply->str != NULL && strncmp(reply->str, "BUSYGROUP", 9) == 0;
}

int
osh_stream_read(struct osh_redis *r, const char *key, const char *group,
    const char *consumer, size_t count, int block_ms, const char *id,
    osh_redis_cb cb, void *arg)
{
	const char *argv[12];
	char n[24], block[24];
	int argc = 0;

	snprintf(n, sizeof(n), "%zu", count > 0 ? count : 1);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = group;
	argv[argc++] = consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = n;
	if (block_ms > 0) {
		snprintf(block, sizeof(block), "%d", block_ms);
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = key;
	argv[argc++] = id;
	return osh_redis_argv(r, cb, arg, argc, argv, NULL);
}

int
osh_stream_ack(struct osh_redis *r, const char *key, const char *group,
    const char *const *ids, size_t n, osh_redis_cb cb, void *arg)
{
	const char **argv;
	int rc;

	if (n == 0 || n > MAX_ACK)
		return -1;
	if ((argv = calloc(n + 3, sizeof(*argv))) == NULL)
		return -1;
	argv[0] = "XACK";
	argv[1] = key;
	argv[2] = group;
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = ids[i];
	rc = osh_redis_argv(r, cb, arg, (int)(n + 3), argv, NULL);
	free(argv);
	return rc;
}

int
osh_stream_autoclaim(struct osh_redis *r, const char *key, const char *group,
    const char *consumer, long long min_idle_ms, const char *start,
    size_t count, osh_redis_cb cb, void *arg)
{
	char idle[24], n[24];
	const char *argv[8];

	snprintf(idle, sizeof(idle), "%lld", min_idle_ms);
	snprintf(n, sizeof(n), "%zu", count > 0 ? count : 1);
	argv[0] = "XAUTOCLAIM";
	argv[1] = key;
	argv[2] = group;
	argv[3] = consumer;
	argv[4] = idle;
	argv[5] = start;
	argv[6] = "COUNT";
	argv[7] = n;
	return osh_redis_argv(r, cb, arg, 8, argv, NULL);
}

int
osh_stream_pending(struct osh_redis *r, const char *key, const char *group,
    const char *first, const char *last, size_t count, const char *consumer,
    osh_redis_cb cb, void *arg)
{
	const char *argv[7];
	char n[24];
	int argc = 0;

	snprintf(n, sizeof(n), "%zu", count > 0 ? count : 1);
	argv[argc++] = "XPENDING";
	argv[argc++] = key;
	argv[argc++] = group;
	argv[argc++] = first;
	argv[argc++] = last;
	argv[argc++] = n;
	if (consumer != NULL)
		argv[argc++] = consumer;
	return osh_redis_argv(r, cb, arg, argc, argv, NULL);
}

long long
osh_stream_deliveries(const redisReply *pending, const char *id)
{
	if (pending == NULL || pending->type != REDIS_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i < pending->elements; i++) {
		const redisReply *e = pending->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 4 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[3]->type != REDIS_REPLY_INTEGER)
			continue;
		if (strcmp(e->element[0]->str, id) == 0)
			return e->element[3]->integer;
	}
	return 0;
}

/* Walks an array of [id, fields] entries. */
static long
walk(const redisReply *entries,
    void (*fn)(const struct osh_stream_entry *e, void *arg), void *arg)
{
	long n = 0;

	if (entries->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		struct osh_stream_entry se;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		se.id = e->element[0]->str;
		se.fields = e->element[1]->type == REDIS_REPLY_ARRAY
		    ? e->element[1]
		    : NULL;
		fn(&se, arg);
		n++;
	}
	return n;
}

long
osh_stream_entries(const redisReply *reply,
    void (*fn)(const struct osh_stream_entry *e, void *arg), void *arg)
{
	const redisReply *s;

	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_NIL)
		return 0; /* a blocking read that timed out */
	if (reply->type != REDIS_REPLY_ARRAY)
		return -1;
	/* XAUTOCLAIM: [cursor, entries, deleted]. */
	if (reply->elements >= 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_ARRAY &&
	    (reply->elements == 3 || reply->elements == 2) &&
	    strchr(reply->element[0]->str, '-') != NULL &&
	    (reply->element[1]->elements == 0 ||
		reply->element[1]->element[0]->type == REDIS_REPLY_ARRAY))
		return walk(reply->element[1], fn, arg);
	/* XREADGROUP: [[key, entries]]. */
	if (reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2 &&
	    reply->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
		s = reply->element[0]->element[1];
		return walk(s, fn, arg);
	}
	/* XRANGE: entries. */
	return walk(reply, fn, arg);
}

const char *
osh_stream_field(
    const struct osh_stream_entry *e, const char *name, size_t *len)
{
	if (e->fields == NULL)
		return NULL;
	for (size_t i = 0; i + 1 < e->fields->elements; i += 2) {
		const redisReply *k = e->fields->element[i];
		const redisReply *v = e->fields->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (k->len == strlen(name) &&
		    memcmp(k->str, name, k->len) == 0) {
			if (len != NULL)
				*len = v->len;
			return v->str;
		}
	}
	return NULL;
}
