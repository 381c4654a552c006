/* ipmi_link_interpret.c - FreeIPMI's own reading of sensor and SEL
 * states (nominal, warning, critical), for the link's worker threads. */
#include <freeipmi/freeipmi.h>
#include <pthread.h>

#include "ipmi_link.h"

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
