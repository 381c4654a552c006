/* fuzz_ipmi_bmc.c - libFuzzer target: the decoders added for the
 * exporter's bmc-watchdog, bmc and sel-events collectors: Get Watchdog
 * Timer, the blocks of a Get System Info string (the BMC URL) and the
 * ipmi-sel event text of a SEL record with its sensor's SDR record. BMCs
 * send these bytes; nothing may read past them, the string gathered must
 * stay within what was announced and what fits, every text must come
 * out terminated (and the URL valid UTF-8).
 *
 * Input: the first byte picks the decoder (byte % 3) and an argument
 * (byte / 3); the rest is, for the watchdog, the answer; for the system
 * info string, blocks each preceded by its length byte; for the event
 * text, a 16-byte SEL record then an SDR record. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../libcommon/src/ipmi_link.h"
#include "osh/ipmi_parse.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_ipmi_bmc: %s\n", what);
	abort();
}

/* A copy of exactly n bytes, so that ASan sees a read past them. */
static uint8_t *
copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	check(c != NULL, "out of memory");
	memcpy(c, p, n);
	return c;
}

static void
watchdog(const uint8_t *p, size_t len)
{
	uint8_t *rs = copy(p, len);
	struct osh_watchdog w;
	int rc = osh_watchdog_parse(rs, len, &w);

	check(rc == (len < 6 ? -1 : 0), "watchdog: length");
	if (rc == 0) {
		check(w.use < 8 && w.action < 8 && w.pretimeout_interrupt < 8,
		    "watchdog: fields");
		check(w.has_present == (len >= 8), "watchdog: present");
		check(
		    w.initial_ds == (rs[4] | rs[5] << 8), "watchdog: initial");
	}
	free(rs);
}

static void
sysinfo(uint8_t arg, const uint8_t *p, size_t len)
{
	static const size_t lens[] = {0, 1, 5, 64, 256, 600};
	size_t cap = lens[arg % OSH_ARRAY_LEN(lens)], at = 0;
	struct osh_sysinfo_text t;
	char *out = malloc(cap ? cap : 1);
	int more = 1;

	check(out != NULL, "out of memory");
	memset(&t, 0, sizeof(t));
	for (unsigned set = 0; more == 1 && at < len && set < 256; set++) {
		size_t n = p[at] < len - at - 1 ? p[at] : len - at - 1;
		uint8_t *rs = copy(p + at + 1, n);

		more = osh_sysinfo_block_parse(rs, n, (uint8_t)set, &t);
		check(more >= -1 && more <= 1, "sysinfo: return value");
		check(t.have <= t.length && t.have <= sizeof(t.data),
		    "sysinfo: gathered");
		check(more != 1 || set < OSH_SYSINFO_MAX_SETS, "sysinfo: sets");
		free(rs);
		at += n + 1;
	}
	check(osh_sysinfo_decode(t.encoding, t.data, t.have, out, cap) ==
		(cap == 0 ? -1 : 0),
	    "sysinfo: decode");
	if (cap > 0) {
		size_t n = strnlen(out, cap);
		check(n < cap && osh_utf8_valid(out, n), "sysinfo: text");
	}
	free(out);
}

static void
event_text(uint8_t arg, const uint8_t *p, size_t len)
{
	static const size_t lens[] = {1, 2, 12, 160};
	size_t cap = lens[arg % OSH_ARRAY_LEN(lens)];
	uint8_t rec[16], *sdr;
	struct osh_sdr s;
	bool known;
	char out[160];

	if (len < 16)
		return;
	memcpy(rec, p, 16);
	sdr = copy(p + 16, len - 16);
	known = osh_sdr_parse(sdr, len - 16, &s) == 1;
	memset(out, 'x', sizeof(out));
	ipmi_link_interpret_sel_event(rec, known ? &s : NULL, out, cap);
	check(strnlen(out, cap) < cap, "event: terminated");
	free(sdr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: watchdog(data + 1, size - 1); break;
	case 1: sysinfo(data[0] / 3, data + 1, size - 1); break;
	default: event_text(data[0] / 3, data + 1, size - 1); break;
	}
	return 0;
}
