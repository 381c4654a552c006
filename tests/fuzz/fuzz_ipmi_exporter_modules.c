/* fuzz_ipmi_exporter_modules.c - libFuzzer target: the exporter's YAML
 * module file (config_parse), then what a scrape asks of a loaded module:
 * the sensor filters (anchored regular expressions, ids) on a few sensors
 * and the sel_events rules (searched, RE2 spellings rewritten) on a few
 * SEL events.
 *
 * Input: the file's text. Inputs naming pass_file are skipped: it reads a
 * file, which could be a FIFO or a device and block the fuzzer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi-exporter/exporter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct osh_sensor sensors[] = {
	    {.record_id = 2, .name = "CPU1 Temp", .type = 0x01},
	    {.record_id = 29, .name = "PS1 Fan Redundancy", .type = 0x04},
	    {.record_id = 7, .name = "", .type = 0xc0},
	};
	static const char *const types[] = {
	    "Temperature", "Fan", "OEM Reserved"};
	static const struct osh_sel_entry events[] = {
	    {.record_type = 2,
		.timestamp = 1700000000,
		.severity = OSH_SENSOR_WARNING,
		.event = "Correctable memory error ; DIMM 1"},
	    {.record_type = 2,
		.timestamp = -1,
		.severity = OSH_SENSOR_CRITICAL,
		.event = "Upper Critical - going high ; Sensor Reading = "
			 "96.00 C ; Threshold = 95.00 C"},
	    {.record_type = 0xc0, .severity = OSH_SENSOR_UNKNOWN},
	};
	char err[256];
	struct exp_config *c;

	if (memmem(data, size, "pass_file", 9) != NULL)
		return 0;
	if ((c = config_parse((const char *)data, size, err, sizeof(err))) ==
	    NULL) {
		/* A refusal always says why, in one terminated line. */
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	if (config_module(c, "default") == NULL)
		abort();
	for (size_t i = 0; i < c->n; i++) {
		const struct module *m = &c->modules[i];

		if (config_module(c, m->name) != m || m->timeout_ms < 100 ||
		    m->nallowed > MAX_ALLOWED ||
		    (m->nallowed > 0 && !m->restrict_targets))
			abort();
		struct sel_tally t = {0};

		for (size_t s = 0; s < OSH_ARRAY_LEN(sensors); s++)
			(void)module_wants_sensor(m, &sensors[s], types[s]);
		if (m->nsel_events > MAX_SEL_EVENTS ||
		    selevents_tally(m, events, OSH_ARRAY_LEN(events), &t) != 0)
			abort();
		for (size_t r = 0; r < t.n; r++)
			if (t.count[r] > OSH_ARRAY_LEN(events))
				abort();
		selevents_tally_free(&t);
	}
	/* Scrapes hold references across reloads. */
	config_ref(c);
	config_unref(c);
	config_unref(c);
	return 0;
}
