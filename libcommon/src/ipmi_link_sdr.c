/* ipmi_link_sdr.c - the SDR cache of a link (revalidated with one Get
 * SDR Repository Info, read again when it changed) and the sensor
 * readings it lists. */
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"

/* The most SDR records a BMC may make us hold. */
#define MAX_SDRS 1024

void
ipmi_link_sdr_free(struct sdr_cache *c)
{
	free(c->records);
	memset(c, 0, sizeof(*c));
}

/* Reserve SDR Repository: a new reservation id, or -1. */
static int
reserve(struct bmc_link *l, uint16_t *resid, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x22}, rs[16], cc;
	size_t n;

	if (ipmi_link_raw(
		l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0)
		return -1;
	if (osh_reservation_parse(rs, n, resid) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short SDR reservation answer");
		return -1;
	}
	return 0;
}

/* Reads one SDR record, header then body in chunks, re-reserving when the
 * BMC cancels the reservation. Returns the record length or -1. */
static int
get_sdr(struct bmc_link *l, uint16_t *resid, uint16_t id, uint16_t *next,
    uint8_t *out, size_t cap, struct osh_ipmi_result *res)
{
	uint8_t rs[64], cc;
	const uint8_t *data;
	size_t n, len, at = 0, chunk = 16;
	int got;

	for (int tries = 0; tries < 3; tries++) {
		uint8_t rq[] = {0x23, (uint8_t)*resid, (uint8_t)(*resid >> 8),
		    (uint8_t)id, (uint8_t)(id >> 8), 0, 5};

		if (ipmi_link_raw(l, NETFN_STORAGE, rq, sizeof(rq), rs,
			sizeof(rs), &n, &cc, res) == 0)
			break;
		if (cc != 0xc5)
			return -1;
		res->err = OSH_IPMI_OK; /* reservation lost: reserve again */
		if (reserve(l, resid, res) != 0)
			return -1;
		n = 0;
	}
	if (osh_sdr_get_parse(rs, n, 5, next, &data) != 5) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
		    "short SDR record header 0x%04x", id);
		return -1;
	}
	memcpy(out, data, 5);
	len = (size_t)out[4] + 5;
	if (len > cap) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
		    "SDR record 0x%04x too long", id);
		return -1;
	}
	at = 5;
	while (at < len) {
		size_t want = len - at < chunk ? len - at : chunk;
		uint16_t ignored;
		uint8_t rq[] = {0x23, (uint8_t)*resid, (uint8_t)(*resid >> 8),
		    (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)at,
		    (uint8_t)want};

		if (ipmi_link_raw(l, NETFN_STORAGE, rq, sizeof(rq), rs,
			sizeof(rs), &n, &cc, res) != 0) {
			if (cc == 0xca && chunk > 8) { /* fewer bytes, please */
				res->err = OSH_IPMI_OK;
				chunk = 8;
				continue;
			}
			return -1;
		}
		if ((got = osh_sdr_get_parse(rs, n, want, &ignored, &data)) <
		    0) {
			ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
			    "empty SDR answer 0x%04x", id);
			return -1;
		}
		memcpy(out + at, data, (size_t)got);
		at += (size_t)got;
	}
	return (int)len;
}

static bool
same_sensor(const struct osh_sdr *a, const struct osh_sdr *b)
{
	return a->owner == b->owner && a->lun == b->lun &&
	    a->number == b->number;
}

/* Makes sure the SDR cache is current: one Get SDR Repository Info when it
 * is, a full read when it is not. */
int
ipmi_link_sdr_refresh(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x20}, rs[32], cc, rec[280];
	uint16_t resid, id = 0, next;
	struct osh_sdr_repo_info info;
	size_t n, cap;
	struct sdr_cache c;

	if (ipmi_link_raw(
		l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0 ||
	    osh_sdr_repo_info_parse(rs, n, &info) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "no SDR repository info");
		return -1;
	}
	if (l->sdr.valid && l->sdr.count == info.count &&
	    memcmp(l->sdr.stamp, info.stamp, 8) == 0) {
		res->sdr_cached = true;
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.count = info.count;
	memcpy(c.stamp, info.stamp, 8);
	if (reserve(l, &resid, res) != 0)
		return -1;
	/* As many as the BMC says it has (sensors are fewer: other record
	 * types are skipped), more only if it said too few. */
	cap = c.count < 8 ? 8 : c.count > MAX_SDRS ? MAX_SDRS : c.count;
	if ((c.records = calloc(cap, sizeof(*c.records))) == NULL) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return -1;
	}
	for (int i = 0; i < MAX_SDRS && id != 0xffff; i++) {
		struct osh_sdr s;
		int len = get_sdr(l, &resid, id, &next, rec, sizeof(rec), res);
		bool dup = false;

		if (len < 0) {
			free(c.records);
			return -1;
		}
		if (next == id)
			next = 0xffff; /* a loop: stop here */
		id = next;
		switch (osh_sdr_parse(rec, (size_t)len, &s)) {
		case 1:
			for (size_t k = 0; k < c.nrecords && !dup; k++)
				dup = same_sensor(&c.records[k], &s);
			if (dup) {
				c.skipped++;
				break;
			}
			if (c.nrecords == cap &&
			    ipmi_link_grow((void **)&c.records, &cap, MAX_SDRS,
				sizeof(*c.records)) != 0) {
				c.skipped++;
				break;
			}
			c.records[c.nrecords++] = s;
			break;
		case -1: c.skipped++; break;
		default: break;
		}
	}
	ipmi_link_sdr_free(&l->sdr);
	c.valid = true;
	l->sdr = c;
	return 0;
}

void
ipmi_link_sdr_sensors(struct bmc_link *l, struct osh_ipmi_result *res)
{
	struct osh_sensor *out;
	size_t total = 0, k = 0;

	if (ipmi_link_sdr_refresh(l, res) != 0)
		return;
	res->skipped_records = l->sdr.skipped;
	for (size_t i = 0; i < l->sdr.nrecords; i++)
		total += l->sdr.records[i].share_count;
	if ((out = calloc(total ? total : 1, sizeof(*out))) == NULL) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return;
	}
	for (size_t i = 0; i < l->sdr.nrecords; i++) {
		const struct osh_sdr *s = &l->sdr.records[i];

		for (unsigned j = 0; j < s->share_count; j++) {
			uint8_t rq[] = {0x2d, (uint8_t)(s->number + j)};
			uint8_t rs[16], cc;
			size_t n = 0;
			struct osh_sensor *o = &out[k++];
			enum osh_ipmi_err before = res->err;
			bool ok = false;

			/* Only sensors the BMC itself owns are read. */
			if (!s->event_only && s->owner == 0x20 && s->lun == 0) {
				ok = ipmi_link_raw(l, NETFN_SENSOR, rq,
					 sizeof(rq), rs, sizeof(rs), &n, &cc,
					 res) == 0;
				if (!ok &&
				    (l->late ||
					ipmi_link_session_lost(res->err)))
					goto out;
				if (!ok && before == OSH_IPMI_OK)
					res->err = OSH_IPMI_OK; /* one sensor */
			}
			osh_sensor_fill(s, j, ok ? rs : NULL, n, o);
			if (!o->unavailable && !o->threshold)
				o->state = ipmi_link_interpret_sensor(
				    o->reading_type, o->type, o->events);
		}
	}
out:
	res->sensors = out;
	res->nsensors = k;
	if (!l->late && !ipmi_link_session_lost(res->err))
		res->done |= OSH_IPMI_WANT_SENSORS;
}
