/* ipmi_link_sel.c - the SEL of a link: its info, the cache of its
 * records (read once, then only what was added), pages of it newest first,
 * and clearing it. */
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/util.h"

/* The most SEL records a BMC may make us hold. */
#define MAX_SEL OSH_IPMI_SEL_KEPT

/* Get SEL Info into info. */
static int
sel_info_read(
    struct bmc_link *l, struct osh_sel_info *info, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x40}, rs[32], cc;
	size_t n;

	if (ipmi_link_raw(
		l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0)
		return -1;
	if (osh_sel_info_parse(rs, n, info) != 0) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE, "short SEL info");
		return -1;
	}
	return 0;
}

void
ipmi_link_sel_info(struct bmc_link *l, struct osh_ipmi_result *res)
{
	if (sel_info_read(l, &res->sel_info, res) == 0)
		res->done |= OSH_IPMI_WANT_SEL_INFO;
}

/* Names SEL entries after their sensors, from the SDR cache; returns the
 * sensor's record, or NULL. */
static const struct osh_sdr *
sel_name(const struct bmc_link *l, struct osh_sel_entry *e)
{
	for (size_t i = 0; i < l->sdr.nrecords; i++) {
		const struct osh_sdr *s = &l->sdr.records[i];
		if (e->raw[7] == s->owner && e->sensor_number >= s->number &&
		    e->sensor_number < s->number + s->share_count) {
			osh_strlcpy(e->sensor, s->name, sizeof(e->sensor));
			return s;
		}
	}
	return NULL;
}

void
ipmi_link_sel_reset(struct sel_cache *c)
{
	free(c->recs);
	free(c->texts);
	memset(c, 0, sizeof(*c));
}

/* The event text of record r into out, from the texts made lately when
 * one was made for the same event with the same SDR. */
static void
sel_event_text(struct bmc_link *l, const struct sel_rec *r,
    const struct osh_sdr *sdr, char *out, size_t outlen)
{
	struct sel_cache *c = &l->sel;
	struct sel_text *t;
	uint8_t key[14];
	unsigned h = 0;

	if (c->texts != NULL && memcmp(c->texts_sdr, l->sdr.stamp, 8) != 0)
		memset(c->texts, 0, SEL_TEXTS * sizeof(*c->texts));
	if (c->texts == NULL &&
	    (c->texts = calloc(SEL_TEXTS, sizeof(*c->texts))) == NULL) {
		ipmi_link_interpret_sel_event(r->raw, sdr, out, outlen);
		return;
	}
	memcpy(c->texts_sdr, l->sdr.stamp, 8);
	memcpy(key, r->raw + 2, sizeof(key));
	if (r->raw[2] < 0xe0)
		memset(key + 1, 0, 4); /* the time: not in the text */
	for (size_t i = 0; i < sizeof(key); i++)
		h = h * 31 + key[i];
	t = &c->texts[h % SEL_TEXTS];
	if (!t->used || memcmp(t->key, key, sizeof(key)) != 0) {
		ipmi_link_interpret_sel_event(
		    r->raw, sdr, t->event, sizeof(t->event));
		memcpy(t->key, key, sizeof(key));
		t->used = true;
	}
	osh_strlcpy(out, t->event, outlen);
}

/* Starts a walk from the first record, with room for as many as the BMC
 * says it holds (within bounds). */
static int
sel_begin(struct sel_cache *c, const struct osh_sel_info *info)
{
	size_t cap = info->entries < 16 ? 16 : info->entries;

	ipmi_link_sel_reset(c);
	if (cap > MAX_SEL)
		cap = MAX_SEL;
	if ((c->recs = calloc(cap, sizeof(*c->recs))) == NULL)
		return -1;
	c->cap = cap;
	c->valid = true;
	c->next = 0x0000; /* the first */
	c->last_erase = info->last_erase;
	return 0;
}

/* Keeps a record; at the bound, the oldest quarter makes room. */
static void
sel_keep(struct sel_cache *c, uint16_t id, const uint8_t *raw16)
{
	if (c->n == c->cap &&
	    ipmi_link_grow(
		(void **)&c->recs, &c->cap, MAX_SEL, sizeof(*c->recs)) != 0) {
		size_t drop = c->n / 4 ? c->n / 4 : c->n;

		memmove(
		    c->recs, c->recs + drop, (c->n - drop) * sizeof(*c->recs));
		c->n -= drop;
		c->dropped += drop;
	}
	c->recs[c->n].id = id;
	memcpy(c->recs[c->n].raw, raw16, 16);
	c->recs[c->n].severity = 0;
	c->n++;
}

/* Get SEL Entry: the whole record and the id of the one after it. */
static int
sel_get(struct bmc_link *l, uint16_t id, uint8_t *rec, uint16_t *next,
    uint8_t *cc, struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x43, 0, 0, (uint8_t)id, (uint8_t)(id >> 8), 0, 0xff};
	uint8_t rs[32];
	size_t n;

	if (ipmi_link_raw(l, NETFN_STORAGE, cmd, sizeof(cmd), rs, sizeof(rs),
		&n, cc, res) != 0)
		return -1;
	if (osh_sel_get_parse(rs, n, next, rec) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short SEL entry 0x%04x", id);
		return -1;
	}
	return 0;
}

/* Brings the SEL cache up to date with the log, reading only what is
 * new: nothing when the SEL info says nothing changed, the records after
 * the last one known when some were added, everything when some were
 * erased (or went without a word: an overwriting log). Stops at the
 * deadline with the walk kept (the next request goes on from there). */
static int
sel_refresh(struct bmc_link *l, const struct osh_sel_info *info,
    struct osh_ipmi_result *res)
{
	struct sel_cache *c = &l->sel;
	bool again = false;
	uint8_t rec[16], cc;
	uint16_t next;

	if (c->valid && c->next == 0xffff && info->last_add == c->last_add &&
	    info->last_erase == c->last_erase && info->entries == c->entries)
		return 0;
	if (c->valid &&
	    (info->last_erase != c->last_erase ||
		(c->next == 0xffff && info->entries < c->entries)))
		ipmi_link_sel_reset(c); /* erased since: start over */
restart:
	if (!c->valid && sel_begin(c, info) != 0) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return -1;
	}
	if (c->next == 0xffff && c->n > 0) {
		/* Walked to the end before: the last record known now
		 * points at the first one added since. */
		if (sel_get(l, c->recs[c->n - 1].id, rec, &next, &cc, res) !=
		    0) {
			if (cc != 0xcb || again)
				return -1;
			res->err = OSH_IPMI_OK; /* gone: start over */
			ipmi_link_sel_reset(c);
			again = true;
			goto restart;
		}
		c->next = next;
	}
	/* Bounded by the deadline, and by twice the most records kept (a
	 * BMC whose chain loops). */
	for (size_t i = 0; c->next != 0xffff && i < 2 * MAX_SEL; i++) {
		uint16_t id = c->next;

		if (sel_get(l, id, rec, &next, &cc, res) != 0) {
			if (cc == 0xcb && id == 0x0000) { /* empty */
				res->err = OSH_IPMI_OK;
				res->message[0] = '\0';
				c->next = 0xffff;
				break;
			}
			if (cc == 0xcb && !again && !l->late) {
				/* Deleted under the walk: start over. */
				res->err = OSH_IPMI_OK;
				ipmi_link_sel_reset(c);
				again = true;
				goto restart;
			}
			return -1;
		}
		sel_keep(c, (uint16_t)(rec[0] | rec[1] << 8), rec);
		res->sel_read++;
		c->next = next == id ? 0xffff : next; /* a loop: end */
	}
	if (c->next != 0xffff) {
		ipmi_link_sel_reset(c);
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
		    "SEL chain longer than %d", 2 * MAX_SEL);
		return -1;
	}
	/* Went on from a complete walk, and found other than as many new
	 * records as the BMC counts more: some went without a word (a log
	 * overwriting its oldest, say). */
	if (c->entries_valid && !again &&
	    (int)(c->n + c->dropped - c->walked) !=
		(int)info->entries - (int)c->entries) {
		ipmi_link_sel_reset(c);
		again = true;
		goto restart;
	}
	c->last_add = info->last_add;
	c->entries = info->entries;
	c->walked = c->n + c->dropped;
	c->entries_valid = true;
	return 0;
}

/* The page asked for, newest first, from the cache. */
static void
sel_page(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	struct sel_cache *c = &l->sel;
	size_t limit =
	    rq->sel.limit ? rq->sel.limit : OSH_IPMI_SEL_PAGE_DEFAULT;
	size_t top = c->n, count;

	if (limit > OSH_IPMI_SEL_PAGE_MAX)
		limit = OSH_IPMI_SEL_PAGE_MAX;
	if (rq->sel.all)
		limit = c->n;
	res->sel_total = c->n;
	if (rq->sel.start != 0) {
		while (top > 0 && c->recs[top - 1].id != rq->sel.start)
			top--;
		if (top == 0) {
			res->sel_start_gone = true;
			return;
		}
	}
	/* recs[top - 1] is the newest of the page. */
	count = top < limit ? top : limit;
	if (count == 0 || (res->sel = calloc(count, sizeof(*res->sel))) == NULL)
		return;
	for (size_t k = 0; k < count; k++) {
		struct sel_rec *r = &c->recs[top - 1 - k];
		struct osh_sel_entry *e = &res->sel[res->nsel];

		if (osh_sel_parse(r->raw, sizeof(r->raw), e) != 0)
			continue;
		/* FreeIPMI's readings are slow: each record's is kept. */
		if (r->severity == 0)
			r->severity =
			    (uint8_t)(ipmi_link_interpret_sel(r->raw) + 1);
		e->severity = (enum osh_sensor_state)(r->severity - 1);
		sel_event_text(
		    l, r, sel_name(l, e), e->event, sizeof(e->event));
		res->nsel++;
	}
	res->sel_next = top > count ? c->recs[top - 1 - count].id : 0;
}

void
ipmi_link_sel_read(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	struct osh_sel_info info;

	if (!l->sdr.valid) {
		ipmi_link_sdr_refresh(l, res); /* names only: failure is fine */
		res->err = OSH_IPMI_OK;
		res->message[0] = '\0';
	}
	if (res->done & OSH_IPMI_WANT_SEL_INFO)
		info = res->sel_info; /* read just before */
	else if (sel_info_read(l, &info, res) != 0)
		return;
	if (sel_refresh(l, &info, res) != 0)
		return;
	sel_page(l, rq, res);
	res->done |= OSH_IPMI_WANT_SEL;
}

void
ipmi_link_sel_clear(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x42}, rs[8], cc;
	size_t n;
	uint16_t resid;

	if (ipmi_link_raw(
		l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0)
		return;
	if (osh_reservation_parse(rs, n, &resid) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short SEL reservation answer");
		return;
	}
	{
		uint8_t clr[] = {0x47, (uint8_t)resid, (uint8_t)(resid >> 8),
		    'C', 'L', 'R', 0xaa};
		if (ipmi_link_raw(l, NETFN_STORAGE, clr, sizeof(clr), rs,
			sizeof(rs), &n, &cc, res) == 0)
			res->done |= OSH_IPMI_WANT_SEL_CLEAR;
		ipmi_link_sel_reset(&l->sel);
	}
}
