/* render.h - between the files that write a scrape's Prometheus text:
 * render.c (sensors, their thresholds, the scrape as a whole) and
 * render_bmc.c (the BMC's own series: bmc, bmc-watchdog, chassis,
 * sel-events). Everything appends to b. */
#ifndef EXP_RENDER_H
#define EXP_RENDER_H

#include <osh/ipmi.h>
#include <osh/util.h>

#include "exporter.h"

/* "# HELP" and "# TYPE ... gauge" lines of a family. */
void render_header(struct osh_buf *b, const char *name, const char *help);
/* A sample value as the reference writes it (NaN, integers bare). */
void render_value(struct osh_buf *b, double v);

/* ipmi_bmc_info with the reference's labels, bmc_url included. */
void render_bmc(struct osh_buf *b, const struct scrape_data *d);
/* ipmi_chassis_power_state, _drive_fault_state, _cooling_fault_state. */
void render_chassis(struct osh_buf *b, const struct osh_chassis *c);
/* ipmi_bmc_watchdog_*, as the reference's FreeIPMI collector names. */
void render_watchdog(struct osh_buf *b, const struct osh_watchdog *w);
/* ipmi_sel_events_*: by state (those seen), by name (every rule). */
void render_sel_events(
    struct osh_buf *b, const struct module *m, const struct sel_tally *t);

#endif
