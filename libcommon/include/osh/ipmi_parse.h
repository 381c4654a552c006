/* ipmi_parse.h - decoding what BMCs send, with no I/O: every answer the
 * engine reads (SDR records and repository info, reservations, Get Sensor
 * Reading, Get Device ID, Get System Info, Get Chassis Status, FRU
 * inventory info, data and areas, SEL info and records, DCMI power
 * readings, Get Watchdog Timer, Get System Info strings) and reading
 * conversion. Everything here takes untrusted bytes
 * (an answer's bytes after its completion code, unless said otherwise),
 * checks their length before reading them and never reads past them;
 * every string it makes is terminated, valid UTF-8. */
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

/* A Get Sensor Reading answer. */
struct osh_reading {
	uint8_t raw; /* the reading, for osh_sdr_convert */
	bool unavailable; /* reading unavailable, or scanning disabled */
	uint8_t states_lo; /* threshold comparisons or discrete states 0-7 */
	uint8_t states_hi; /* discrete states 8-14 (bit 7 cleared) */
};

/* Decodes a Get Sensor Reading answer; the state bytes are optional (0
 * when absent). Returns 0, or -1 when shorter than 2 bytes. */
int osh_reading_parse(const uint8_t *rs, size_t len, struct osh_reading *out);

/* Fills a sensor from its record and the Get Sensor Reading answer (the
 * bytes after the completion code; may be NULL when the read failed; read
 * with osh_reading_parse). */
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

/* Get System Info Parameters, System Firmware Version (parameter 1), set
 * 0: revision, set, encoding, length, then the text's first bytes. Writes
 * the text this answer holds (up to its length byte) into out as valid
 * UTF-8, decoded as the encoding says (ASCII/Latin-1, UTF-8 or UTF-16LE),
 * trailing NULs and spaces dropped. Returns 0, or -1 (out empty) when the
 * answer is shorter than 4 bytes or outlen is 0. */
int osh_system_firmware_parse(
    const uint8_t *rs, size_t len, char *out, size_t outlen);

/* The text of a string parameter of Get System Info Parameters (system
 * firmware version, BMC URL) in the encoding sent (0 ASCII/Latin-1,
 * 1 UTF-8, 2 UTF-16LE; else as Latin-1), written into out as valid
 * UTF-8, trailing NULs and spaces dropped. Returns 0, or -1 (nothing
 * written) when outlen is 0. */
int osh_sysinfo_decode(
    uint8_t encoding, const uint8_t *p, size_t n, char *out, size_t outlen);

/* A string parameter of Get System Info Parameters comes in blocks: set 0
 * holds the encoding, the length and 14 bytes, sets 1.. 16 bytes each. */
#define OSH_SYSINFO_MAX_SETS 16
struct osh_sysinfo_text {
	uint8_t encoding;
	uint8_t length; /* as the BMC announced it */
	uint8_t data[256];
	size_t have; /* bytes gathered so far, at most length */
};

/* Adds block set (0 first: it resets t) of a string parameter to t.
 * Returns 1 when more blocks are needed (ask for set + 1), 0 when the
 * text is complete (or the blocks stop bringing any, or there would be
 * more than OSH_SYSINFO_MAX_SETS), -1 when the answer is too short or
 * names another set. */
int osh_sysinfo_block_parse(
    const uint8_t *rs, size_t len, uint8_t set, struct osh_sysinfo_text *t);

/* Get Watchdog Timer: 8 bytes, or 6 without the present countdown
 * (has_present false). Returns 0, or -1 when shorter than 6. */
int osh_watchdog_parse(const uint8_t *rs, size_t len, struct osh_watchdog *out);

/* DCMI Get Power Reading: group id 0xdc, then current, minimum, maximum
 * and average watts, a timestamp, the averaging period and the state. */
struct osh_dcmi_power {
	uint16_t current, minimum, maximum, average; /* watts */
	uint32_t timestamp; /* BMC clock, seconds */
	uint32_t period_ms; /* over which the statistics were taken */
	bool active; /* power measurement active */
	bool has_stats; /* minimum .. active were sent (18 bytes) */
};

/* Returns 0, or -1 when the group id is not DCMI's or the answer holds
 * no current reading (fewer than 3 bytes). */
int osh_dcmi_power_parse(
    const uint8_t *rs, size_t len, struct osh_dcmi_power *out);

/* Get SEL Info. Returns 0, or -1 when shorter than 13 bytes. */
int osh_sel_info_parse(const uint8_t *rs, size_t len, struct osh_sel_info *out);

/* Get SDR Repository Info. stamp is the last addition and erase times as
 * sent: they change when the repository does. */
struct osh_sdr_repo_info {
	uint8_t version;
	uint16_t count; /* records */
	uint16_t free_bytes;
	uint32_t last_add, last_erase;
	uint8_t stamp[8];
};

/* Returns 0, or -1 when shorter than 13 bytes. */
int osh_sdr_repo_info_parse(
    const uint8_t *rs, size_t len, struct osh_sdr_repo_info *out);

/* Reserve SDR Repository and Reserve SEL: the reservation id. Returns 0,
 * or -1 when shorter than 2 bytes. */
int osh_reservation_parse(const uint8_t *rs, size_t len, uint16_t *id);

/* Get SDR: the next record's id, then want bytes of the record from the
 * offset asked for. Points *data into rs. Returns how many bytes of the
 * record came (at most want, at least 1), or -1 when the answer holds
 * none. */
int osh_sdr_get_parse(const uint8_t *rs, size_t len, size_t want,
    uint16_t *next, const uint8_t **data);

/* Get SEL Entry (whole record): the next record's id, then the 16-byte
 * record, copied to rec. Returns 0, or -1 when shorter than 18 bytes. */
int osh_sel_get_parse(
    const uint8_t *rs, size_t len, uint16_t *next, uint8_t rec[16]);

/* Get FRU Inventory Area Info. */
struct osh_fru_info {
	uint16_t size; /* bytes */
	bool by_words; /* offsets and counts of Read FRU Data are words */
};

/* Returns 0, or -1 when shorter than 3 bytes. */
int osh_fru_info_parse(const uint8_t *rs, size_t len, struct osh_fru_info *out);

/* Read FRU Data asked for want bytes (by_words: want / 2 words): the
 * count, then the data. Points *data into rs. Returns the bytes of data
 * (count, times 2 by words), or -1 when none came, more than asked for or
 * more than the answer holds. */
int osh_fru_read_parse(const uint8_t *rs, size_t len, size_t want,
    bool by_words, const uint8_t **data);

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
