/* fuzz_ipmi_replies.c - libFuzzer target: the decoders of the BMC answers
 * the engine reads besides SDR, FRU and SEL records and RMCP (those have
 * targets of their own): Get Device ID, Get Chassis Status, Get Sensor
 * Reading, Get System Info, DCMI Get Power Reading, Get SEL Info, Get SDR
 * Repository Info, reservations, Get SDR, Get SEL Entry, Get FRU
 * Inventory Area Info and Read FRU Data. BMCs send these bytes; nothing
 * may read past them, every string must come out terminated and valid
 * UTF-8, every count within what was asked for and what came, and each
 * decoder must refuse exactly the answers too short for it.
 *
 * Input: the first byte picks the decoder (byte % 12) and, for some, an
 * argument (byte / 12, 0-21: how many bytes were asked for, by words
 * when odd, or which output length); the rest is the answer, the bytes
 * after the completion code. */
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

enum decoder {
	DEVICE_ID,
	CHASSIS,
	READING,
	SYSTEM_FIRMWARE,
	DCMI_POWER,
	SEL_INFO,
	SDR_REPO_INFO,
	RESERVATION,
	SDR_GET,
	SEL_GET,
	FRU_INFO,
	FRU_READ,
	NDECODERS
};

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_ipmi_replies: %s\n", what);
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

/* Reads every byte of [p, p + n) so that ASan sees a range past the
 * answer, and checks it lies within the answer. */
static void
check_within(
    const uint8_t *p, size_t n, const uint8_t *rs, size_t len, const char *what)
{
	volatile uint8_t sum = 0;

	check(p >= rs && n <= len && (size_t)(p - rs) <= len - n, what);
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	(void)sum;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
device_id(const uint8_t *rs, size_t len)
{
	struct osh_device_id d;
	int rc = osh_device_id_parse(rs, len, &d);

	check(rc == (len < 11 ? -1 : 0), "device id: length");
	check_text(d.firmware, sizeof(d.firmware), "device id: firmware");
	if (rc != 0)
		return;
	check(d.fw_major < 0x80 && d.device_revision < 0x10, "device id: bits");
	check(d.manufacturer_id < (1u << 20), "device id: manufacturer");
	check(d.has_aux == (len >= 15), "device id: aux");
}

static void
chassis(const uint8_t *rs, size_t len)
{
	struct osh_chassis c;
	int rc = osh_chassis_parse(rs, len, &c);

	check(rc == (len < 3 ? -1 : 0), "chassis: length");
	if (rc == 0)
		check(c.restore_policy <= 3 && c.identify <= 3,
		    "chassis: fields");
}

static void
reading(const uint8_t *rs, size_t len)
{
	struct osh_reading r;
	int rc = osh_reading_parse(rs, len, &r);

	check(rc == (len < 2 ? -1 : 0), "reading: length");
	if (rc != 0)
		return;
	check(r.raw == rs[0], "reading: raw");
	check(len >= 3 || r.states_lo == 0, "reading: states not sent");
	check(len >= 4 || r.states_hi == 0, "reading: states not sent");
	check(r.states_hi < 0x80, "reading: reserved bit");
}

static void
system_firmware(uint8_t arg, const uint8_t *rs, size_t len)
{
	/* Outputs from none to more than any answer holds. */
	static const size_t lens[] = {0, 1, 2, 3, 4, 7, 64, 600};
	size_t cap = lens[arg % OSH_ARRAY_LEN(lens)];
	char *out = malloc(cap ? cap : 1);
	int rc;

	check(out != NULL, "out of memory");
	rc = osh_system_firmware_parse(rs, len, out, cap);
	check(rc == (len < 4 || cap == 0 ? -1 : 0), "system firmware: length");
	if (cap > 0) {
		check_text(out, cap, "system firmware: text");
		check(rc == 0 || out[0] == '\0', "system firmware: refused");
	}
	free(out);
}

static void
dcmi_power(const uint8_t *rs, size_t len)
{
	struct osh_dcmi_power p;
	int rc = osh_dcmi_power_parse(rs, len, &p);
	double watts;

	check(rc == (len < 3 || rs[0] != 0xdc ? -1 : 0), "dcmi: refusal");
	if (rc != 0)
		return;
	watts = p.current;
	check(isfinite(watts) && p.current == le16(rs + 1), "dcmi: current");
	check(p.has_stats == (len >= 18), "dcmi: statistics");
	check(p.has_stats || (p.minimum == 0 && p.period_ms == 0),
	    "dcmi: statistics not sent");
}

static void
sel_info(const uint8_t *rs, size_t len)
{
	struct osh_sel_info i;
	int rc = osh_sel_info_parse(rs, len, &i);

	check(rc == (len < 13 ? -1 : 0), "sel info: length");
	if (rc == 0)
		check(i.entries == le16(rs + 1), "sel info: entries");
}

static void
sdr_repo_info(const uint8_t *rs, size_t len)
{
	struct osh_sdr_repo_info i;
	int rc = osh_sdr_repo_info_parse(rs, len, &i);

	check(rc == (len < 13 ? -1 : 0), "sdr repo info: length");
	if (rc == 0)
		check(
		    i.count == le16(rs + 1) && memcmp(i.stamp, rs + 5, 8) == 0,
		    "sdr repo info: fields");
}

static void
reservation(const uint8_t *rs, size_t len)
{
	uint16_t id;
	int rc = osh_reservation_parse(rs, len, &id);

	check(rc == (len < 2 ? -1 : 0), "reservation: length");
	if (rc == 0)
		check(id == le16(rs), "reservation: id");
}

static void
sdr_get(uint8_t arg, const uint8_t *rs, size_t len)
{
	size_t want = arg; /* 0 too: a caller asking for nothing */
	const uint8_t *data;
	uint16_t next;
	int rc = osh_sdr_get_parse(rs, len, want, &next, &data);

	check(rc == -1 || rc >= 1, "sdr get: return value");
	check((rc == -1) == (len < 3 || want == 0), "sdr get: refusal");
	if (rc < 0)
		return;
	check((size_t)rc <= want && (size_t)rc <= len - 2, "sdr get: count");
	check(data == rs + 2 && next == le16(rs), "sdr get: fields");
	check_within(data, (size_t)rc, rs, len, "sdr get: data");
}

static void
sel_get(const uint8_t *rs, size_t len)
{
	uint8_t rec[16];
	uint16_t next;
	int rc = osh_sel_get_parse(rs, len, &next, rec);

	check(rc == (len < 18 ? -1 : 0), "sel get: length");
	if (rc == 0)
		check(next == le16(rs) && memcmp(rec, rs + 2, 16) == 0,
		    "sel get: fields");
}

static void
fru_info(const uint8_t *rs, size_t len)
{
	struct osh_fru_info i;
	int rc = osh_fru_info_parse(rs, len, &i);

	check(rc == (len < 3 ? -1 : 0), "fru info: length");
	if (rc == 0)
		check(i.size == le16(rs), "fru info: size");
}

static void
fru_read(uint8_t arg, const uint8_t *rs, size_t len)
{
	size_t want = arg;
	bool words = arg & 1;
	const uint8_t *data;
	int rc = osh_fru_read_parse(rs, len, want, words, &data);

	check(rc == -1 || rc >= 1, "fru read: return value");
	if (rc < 0) {
		check(data == NULL, "fru read: data on refusal");
		return;
	}
	check(len >= 2 && data == rs + 1, "fru read: data");
	check((size_t)rc <= want && (size_t)rc <= len - 1, "fru read: count");
	check((size_t)rc == (words ? 2u * rs[0] : rs[0]), "fru read: unit");
	check_within(data, (size_t)rc, rs, len, "fru read: data");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rs;
	size_t len;
	uint8_t sel, arg;

	if (size < 1)
		return 0;
	sel = data[0] % NDECODERS;
	arg = data[0] / NDECODERS; /* what is left of the byte */
	len = size - 1;
	/* Exactly the answer's size, so that ASan sees a read past it. */
	if ((rs = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(rs, data + 1, len);
	switch ((enum decoder)sel) {
	case DEVICE_ID: device_id(rs, len); break;
	case CHASSIS: chassis(rs, len); break;
	case READING: reading(rs, len); break;
	case SYSTEM_FIRMWARE: system_firmware(arg, rs, len); break;
	case DCMI_POWER: dcmi_power(rs, len); break;
	case SEL_INFO: sel_info(rs, len); break;
	case SDR_REPO_INFO: sdr_repo_info(rs, len); break;
	case RESERVATION: reservation(rs, len); break;
	case SDR_GET: sdr_get(arg, rs, len); break;
	case SEL_GET: sel_get(rs, len); break;
	case FRU_INFO: fru_info(rs, len); break;
	case FRU_READ: fru_read(arg, rs, len); break;
	case NDECODERS: break;
	}
	free(rs);
	return 0;
}
