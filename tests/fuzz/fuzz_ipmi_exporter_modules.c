/* fuzz_ipmi_exporter_modules.c - libFuzzer target: the exporter's YAML
 * module file (config_parse), then what a scrape asks of a loaded module:
 * the sensor filters (anchored regular expressions, ids) on a few sensors.
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
		for (size_t s = 0; s < OSH_ARRAY_LEN(sensors); s++)
			(void)module_wants_sensor(m, &sensors[s], types[s]);
	}
	/* Scrapes hold references across reloads. */
	config_ref(c);
	config_unref(c);
	config_unref(c);
	return 0;
}
