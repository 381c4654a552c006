/* consumer.c - the audit stream consumer, on libcommon's stream consumer
 * loop (stream_consumer.h) over a Redis connection of its own, because it
 * blocks on XREADGROUP. One batch at a time: read, store in one
 * statement, acknowledge, read again. After a restart the consumer first
 * re-reads its own pending entries (its name stays the same), and every
 * so often it claims entries left pending by consumers that died. */
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
#include <osh/stream_consumer.h>
#include <osh/util.h>

#include "consumer.h"
#include "store.h"

#define GROUP "auth"
#define BATCH 200
#define BLOCK_MS 2000
#define CLAIM_IDLE_MS 60000
#define RETRY_MS 1000

struct audit_consumer {
	struct osh_service *svc;
	struct osh_stream_consumer *sc;
	char name[160];
	struct json_object *batch; /* the entries being read */
	size_t nbatch; /* entries of the batch (deleted ones too) */
};

/* One stream entry as a JSON object for jsonb_to_recordset. */
static struct json_object *
entry_json(const struct osh_stream_msg *m)
{
	struct json_object *o = json_object_new_object();
	int64_t ms;

	json_object_object_add(o, "stream_id", json_object_new_string(m->id));
	for (size_t i = 0; i < m->nfields; i++) {
		const char *k = m->fields[i].name;
		char *val;

		val = osh_utf8_clean(m->fields[i].value, m->lens[i], 8192);
		if (val == NULL)
			continue;
		if (strcmp(k, "details") == 0) {
			struct json_object *d = json_tokener_parse(val);
			if (!json_object_is_type(d, json_type_object)) {
				json_object_put(d);
				d = json_object_new_object();
			}
			json_object_object_add(o, "details", d);
		} else if (strcmp(k, "actor_id") == 0) {
			int64_t n = 0;
			osh_parse_int(val, 0, INT64_MAX, &n);
			json_object_object_add(
			    o, "actor_id", json_object_new_int64(n));
		} else if (strcmp(k, "ts") == 0) {
			if (osh_time_parse(val, &ms))
				json_object_object_add(
				    o, "ts", json_object_new_string(val));
		} else {
			/* Valid UTF-8 however a writer spelled it: one odd
			 * entry must not fail its whole batch in SQL. */
			char *key = osh_utf8_clean(k, strlen(k), 31);
			if (key != NULL)
				json_object_object_add(
				    o, key, json_object_new_string(val));
			free(key);
		}
		free(val);
	}
	return o;
}

/* Adds an entry to the batch; a deleted one still pending has no fields
 * and is only acknowledged. */
static void
on_entry(struct osh_stream_msg *m, void *arg)
{
	struct audit_consumer *c = arg;

	if (c->batch == NULL)
		c->batch = json_object_new_array();
	c->nbatch++;
	if (!m->deleted)
		json_object_array_add(c->batch, entry_json(m));
}

static void
on_stored(enum store_status st, void *arg)
{
	struct audit_consumer *c = arg;
	struct osh_stream_consumer *sc = c->sc;

	if (st == STORE_ERROR)
		osh_log_warn(NULL,
		    "msg=\"audit entries not stored, will retry\" "
		    "count=%zu",
		    c->nbatch);
	c->nbatch = 0;
	/* Closing: the entries stay pending, and c may go with them. */
	osh_stream_consumer_done_all(
	    sc, st == STORE_ERROR ? OSH_STREAM_RETRY : OSH_STREAM_STORED);
}

/* Stores the batch just read in one statement. */
static void
on_batch_end(void *arg)
{
	struct audit_consumer *c = arg;

	store_audit_insert(c->svc->db,
	    c->batch != NULL ? json_object_to_json_string_ext(
				   c->batch, JSON_C_TO_STRING_PLAIN)
			     : "[]",
	    on_stored, c);
	json_object_put(c->batch);
	c->batch = NULL;
}

static void
on_released(void *arg)
{
	struct audit_consumer *c = arg;

	json_object_put(c->batch);
	free(c);
}

struct audit_consumer *
audit_consumer_new(struct osh_service *svc)
{
	struct audit_consumer *c = calloc(1, sizeof(*c));
	char host[64] = "host";
	struct osh_stream_consumer_config cfg = {
	    .stream = OSH_AUDIT_STREAM,
	    .group = GROUP,
	    .what = "audit stream",
	    .count = BATCH,
	    .one_batch = true,
	    .block_ms = BLOCK_MS,
	    .claim_idle_ms = CLAIM_IDLE_MS,
	    .retry_ms = RETRY_MS,
	};
	static const struct osh_stream_consumer_ops ops = {
	    .entry = on_entry,
	    .batch_end = on_batch_end,
	    .released = on_released,
	};

	if (c == NULL)
		return NULL;
	c->svc = svc;
	gethostname(host, sizeof(host) - 1);
	snprintf(c->name, sizeof(c->name), "auth-%s-%lld", host,
	    (long long)svc->cfg.port);
	cfg.consumer = c->name;
	c->sc = osh_stream_consumer_new(svc->base,
	    osh_service_redis_new(svc, BLOCK_MS), NULL, &cfg, &ops, c);
	if (c->sc == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* A batch with the database holds c until its answer comes (the pool
 * answers every query, at the latest when it is freed): until then only
 * the Redis connection goes, so nothing reads or acknowledges. */
void
audit_consumer_free(struct audit_consumer *c)
{
	if (c != NULL)
		osh_stream_consumer_close(c->sc);
}
