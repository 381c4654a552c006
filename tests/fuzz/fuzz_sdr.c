/* fuzz_sdr.c - libFuzzer target: the SDR record decoder (osh_sdr_parse)
 * and what is built on it: reading conversion (osh_sdr_convert) and a
 * sensor filled from its record and a Get Sensor Reading answer
 * (osh_sensor_fill). BMCs send these records; nothing here may read past
 * them, and every name must come out as valid, terminated UTF-8.
 *
 * Input: the record, header included; its first four bytes double as
 * the reading answer. */
#include <math.h>
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
	fprintf(stderr, "fuzz_sdr: %s\n", what);
	abort();
}

/* NUL-terminated within its array, and valid UTF-8. */
static void
check_text(const char *s, size_t cap, const char *what)
{
	size_t n = strnlen(s, cap);

	check(n < cap, what);
	check(osh_utf8_valid(s, n), what);
}

static void
check_sensor(const struct osh_sdr *r, const struct osh_sensor *o)
{
	check_text(o->name, sizeof(o->name), "sensor name");
	check(o->number >= r->number || r->share_count > 1, "sensor number");
	check(!o->has_value || isfinite(o->value), "value not finite");
	for (int i = 0; i < 6; i++)
		check(!o->has_th[i] || isfinite(o->th[i]),
		    "threshold not finite");
	check(o->state <= OSH_SENSOR_UNKNOWN, "state");
	check(!o->threshold || (o->events & ~0x3fu) == 0, "threshold events");
	if (osh_sensor_unit(o) != NULL)
		check(o->threshold, "unit of a discrete sensor");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec = malloc(size ? size : 1);
	struct osh_sdr r;
	struct osh_sensor o;
	int rc;

	if (rec == NULL)
		return 0;
	memcpy(rec, data, size);
	rc = osh_sdr_parse(rec, size, &r);
	check(rc >= -1 && rc <= 1, "return value");
	if (size < 5 || (size_t)rec[4] + 5 > size)
		check(rc == -1, "a record longer than its bytes parsed");
	if (rc == 1) {
		static const uint8_t raws[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
		double v;

		check_text(r.name, sizeof(r.name), "record name");
		check(r.name[0] != '\0', "empty name");
		check(r.share_count >= 1 && r.share_count <= 15, "share count");
		check(r.analog_format <= 3, "analog format");
		for (size_t i = 0; i < OSH_ARRAY_LEN(raws); i++)
			if (osh_sdr_convert(&r, raws[i], &v))
				check(isfinite(v), "conversion not finite");
		for (unsigned j = 0; j < r.share_count; j++) {
			osh_sensor_fill(&r, j, rec, size < 4 ? size : 4, &o);
			check_sensor(&r, &o);
		}
		osh_sensor_fill(&r, 0, NULL, 0, &o);
		check(o.unavailable && !o.has_value, "no reading, a value");
		check_sensor(&r, &o);
	}
	free(rec);
	return 0;
}
