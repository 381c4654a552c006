/* ipmi_parse.c - decoding BMC data, byte by byte, bounds first. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/util/ipmi-sensor-and-event-code-tables-util.h>
#include <freeipmi/spec/ipmi-sensor-types-spec.h>
#include <freeipmi/spec/ipmi-sensor-units-spec.h>

#include "osh/ipmi_parse.h"
#include "osh/util.h"

/* Sign-extends the low 'bits' of v. */
static int
sext(unsigned v, unsigned bits)
{
	unsigned m = 1u << (bits - 1);

	v &= (1u << bits) - 1;
	return (int)(v ^ m) - (int)m;
}

/* Six-bit packed ASCII: four characters in three bytes. */
static void
sixbit(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0, bits = n * 8;

	for (size_t i = 0; i + 6 <= bits && o + 1 < outlen; i += 6) {
		size_t byte = i / 8, shift = i % 8;
		unsigned v = p[byte] >> shift;
		if (shift > 2 && byte + 1 < n)
			v |= (unsigned)p[byte + 1] << (8 - shift);
		out[o++] = (char)((v & 0x3f) + 0x20);
	}
	out[o] = '\0';
}

static void
bcdplus(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	static const char map[] = "0123456789 -.:,_";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 2 < outlen; i++) {
		out[o++] = map[p[i] & 0x0f];
		out[o++] = map[p[i] >> 4];
	}
	out[o] = '\0';
}

/* Bytes as Latin-1, turned into UTF-8, then cleaned. */
static void
latin1(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	char tmp[520];
	size_t o = 0;
	char *clean;

	for (size_t i = 0; i < n && o + 2 < sizeof(tmp); i++) {
		if (p[i] < 0x80) {
			tmp[o++] = (char)p[i];
		} else {
			tmp[o++] = (char)(0xc0 | (p[i] >> 6));
			tmp[o++] = (char)(0x80 | (p[i] & 0x3f));
		}
	}
	/* Trailing NULs and spaces are padding. */
	while (o > 0 && (tmp[o - 1] == '\0' || tmp[o - 1] == ' '))
		o--;
	clean = osh_utf8_clean(tmp, o, outlen - 1);
	osh_strlcpy(out, clean ? clean : "", outlen);
	free(clean);
}

int
osh_ipmi_tl_string(const uint8_t *p, size_t avail, char *out, size_t outlen)
{
	uint8_t tl;
	size_t n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (avail < 1)
		return -1;
	tl = p[0];
	n = tl & 0x3f;
	if (n + 1 > avail)
		return -1;
	switch (tl >> 6) {
	case 0: /* binary or unspecified: show printable bytes only */
	case 3: latin1(p + 1, n, out, outlen); break;
	case 1: bcdplus(p + 1, n, out, outlen); break;
	case 2: {
		char tmp[96];
		sixbit(p + 1, n, tmp, sizeof(tmp));
		latin1((const uint8_t *)tmp, strlen(tmp), out, outlen);
		break;
	}
	}
	return (int)n + 1;
}

int
osh_sdr_parse(const uint8_t *rec, size_t len, struct osh_sdr *out)
{
	size_t name_at;

	memset(out, 0, sizeof(*out));
	if (len < 5 || (size_t)rec[4] + 5 > len)
		return -1;
	len = (size_t)rec[4] + 5;
	out->record_id = (uint16_t)(rec[0] | rec[1] << 8);
	out->record_type = rec[3];
	switch (out->record_type) {
	case 0x01:
		if (len < 48)
			return -1;
		name_at = 47;
		break;
	case 0x02:
		if (len < 32)
			return -1;
		name_at = 31;
		break;
	case 0x03:
		if (len < 17)
			return -1;
		name_at = 16;
		break;
	default: return 0;
	}
	out->owner = rec[5];
	out->lun = rec[6] & 0x03;
	out->number = rec[7];
	out->entity = rec[8];
	out->entity_instance = rec[9] & 0x7f;
	out->share_count = 1;
	out->analog_format = 3;
	if (out->record_type == 0x03) {
		out->event_only = true;
		out->sensor_type = rec[10];
		out->reading_type = rec[11];
		out->share_count = rec[12] & 0x0f ? rec[12] & 0x0f : 1;
		out->share_mod_type = (rec[12] >> 4) & 0x03;
		out->share_mod_offset = rec[13] & 0x7f;
	} else {
		out->sensor_type = rec[12];
		out->reading_type = rec[13];
		out->percentage = rec[20] & 0x01;
		out->base_unit = rec[21];
	}
	if (out->record_type == 0x01) {
		out->analog_format = rec[20] >> 6;
		out->linearization = rec[23] & 0x7f;
		out->m = sext(
		    (unsigned)rec[24] | (unsigned)(rec[25] & 0xc0) << 2, 10);
		out->b = sext(
		    (unsigned)rec[26] | (unsigned)(rec[27] & 0xc0) << 2, 10);
		out->r_exp = sext(rec[29] >> 4, 4);
		out->b_exp = sext(rec[29] & 0x0f, 4);
		/* Only threshold sensors have readable thresholds, and only
		 * when their capabilities say the thresholds are readable
		 * (01b) or readable and settable (10b); not with none (00b)
		 * or fixed and unreadable (11b). */
		if (out->reading_type == 0x01 &&
		    (((rec[11] >> 2) & 0x03) == 1 ||
			((rec[11] >> 2) & 0x03) == 2))
			out->th_readable = rec[18] & 0x3f;
		/* Bytes 36..41 hold unr, uc, unc, lnr, lc, lnc. */
		out->th_raw[OSH_TH_UNR] = rec[36];
		out->th_raw[OSH_TH_UC] = rec[37];
		out->th_raw[OSH_TH_UNC] = rec[38];
		out->th_raw[OSH_TH_LNR] = rec[39];
		out->th_raw[OSH_TH_LC] = rec[40];
		out->th_raw[OSH_TH_LNC] = rec[41];
	} else if (out->record_type == 0x02) {
		out->share_count = rec[23] & 0x0f ? rec[23] & 0x0f : 1;
		out->share_mod_type = (rec[23] >> 4) & 0x03;
		out->share_mod_offset = rec[24] & 0x7f;
	}
	if (osh_ipmi_tl_string(
		rec + name_at, len - name_at, out->name, sizeof(out->name)) < 0)
		out->name[0] = '\0';
	if (out->name[0] == '\0')
		snprintf(
		    out->name, sizeof(out->name), "Sensor %u", out->number);
	return 1;
}

/* readable threshold mask bit for each OSH_TH_* (lnc lc lnr unc uc unr). */
static const uint8_t th_bit[6] = {
    [OSH_TH_LNC] = 0x01,
    [OSH_TH_LC] = 0x02,
    [OSH_TH_LNR] = 0x04,
    [OSH_TH_UNC] = 0x08,
    [OSH_TH_UC] = 0x10,
    [OSH_TH_UNR] = 0x20,
};

bool
osh_sdr_convert(const struct osh_sdr *s, uint8_t raw, double *out)
{
	double x, y;

	if (s->record_type != 0x01 || s->analog_format == 3)
		return false;
	switch (s->analog_format) {
	case 1: x = (raw & 0x80) ? -(double)(~raw & 0x7f) : raw; break;
	case 2: x = (int8_t)raw; break;
	default: x = raw; break;
	}
	y = ((double)s->m * x + (double)s->b * pow(10, s->b_exp)) *
	    pow(10, s->r_exp);
	switch (s->linearization) {
	case 0x00: break;
	case 0x01: y = log(y); break;
	case 0x02: y = log10(y); break;
	case 0x03: y = log2(y); break;
	case 0x04: y = exp(y); break;
	case 0x05: y = pow(10, y); break;
	case 0x06: y = exp2(y); break;
	case 0x07:
		if (y == 0)
			return false;
		y = 1 / y;
		break;
	case 0x08: y = y * y; break;
	case 0x09: y = y * y * y; break;
	case 0x0a: y = sqrt(y); break;
	case 0x0b: y = cbrt(y); break;
	default: return false; /* non-linear (OEM) */
	}
	if (!isfinite(y))
		return false;
	/* Round away binary noise: 3.3 not 3.3000000000000003; not where
	 * scaling would overflow (or nothing is left to round). */
	*out = fabs(y) < 1e9 ? round(y * 1e6) / 1e6 : y;
	return true;
}

enum osh_sensor_state
osh_threshold_state(uint16_t ev)
{
	if (ev & (0x02 | 0x04 | 0x10 | 0x20))
		return OSH_SENSOR_CRITICAL;
	if (ev & (0x01 | 0x08))
		return OSH_SENSOR_WARNING;
	return OSH_SENSOR_NOMINAL;
}

/* How many bytes of s fit in max, cut on a character boundary (s is
 * valid UTF-8). */
static int
utf8_fit(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

void
osh_sensor_fill(const struct osh_sdr *s, unsigned share_index,
    const uint8_t *rs, size_t rslen, struct osh_sensor *out)
{
	struct osh_reading rd;

	memset(out, 0, sizeof(*out));
	out->record_id = s->record_id;
	out->number = (uint8_t)(s->number + share_index);
	out->owner = s->owner;
	out->lun = s->lun;
	out->type = s->sensor_type;
	out->reading_type = s->reading_type;
	out->base_unit = s->reading_type == 0x01 ? s->base_unit : 0;
	out->percentage = s->reading_type == 0x01 && s->percentage;
	out->threshold = s->reading_type == 0x01;
	out->readable = !s->event_only;
	out->state = OSH_SENSOR_UNKNOWN;
	if (s->share_count > 1) {
		unsigned inst = s->share_mod_offset + share_index;
		int n = utf8_fit(s->name, 56); /* room for the suffix */

		if (s->share_mod_type == 1)
			snprintf(out->name, sizeof(out->name), "%.*s%c", n,
			    s->name, 'A' + (int)(inst % 26));
		else
			snprintf(out->name, sizeof(out->name), "%.*s%u", n,
			    s->name, inst);
	} else {
		osh_strlcpy(out->name, s->name, sizeof(out->name));
	}
	for (int i = 0; i < 6; i++) {
		if (out->threshold && (s->th_readable & th_bit[i]))
			out->has_th[i] =
			    osh_sdr_convert(s, s->th_raw[i], &out->th[i]);
	}
	if (rs == NULL || !out->readable ||
	    osh_reading_parse(rs, rslen, &rd) != 0 || rd.unavailable) {
		out->unavailable = true;
		return;
	}
	out->events = rd.states_lo;
	if (out->threshold) {
		out->events &= 0x3f;
		out->has_value = osh_sdr_convert(s, rd.raw, &out->value);
		out->state = osh_threshold_state(out->events);
	} else {
		out->events |= (uint16_t)(rd.states_hi << 8);
	}
}

int
osh_reading_parse(const uint8_t *rs, size_t len, struct osh_reading *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 2)
		return -1;
	out->raw = rs[0];
	/* Reading unavailable, or scanning disabled: no value to trust. */
	out->unavailable = (rs[1] & 0x20) || !(rs[1] & 0x40);
	if (len >= 3)
		out->states_lo = rs[2];
	if (len >= 4)
		out->states_hi = rs[3] & 0x7f;
	return 0;
}

int
osh_device_id_parse(const uint8_t *rs, size_t len, struct osh_device_id *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 11)
		return -1;
	out->device_id = rs[0];
	out->device_revision = rs[1] & 0x0f;
	out->fw_major = rs[2] & 0x7f;
	out->fw_minor = rs[3];
	snprintf(out->firmware, sizeof(out->firmware), "%u.%02x", out->fw_major,
	    out->fw_minor);
	out->ipmi_major = rs[4] & 0x0f;
	out->ipmi_minor = rs[4] >> 4;
	out->manufacturer_id = (uint32_t)rs[6] | (uint32_t)rs[7] << 8 |
	    (uint32_t)(rs[8] & 0x0f) << 16;
	out->product_id = (uint16_t)(rs[9] | rs[10] << 8);
	if (len >= 15) {
		memcpy(out->aux, rs + 11, 4);
		out->has_aux = true;
	}
	return 0;
}

int
osh_chassis_parse(const uint8_t *rs, size_t len, struct osh_chassis *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 3)
		return -1;
	out->power_on = rs[0] & 0x01;
	out->power_overload = rs[0] & 0x02;
	out->interlock = rs[0] & 0x04;
	out->power_fault = rs[0] & 0x08;
	out->control_fault = rs[0] & 0x10;
	out->restore_policy = (rs[0] >> 5) & 0x03;
	out->intrusion = rs[2] & 0x01;
	out->front_panel_lockout = rs[2] & 0x02;
	out->drive_fault = rs[2] & 0x04;
	out->cooling_fault = rs[2] & 0x08;
	out->identify = (rs[2] & 0x40) ? (rs[2] >> 4) & 0x03 : 3;
	return 0;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Appends code point c to out as UTF-8 if it fits in cap. */
static size_t
put_utf8(char *out, size_t at, size_t cap, unsigned c)
{
	if (c < 0x80 && at + 1 <= cap) {
		out[at++] = (char)c;
	} else if (c < 0x800 && at + 2 <= cap) {
		out[at++] = (char)(0xc0 | c >> 6);
		out[at++] = (char)(0x80 | (c & 0x3f));
	} else if (c >= 0x800 && c < 0x10000 && at + 3 <= cap) {
		out[at++] = (char)(0xe0 | c >> 12);
		out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[at++] = (char)(0x80 | (c & 0x3f));
	} else if (c >= 0x10000 && at + 4 <= cap) {
		out[at++] = (char)(0xf0 | c >> 18);
		out[at++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[at++] = (char)(0x80 | (c & 0x3f));
	}
	return at;
}

/* UTF-16LE into UTF-8 (tmp, cap bytes); a lone surrogate becomes U+FFFD. */
static size_t
utf16le(const uint8_t *p, size_t n, char *tmp, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned c = le16(p + i);

		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n &&
		    le16(p + i + 2) >= 0xdc00 && le16(p + i + 2) < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) +
			    (le16(p + i + 2) - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		o = put_utf8(tmp, o, cap, c);
	}
	return o;
}

int
osh_sysinfo_decode(
    uint8_t encoding, const uint8_t *p, size_t n, char *out, size_t outlen)
{
	char tmp[520];
	size_t o = 0;
	char *clean;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	switch (encoding & 0x0f) {
	case 1: /* UTF-8 */
		o = n < sizeof(tmp) ? n : sizeof(tmp);
		memcpy(tmp, p, o);
		break;
	case 2: /* UTF-16, little-endian */
		o = utf16le(p, n, tmp, sizeof(tmp));
		break;
	default: /* ASCII and Latin-1 (and what is reserved) */
		latin1(p, n, out, outlen);
		return 0;
	}
	/* Trailing NULs and spaces are padding. */
	while (o > 0 && (tmp[o - 1] == '\0' || tmp[o - 1] == ' '))
		o--;
	clean = osh_utf8_clean(tmp, o, outlen - 1);
	osh_strlcpy(out, clean ? clean : "", outlen);
	free(clean);
	return 0;
}

int
osh_system_firmware_parse(
    const uint8_t *rs, size_t len, char *out, size_t outlen)
{
	size_t n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (len < 4)
		return -1;
	/* revision, set selector, encoding, length, text... */
	n = rs[3] < len - 4 ? rs[3] : len - 4;
	return osh_sysinfo_decode(rs[2], rs + 4, n, out, outlen);
}

int
osh_dcmi_power_parse(const uint8_t *rs, size_t len, struct osh_dcmi_power *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 3 || rs[0] != 0xdc)
		return -1;
	out->current = le16(rs + 1);
	if (len >= 18) {
		out->minimum = le16(rs + 3);
		out->maximum = le16(rs + 5);
		out->average = le16(rs + 7);
		out->timestamp = le32(rs + 9);
		out->period_ms = le32(rs + 13);
		out->active = rs[17] & 0x40;
		out->has_stats = true;
	}
	return 0;
}

int
osh_sel_info_parse(const uint8_t *rs, size_t len, struct osh_sel_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 13)
		return -1;
	out->version = rs[0];
	out->entries = le16(rs + 1);
	out->free_bytes = le16(rs + 3);
	out->last_add = le32(rs + 5);
	out->last_erase = le32(rs + 9);
	return 0;
}

int
osh_sdr_repo_info_parse(
    const uint8_t *rs, size_t len, struct osh_sdr_repo_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 13)
		return -1;
	out->version = rs[0];
	out->count = le16(rs + 1);
	out->free_bytes = le16(rs + 3);
	out->last_add = le32(rs + 5);
	out->last_erase = le32(rs + 9);
	memcpy(out->stamp, rs + 5, 8);
	return 0;
}

int
osh_reservation_parse(const uint8_t *rs, size_t len, uint16_t *id)
{
	*id = 0;
	if (len < 2)
		return -1;
	*id = le16(rs);
	return 0;
}

int
osh_sdr_get_parse(const uint8_t *rs, size_t len, size_t want, uint16_t *next,
    const uint8_t **data)
{
	size_t n;

	*next = 0xffff;
	*data = NULL;
	if (len < 3 || want == 0)
		return -1;
	*next = le16(rs);
	n = len - 2 < want ? len - 2 : want;
	*data = rs + 2;
	return n > INT_MAX ? INT_MAX : (int)n;
}

int
osh_sel_get_parse(
    const uint8_t *rs, size_t len, uint16_t *next, uint8_t rec[16])
{
	*next = 0xffff;
	memset(rec, 0, 16);
	if (len < 18)
		return -1;
	*next = le16(rs);
	memcpy(rec, rs + 2, 16);
	return 0;
}

int
osh_fru_info_parse(const uint8_t *rs, size_t len, struct osh_fru_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 3)
		return -1;
	out->size = le16(rs);
	out->by_words = rs[2] & 0x01;
	return 0;
}

int
osh_fru_read_parse(const uint8_t *rs, size_t len, size_t want, bool by_words,
    const uint8_t **data)
{
	size_t n;

	*data = NULL;
	if (len < 2)
		return -1;
	n = by_words ? (size_t)rs[0] * 2 : rs[0];
	if (n == 0 || n > want || n > len - 1)
		return -1;
	*data = rs + 1;
	return (int)n;
}

static bool
checksum_ok(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* Reads consecutive type/length fields into outs until the end marker. */
static void
area_fields(const uint8_t *p, size_t n, char *const *outs, const size_t *lens,
    size_t nouts)
{
	size_t at = 0;

	for (size_t i = 0; at < n && p[at] != 0xc1; i++) {
		char skip[80];
		int used = osh_ipmi_tl_string(p + at, n - at,
		    i < nouts ? outs[i] : skip,
		    i < nouts ? lens[i] : sizeof(skip));
		if (used < 0)
			return;
		at += (size_t)used;
	}
}

static const char *
chassis_type_name(uint8_t t)
{
	static const char *const names[] = {"Unspecified", "Other", "Unknown",
	    "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower",
	    "Tower", "Portable", "Laptop", "Notebook", "Hand Held",
	    "Docking Station", "All in One", "Sub Notebook", "Space-saving",
	    "Lunch Box", "Main Server Chassis", "Expansion Chassis",
	    "SubChassis", "Bus Expansion Chassis", "Peripheral Chassis",
	    "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC",
	    "Multi-system Chassis", "Compact PCI", "Advanced TCA", "Blade",
	    "Blade Enclosure", "Tablet", "Convertible", "Detachable",
	    "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"};

	return t < OSH_ARRAY_LEN(names) ? names[t] : "Unknown";
}

/* Returns the area at offset (in 8-byte units) when it fits and sums. */
static const uint8_t *
area_at(const uint8_t *data, size_t len, uint8_t off8, size_t *n)
{
	size_t off = (size_t)off8 * 8, alen;

	if (off8 == 0 || off + 2 > len)
		return NULL;
	alen = (size_t)data[off + 1] * 8;
	if (alen < 8 || off + alen > len || !checksum_ok(data + off, alen))
		return NULL;
	*n = alen;
	return data + off;
}

int
osh_fru_parse(const uint8_t *data, size_t len, struct osh_fru *out)
{
	const uint8_t *a;
	size_t n;
	int areas = 0;

	memset(out, 0, sizeof(*out));
	out->board_mfg_time = -1;
	if (len < 8 || (data[0] & 0x0f) != 0x01 || !checksum_ok(data, 8))
		return -1;
	if ((a = area_at(data, len, data[2], &n)) != NULL && n >= 3) {
		char *outs[] = {out->chassis_part, out->chassis_serial};
		size_t lens[] = {
		    sizeof(out->chassis_part), sizeof(out->chassis_serial)};
		osh_strlcpy(out->chassis_type, chassis_type_name(a[2]),
		    sizeof(out->chassis_type));
		area_fields(a + 3, n - 3, outs, lens, 2);
		areas++;
	}
	if ((a = area_at(data, len, data[3], &n)) != NULL && n >= 6) {
		char *outs[] = {out->board_mfg, out->board_product,
		    out->board_serial, out->board_part};
		size_t lens[] = {sizeof(out->board_mfg),
		    sizeof(out->board_product), sizeof(out->board_serial),
		    sizeof(out->board_part)};
		uint32_t minutes =
		    (uint32_t)a[3] | (uint32_t)a[4] << 8 | (uint32_t)a[5] << 16;
		if (minutes != 0)
			out->board_mfg_time = 820454400 + (int64_t)minutes * 60;
		area_fields(a + 6, n - 6, outs, lens, 4);
		areas++;
	}
	if ((a = area_at(data, len, data[4], &n)) != NULL && n >= 3) {
		char *outs[] = {out->product_mfg, out->product_name,
		    out->product_part, out->product_version,
		    out->product_serial, out->product_asset};
		size_t lens[] = {sizeof(out->product_mfg),
		    sizeof(out->product_name), sizeof(out->product_part),
		    sizeof(out->product_version), sizeof(out->product_serial),
		    sizeof(out->product_asset)};
		area_fields(a + 3, n - 3, outs, lens, 6);
		areas++;
	}
	return areas;
}

int
osh_sel_parse(const uint8_t *rec, size_t len, struct osh_sel_entry *out)
{
	char msg[128];

	memset(out, 0, sizeof(*out));
	out->timestamp = -1;
	out->severity = OSH_SENSOR_UNKNOWN;
	if (len < 16)
		return -1;
	memcpy(out->raw, rec, 16);
	out->id = (uint16_t)(rec[0] | rec[1] << 8);
	out->record_type = rec[2];
	if (out->record_type >= 0xe0) {
		osh_strlcpy(out->description, "OEM record (no timestamp)",
		    sizeof(out->description));
		return 0;
	}
	out->raw_timestamp = (uint32_t)rec[3] | (uint32_t)rec[4] << 8 |
	    (uint32_t)rec[5] << 16 | (uint32_t)rec[6] << 24;
	/* Below 0x20000000 the clock counts from BMC initialisation. */
	if (out->raw_timestamp >= 0x20000000 &&
	    out->raw_timestamp != 0xffffffff)
		out->timestamp = out->raw_timestamp;
	if (out->record_type != 0x02) {
		osh_strlcpy(
		    out->description, "OEM record", sizeof(out->description));
		return 0;
	}
	out->sensor_type = rec[10];
	out->sensor_number = rec[11];
	out->deassertion = rec[12] & 0x80;
	out->event_type = rec[12] & 0x7f;
	out->offset = rec[13] & 0x0f;
	memcpy(out->data, rec + 13, 3);
	osh_strlcpy(out->type_name, osh_sensor_type_name(out->sensor_type),
	    sizeof(out->type_name));
	msg[0] = '\0';
	if (out->event_type == 0x6f) {
		if (ipmi_get_sensor_type_message(
			out->sensor_type, out->offset, msg, sizeof(msg)) < 0)
			msg[0] = '\0';
	} else if (out->event_type >= 0x01 && out->event_type <= 0x0c) {
		if (ipmi_get_generic_event_message(
			out->event_type, out->offset, msg, sizeof(msg)) < 0)
			msg[0] = '\0';
	}
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "event type 0x%02x offset %u",
		    out->event_type, out->offset);
	snprintf(out->description, sizeof(out->description), "%s%s", msg,
	    out->deassertion ? " (deasserted)" : "");
	return 0;
}

const char *
osh_sensor_type_name(uint8_t type)
{
	if (type <= IPMI_SENSOR_TYPE_FRU_STATE && ipmi_sensor_types[type])
		return ipmi_sensor_types[type];
	return type >= 0xc0 ? "OEM Reserved" : "Unknown";
}

const char *
osh_sensor_unit(const struct osh_sensor *s)
{
	if (!s->threshold ||
	    s->base_unit > IPMI_SENSOR_UNIT_UNCORRECTABLE_ERROR)
		return NULL;
	/* As FreeIPMI's ipmimonitoring says it: the flag wins. */
	if (s->percentage)
		return "%";
	return ipmi_sensor_units_abbreviated[s->base_unit];
}
