/* render_bmc.c - the BMC's own series, named, labelled and valued as
 * ipmi_exporter 1.10 writes them with FreeIPMI (its help texts, its
 * label values, its quirks: fault states are 1 when there is no fault,
 * and the current countdown's help repeats the initial one's). */
#include <stdio.h>
#include <string.h>

#include <freeipmi/util/ipmi-iana-enterprise-numbers-util.h>

#include <osh/metrics.h>

#include "render.h"

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

void
render_bmc(struct osh_buf *b, const struct scrape_data *d)
{
	char name[128], mfg[160], fw[32], sys[96], url[400];

	if (ipmi_iana_enterprise_numbers_string(
		d->device.manufacturer_id, name, sizeof(name)) <= 0)
		osh_strlcpy(name, "Unknown", sizeof(name));
	snprintf(mfg, sizeof(mfg), "%s (%u)", name, d->device.manufacturer_id);
	firmware_label(d->device.firmware, fw, sizeof(fw));
	render_header(b, "ipmi_bmc_info",
	    "Constant metric with value '1' providing details about the BMC.");
	osh_metrics_escape(mfg, name, sizeof(name));
	osh_metrics_escape(d->system_firmware[0] ? d->system_firmware : "N/A",
	    sys, sizeof(sys));
	osh_metrics_escape(
	    d->bmc_url[0] ? d->bmc_url : "N/A", url, sizeof(url));
	osh_buf_printf(b,
	    "ipmi_bmc_info{firmware_revision=\"%s\","
	    "manufacturer_id=\"%s\",system_firmware_version=\"%s\","
	    "bmc_url=\"%s\"} 1\n",
	    fw, name, sys, url);
}

void
render_chassis(struct osh_buf *b, const struct osh_chassis *c)
{
	render_header(b, "ipmi_chassis_power_state",
	    "Current power state (1=on, 0=off).");
	osh_buf_printf(b, "ipmi_chassis_power_state %d\n", c->power_on ? 1 : 0);
	render_header(b, "ipmi_chassis_drive_fault_state",
	    "Current drive fault state (1=false, 0=true).");
	osh_buf_printf(
	    b, "ipmi_chassis_drive_fault_state %d\n", c->drive_fault ? 0 : 1);
	render_header(b, "ipmi_chassis_cooling_fault_state",
	    "Current Cooling/fan fault state (1=false, 0=true).");
	osh_buf_printf(b, "ipmi_chassis_cooling_fault_state %d\n",
	    c->cooling_fault ? 0 : 1);
}

/* A family of one series per choice, 1 for the one the BMC reports (by
 * its code: choices[i] is code i + first), 0 for the others. */
static void
one_of(struct osh_buf *b, const char *name, const char *help, const char *label,
    const char *const *choices, size_t n, unsigned first, unsigned code)
{
	render_header(b, name, help);
	for (size_t i = 0; i < n; i++)
		osh_buf_printf(b, "%s{%s=\"%s\"} %d\n", name, label, choices[i],
		    code == first + i ? 1 : 0);
}

void
render_watchdog(struct osh_buf *b, const struct osh_watchdog *w)
{
	/* FreeIPMI's bmc-watchdog names; its "Reserved" is none of them. */
	static const char *const uses[] = {
	    "BIOS FRB2", "BIOS POST", "OS LOAD", "SMS/OS", "OEM"};
	static const char *const actions[] = {
	    "None", "Hard Reset", "Power Down", "Power Cycle"};
	static const char *const interrupts[] = {
	    "None", "SMI", "NMI / Diagnostic Interrupt", "Messaging Interrupt"};

	render_header(b, "ipmi_bmc_watchdog_timer_state",
	    "Watchdog timer running (1: running, 0: stopped)");
	osh_buf_printf(
	    b, "ipmi_bmc_watchdog_timer_state %d\n", w->running ? 1 : 0);
	one_of(b, "ipmi_bmc_watchdog_timer_use_state",
	    "Watchdog timer use (1: active, 0: inactive)", "name", uses,
	    OSH_ARRAY_LEN(uses), 1, w->use);
	render_header(b, "ipmi_bmc_watchdog_logging_state",
	    "Watchdog log flag (1: Enabled, 0: Disabled / note: reverse of "
	    "freeipmi)");
	osh_buf_printf(
	    b, "ipmi_bmc_watchdog_logging_state %d\n", w->logging ? 1 : 0);
	one_of(b, "ipmi_bmc_watchdog_timeout_action_state",
	    "Watchdog timeout action (1: active, 0: inactive)", "action",
	    actions, OSH_ARRAY_LEN(actions), 0, w->action);
	one_of(b, "ipmi_bmc_watchdog_pretimeout_interrupt_state",
	    "Watchdog pre-timeout interrupt (1: active, 0: inactive)",
	    "interrupt", interrupts, OSH_ARRAY_LEN(interrupts), 0,
	    w->pretimeout_interrupt);
	render_header(b, "ipmi_bmc_watchdog_pretimeout_interval_seconds",
	    "Watchdog pre-timeout interval in seconds");
	osh_buf_printf(b, "ipmi_bmc_watchdog_pretimeout_interval_seconds %u\n",
	    w->pretimeout_s);
	/* Whole seconds, as bmc-watchdog prints them (100 ms units / 10). */
	render_header(b, "ipmi_bmc_watchdog_initial_countdown_seconds",
	    "Watchdog initial countdown in seconds");
	osh_buf_printf(b, "ipmi_bmc_watchdog_initial_countdown_seconds %u\n",
	    w->initial_ds / 10u);
	/* Absent when the BMC leaves it out (ipmi_sim does). */
	if (!w->has_present)
		return;
	render_header(b, "ipmi_bmc_watchdog_current_countdown_seconds",
	    "Watchdog initial countdown in seconds");
	osh_buf_printf(b, "ipmi_bmc_watchdog_current_countdown_seconds %u\n",
	    w->present_ds / 10u);
}

void
render_sel_events(
    struct osh_buf *b, const struct module *m, const struct sel_tally *t)
{
	/* ipmi-sel's --output-event-state words, by SEL_STATE_*. */
	static const char *const states[SEL_NSTATES] = {
	    "Nominal", "Warning", "Critical", "N/A"};
	bool any = false;

	for (int s = 0; s < SEL_NSTATES; s++) {
		if (t->by_state[s] == 0)
			continue;
		if (!any)
			render_header(b, "ipmi_sel_events_count_by_state",
			    "Current number of log entries in the SEL by "
			    "state.");
		any = true;
		osh_buf_printf(b,
		    "ipmi_sel_events_count_by_state{state=\"%s\"} %u\n",
		    states[s], t->by_state[s]);
	}
	for (int pass = 0; pass < 2 && t->n > 0; pass++) {
		render_header(b,
		    pass ? "ipmi_sel_events_latest_timestamp"
			 : "ipmi_sel_events_count_by_name",
		    pass ? "Latest timestamp of custom log entries in the "
			   "SEL by name."
			 : "Current number of custom log entries in the "
			   "SEL by name.");
		for (size_t r = 0; r < t->n && r < m->nsel_events; r++) {
			unsigned count = 0;
			int64_t latest = 0;
			bool first = true;
			char name[400];

			/* Rules of one name make one series, as in the
			 * reference: counts added, the latest kept. */
			for (size_t k = 0; k < t->n; k++) {
				if (strcmp(m->sel_events[k].name,
					m->sel_events[r].name) != 0)
					continue;
				if (k < r)
					first = false;
				count += t->count[k];
				if (t->latest[k] > latest)
					latest = t->latest[k];
			}
			if (!first)
				continue;
			osh_metrics_escape(
			    m->sel_events[r].name, name, sizeof(name));
			if (pass)
				osh_buf_printf(b,
				    "ipmi_sel_events_latest_timestamp"
				    "{name=\"%s\"} %lld\n",
				    name, (long long)latest);
			else
				osh_buf_printf(b,
				    "ipmi_sel_events_count_by_name"
				    "{name=\"%s\"} %u\n",
				    name, count);
		}
	}
}
