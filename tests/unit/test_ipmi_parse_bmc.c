/* Unit tests of the decoders added for ipmi_exporter 1.10 parity and the
 * thresholds: Get Watchdog Timer, the blocks of Get System Info strings
 * (BMC URL), the chassis fault bits, the SDR's threshold access support
 * and the ipmi-sel event text of SEL records. Answers as recorded from
 * ipmi_sim and from a BMC's spec-complete answer (the same bytes seed
 * the fuzz corpus), then cut short: every prefix is refused or decoded
 * within its bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../libcommon/src/ipmi_link.h"
#include "osh/ipmi_parse.h"
#include "osh/util.h"

#include "hexbytes.h"

/* ipmi_sim after Set Watchdog Timer 04 00 0a 00 b8 0b: six bytes, the
 * present countdown left out. */
static const char wdt_sim[] = "04000a00b80b";
/* A running SMS/OS timer, no log, hard reset, pre-timeout NMI 10 s, the
 * SMS/OS expiration flag, 60.0 s initial, 57.3 s left. */
static const char wdt_full[] = "c4210a105802 3d02";
/* Get System Info, BMC URL (parameter 6): set 0 with ASCII, 25 bytes in
 * all, then set 1 with the rest (and padding). */
static const char url_set0[] = "1100001968747470733a2f2f31302e312e32";
static const char url_set1[] = "11012e332f75692f6c6f67696e0000000000";
/* Get Chassis Status: on, drive and cooling faults. */
static const char chassis_faults[] = "01000c";
static const char cpu1_temp[] =
    "01005101342000010301774401010000000038000001000001000000000000000000"
    "ff00695f550000000000000000c9435055312054656d70";
static const char sel_cpu1[] = "0200023906000020000401010159605f";
static const char sel_memory[] = "0700021a8c8d6a200004 0c096fa0ff22";
static const char sel_oem[] = "0800c0112233445566778899aabbccdd";

/* hex() skipping spaces. */
static uint8_t *
hexs(const char *s, size_t *n)
{
	char tmp[256];
	size_t o = 0;

	for (; *s != '\0' && o + 1 < sizeof(tmp); s++)
		if (*s != ' ')
			tmp[o++] = *s;
	tmp[o] = '\0';
	return hex(tmp, n);
}

static void
watchdog(void **state)
{
	size_t n;
	uint8_t *b = hexs(wdt_full, &n);
	struct osh_watchdog w;

	(void)state;
	assert_int_equal(osh_watchdog_parse(b, n, &w), 0);
	assert_int_equal(w.use, 4);
	assert_true(w.running);
	assert_false(w.logging);
	assert_int_equal(w.action, 1);
	assert_int_equal(w.pretimeout_interrupt, 2);
	assert_int_equal(w.pretimeout_s, 10);
	assert_int_equal(w.expired, 0x10);
	assert_int_equal(w.initial_ds, 600);
	assert_true(w.has_present);
	assert_int_equal(w.present_ds, 573);
	/* Every prefix: refused below six bytes, no present countdown
	 * below eight. */
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = malloc(k ? k : 1);
		memcpy(p, b, k);
		assert_int_equal(osh_watchdog_parse(p, k, &w), k < 6 ? -1 : 0);
		assert_false(w.has_present);
		free(p);
	}
	free(b);
	b = hex(wdt_sim, &n);
	assert_int_equal(osh_watchdog_parse(b, n, &w), 0);
	assert_int_equal(w.use, 4);
	assert_false(w.running);
	assert_true(w.logging);
	assert_int_equal(w.action, 0);
	assert_int_equal(w.pretimeout_s, 10);
	assert_int_equal(w.initial_ds, 3000);
	assert_false(w.has_present);
	free(b);
}

static void
bmc_url_blocks(void **state)
{
	size_t n0, n1;
	uint8_t *b0 = hex(url_set0, &n0), *b1 = hex(url_set1, &n1);
	struct osh_sysinfo_text t;
	char out[64];

	(void)state;
	assert_int_equal(osh_sysinfo_block_parse(b0, n0, 0, &t), 1);
	assert_int_equal(t.have, 14);
	assert_int_equal(osh_sysinfo_block_parse(b1, n1, 1, &t), 0);
	assert_int_equal(t.have, 25);
	assert_int_equal(
	    osh_sysinfo_decode(t.encoding, t.data, t.have, out, sizeof(out)),
	    0);
	assert_string_equal(out, "https://10.1.2.3/ui/login");
	/* A block naming another set, or too short, is refused. */
	assert_int_equal(osh_sysinfo_block_parse(b1, n1, 2, &t), -1);
	assert_int_equal(osh_sysinfo_block_parse(b1, 1, 1, &t), -1);
	assert_int_equal(osh_sysinfo_block_parse(b0, 3, 0, &t), -1);
	/* A block that brings nothing ends the text. */
	assert_int_equal(osh_sysinfo_block_parse(b0, n0, 0, &t), 1);
	assert_int_equal(osh_sysinfo_block_parse(b1, 2, 1, &t), 0);
	assert_int_equal(t.have, 14);
	/* A length longer than what comes stops at the last set. */
	b0[3] = 0xff;
	assert_int_equal(osh_sysinfo_block_parse(b0, n0, 0, &t), 1);
	for (uint8_t set = 1; set <= OSH_SYSINFO_MAX_SETS; set++) {
		b1[1] = set;
		assert_int_equal(osh_sysinfo_block_parse(b1, n1, set, &t),
		    set < OSH_SYSINFO_MAX_SETS ? 1 : 0);
	}
	assert_true(t.have <= sizeof(t.data) && t.have <= t.length);
	assert_int_equal(osh_sysinfo_decode(0, t.data, t.have, out, 0), -1);
	free(b0);
	free(b1);
}

static void
chassis_fault_bits(void **state)
{
	size_t n;
	uint8_t *b = hex(chassis_faults, &n);
	struct osh_chassis c;

	(void)state;
	assert_int_equal(osh_chassis_parse(b, n, &c), 0);
	assert_true(c.power_on && c.drive_fault && c.cooling_fault);
	assert_false(c.intrusion);
	b[2] = 0x01;
	assert_int_equal(osh_chassis_parse(b, n, &c), 0);
	assert_false(c.drive_fault || c.cooling_fault);
	free(b);
}

static void
threshold_access(void **state)
{
	static const struct {
		uint8_t caps;
		bool readable;
	} cases[] = {
	    {0x40, false}, /* 00b: no thresholds */
	    {0x44, true}, /* 01b: readable */
	    {0x48, true}, /* 10b: readable and settable */
	    {0x4c, false}, /* 11b: fixed, unreadable */
	};
	size_t n;
	uint8_t *b = hex(cpu1_temp, &n);
	struct osh_sdr s;
	struct osh_sensor o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b[11] = cases[i].caps;
		assert_int_equal(osh_sdr_parse(b, n, &s), 1);
		osh_sensor_fill(&s, 0, NULL, 0, &o);
		assert_int_equal(o.has_th[OSH_TH_UC], cases[i].readable);
		assert_false(o.has_th[OSH_TH_LC]); /* not in the mask */
	}
	free(b);
}

static void
sel_event_text(void **state)
{
	size_t n, m;
	uint8_t *sdr = hex(cpu1_temp, &n), *rec = hex(sel_cpu1, &m);
	struct osh_sdr s;
	char out[160];

	(void)state;
	assert_int_equal(osh_sdr_parse(sdr, n, &s), 1);
	/* As ipmi-sel prints it with the SDR at hand. */
	ipmi_link_interpret_sel_event(rec, &s, out, sizeof(out));
	assert_string_equal(out,
	    "Upper Critical - going high ; Sensor "
	    "Reading = 96.00 C ; Threshold = 95.00 C");
	/* Without the sensor's record, raw as FreeIPMI leaves them. */
	ipmi_link_interpret_sel_event(rec, NULL, out, sizeof(out));
	assert_non_null(strstr(out, "Upper Critical - going high ; "));
	/* Cut to fit, terminated. */
	ipmi_link_interpret_sel_event(rec, &s, out, 12);
	assert_string_equal(out, "Upper Criti");
	free(rec);
	rec = hexs(sel_memory, &m);
	ipmi_link_interpret_sel_event(rec, NULL, out, sizeof(out));
	assert_true(strncmp(out, "Correctable memory error", 24) == 0);
	free(rec);
	rec = hex(sel_oem, &m);
	ipmi_link_interpret_sel_event(rec, NULL, out, sizeof(out));
	assert_true(osh_utf8_valid(out, strlen(out)));
	rec[2] = 0x10; /* no such record type: no line in ipmi-sel */
	ipmi_link_interpret_sel_event(rec, NULL, out, sizeof(out));
	assert_string_equal(out, "");
	free(rec);
	free(sdr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(watchdog),
	    cmocka_unit_test(bmc_url_blocks),
	    cmocka_unit_test(chassis_fault_bits),
	    cmocka_unit_test(threshold_access),
	    cmocka_unit_test(sel_event_text),
	};
	return cmocka_run_group_tests_name("ipmi_parse_bmc", tests, NULL, NULL);
}
