/* Unit tests of the IPMI decoders with no BMC: SDR records, readings,
 * SEL records, FRU images and RMCP answers, as captured from ipmi_sim
 * (the same bytes seed the fuzz corpora), then cut short and corrupted.
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

/* Hex text to bytes in a heap buffer of exactly that size (so that ASan
 * sees any read past it). */
static uint8_t *
hex(const char *s, size_t *n)
{
	size_t len = strlen(s) / 2;
	uint8_t *b = malloc(len ? len : 1);

	assert_non_null(b);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*n = len;
	return b;
}

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
	};
	return cmocka_run_group_tests_name("ipmi_parse", tests, NULL, NULL);
}
