/* fuzz_sel.c - libFuzzer target: the SEL record decoder (osh_sel_parse,
 * with FreeIPMI's event message tables under it). A BMC sends the
 * records; the decoder must never read past one, and what it writes must
 * be terminated text that says what the bytes say.
 *
 * Input: the record (16 bytes when well formed). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/ipmi_parse.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_sel: %s\n", what);
	abort();
}

static void
check_text(const char *s, size_t cap, const char *what)
{
	size_t n = strnlen(s, cap);

	check(n < cap, what);
	check(osh_utf8_valid(s, n), what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec = malloc(size ? size : 1);
	struct osh_sel_entry e;
	int rc;

	if (rec == NULL)
		return 0;
	memcpy(rec, data, size);
	rc = osh_sel_parse(rec, size, &e);
	check(rc == (size < 16 ? -1 : 0), "return value");
	check_text(e.description, sizeof(e.description), "description");
	check_text(e.type_name, sizeof(e.type_name), "type name");
	check_text(e.sensor, sizeof(e.sensor), "sensor");
	if (rc == 0) {
		check(e.id == (uint16_t)(rec[0] | rec[1] << 8), "record id");
		check(e.record_type == rec[2], "record type");
		check(memcmp(e.raw, rec, 16) == 0, "raw bytes");
		check(e.timestamp == -1 ||
			(e.timestamp >= 0x20000000 &&
			    e.timestamp < 0xffffffffLL),
		    "timestamp");
		check(e.description[0] != '\0', "no description");
		if (e.record_type == 0x02) {
			check(e.sensor_type == rec[10] &&
				e.sensor_number == rec[11],
			    "sensor");
			check(e.deassertion == ((rec[12] & 0x80) != 0),
			    "direction");
			check(e.offset == (rec[13] & 0x0f), "offset");
			check(e.type_name[0] != '\0', "no type name");
		}
	}
	free(rec);
	return 0;
}
