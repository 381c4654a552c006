/* render.c - the Prometheus text a scrape answers with, named and shaped
 * as the community ipmi_exporter shapes it, so dashboards and alerts keep
 * working: typed families for temperature, fan, voltage, current and
 * power sensors (chosen by unit), generic ipmi_sensor_* for the rest,
 * states 0/1/2 (NaN when unknown), ipmi_up per collector. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/util/ipmi-iana-enterprise-numbers-util.h>

#include <osh/ipmi_parse.h>
#include <osh/metrics.h>

#include "exporter.h"

struct family {
	const char *unit; /* IPMI unit abbreviation, or NULL: generic */
	const char *value, *value_help;
	const char *state, *state_help;
};

static const struct family families[] = {
    {"C", "ipmi_temperature_celsius", "Temperature reading in degree Celsius.",
	"ipmi_temperature_state",
	"Reported state of a temperature sensor (0=nominal, 1=warning, "
	"2=critical)."},
    {"RPM", "ipmi_fan_speed_rpm", "Fan speed in rotations per minute.",
	"ipmi_fan_speed_state",
	"Reported state of a fan speed sensor (0=nominal, 1=warning, "
	"2=critical)."},
    {"V", "ipmi_voltage_volts", "Voltage reading in Volts.",
	"ipmi_voltage_state",
	"Reported state of a voltage sensor (0=nominal, 1=warning, "
	"2=critical)."},
    {"A", "ipmi_current_amperes", "Current reading in Amperes.",
	"ipmi_current_state",
	"Reported state of a current sensor (0=nominal, 1=warning, "
	"2=critical)."},
    {"W", "ipmi_power_watts", "Power reading in Watts.", "ipmi_power_state",
	"Reported state of a power sensor (0=nominal, 1=warning, "
	"2=critical)."},
    {NULL, "ipmi_sensor_value",
	"Generic data read from an IPMI sensor of unknown type, relying on "
	"labels for context.",
	"ipmi_sensor_state",
	"Indicates the severity of the state reported by an IPMI sensor "
	"(0=nominal, 1=warning, 2=critical)."},
};

static const struct family *
family_of(const struct osh_sensor *s)
{
	const char *u = osh_sensor_unit(s);

	for (size_t i = 0; i + 1 < OSH_ARRAY_LEN(families); i++)
		if (u != NULL && strcmp(u, families[i].unit) == 0)
			return &families[i];
	return &families[OSH_ARRAY_LEN(families) - 1];
}

static void
value(struct osh_buf *b, double v)
{
	if (isnan(v))
		osh_buf_puts(b, "NaN");
	else if (v == floor(v) && fabs(v) < 1e15)
		osh_buf_printf(b, "%.0f", v);
	else
		osh_buf_printf(b, "%.10g", v);
}

static double
state_value(enum osh_sensor_state s)
{
	switch (s) {
	case OSH_SENSOR_NOMINAL: return 0;
	case OSH_SENSOR_WARNING: return 1;
	case OSH_SENSOR_CRITICAL: return 2;
	default: return NAN;
	}
}

static void
header(struct osh_buf *b, const char *name, const char *help)
{
	osh_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Writes the label set of a sensor: id, name and, for generic ones,
 * type. */
static void
labels(char *out, size_t len, const struct osh_sensor *s, bool generic)
{
	char name[160], type[96];

	osh_metrics_escape(s->name, name, sizeof(name));
	if (generic) {
		osh_metrics_escape(
		    osh_sensor_type_name(s->type), type, sizeof(type));
		snprintf(out, len, "id=\"%u\",name=\"%s\",type=\"%s\"",
		    s->record_id, name, type);
	} else {
		snprintf(out, len, "id=\"%u\",name=\"%s\"", s->record_id, name);
	}
}

static int
cmp_sensor(const void *a, const void *b)
{
	const struct osh_sensor *x = *(const struct osh_sensor *const *)a;
	const struct osh_sensor *y = *(const struct osh_sensor *const *)b;

	if (x->record_id != y->record_id)
		return (int)x->record_id - (int)y->record_id;
	return strcmp(x->name, y->name);
}

static unsigned
render_sensors(
    struct osh_buf *b, const struct module *m, const struct scrape_data *d)
{
	const struct osh_sensor **order;
	unsigned dupes = 0;
	size_t n = 0;

	if ((order = calloc(d->nsensors + 1, sizeof(*order))) == NULL)
		return 0;
	for (size_t i = 0; i < d->nsensors; i++) {
		const struct osh_sensor *s = &d->sensors[i];
		if (s->readable &&
		    module_wants_sensor(m, s, osh_sensor_type_name(s->type)))
			order[n++] = s;
	}
	qsort(order, n, sizeof(*order), cmp_sensor);
	for (size_t f = 0; f < OSH_ARRAY_LEN(families); f++) {
		const struct family *fam = &families[f];
		bool generic = fam->unit == NULL;

		for (int pass = 0; pass < 2; pass++) {
			bool any = false;
			for (size_t i = 0; i < n; i++) {
				char l[320];
				if (family_of(order[i]) != fam)
					continue;
				/* One series per label set: a repeated one
				 * would make Prometheus drop the scrape. */
				if (i > 0 &&
				    order[i - 1]->record_id ==
					order[i]->record_id &&
				    strcmp(order[i - 1]->name,
					order[i]->name) == 0) {
					dupes += pass == 0;
					continue;
				}
				if (!any) {
					header(b,
					    pass ? fam->state : fam->value,
					    pass ? fam->state_help
						 : fam->value_help);
					any = true;
				}
				labels(l, sizeof(l), order[i], generic);
				osh_buf_printf(b, "%s{%s} ",
				    pass ? fam->state : fam->value, l);
				if (pass)
					value(b,
					    order[i]->unavailable
						? NAN
						: state_value(order[i]->state));
				else
					value(b,
					    order[i]->has_value &&
						    !order[i]->unavailable
						? order[i]->value
						: NAN);
				osh_buf_puts(b, "\n");
			}
		}
	}
	free(order);
	return dupes;
}

/* The reference keeps the leading digits and dots of the revision. */
static void
firmware_label(const char *fw, char *out, size_t len)
{
	size_t n = strspn(fw, "0123456789.");

	if (n >= len)
		n = len - 1;
	memcpy(out, fw, n);
	out[n] = '\0';
}

static void
render_bmc(struct osh_buf *b, const struct scrape_data *d)
{
	char name[128], mfg[160], fw[32], sys[96];

	if (ipmi_iana_enterprise_numbers_string(
		d->device.manufacturer_id, name, sizeof(name)) <= 0)
		osh_strlcpy(name, "Unknown", sizeof(name));
	snprintf(mfg, sizeof(mfg), "%s (%u)", name, d->device.manufacturer_id);
	firmware_label(d->device.firmware, fw, sizeof(fw));
	header(b, "ipmi_bmc_info",
	    "Constant metric with value '1' providing details about the BMC.");
	osh_metrics_escape(mfg, name, sizeof(name));
	osh_metrics_escape(d->system_firmware[0] ? d->system_firmware : "N/A",
	    sys, sizeof(sys));
	osh_buf_printf(b,
	    "ipmi_bmc_info{firmware_revision=\"%s\","
	    "manufacturer_id=\"%s\",system_firmware_version=\"%s\"} 1\n",
	    fw, name, sys);
}

static void
render_fru(struct osh_buf *b, const struct scrape_data *d)
{
	const struct osh_fru *f = &d->fru;
	char mfg[160], prod[160], ser[160], part[160];

	header(b, "ipmi_fru_info",
	    "Constant metric with value '1' naming the server as its FRU data "
	    "does.");
	osh_metrics_escape(f->product_mfg[0] ? f->product_mfg : f->board_mfg,
	    mfg, sizeof(mfg));
	osh_metrics_escape(
	    f->product_name[0] ? f->product_name : f->board_product, prod,
	    sizeof(prod));
	osh_metrics_escape(
	    f->product_serial[0] ? f->product_serial : f->board_serial, ser,
	    sizeof(ser));
	osh_metrics_escape(f->product_part[0] ? f->product_part : f->board_part,
	    part, sizeof(part));
	osh_buf_printf(b,
	    "ipmi_fru_info{manufacturer=\"%s\",product=\"%s\","
	    "serial=\"%s\",part_number=\"%s\"} 1\n",
	    mfg, prod, ser, part);
}

unsigned
render_scrape(struct osh_buf *b, const struct module *m,
    const struct scrape_data *d, double seconds)
{
	unsigned dupes = 0;

	if (d->done & (1u << COLL_BMC))
		render_bmc(b, d);
	if (d->done & (1u << COLL_CHASSIS)) {
		header(b, "ipmi_chassis_power_state",
		    "Current power state (1=on, 0=off).");
		osh_buf_printf(b, "ipmi_chassis_power_state %d\n",
		    d->chassis.power_on ? 1 : 0);
	}
	if (d->done & (1u << COLL_DCMI)) {
		header(b, "ipmi_dcmi_power_consumption_watts",
		    "Current power consumption in Watts.");
		osh_buf_puts(b, "ipmi_dcmi_power_consumption_watts ");
		value(b, d->dcmi_watts);
		osh_buf_puts(b, "\n");
	}
	if (d->done & (1u << COLL_SEL)) {
		header(b, "ipmi_sel_logs_count",
		    "Current number of log entries in the SEL.");
		osh_buf_printf(b, "ipmi_sel_logs_count %u\n", d->sel.entries);
		header(b, "ipmi_sel_free_space_bytes",
		    "Current free space remaining for new SEL entries.");
		osh_buf_printf(
		    b, "ipmi_sel_free_space_bytes %u\n", d->sel.free_bytes);
	}
	if (d->done & (1u << COLL_FRU))
		render_fru(b, d);
	if (d->done & (1u << COLL_IPMI))
		dupes = render_sensors(b, m, d);
	header(b, "ipmi_up",
	    "'1' if a scrape of the IPMI device was successful, '0' otherwise.");
	for (int c = 0; c < NCOLL; c++)
		if (m->collectors & (1u << c))
			osh_buf_printf(b, "ipmi_up{collector=\"%s\"} %d\n",
			    collector_names[c], (d->done >> c) & 1);
	header(b, "ipmi_scrape_duration_seconds",
	    "Returns how long the scrape took to complete in seconds.");
	osh_buf_printf(b, "ipmi_scrape_duration_seconds %.9f\n", seconds);
	return dupes;
}
