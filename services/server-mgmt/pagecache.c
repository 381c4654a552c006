/* pagecache.c - short-lived answers of the servers list and statistics,
 * shared by concurrent requests for the same one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osh/http.h>
#include <osh/util.h>

#include "pagecache.h"

struct waiter {
	struct osh_req *req;
	struct waiter *next;
};

struct pagecache_entry {
	struct pagecache *cache;
	char *key;
	char *body; /* NULL while filling or after a failure */
	size_t len;
	uint64_t born_us;
	unsigned gen; /* the cache's generation it was asked in */
	bool filling;
	pagecache_answer answer;
	struct waiter *waiters, **last;
	size_t nwaiters;
};

struct pagecache {
	uint64_t ttl_us;
	unsigned gen;
	size_t n, bytes;
	struct pagecache_entry *e[PAGECACHE_MAX];
};

struct pagecache *
pagecache_new(int ttl_ms)
{
	struct pagecache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->ttl_us = ttl_ms > 0 ? (uint64_t)ttl_ms * 1000 : 0;
	return c;
}

static void
entry_forget_body(struct pagecache_entry *e)
{
	if (e->body != NULL) {
		e->cache->bytes -= e->len;
		free(e->body);
		e->body = NULL;
		e->len = 0;
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

/* An entry to fill for key: a stale one with that key, else a new one
 * (in a free slot, or in place of a stale idle entry); NULL when all are
 * in use. */
static struct pagecache_entry *
entry_for(struct pagecache *c, const char *key, struct pagecache_entry *same)
{
	struct pagecache_entry *e = same;
	size_t slot = c->n;

	if (e == NULL) {
		for (size_t i = 0; slot == c->n && i < c->n; i++)
			if (!c->e[i]->filling && !fresh(c, c->e[i]))
				slot = i;
		if (slot == c->n && c->n == PAGECACHE_MAX)
			return NULL;
		if (slot < c->n) {
			e = c->e[slot];
			free(e->key);
		} else if ((e = calloc(1, sizeof(*e))) == NULL) {
			return NULL;
		} else {
			c->e[c->n++] = e;
		}
		e->cache = c;
		if ((e->key = strdup(key)) == NULL)
			e->key = NULL; /* never matches; reused later */
	}
	entry_forget_body(e);
	e->filling = true;
	e->gen = c->gen;
	e->waiters = NULL;
	e->last = &e->waiters;
	e->nwaiters = 0;
	return e;
}

bool
pagecache_lookup(struct pagecache *c, const char *key, struct osh_req *req,
    pagecache_answer answer, struct pagecache_entry **fill)
{
	struct pagecache_entry *same = NULL;

	*fill = NULL;
	if (c == NULL || c->ttl_us == 0)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i]->key != NULL && strcmp(c->e[i]->key, key) == 0) {
			same = c->e[i];
			break;
		}
	}
	if (same != NULL && fresh(c, same)) {
		osh_reply(req, 200, "application/json", same->body, same->len);
		return true;
	}
	if (same != NULL && same->filling && same->gen == c->gen &&
	    wait_on(same, req))
		return true;
	if (same != NULL && same->filling)
		return false; /* an older fill: this one goes its own way */
	if ((*fill = entry_for(c, key, same)) == NULL)
		return false;
	(*fill)->answer = answer;
	if (!wait_on(*fill, req)) {
		(*fill)->filling = false;
		*fill = NULL;
	}
	return false;
}

void
pagecache_filled(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct pagecache_entry *e = arg;
	struct pagecache *c = e->cache;
	struct waiter *w = e->waiters, *next;
	size_t len = json != NULL ? strlen(json) : 0;

	if (c == NULL) { /* the cache was freed meanwhile */
		for (; w != NULL; w = next) {
			next = w->next;
			e->answer(st, json, state, w->req);
			free(w);
		}
		free(e->key);
		free(e);
		return;
	}
	e->filling = false;
	e->waiters = NULL;
	e->last = &e->waiters;
	e->nwaiters = 0;
	if (st == OSH_DB_OK && json != NULL && e->gen == c->gen &&
	    e->key != NULL && c->bytes + len <= PAGECACHE_MAX_BYTES &&
	    (e->body = malloc(len + 1)) != NULL) {
		memcpy(e->body, json, len + 1);
		e->len = len;
		e->born_us = osh_now_us();
		c->bytes += len;
	}
	for (; w != NULL; w = next) {
		next = w->next;
		e->answer(st, json, state, w->req);
		free(w);
	}
}

void
pagecache_clear(struct pagecache *c)
{
	if (c == NULL)
		return;
	c->gen++;
	for (size_t i = 0; i < c->n; i++)
		if (!c->e[i]->filling)
			entry_forget_body(c->e[i]);
}

void
pagecache_free(struct pagecache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct pagecache_entry *e = c->e[i];

		entry_forget_body(e);
		if (e->filling) { /* its query's answer frees it */
			e->cache = NULL;
			continue;
		}
		free(e->key);
		free(e);
	}
	free(c);
}
