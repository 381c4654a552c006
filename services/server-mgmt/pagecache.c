/* pagecache.c - short-lived answers (lists, statistics, single servers),
 * shared by concurrent requests for the same one and sent by reference. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/http.h>
#include <osh/json.h>
#include <osh/util.h>

#include "pagecache.h"

/* Entries looked at, from the least recently used, for one to reuse. */
#define EVICT_SCAN 16

struct waiter {
	struct osh_req *req;
	struct waiter *next;
};

struct pagecache_entry {
	struct pagecache *cache; /* NULL once the cache is freed */
	char *key;
	uint64_t hash;
	struct pagecache_entry *hnext; /* in its bucket */
	TAILQ_ENTRY(pagecache_entry) lru; /* most recently used first */
	struct osh_body *body; /* NULL while filling or after a failure */
	uint64_t born_us;
	unsigned gen; /* the cache's generation it was asked in */
	bool filling;
	bool dropped; /* its key was dropped while it was filling */
	pagecache_answer answer;
	struct waiter *waiters, **last;
	size_t nwaiters;
};

struct pagecache {
	uint64_t ttl_us;
	unsigned gen;
	size_t n, max, bytes, nbuckets;
	struct pagecache_entry **bucket;
	TAILQ_HEAD(lru_list, pagecache_entry) lru;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct pagecache *
pagecache_new(int ttl_ms, size_t max)
{
	struct pagecache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ttl_us = ttl_ms > 0 ? (uint64_t)ttl_ms * 1000 : 0;
	c->max = max > 0 ? max : 1;
	for (c->nbuckets = 16; c->nbuckets < 2 * c->max; c->nbuckets *= 2)
		;
	if ((c->bucket = calloc(c->nbuckets, sizeof(*c->bucket))) == NULL) {
		free(c);
		return NULL;
	}
	TAILQ_INIT(&c->lru);
	randombytes_buf(c->hash_key, sizeof(c->hash_key));
	return c;
}

static uint64_t
key_hash(const struct pagecache *c, const char *key)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(
	    h, (const unsigned char *)key, strlen(key), c->hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

static struct pagecache_entry **
bucket_of(struct pagecache *c, uint64_t hash)
{
	return &c->bucket[hash & (c->nbuckets - 1)];
}

static struct pagecache_entry *
find(struct pagecache *c, const char *key, uint64_t hash)
{
	struct pagecache_entry *e = *bucket_of(c, hash);

	for (; e != NULL; e = e->hnext)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
unhash(struct pagecache *c, struct pagecache_entry *e)
{
	struct pagecache_entry **p = bucket_of(c, e->hash);

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	e->hnext = NULL;
}

static void
entry_forget_body(struct pagecache_entry *e)
{
	if (e->body != NULL) {
		if (e->cache != NULL)
			e->cache->bytes -= osh_body_len(e->body);
		osh_body_unref(e->body);
		e->body = NULL;
	}
}

static bool
fresh(const struct pagecache *c, const struct pagecache_entry *e)
{
	return e->body != NULL && e->gen == c->gen &&
	    osh_now_us() - e->born_us < c->ttl_us;
}

static bool
wait_on(struct pagecache_entry *e, struct osh_req *req)
{
	struct waiter *w;

	if (e->nwaiters >= PAGECACHE_MAX_WAITERS ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return false;
	w->req = req;
	*e->last = w;
	e->last = &w->next;
	e->nwaiters++;
	return true;
}

/* An entry for a new key: a new one while there is room, else the least
 * recently used one that no query is filling (NULL when none is near the
 * end of the list). */
static struct pagecache_entry *
entry_new(struct pagecache *c, const char *key, uint64_t hash)
{
	struct pagecache_entry *e = NULL;
	char *k;

	if ((k = strdup(key)) == NULL)
		return NULL;
	if (c->n < c->max) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			free(k);
			return NULL;
		}
		e->cache = c;
		c->n++;
	} else {
		int scanned = 0;

		TAILQ_FOREACH_REVERSE(e, &c->lru, lru_list, lru)
		{
			if (!e->filling || ++scanned == EVICT_SCAN)
				break;
		}
		if (e == NULL || e->filling) {
			free(k);
			return NULL;
		}
		TAILQ_REMOVE(&c->lru, e, lru);
		unhash(c, e);
		entry_forget_body(e);
		free(e->key);
	}
	e->key = k;
	e->hash = hash;
	e->hnext = *bucket_of(c, hash);
	*bucket_of(c, hash) = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	return e;
}

static void
touch(struct pagecache *c, struct pagecache_entry *e)
{
	if (TAILQ_FIRST(&c->lru) != e) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
	}
}

bool
pagecache_lookup(struct pagecache *c, const char *key, struct osh_req *req,
    pagecache_answer answer, struct pagecache_entry **fill)
{
	struct pagecache_entry *e;
	uint64_t hash;

	*fill = NULL;
	if (c == NULL || c->ttl_us == 0)
		return false;
	hash = key_hash(c, key);
	if ((e = find(c, key, hash)) != NULL) {
		touch(c, e);
		if (fresh(c, e)) {
			osh_reply_body(req, 200, "application/json", e->body);
			return true;
		}
		if (e->filling && e->gen == c->gen && !e->dropped &&
		    wait_on(e, req))
			return true;
		if (e->filling)
			return false; /* an older fill: this one goes alone */
	} else if ((e = entry_new(c, key, hash)) == NULL) {
		return false;
	}
	entry_forget_body(e);
	e->filling = true;
	e->dropped = false;
	e->gen = c->gen;
	e->answer = answer;
	e->waiters = NULL;
	e->last = &e->waiters;
	e->nwaiters = 0;
	if (!wait_on(e, req)) {
		e->filling = false;
		return false;
	}
	*fill = e;
	return false;
}

/* The body of a good answer, its JSON without blanks; NULL when out of
 * memory. */
static struct osh_body *
body_of(const char *json)
{
	size_t len = strlen(json);
	char *tmp = malloc(len + 1);
	struct osh_body *b;

	if (tmp == NULL)
		return NULL;
	b = osh_body_new(tmp, osh_json_compact(tmp, json, len));
	free(tmp);
	return b;
}

void
pagecache_filled(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct pagecache_entry *e = arg;
	struct pagecache *c = e->cache;
	struct waiter *w = e->waiters, *next;
	struct osh_body *body = NULL;

	if (st == OSH_DB_OK && json != NULL)
		body = body_of(json);
	e->filling = false;
	e->waiters = NULL;
	e->last = &e->waiters;
	e->nwaiters = 0;
	if (c != NULL && body != NULL && e->gen == c->gen && !e->dropped &&
	    c->bytes + osh_body_len(body) <= PAGECACHE_MAX_BYTES) {
		e->body = osh_body_ref(body);
		e->born_us = osh_now_us();
		c->bytes += osh_body_len(body);
	}
	for (; w != NULL; w = next) {
		next = w->next;
		if (body != NULL)
			osh_reply_body(w->req, 200, "application/json", body);
		else
			e->answer(st, json, state, w->req);
		free(w);
	}
	osh_body_unref(body);
	if (c == NULL) { /* the cache was freed meanwhile */
		free(e->key);
		free(e);
	}
}

void
pagecache_clear(struct pagecache *c)
{
	if (c == NULL)
		return;
	c->gen++;
	for (struct pagecache_entry *e = TAILQ_FIRST(&c->lru); e != NULL;
	     e = TAILQ_NEXT(e, lru))
		if (!e->filling)
			entry_forget_body(e);
}

void
pagecache_drop(struct pagecache *c, const char *key)
{
	struct pagecache_entry *e;

	if (c == NULL || c->n == 0 ||
	    (e = find(c, key, key_hash(c, key))) == NULL)
		return;
	if (e->filling)
		e->dropped = true;
	else
		entry_forget_body(e);
}

const char *
pagecache_server_key(int64_t id, char key[PAGECACHE_SERVER_KEY_LEN])
{
	snprintf(key, PAGECACHE_SERVER_KEY_LEN, "server:%lld", (long long)id);
	return key;
}

void
pagecache_drop_server(struct pagecache *items, int64_t id)
{
	char key[PAGECACHE_SERVER_KEY_LEN];

	pagecache_drop(items, pagecache_server_key(id, key));
}

void
pagecache_free(struct pagecache *c)
{
	struct pagecache_entry *e, *next;

	if (c == NULL)
		return;
	for (e = TAILQ_FIRST(&c->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		entry_forget_body(e);
		if (e->filling) { /* its query's answer frees it */
			e->cache = NULL;
			continue;
		}
		free(e->key);
		free(e);
	}
	free(c->bucket);
	free(c);
}
