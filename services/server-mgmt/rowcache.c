/* rowcache.c - a small direct-mapped cache of server rows. */
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/util.h>

#include "rowcache.h"

#define SLOTS 4096

struct slot {
	int64_t id; /* 0: empty */
	uint64_t expires_us;
	struct server_row row;
	char *strings[8];
};

struct rowcache {
	int ttl_ms;
	struct slot slots[SLOTS];
};

static void
slot_clear(struct slot *s)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(s->strings); i++) {
		if (s->strings[i] != NULL)
			osh_wipe(s->strings[i], strlen(s->strings[i]));
		free(s->strings[i]);
		s->strings[i] = NULL;
	}
	memset(&s->row, 0, sizeof(s->row));
	s->id = 0;
}

struct rowcache *
rowcache_new(int ttl_ms)
{
	struct rowcache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->ttl_ms = ttl_ms;
	return c;
}

void
rowcache_free(struct rowcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		slot_clear(&c->slots[i]);
	free(c);
}

static struct slot *
slot_of(struct rowcache *c, int64_t id)
{
	return &c->slots[(uint64_t)id % SLOTS];
}

bool
rowcache_get(struct rowcache *c, int64_t id, struct server_row *out)
{
	struct slot *s = slot_of(c, id);

	if (c->ttl_ms <= 0 || s->id != id || osh_now_us() >= s->expires_us)
		return false;
	*out = s->row;
	return true;
}

static char *
keep(struct slot *s, size_t i, const char *v)
{
	s->strings[i] = v ? strdup(v) : NULL;
	return s->strings[i];
}

void
rowcache_put(struct rowcache *c, const struct server_row *r)
{
	struct slot *s = slot_of(c, r->id);

	if (c->ttl_ms <= 0)
		return;
	slot_clear(s);
	s->id = r->id;
	s->expires_us = osh_now_us() + (uint64_t)c->ttl_ms * 1000u;
	s->row = *r;
	s->row.name = keep(s, 0, r->name);
	s->row.host = keep(s, 1, r->host);
	s->row.ipmi_version = keep(s, 2, r->ipmi_version);
	s->row.privilege = keep(s, 3, r->privilege);
	s->row.workarounds = keep(s, 4, r->workarounds);
	s->row.credentials = keep(s, 5, r->credentials);
	s->row.power_state = keep(s, 6, r->power_state);
	s->row.status = keep(s, 7, r->status);
	s->row.product = NULL;
}

void
rowcache_drop(struct rowcache *c, int64_t id)
{
	struct slot *s = slot_of(c, id);

	if (s->id == id)
		slot_clear(s);
}

void
rowcache_note(
    struct rowcache *c, int64_t id, const char *status, const char *power)
{
	struct slot *s = slot_of(c, id);

	if (s->id != id)
		return;
	if (status != NULL) {
		free(s->strings[7]);
		s->row.status = s->strings[7] = strdup(status);
	}
	if (power != NULL) {
		free(s->strings[6]);
		s->row.power_state = s->strings[6] = strdup(power);
	}
}
