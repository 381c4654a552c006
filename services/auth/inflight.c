/* inflight.c - per-address counters of password checks in flight. */
#include <stdlib.h>
#include <string.h>

#include <osh/util.h>

#include "inflight.h"

#define NBUCKETS 256

struct slot {
	struct slot *next;
	int n;
	char key[OSH_CLIENT_KEY_LEN];
};

struct inflight {
	int cap;
	size_t count;
	struct slot *table[NBUCKETS];
};

static unsigned
bucket(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

/* The slot of a client key, or where it would go. */
static struct slot **
find(struct inflight *t, const char *key)
{
	struct slot **pp = &t->table[bucket(key)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

struct inflight *
inflight_new(int cap)
{
	struct inflight *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->cap = cap > 0 ? cap : 1;
	return t;
}

void
inflight_free(struct inflight *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct slot *s = t->table[i], *n;
		for (; s != NULL; s = n) {
			n = s->next;
			free(s);
		}
	}
	free(t);
}

bool
inflight_enter(struct inflight *t, const char *addr)
{
	char key[OSH_CLIENT_KEY_LEN];
	struct slot **pp, *s;

	osh_client_key(addr, key, sizeof(key));
	pp = find(t, key);
	s = *pp;

	if (s != NULL) {
		if (s->n >= t->cap)
			return false;
		s->n++;
		return true;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return false;
	osh_strlcpy(s->key, key, sizeof(s->key));
	s->n = 1;
	*pp = s;
	t->count++;
	return true;
}

void
inflight_leave(struct inflight *t, const char *addr)
{
	char key[OSH_CLIENT_KEY_LEN];
	struct slot **pp, *s;

	osh_client_key(addr, key, sizeof(key));
	pp = find(t, key);
	s = *pp;

	if (s == NULL)
		return;
	if (--s->n <= 0) {
		*pp = s->next;
		free(s);
		t->count--;
	}
}

int
inflight_count(const struct inflight *t, const char *addr)
{
	char key[OSH_CLIENT_KEY_LEN];

	osh_client_key(addr, key, sizeof(key));
	for (const struct slot *s = t->table[bucket(key)]; s != NULL;
	     s = s->next)
		if (strcmp(s->key, key) == 0)
			return s->n;
	return 0;
}

size_t
inflight_addresses(const struct inflight *t)
{
	return t->count;
}
