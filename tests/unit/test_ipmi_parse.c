/* Unit tests of the IPMI decoders with no BMC: SDR records, readings,
 * SEL records, FRU images, RMCP answers and every other answer the
 * engine reads (device id, chassis, system firmware, DCMI power, SEL and
 * SDR repository info, reservations, Get SDR, Get SEL Entry, FRU info and
 * data), as captured from ipmi_sim (the same bytes seed the fuzz
 * corpora), then cut short and corrupted.
 * Every prefix of a record must be refused or decoded within its bytes;
 * every name must stay valid UTF-8 however it is cut. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/ipmi_parse.h"
#include "osh/rmcp.h"
#include "osh/util.h"

#include "hexbytes.h"

/* Hex text over bytes already there (as long). Returns b. */
static uint8_t *
hex_into(uint8_t *b, const char *s)
{
	for (size_t i = 0; i < strlen(s) / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	return b;
}

/* The prefix of b, n bytes, in a buffer of its own. */
static uint8_t *
prefix(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, b, n);
	return p;
}

static const char cpu1_temp[] =
    "01005101342000010301774401010000000038000001000001000000000000000000"
    "ff00695f550000000000000000c9435055312054656d70";
static const char psu1_status[] =
    "11005102262000110a016740086f030003000300c00000000000000000000"
    "0cb5053553120537461747573";
static const char sel_cpu1[] = "0200023906000020000401010159605f";
static const char sel_psu_deasserted[] = "040002390600002000040811ef01ffff";
static const char fru_dell[] =
    "010001050d0000ec010417c93058334436362d4348cc4348534e3333393131303030"
    "c100000000ae0108009f1df8c944656c6c20496e632ed8506f77657245646765205236"
    "3530204d61696e626f617264cc4d42534e3333393131303030c6305833443636c0c13e"
    "010900c944656c6c20496e632ece506f776572456467652052363530c630583344363"
    "6c3413031ca534e3333393131303030d041535345542d534e3333393131303030c0c1"
    "000025";
static const char rmcp_v20[] =
    "0600ff0700000000000000000010811c6320003800019704030000000009";
static const char rmcp_v15[] =
    "0600ff0700000000000000000010811c632000380001170400000000008c";

static void
sdr_full_record(void **state)
{
	size_t n;
	uint8_t *b = hex(cpu1_temp, &n);
	uint8_t reading[] = {45, 0xc0, 0x00, 0x00};
	struct osh_sdr s;
	struct osh_sensor o;
	double v;

	(void)state;
	assert_int_equal(osh_sdr_parse(b, n, &s), 1);
	assert_string_equal(s.name, "CPU1 Temp");
	assert_int_equal(s.number, 1);
	assert_int_equal(s.sensor_type, 1);
	assert_int_equal(s.reading_type, 1);
	assert_true(osh_sdr_convert(&s, 45, &v));
	assert_true(v > 44.9 && v < 45.1);
	osh_sensor_fill(&s, 0, reading, sizeof(reading), &o);
	assert_true(o.has_value && o.value > 44.9 && o.value < 45.1);
	assert_true(o.has_th[OSH_TH_UC] && o.th[OSH_TH_UC] == 95);
	assert_int_equal(o.state, OSH_SENSOR_NOMINAL);
	assert_string_equal(osh_sensor_unit(&o), "C");
	/* A formula whose value is finite but huge stays finite
	 * (fuzz_sdr found it rounded to infinity). */
	b[23] = 0x05; /* 10^y */
	b[24] = 1;
	b[25] = 0;
	b[26] = 48; /* y = 255 + 48 */
	b[27] = 0;
	b[29] = 0;
	assert_int_equal(osh_sdr_parse(b, n, &s), 1);
	assert_true(osh_sdr_convert(&s, 255, &v));
	assert_true(isfinite(v) && v > 9e302);
	b[26] = 60; /* 10^315: not a number we can hold */
	assert_int_equal(osh_sdr_parse(b, n, &s), 1);
	assert_false(osh_sdr_convert(&s, 255, &v));
	assert_int_equal(osh_sdr_parse(hex_into(b, cpu1_temp), n, &s), 1);
	/* Reading unavailable: no value to trust. */
	reading[1] = 0x20;
	osh_sensor_fill(&s, 0, reading, sizeof(reading), &o);
	assert_true(o.unavailable && !o.has_value);
	free(b);
}

static void
sdr_compact_record(void **state)
{
	size_t n;
	uint8_t *b = hex(psu1_status, &n);
	struct osh_sdr s;

	(void)state;
	assert_int_equal(osh_sdr_parse(b, n, &s), 1);
	assert_string_equal(s.name, "PSU1 Status");
	assert_int_equal(s.record_type, 2);
	assert_int_equal(s.reading_type, 0x6f);
	assert_int_equal(s.share_count, 1);
	assert_false(s.event_only);
	free(b);
}

/* Every prefix shorter than the record says is refused; a record of a
 * type that holds no sensor is skipped. */
static void
sdr_cut_short(void **state)
{
	const char *const recs[] = {cpu1_temp, psu1_status};
	struct osh_sdr s;

	(void)state;
	for (size_t r = 0; r < OSH_ARRAY_LEN(recs); r++) {
		size_t n;
		uint8_t *b = hex(recs[r], &n);

		for (size_t k = 0; k < n; k++) {
			uint8_t *p = prefix(b, k);
			assert_int_equal(osh_sdr_parse(p, k, &s), -1);
			free(p);
		}
		b[3] = 0x12; /* an MC locator */
		assert_int_equal(osh_sdr_parse(b, n, &s), 0);
		free(b);
	}
}

/* A shared record's name is cut to leave room for the instance suffix,
 * on a character boundary (fuzz_sdr found the cut in the middle of one). */
static void
sdr_shared_name_cut_keeps_utf8(void **state)
{
	size_t n;
	uint8_t *b = hex(psu1_status, &n), *r;
	struct osh_sdr s;
	struct osh_sensor o;

	(void)state;
	/* The same record with a 60-byte Latin-1 name: 55 letters, then
	 * e-acute (two bytes in UTF-8) across the cut at 56. */
	r = calloc(1, 31 + 61);
	assert_non_null(r);
	memcpy(r, b, 31);
	r[4] = 31 + 61 - 5;
	r[23] = 0x02; /* two sensors, numeric suffix */
	r[31] = 0xc0 | 60;
	memset(r + 32, 'A', 55);
	memset(r + 32 + 55, 0xe9, 5);
	assert_int_equal(osh_sdr_parse(r, 31 + 61, &s), 1);
	assert_true(osh_utf8_valid(s.name, strlen(s.name)));
	for (unsigned j = 0; j < 2; j++) {
		osh_sensor_fill(&s, j, NULL, 0, &o);
		assert_true(osh_utf8_valid(o.name, strlen(o.name)));
		assert_int_equal(strlen(o.name), 56);
		assert_int_equal(o.name[55], j == 0 ? '0' : '1');
	}
	free(r);
	free(b);
}

static void
sel_records(void **state)
{
	size_t n;
	uint8_t *b = hex(sel_cpu1, &n);
	struct osh_sel_entry e;

	(void)state;
	assert_int_equal(osh_sel_parse(b, n, &e), 0);
	assert_int_equal(e.id, 2);
	assert_int_equal(e.timestamp, -1); /* counted from BMC start */
	assert_int_equal(e.raw_timestamp, 0x639);
	assert_int_equal(e.sensor_number, 1);
	assert_string_equal(e.type_name, "Temperature");
	assert_string_equal(e.description, "Upper Critical - going high");
	assert_false(e.deassertion);
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = prefix(b, k);
		assert_int_equal(osh_sel_parse(p, k, &e), -1);
		free(p);
	}
	free(b);
	b = hex(sel_psu_deasserted, &n);
	assert_int_equal(osh_sel_parse(b, n, &e), 0);
	assert_true(e.deassertion);
	assert_string_equal(
	    e.description, "Power Supply Failure detected (deasserted)");
	b[2] = 0xe0; /* OEM, no timestamp */
	assert_int_equal(osh_sel_parse(b, n, &e), 0);
	assert_int_equal(e.timestamp, -1);
	assert_string_equal(e.type_name, "");
	free(b);
}

static void
fru_image(void **state)
{
	size_t n;
	uint8_t *b = hex(fru_dell, &n);
	struct osh_fru f;

	(void)state;
	assert_int_equal(osh_fru_parse(b, n, &f), 3);
	assert_string_equal(f.chassis_type, "Rack Mount Chassis");
	assert_string_equal(f.product_mfg, "Dell Inc.");
	assert_string_equal(f.product_name, "PowerEdge R650");
	assert_string_equal(f.product_serial, "SN33911000");
	assert_string_equal(f.board_product, "PowerEdge R650 Mainboard");
	assert_true(f.board_mfg_time > 820454400);
	/* A cut image keeps the areas that fit. */
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = prefix(b, k);
		int areas = osh_fru_parse(p, k, &f);
		assert_true(k < 8 ? areas == -1 : areas >= 0 && areas <= 3);
		free(p);
	}
	/* A bad product area checksum drops that area only. */
	b[n - 1] ^= 0xff;
	assert_int_equal(osh_fru_parse(b, n, &f), 2);
	assert_string_equal(f.product_name, "");
	b[7] ^= 0xff; /* and a bad header, everything */
	assert_int_equal(osh_fru_parse(b, n, &f), -1);
	free(b);
}

static void
rmcp_answers(void **state)
{
	size_t n;
	uint8_t *b = hex(rmcp_v20, &n), req[32];
	struct osh_rmcp_caps c;
	uint8_t sum = 0;

	(void)state;
	assert_true(osh_rmcp_parse(b, n, &c));
	assert_true(c.answered && c.ipmi15 && c.ipmi20);
	assert_true(c.auth_none && c.auth_md2 && c.auth_md5 && c.auth_straight);
	assert_true(c.non_null_usernames && !c.anonymous_login);
	assert_int_equal(c.oem_id, 0);
	/* Cut anywhere before the trailing checksum (not checked). */
	for (size_t k = 0; k < n - 1; k++) {
		uint8_t *p = prefix(b, k);
		assert_false(osh_rmcp_parse(p, k, &c));
		assert_false(c.answered);
		free(p);
	}
	b[20] = 0xc1; /* an error completion code */
	assert_false(osh_rmcp_parse(b, n, &c));
	free(b);
	b = hex(rmcp_v15, &n);
	assert_true(osh_rmcp_parse(b, n, &c));
	assert_true(c.ipmi15 && !c.ipmi20);
	free(b);
	assert_int_equal(osh_rmcp_request(req, true), 23);
	for (int i = 17; i < 23; i++)
		sum = (uint8_t)(sum + req[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(req[20], 0x8e);
}

/* Answers captured from ipmi_sim with ipmi-raw (the bytes after the
 * completion code), and two it does not implement, as the specifications
 * lay them out, with a real server's values. */
static const char ans_device_id[] = "0003021002bfa20200000100000000";
static const char ans_chassis[] = "010000";
static const char ans_reading_cpu1[] = "2dc00000";
static const char ans_reading_psu[] = "00c00100";
static const char ans_sel_info[] = "510500303ee1250000000000000a";
static const char ans_sdr_repo_info[] = "511200feff04350e6b0000000002";
static const char ans_reservation[] = "0100";
static const char ans_sdr_header[] = "02000100510134";
static const char ans_sdr_chunk[] = "020020000103017744010100000000380000";
static const char ans_sel_entry[] = "0300020002e125000020000401010159605f";
static const char ans_fru_info[] = "b00000";
static const char ans_fru_read[] = "10010001050d0000ec010417c930583344";
static const char ans_firmware[] = "1100000e322e31362e31202842494f532900";
static const char ans_firmware16[] = "1100020832002e0031003600";
static const char ans_dcmi[] = "dcf000b4002c01e60000e12500e803000040";

/* Each decoder behind one signature, for the cuts below. */
static int
dec_device_id(const uint8_t *b, size_t n)
{
	struct osh_device_id d;
	int rc = osh_device_id_parse(b, n, &d);

	assert_true(osh_utf8_valid(d.firmware, strlen(d.firmware)));
	return rc;
}

static int
dec_chassis(const uint8_t *b, size_t n)
{
	struct osh_chassis c;

	return osh_chassis_parse(b, n, &c);
}

static int
dec_reading(const uint8_t *b, size_t n)
{
	struct osh_reading r;

	return osh_reading_parse(b, n, &r);
}

static int
dec_sel_info(const uint8_t *b, size_t n)
{
	struct osh_sel_info i;

	return osh_sel_info_parse(b, n, &i);
}

static int
dec_sdr_repo_info(const uint8_t *b, size_t n)
{
	struct osh_sdr_repo_info i;

	return osh_sdr_repo_info_parse(b, n, &i);
}

static int
dec_reservation(const uint8_t *b, size_t n)
{
	uint16_t id;

	return osh_reservation_parse(b, n, &id);
}

static int
dec_sdr_get(const uint8_t *b, size_t n)
{
	const uint8_t *data;
	uint16_t next;
	int rc = osh_sdr_get_parse(b, n, 16, &next, &data);

	assert_true(rc < 0 || (data == b + 2 && (size_t)rc <= n - 2));
	return rc < 0 ? -1 : 0;
}

static int
dec_sel_get(const uint8_t *b, size_t n)
{
	uint8_t rec[16];
	uint16_t next;

	return osh_sel_get_parse(b, n, &next, rec);
}

static int
dec_fru_info(const uint8_t *b, size_t n)
{
	struct osh_fru_info i;

	return osh_fru_info_parse(b, n, &i);
}

static int
dec_fru_read(const uint8_t *b, size_t n)
{
	const uint8_t *data;
	int rc = osh_fru_read_parse(b, n, 16, false, &data);

	return rc < 0 ? -1 : 0;
}

static int
dec_firmware(const uint8_t *b, size_t n)
{
	char out[64];
	int rc = osh_system_firmware_parse(b, n, out, sizeof(out));

	assert_true(osh_utf8_valid(out, strlen(out)));
	return rc;
}

static int
dec_dcmi(const uint8_t *b, size_t n)
{
	struct osh_dcmi_power p;

	return osh_dcmi_power_parse(b, n, &p);
}

/* Every answer decodes whole; cut, it is refused below the decoder's
 * minimum and decoded within its bytes from there (each prefix in a
 * buffer of its own size: ASan sees a read past it). */
static void
replies_cut_short(void **state)
{
	static const struct {
		const char *hex;
		int (*dec)(const uint8_t *, size_t);
		size_t min;
	} cases[] = {
	    {ans_device_id, dec_device_id, 11},
	    {ans_chassis, dec_chassis, 3},
	    {ans_reading_cpu1, dec_reading, 2},
	    {ans_reading_psu, dec_reading, 2},
	    {ans_sel_info, dec_sel_info, 13},
	    {ans_sdr_repo_info, dec_sdr_repo_info, 13},
	    {ans_reservation, dec_reservation, 2},
	    {ans_sdr_header, dec_sdr_get, 3},
	    {ans_sdr_chunk, dec_sdr_get, 3},
	    {ans_sel_entry, dec_sel_get, 18},
	    {ans_fru_info, dec_fru_info, 3},
	    {ans_fru_read, dec_fru_read, 17}, /* the count says 16 */
	    {ans_firmware, dec_firmware, 4},
	    {ans_firmware16, dec_firmware, 4},
	    {ans_dcmi, dec_dcmi, 3},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		size_t n;
		uint8_t *b = hex(cases[i].hex, &n);

		assert_true(n >= cases[i].min);
		for (size_t k = 0; k <= n; k++) {
			uint8_t *p = prefix(b, k);
			int want = k < cases[i].min ? -1 : 0;

			if (cases[i].dec(p, k) != want)
				fail_msg(
				    "case %zu cut at %zu: not %d", i, k, want);
			free(p);
		}
		free(b);
	}
}

static void
device_chassis_reading(void **state)
{
	size_t n;
	uint8_t *b = hex(ans_device_id, &n);
	struct osh_device_id d;
	struct osh_chassis c;
	struct osh_reading r;

	(void)state;
	assert_int_equal(osh_device_id_parse(b, n, &d), 0);
	assert_int_equal(d.manufacturer_id, 674);
	assert_int_equal(d.product_id, 256);
	assert_string_equal(d.firmware, "2.10");
	assert_int_equal(d.ipmi_major, 2);
	assert_int_equal(d.ipmi_minor, 0);
	assert_true(d.has_aux);
	free(b);
	b = hex(ans_chassis, &n);
	assert_int_equal(osh_chassis_parse(b, n, &c), 0);
	assert_true(c.power_on);
	assert_int_equal(c.restore_policy, 0);
	assert_int_equal(c.identify, 3); /* not sent as supported */
	free(b);
	b = hex(ans_reading_psu, &n);
	assert_int_equal(osh_reading_parse(b, n, &r), 0);
	assert_false(r.unavailable);
	assert_int_equal(r.states_lo, 0x01);
	b[1] = 0x80; /* scanning disabled */
	assert_int_equal(osh_reading_parse(b, n, &r), 0);
	assert_true(r.unavailable);
	free(b);
	b = hex(ans_reading_cpu1, &n);
	assert_int_equal(osh_reading_parse(b, 2, &r), 0); /* no states */
	assert_int_equal(r.raw, 45);
	assert_int_equal(r.states_lo, 0);
	free(b);
}

static void
repository_answers(void **state)
{
	size_t n;
	uint8_t *b = hex(ans_sel_info, &n), rec[16];
	struct osh_sel_info si;
	struct osh_sdr_repo_info ri;
	const uint8_t *data;
	uint16_t id;

	(void)state;
	assert_int_equal(osh_sel_info_parse(b, n, &si), 0);
	assert_int_equal(si.version, 0x51);
	assert_int_equal(si.entries, 5);
	assert_int_equal(si.free_bytes, 0x3e30);
	assert_int_equal(si.last_add, 0x25e1);
	assert_int_equal(si.last_erase, 0);
	free(b);
	b = hex(ans_sdr_repo_info, &n);
	assert_int_equal(osh_sdr_repo_info_parse(b, n, &ri), 0);
	assert_int_equal(ri.count, 18);
	assert_int_equal(ri.free_bytes, 0xfffe);
	assert_memory_equal(ri.stamp, b + 5, 8);
	free(b);
	b = hex(ans_reservation, &n);
	assert_int_equal(osh_reservation_parse(b, n, &id), 0);
	assert_int_equal(id, 1);
	free(b);
	/* Get SDR: the header asked for (5 bytes), a chunk of 16, and a
	 * BMC sending more than asked for (only what was asked counts). */
	b = hex(ans_sdr_header, &n);
	assert_int_equal(osh_sdr_get_parse(b, n, 5, &id, &data), 5);
	assert_int_equal(id, 2);
	assert_int_equal(data[4], 0x34); /* the record's length */
	assert_int_equal(osh_sdr_get_parse(b, n, 3, &id, &data), 3);
	assert_int_equal(osh_sdr_get_parse(b, n, 0, &id, &data), -1);
	free(b);
	b = hex(ans_sdr_chunk, &n);
	assert_int_equal(osh_sdr_get_parse(b, n, 16, &id, &data), 16);
	assert_int_equal(osh_sdr_get_parse(b, 10, 16, &id, &data), 8);
	free(b);
	b = hex(ans_sel_entry, &n);
	assert_int_equal(osh_sel_get_parse(b, n, &id, rec), 0);
	assert_int_equal(id, 3);
	assert_memory_equal(rec, b + 2, 16);
	free(b);
}

static void
fru_answers(void **state)
{
	size_t n;
	uint8_t *b = hex(ans_fru_info, &n);
	struct osh_fru_info fi;
	const uint8_t *data;

	(void)state;
	assert_int_equal(osh_fru_info_parse(b, n, &fi), 0);
	assert_int_equal(fi.size, 176);
	assert_false(fi.by_words);
	free(b);
	b = hex(ans_fru_read, &n);
	assert_int_equal(osh_fru_read_parse(b, n, 16, false, &data), 16);
	assert_ptr_equal(data, b + 1);
	/* More than asked for, none, or more than came: refused. */
	assert_int_equal(osh_fru_read_parse(b, n, 15, false, &data), -1);
	assert_null(data);
	b[0] = 0;
	assert_int_equal(osh_fru_read_parse(b, n, 16, false, &data), -1);
	b[0] = 17;
	assert_int_equal(osh_fru_read_parse(b, n, 32, false, &data), -1);
	/* By words: 8 words are 16 bytes. */
	b[0] = 8;
	assert_int_equal(osh_fru_read_parse(b, n, 16, true, &data), 16);
	b[0] = 9;
	assert_int_equal(osh_fru_read_parse(b, n, 18, true, &data), -1);
	free(b);
}

static void
firmware_and_power(void **state)
{
	size_t n;
	uint8_t *b = hex(ans_firmware, &n);
	struct osh_dcmi_power p;
	char out[64], small[6];

	(void)state;
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out, "2.16.1 (BIOS)"); /* the NUL pad dropped */
	/* Cut on a character boundary, terminated. */
	assert_int_equal(
	    osh_system_firmware_parse(b, n, small, sizeof(small)), 0);
	assert_string_equal(small, "2.16.");
	/* A length byte past the answer reads only what came. */
	b[3] = 0xff;
	assert_int_equal(osh_system_firmware_parse(b, 8, out, sizeof(out)), 0);
	assert_string_equal(out, "2.16");
	/* Latin-1 becomes UTF-8; UTF-8 stays, invalid bytes replaced. */
	b[3] = 2;
	b[4] = 0xe9;
	b[5] = 'x';
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out, "\xc3\xa9x");
	b[2] = 1;
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_true(osh_utf8_valid(out, strlen(out)));
	assert_string_equal(out, "\xef\xbf\xbdx");
	assert_int_equal(osh_system_firmware_parse(b, 3, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(osh_system_firmware_parse(b, n, out, 0), -1);
	free(b);
	b = hex(ans_firmware16, &n);
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out, "2.16");
	/* A lone surrogate, and a pair (U+1F600). */
	b[4] = 0x00;
	b[5] = 0xd8;
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out, "\xef\xbf\xbd.16");
	b[6] = 0x00;
	b[7] = 0xde;
	b[4] = 0x3d;
	assert_int_equal(osh_system_firmware_parse(b, n, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "\xf0\x9f\x98\x80"
	    "16");
	free(b);
	b = hex(ans_dcmi, &n);
	assert_int_equal(osh_dcmi_power_parse(b, n, &p), 0);
	assert_int_equal(p.current, 240);
	assert_int_equal(p.minimum, 180);
	assert_int_equal(p.maximum, 300);
	assert_int_equal(p.average, 230);
	assert_int_equal(p.period_ms, 1000);
	assert_true(p.active && p.has_stats);
	assert_int_equal(osh_dcmi_power_parse(b, 3, &p), 0);
	assert_int_equal(p.current, 240);
	assert_false(p.has_stats);
	b[0] = 0xdd; /* not DCMI's group */
	assert_int_equal(osh_dcmi_power_parse(b, n, &p), -1);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sdr_full_record),
	    cmocka_unit_test(sdr_compact_record),
	    cmocka_unit_test(sdr_cut_short),
	    cmocka_unit_test(sdr_shared_name_cut_keeps_utf8),
	    cmocka_unit_test(sel_records),
	    cmocka_unit_test(fru_image),
	    cmocka_unit_test(rmcp_answers),
	    cmocka_unit_test(replies_cut_short),
	    cmocka_unit_test(device_chassis_reading),
	    cmocka_unit_test(repository_answers),
	    cmocka_unit_test(fru_answers),
	    cmocka_unit_test(firmware_and_power),
	};
	return cmocka_run_group_tests_name("ipmi_parse", tests, NULL, NULL);
}
