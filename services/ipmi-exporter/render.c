/* render.c - the Prometheus text a scrape answers with, named and shaped
 * as the community ipmi_exporter shapes it, so dashboards and alerts keep
 * working: typed families for temperature, fan, voltage, current and
 * power sensors (chosen by unit), generic ipmi_sensor_* for the rest,
 * states 0/1/2 (NaN when unknown), ipmi_up per collector. Beside each
 * family, ours: the SDR's thresholds (ipmi_temperature_threshold_celsius
 * {id,name,threshold="upper_critical"} and so on). The BMC's own series
 * (bmc, bmc-watchdog, chassis, sel-events) are render_bmc.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/ipmi_parse.h>
#include <osh/metrics.h>

#include "exporter.h"
#include "render.h"

struct family {
	const char *unit; /* IPMI unit abbreviation, or NULL: generic */
	double scale; /* reading and thresholds times this (0: 1) */
	const char *value, *value_help;
	const char *state, *state_help;
	const char *threshold, *threshold_help; /* ours: the SDR's */
};

#define TH_HELP(what)                                                          \
	"The BMC's own threshold of a " what ", from its SDR, by "             \
	"threshold (lower_non_recoverable .. upper_non_recoverable)."

static const struct family families[] = {
    {"C", 0, "ipmi_temperature_celsius",
	"Temperature reading in degree Celsius.", "ipmi_temperature_state",
	"Reported state of a temperature sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_temperature_threshold_celsius",
	TH_HELP("temperature sensor in degree Celsius")},
    {"RPM", 0, "ipmi_fan_speed_rpm", "Fan speed in rotations per minute.",
	"ipmi_fan_speed_state",
	"Reported state of a fan speed sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_fan_speed_threshold_rpm",
	TH_HELP("fan speed sensor in rotations per minute")},
    /* A fan in percent, as upstream has it: the ratio (reading / 100),
     * its state in the same ipmi_fan_speed_state. Other sensors in
     * percent are generic. */
    {"%", 0.01, "ipmi_fan_speed_ratio",
	"Fan speed as a proportion of the maximum speed.",
	"ipmi_fan_speed_state",
	"Reported state of a fan speed sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_fan_speed_threshold_ratio",
	TH_HELP("fan speed sensor as a proportion of the maximum speed")},
    {"V", 0, "ipmi_voltage_volts", "Voltage reading in Volts.",
	"ipmi_voltage_state",
	"Reported state of a voltage sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_voltage_threshold_volts", TH_HELP("voltage sensor in Volts")},
    {"A", 0, "ipmi_current_amperes", "Current reading in Amperes.",
	"ipmi_current_state",
	"Reported state of a current sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_current_threshold_amperes", TH_HELP("current sensor in Amperes")},
    {"W", 0, "ipmi_power_watts", "Power reading in Watts.", "ipmi_power_state",
	"Reported state of a power sensor (0=nominal, 1=warning, "
	"2=critical).",
	"ipmi_power_threshold_watts", TH_HELP("power sensor in Watts")},
    {NULL, 0, "ipmi_sensor_value",
	"Generic data read from an IPMI sensor of unknown type, relying on "
	"labels for context.",
	"ipmi_sensor_state",
	"Indicates the severity of the state reported by an IPMI sensor "
	"(0=nominal, 1=warning, 2=critical).",
	"ipmi_sensor_threshold",
	TH_HELP("sensor of another unit, in that unit")},
};

static const struct family *
family_of(const struct osh_sensor *s)
{
	const char *u = osh_sensor_unit(s);

	for (size_t i = 0; i + 1 < OSH_ARRAY_LEN(families); i++)
		if (u != NULL && strcmp(u, families[i].unit) == 0 &&
		    (strcmp(u, "%") != 0 || s->type == 0x04 /* Fan */))
			return &families[i];
	return &families[OSH_ARRAY_LEN(families) - 1];
}

void
render_value(struct osh_buf *b, double v)
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

void
render_header(struct osh_buf *b, const char *name, const char *help)
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

/* Thresholds by OSH_TH_*, as the label names them. */
static const char *const th_names[6] = {
    [OSH_TH_LNR] = "lower_non_recoverable",
    [OSH_TH_LC] = "lower_critical",
    [OSH_TH_LNC] = "lower_non_critical",
    [OSH_TH_UNC] = "upper_non_critical",
    [OSH_TH_UC] = "upper_critical",
    [OSH_TH_UNR] = "upper_non_recoverable",
};

/* One series of a sensor in pass 0 (reading), 1 (state) or 2 (its
 * thresholds, as many as the SDR makes readable). */
static void
sensor_series(struct osh_buf *b, const struct family *fam, int pass,
    const struct osh_sensor *s, const char *l)
{
	double scale = fam->scale != 0 ? fam->scale : 1;

	if (pass == 2) {
		for (int t = 0; t < 6; t++) {
			if (!s->has_th[t])
				continue;
			osh_buf_printf(b, "%s{%s,threshold=\"%s\"} ",
			    fam->threshold, l, th_names[t]);
			render_value(b, s->th[t] * scale);
			osh_buf_puts(b, "\n");
		}
		return;
	}
	osh_buf_printf(b, "%s{%s} ", pass ? fam->state : fam->value, l);
	if (pass)
		render_value(b, s->unavailable ? NAN : state_value(s->state));
	else
		render_value(b,
		    s->has_value && !s->unavailable ? s->value * scale : NAN);
	osh_buf_puts(b, "\n");
}

static bool
has_thresholds(const struct osh_sensor *s)
{
	for (int t = 0; t < 6; t++)
		if (s->has_th[t])
			return true;
	return false;
}

/* Whether a family before families[f] has its state family. */
static bool
state_before(size_t f)
{
	for (size_t g = 0; g < f; g++)
		if (strcmp(families[g].state, families[f].state) == 0)
			return true;
	return false;
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

		for (int pass = 0; pass < 3; pass++) {
			bool any = false;

			/* Fans in RPM and in percent share their state
			 * family: rendered once, with the first. */
			if (pass == 1 && state_before(f))
				continue;
			for (size_t i = 0; i < n; i++) {
				const struct family *of = family_of(order[i]);
				char l[320];

				if ((pass == 1
					    ? strcmp(of->state, fam->state) != 0
					    : of != fam) ||
				    (pass == 2 && !has_thresholds(order[i])))
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
					render_header(b,
					    pass == 0	    ? fam->value
						: pass == 1 ? fam->state
							    : fam->threshold,
					    pass == 0 ? fam->value_help
						: pass == 1
						? fam->state_help
						: fam->threshold_help);
					any = true;
				}
				labels(l, sizeof(l), order[i], generic);
				sensor_series(b, fam, pass, order[i], l);
			}
		}
	}
	free(order);
	return dupes;
}

static void
render_fru(struct osh_buf *b, const struct scrape_data *d)
{
	const struct osh_fru *f = &d->fru;
	char mfg[160], prod[160], ser[160], part[160];

	render_header(b, "ipmi_fru_info",
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
	if (d->done & (1u << COLL_BMC_WATCHDOG))
		render_watchdog(b, &d->watchdog);
	if (d->done & (1u << COLL_CHASSIS))
		render_chassis(b, &d->chassis);
	/* Absent, not 0, when the BMC measures no power (as 1.7 and later). */
	if ((d->done & (1u << COLL_DCMI)) && d->dcmi_active) {
		render_header(b, "ipmi_dcmi_power_consumption_watts",
		    "Current power consumption in Watts.");
		osh_buf_puts(b, "ipmi_dcmi_power_consumption_watts ");
		render_value(b, d->dcmi_watts);
		osh_buf_puts(b, "\n");
	}
	if (d->done & (1u << COLL_SEL)) {
		render_header(b, "ipmi_sel_logs_count",
		    "Current number of log entries in the SEL.");
		osh_buf_printf(b, "ipmi_sel_logs_count %u\n", d->sel.entries);
		render_header(b, "ipmi_sel_free_space_bytes",
		    "Current free space remaining for new SEL entries.");
		osh_buf_printf(
		    b, "ipmi_sel_free_space_bytes %u\n", d->sel.free_bytes);
	}
	if (d->done & (1u << COLL_SEL_EVENTS))
		render_sel_events(b, m, &d->sel_events);
	if (d->done & (1u << COLL_FRU))
		render_fru(b, d);
	if (d->done & (1u << COLL_IPMI))
		dupes = render_sensors(b, m, d);
	render_header(b, "ipmi_up",
	    "'1' if a scrape of the IPMI device was successful, '0' otherwise.");
	for (int c = 0; c < NCOLL; c++)
		if (m->collectors & (1u << c))
			osh_buf_printf(b, "ipmi_up{collector=\"%s\"} %d\n",
			    collector_names[c], (d->done >> c) & 1);
	render_header(b, "ipmi_scrape_duration_seconds",
	    "Returns how long the scrape took to complete in seconds.");
	osh_buf_printf(b, "ipmi_scrape_duration_seconds %.9f\n", seconds);
	return dupes;
}
