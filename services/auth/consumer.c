/* consumer.c - the audit stream consumer. It owns a Redis connection of
 * its own, because it blocks on XREADGROUP. One batch is in flight at a
 * time: read, store, acknowledge, read again. After a restart the
 * consumer first re-reads its own pending entries, and every so often it
 * claims entries left pending by consumers that died. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osh/audit.h>
#include <osh/db.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/service.h>
#include <osh/util.h>

#include "consumer.h"
#include "store.h"

#define GROUP "auth"
#define BATCH "200"
#define BLOCK_MS 2000
#define CLAIM_IDLE "60000"
#define CLAIM_EVERY 15
#define RETRY_MS 1000
#define MAX_BATCH_JS (8u << 20)

struct audit_consumer {
	struct osh_service *svc;
	struct osh_redis *r;
	char name[160];
	struct event *retry;
	char **ids; /* of the batch being stored */
	size_t nids;
	unsigned idle_reads;
	bool storing; /* a batch is with the database */
	bool closing; /* freed once the database answers */
};

static void read_pending(struct audit_consumer *c);
static void read_new(struct audit_consumer *c);

static void
ids_free(struct audit_consumer *c)
{
	for (size_t i = 0; i < c->nids; i++)
		free(c->ids[i]);
	free(c->ids);
	c->ids = NULL;
	c->nids = 0;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	read_pending(arg);
}

static void
retry_later(struct audit_consumer *c)
{
	struct timeval tv = {RETRY_MS / 1000, (RETRY_MS % 1000) * 1000};

	ids_free(c);
	evtimer_add(c->retry, &tv);
}

static void
on_acked(redisReply *reply, void *arg)
{
	struct audit_consumer *c = arg;

	ids_free(c);
	if (reply == NULL)
		return; /* reconnection restarts the loop */
	read_pending(c);
}

static void release(struct audit_consumer *c);

static void
on_stored(enum store_status st, void *arg)
{
	struct audit_consumer *c = arg;
	const char **argv;
	size_t argc = 0;

	c->storing = false;
	if (c->closing) { /* shutting down: the entries stay pending */
		release(c);
		return;
	}
	if (st == STORE_ERROR) {
		osh_log_warn(NULL,
		    "msg=\"audit entries not stored, will retry\" "
		    "count=%zu",
		    c->nids);
		retry_later(c);
		return;
	}
	if ((argv = calloc(c->nids + 3, sizeof(*argv))) == NULL) {
		retry_later(c);
		return;
	}
	argv[argc++] = "XACK";
	argv[argc++] = OSH_AUDIT_STREAM;
	argv[argc++] = GROUP;
	for (size_t i = 0; i < c->nids; i++)
		argv[argc++] = c->ids[i];
	osh_redis_argv(c->r, on_acked, c, (int)argc, argv, NULL);
	free(argv);
}

/* One stream entry as a JSON object for jsonb_to_recordset. */
static struct json_object *
entry_json(const char *id, const redisReply *fields)
{
	struct json_object *o = json_object_new_object();
	int64_t ms;

	json_object_object_add(o, "stream_id", json_object_new_string(id));
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i];
		const redisReply *v = fields->element[i + 1];
		char *val;

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		val = osh_utf8_clean(v->str, v->len, 8192);
		if (val == NULL)
			continue;
		if (strcmp(k->str, "details") == 0) {
			struct json_object *d = json_tokener_parse(val);
			if (!json_object_is_type(d, json_type_object)) {
				json_object_put(d);
				d = json_object_new_object();
			}
			json_object_object_add(o, "details", d);
		} else if (strcmp(k->str, "actor_id") == 0) {
			int64_t n = 0;
			osh_parse_int(val, 0, INT64_MAX, &n);
			json_object_object_add(
			    o, "actor_id", json_object_new_int64(n));
		} else if (strcmp(k->str, "ts") == 0) {
			if (osh_time_parse(val, &ms))
				json_object_object_add(
				    o, "ts", json_object_new_string(val));
		} else {
			/* Valid UTF-8 however a writer spelled it: one odd
			 * entry must not fail its whole batch in SQL. */
			char *key = osh_utf8_clean(k->str, k->len, 31);
			if (key != NULL)
				json_object_object_add(
				    o, key, json_object_new_string(val));
			free(key);
		}
		free(val);
	}
	return o;
}

/* Stores the entries of an XREADGROUP reply; returns how many it saw. */
static size_t
take_batch(struct audit_consumer *c, const redisReply *reply)
{
	const redisReply *entries;
	struct json_object *arr;
	size_t n;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_ARRAY ||
	    reply->element[0]->elements != 2)
		return 0;
	entries = reply->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
		return 0;
	n = entries->elements;
	if ((c->ids = calloc(n, sizeof(*c->ids))) == NULL)
		return 0;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = entries->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		c->ids[c->nids++] = strdup(e->element[0]->str);
		/* A deleted entry still pending reads as nil: just ack. */
		if (e->element[1]->type == REDIS_REPLY_ARRAY)
			json_object_array_add(
			    arr, entry_json(e->element[0]->str, e->element[1]));
	}
	c->storing = true;
	store_audit_insert(c->svc->db,
	    json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN),
	    on_stored, c);
	json_object_put(arr);
	return n;
}

static void
on_read(redisReply *reply, void *arg, bool pending)
{
	struct audit_consumer *c = arg;

	if (reply == NULL)
		return; /* reconnection restarts the loop */
	if (reply->type == REDIS_REPLY_ERROR) {
		osh_log_warn(NULL,
		    "msg=\"audit stream read failed\" "
		    "error=\"%s\"",
		    reply->str);
		retry_later(c);
		return;
	}
	if (take_batch(c, reply) > 0)
		return;
	if (pending || ++c->idle_reads % CLAIM_EVERY != 0) {
		read_new(c);
		return;
	}
	read_pending(c); /* claims first */
}

static void
on_read_pending(redisReply *reply, void *arg)
{
	on_read(reply, arg, true);
}

static void
on_read_new(redisReply *reply, void *arg)
{
	on_read(reply, arg, false);
}

static void
read_new(struct audit_consumer *c)
{
	osh_redis_cmd(c->r, on_read_new, c,
	    "XREADGROUP GROUP " GROUP " %s COUNT " BATCH " BLOCK %d "
	    "STREAMS " OSH_AUDIT_STREAM " >",
	    c->name, BLOCK_MS);
}

static void
on_claimed(redisReply *reply, void *arg)
{
	struct audit_consumer *c = arg;

	if (reply == NULL)
		return;
	osh_redis_cmd(c->r, on_read_pending, c,
	    "XREADGROUP GROUP " GROUP " %s COUNT " BATCH
	    " STREAMS " OSH_AUDIT_STREAM " 0",
	    c->name);
}

/* Claims entries idle in dead consumers, then reads our own pending. */
static void
read_pending(struct audit_consumer *c)
{
	osh_redis_cmd(c->r, on_claimed, c,
	    "XAUTOCLAIM " OSH_AUDIT_STREAM " " GROUP " %s " CLAIM_IDLE
	    " 0-0 COUNT " BATCH " JUSTID",
	    c->name);
}

static void
on_group(redisReply *reply, void *arg)
{
	struct audit_consumer *c = arg;

	if (reply == NULL)
		return;
	/* BUSYGROUP: it exists already, which is fine. */
	read_pending(c);
}

static void
on_connect(void *arg)
{
	struct audit_consumer *c = arg;

	osh_redis_cmd(c->r, on_group, c,
	    "XGROUP CREATE " OSH_AUDIT_STREAM " " GROUP " 0 MKSTREAM");
}

struct audit_consumer *
audit_consumer_new(struct osh_service *svc)
{
	struct audit_consumer *c = calloc(1, sizeof(*c));
	char host[64] = "host";

	if (c == NULL)
		return NULL;
	c->svc = svc;
	gethostname(host, sizeof(host) - 1);
	snprintf(c->name, sizeof(c->name), "auth-%s-%lld", host,
	    (long long)svc->cfg.port);
	c->retry = evtimer_new(svc->base, on_retry, c);
	if (c->retry == NULL ||
	    (c->r = osh_service_redis_new(svc, BLOCK_MS)) == NULL) {
		audit_consumer_free(c);
		return NULL;
	}
	osh_redis_on_connect(c->r, on_connect, c);
	return c;
}

static void
release(struct audit_consumer *c)
{
	osh_redis_free(c->r);
	if (c->retry != NULL)
		event_free(c->retry);
	ids_free(c);
	free(c);
}

/* A batch with the database holds c until its answer comes (the pool
 * answers every query, at the latest when it is freed): until then only
 * the Redis connection goes, so nothing reads or acknowledges. */
void
audit_consumer_free(struct audit_consumer *c)
{
	if (c == NULL)
		return;
	if (!c->storing) {
		release(c);
		return;
	}
	c->closing = true;
	osh_redis_free(c->r);
	c->r = NULL;
	if (c->retry != NULL)
		event_del(c->retry);
}
