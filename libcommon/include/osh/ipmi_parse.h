/* ipmi_parse.h - decoding what BMCs send, with no I/O: SDR records and
 * reading conversion, Get Sensor Reading, Get Device ID, Get Chassis
 * Status, FRU inventory areas and SEL records. Everything here takes
 * untrusted bytes and must never read past them. */
#ifndef OSH_IPMI_PARSE_H
#define OSH_IPMI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmi.h"

/* A sensor record (SDR types 1, 2 and 3), as far as reading it needs. */
struct osh_sdr {
	uint16_t record_id;
	uint8_t record_type;
	uint8_t owner, lun, number;
	uint8_t entity, entity_instance;
	uint8_t sensor_type, reading_type;
	uint8_t analog_format; /* 0 unsigned, 1 ones', 2 twos', 3 none */
	uint8_t base_unit, percentage;
	uint8_t linearization;
	int m, b, b_exp, r_exp;
	uint8_t th_readable; /* bit per OSH_TH_* */
	uint8_t th_raw[6];
	uint8_t share_count; /* compact records may stand for several */
	uint8_t share_mod_type; /* 0 numeric, 1 alpha suffix */
	uint8_t share_mod_offset;
	bool event_only; /* type 3 */
	char name[64]; /* valid UTF-8 */
};

/* Parses one SDR record (header included). Returns 1 for a sensor record,
 * 0 for a record of another type (skip it), -1 when it is malformed. */
int osh_sdr_parse(const uint8_t *rec, size_t len, struct osh_sdr *out);

/* The engineering value of a raw reading; false when the record has no
 * analog reading or its formula cannot be evaluated. */
bool osh_sdr_convert(const struct osh_sdr *s, uint8_t raw, double *out);

/* Fills a sensor from its record and the Get Sensor Reading answer (the
 * bytes after the completion code; may be NULL when the read failed). */
void osh_sensor_fill(const struct osh_sdr *s, unsigned share_index,
    const uint8_t *rs, size_t rslen, struct osh_sensor *out);

/* FreeIPMI's name of a sensor type ("Temperature"), "OEM Reserved" or
 * "Unknown"; as ipmi-sensors prints it. */
const char *osh_sensor_type_name(uint8_t type);

/* The unit abbreviation of a threshold sensor ("C", "RPM"); NULL for a
 * discrete sensor or an unknown unit. */
const char *osh_sensor_unit(const struct osh_sensor *s);

/* State of a threshold sensor from its comparison bits. */
enum osh_sensor_state osh_threshold_state(uint16_t events);

/* Get Device ID and Get Chassis Status answers (after the completion
 * code). Return 0, or -1 when too short. */
int osh_device_id_parse(
    const uint8_t *rs, size_t len, struct osh_device_id *out);
int osh_chassis_parse(const uint8_t *rs, size_t len, struct osh_chassis *out);

/* Decodes a type/length-prefixed string (FRU and SDR) at p, with avail
 * bytes left, into valid UTF-8. Returns the bytes consumed (type/length
 * byte included), or -1 when the field does not fit. */
int osh_ipmi_tl_string(
    const uint8_t *p, size_t avail, char *out, size_t outlen);

/* Parses a FRU inventory image (common header and the chassis, board and
 * product areas). Areas with bad checksums are skipped. Returns the number
 * of areas decoded, or -1 when the header itself is bad. */
int osh_fru_parse(const uint8_t *data, size_t len, struct osh_fru *out);

/* Decodes a 16-byte SEL record (no sensor names: the caller adds them). */
int osh_sel_parse(const uint8_t *rec, size_t len, struct osh_sel_entry *out);

#endif
