/* ipmi_parse_bmc.c - decoding the BMC's own state: Get Watchdog Timer
 * and the string parameters of Get System Info Parameters, block by
 * block. Bounds first, as in ipmi_parse.c. */
#include <string.h>

#include "osh/ipmi_parse.h"

int
osh_watchdog_parse(const uint8_t *rs, size_t len, struct osh_watchdog *out)
{
	memset(out, 0, sizeof(*out));
	/* Eight bytes, but OpenIPMI's ipmi_sim leaves the present countdown
	 * out: six are enough for the rest. */
	if (len < 6)
		return -1;
	/* Timer use: bits 2:0 the use, bit 6 running, bit 7 "don't log". */
	out->use = rs[0] & 0x07;
	out->running = rs[0] & 0x40;
	out->logging = !(rs[0] & 0x80);
	/* Timer actions: bits 2:0 the timeout action, bits 6:4 the
	 * pre-timeout interrupt. */
	out->action = rs[1] & 0x07;
	out->pretimeout_interrupt = (rs[1] >> 4) & 0x07;
	out->pretimeout_s = rs[2];
	out->expired = rs[3] & 0x3e;
	out->initial_ds = (uint16_t)(rs[4] | rs[5] << 8);
	if (len >= 8) {
		out->present_ds = (uint16_t)(rs[6] | rs[7] << 8);
		out->has_present = true;
	}
	return 0;
}

int
osh_sysinfo_block_parse(
    const uint8_t *rs, size_t len, uint8_t set, struct osh_sysinfo_text *t)
{
	const uint8_t *data;
	size_t avail, want;

	if (set == 0) {
		memset(t, 0, sizeof(*t));
		/* revision, set selector, encoding, length, 14 bytes */
		if (len < 4)
			return -1;
		t->encoding = rs[2];
		t->length = rs[3];
		data = rs + 4;
		avail = len - 4;
		if (avail > 14)
			avail = 14;
	} else {
		/* revision, set selector, 16 bytes */
		if (len < 2 || rs[1] != set || set > OSH_SYSINFO_MAX_SETS)
			return -1;
		data = rs + 2;
		avail = len - 2;
		if (avail > 16)
			avail = 16;
	}
	want = t->length - t->have;
	if (avail > want)
		avail = want;
	memcpy(t->data + t->have, data, avail);
	t->have += avail;
	/* More to come only while blocks bring some. */
	return t->have < t->length && avail > 0 && set < OSH_SYSINFO_MAX_SETS;
}
