/* ipmi_link_interpret.c - FreeIPMI's own reading of sensor and SEL
 * states (nominal, warning, critical) and of SEL events as text, for the
 * link's worker threads. */
#include <freeipmi/freeipmi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/util.h"

static enum osh_sensor_state
state_of(unsigned s)
{
	switch (s) {
	case IPMI_INTERPRET_STATE_NOMINAL: return OSH_SENSOR_NOMINAL;
	case IPMI_INTERPRET_STATE_WARNING: return OSH_SENSOR_WARNING;
	case IPMI_INTERPRET_STATE_CRITICAL: return OSH_SENSOR_CRITICAL;
	default: return OSH_SENSOR_UNKNOWN;
	}
}

static pthread_mutex_t interpret_mu = PTHREAD_MUTEX_INITIALIZER;
static ipmi_interpret_ctx_t interpret;
static ipmi_sel_ctx_t sel_text; /* records to text only: no session */

/* FreeIPMI's own reading of sensor and SEL states, shared by all threads
 * (the library keeps state in it, so one thread at a time): made on first
 * use, with interpret_mu held. */
static ipmi_interpret_ctx_t
interpreter(void)
{
	if (interpret == NULL && (interpret = ipmi_interpret_ctx_create())) {
		ipmi_interpret_load_sensor_config(interpret, NULL);
		ipmi_interpret_load_sel_config(interpret, NULL);
	}
	return interpret;
}

enum osh_sensor_state
ipmi_link_interpret_sensor(uint8_t reading_type, uint8_t type, uint16_t bits)
{
	unsigned state = IPMI_INTERPRET_STATE_UNKNOWN;

	pthread_mutex_lock(&interpret_mu);
	if (interpreter() != NULL &&
	    ipmi_interpret_sensor(interpret, reading_type, type, bits, &state) <
		0)
		state = IPMI_INTERPRET_STATE_UNKNOWN;
	pthread_mutex_unlock(&interpret_mu);
	return state_of(state);
}

enum osh_sensor_state
ipmi_link_interpret_sel(const uint8_t *rec)
{
	unsigned state = IPMI_INTERPRET_STATE_UNKNOWN;

	pthread_mutex_lock(&interpret_mu);
	if (interpreter() != NULL &&
	    ipmi_interpret_sel(interpret, rec, 16, &state) < 0)
		state = IPMI_INTERPRET_STATE_UNKNOWN;
	pthread_mutex_unlock(&interpret_mu);
	return state_of(state);
}

/* Appends " ; <what> = <value> <unit>" for a threshold event's data byte,
 * converted as the sensor's record says, as ipmi-sel prints it with the
 * SDR at hand. */
static void
append_reading(char *out, size_t outlen, const char *what,
    const struct osh_sdr *sdr, uint8_t raw)
{
	size_t at = strlen(out);
	const char *unit = "";
	double v;

	if (!osh_sdr_convert(sdr, raw, &v))
		return;
	if (sdr->base_unit <= IPMI_SENSOR_UNIT_UNCORRECTABLE_ERROR)
		unit = ipmi_sensor_units_abbreviated[sdr->base_unit];
	if (sdr->percentage)
		unit = "%";
	snprintf(out + at, outlen - at, " ; %s = %.2f %s", what, v, unit);
}

void
ipmi_link_interpret_sel_event(
    const uint8_t *rec, const struct osh_sdr *sdr, char *out, size_t outlen)
{
	unsigned flags = IPMI_SEL_STRING_FLAGS_IGNORE_UNAVAILABLE_FIELD |
	    IPMI_SEL_STRING_FLAGS_OUTPUT_NOT_AVAILABLE |
	    IPMI_SEL_STRING_FLAGS_INTERPRET_OEM_DATA;
	/* A threshold event whose data 2 and 3 hold the reading and the
	 * threshold: FreeIPMI would print them raw without an SDR of its
	 * own, so they are converted here with ours. */
	bool convert = rec[2] == 0x02 && (rec[12] & 0x7f) == 0x01 &&
	    sdr != NULL && sdr->record_type == 0x01 && sdr->analog_format != 3;
	const char *fmt;
	char buf[256];
	int n = -1;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (rec[2] == 0x02)
		fmt = convert ? "%e" : "%E";
	else if (rec[2] >= 0xc0)
		fmt = "%o"; /* OEM records: their data */
	else
		return; /* ipmi-sel prints no line for them */
	pthread_mutex_lock(&interpret_mu);
	if (sel_text == NULL && (sel_text = ipmi_sel_ctx_create(NULL, NULL)))
		ipmi_sel_ctx_set_separator(sel_text, " ; ");
	if (sel_text != NULL)
		n = ipmi_sel_parse_read_record_string(
		    sel_text, fmt, rec, 16, buf, sizeof(buf) - 1, flags);
	pthread_mutex_unlock(&interpret_mu);
	if (n < 0)
		return;
	buf[n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1] = '\0';
	osh_strlcpy(out, buf, outlen);
	if (convert && ((rec[13] >> 6) & 0x03) == 0x01)
		append_reading(out, outlen, "Sensor Reading", sdr, rec[14]);
	if (convert && ((rec[13] >> 4) & 0x03) == 0x01)
		append_reading(out, outlen, "Threshold", sdr, rec[15]);
}
