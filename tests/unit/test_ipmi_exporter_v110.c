/* Unit tests: what ipmi_exporter 1.10 added (the bmc-watchdog and
 * sel-events collectors, sel_events, the FreeIPMI command keys, the
 * chassis fault states, bmc_url, DCMI without measurement) and our
 * thresholds, from configuration to Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <osh/metrics.h>

#include "ipmi-exporter/buildinfo.h"
#include "ipmi-exporter/exporter.h"

static struct exp_config *
parse(const char *yaml, char *err, size_t len)
{
	return config_parse(yaml, strlen(yaml), err, len);
}

/* ipmi_exporter 1.10's ipmi_local_sudo.yml, as it ships, plus keys of
 * its configuration document. */
static const char v110[] =
    "modules:\n"
    "  default:\n"
    "    collectors:\n"
    "      - ipmi\n"
    "      - sel\n"
    "      - sel-events\n"
    "      - bmc-watchdog\n"
    "      - dcmi\n"
    "    exclude_sensor_ids:\n"
    "      - 2\n"
    "    sel_events:\n"
    "      - name: correctable_memory_error\n"
    "        regex: Correctable memory error.*\n"
    "      - name: hot\n"
    "        regex: '(?i)upper CRITICAL.*Reading = \\d+(?:\\.\\d+)?'\n"
    "      - name: hot\n"
    "        regex: 'Upper Non-critical.*?'\n"
    "    collector_cmd:\n"
    "      ipmi: /usr/bin/sudo\n"
    "      sel: /usr/bin/sudo\n"
    "    default_args:\n"
    "      ipmi: [--quiet-cache]\n"
    "    custom_args:\n"
    "      ipmi:\n"
    "      - \"/usr/sbin/ipmimonitoring\"\n";

static void
v110_file_loads(void **state)
{
	char err[256] = "";
	struct exp_config *c = parse(v110, err, sizeof(err));
	const struct module *m;

	(void)state;
	assert_non_null(c);
	m = config_module(c, "default");
	assert_true(m->collectors & (1u << COLL_SEL_EVENTS));
	assert_true(m->collectors & (1u << COLL_BMC_WATCHDOG));
	assert_int_equal(m->nsel_events, 3);
	assert_string_equal(m->sel_events[0].name, "correctable_memory_error");
	assert_int_equal(m->freeipmi_keys,
	    FREEIPMI_COLLECTOR_CMD | FREEIPMI_DEFAULT_ARGS |
		FREEIPMI_CUSTOM_ARGS);
	/* Unanchored, as Go's FindStringSubmatch searches. */
	assert_int_equal(regexec(&m->sel_events[0].re,
			     "x Correctable memory error ; DIMM 1", 0, NULL, 0),
	    0);
	/* (?i), \d and (?:...)? rewritten. */
	assert_int_equal(regexec(&m->sel_events[1].re,
			     "Upper Critical - going high ; Sensor Reading = "
			     "96.00 C",
			     0, NULL, 0),
	    0);
	assert_int_not_equal(regexec(&m->sel_events[1].re,
				 "Upper Critical - going high", 0, NULL, 0),
	    0);
	config_free(c);
}

static void
v110_errors(void **state)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"modules:\n  a:\n    sel_events: x\n", "must be a list"},
	    {"modules:\n  a:\n    sel_events:\n      - name: x\n",
		"need name and regex"},
	    {"modules:\n  a:\n    sel_events:\n      - {name: x, re: y}\n",
		"unknown key \"re\""},
	    {"modules:\n  a:\n    sel_events:\n      - {name: x, regex: '('}\n",
		"bad sel_events regex"},
	    {"modules:\n  a:\n    sel_events:\n      - {name: x, regex: "
	     "'(?P<n>a)'}\n",
		"unsupported"},
	    {"modules:\n  a:\n    sel_events:\n      - {name: x, regex: "
	     "'a+++++++'}\n",
		"too costly"},
	    {"modules:\n  a:\n    collectors: [bmc-watchdogs]\n",
		"valid: ipmi, bmc, bmc-watchdog"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(parse(bad[i].yaml, err, sizeof(err)));
		if (strstr(err, bad[i].want) == NULL ||
		    strncmp(err, "line ", 5) != 0)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
}

static void
has(const char *text, const char *line)
{
	if (strstr(text, line) == NULL) {
		fputs(text, stderr);
		fail_msg("no \"%s\" in the text above", line);
	}
}

static void
v110_rendering(void **state)
{
	char err[256];
	struct exp_config *c = parse(v110, err, sizeof(err));
	const struct module *m = config_module(c, "default");
	struct osh_sel_entry e[4];
	struct scrape_data d;
	struct osh_buf b;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(e, 0, sizeof(e));
	e[0] = (struct osh_sel_entry){.record_type = 2,
	    .timestamp = 1700000000,
	    .severity = OSH_SENSOR_WARNING};
	osh_strlcpy(e[0].event, "Correctable memory error ; DIMM 1",
	    sizeof(e[0].event));
	e[1] = e[0];
	e[1].timestamp = -1; /* PostInit */
	e[2] = (struct osh_sel_entry){.record_type = 2,
	    .timestamp = 1700000100,
	    .severity = OSH_SENSOR_CRITICAL};
	osh_strlcpy(e[2].event,
	    "Upper Critical - going high ; Sensor Reading = 96.00 C",
	    sizeof(e[2].event));
	e[3] = (struct osh_sel_entry){.record_type = 0xc1,
	    .timestamp = 1700000200,
	    .severity = OSH_SENSOR_UNKNOWN};
	d.done = (1u << COLL_SEL_EVENTS) | (1u << COLL_BMC_WATCHDOG) |
	    (1u << COLL_CHASSIS) | (1u << COLL_DCMI) | (1u << COLL_BMC);
	assert_int_equal(selevents_tally(m, e, 4, &d.sel_events), 0);
	d.watchdog = (struct osh_watchdog){.use = 4,
	    .running = true,
	    .logging = true,
	    .action = 3,
	    .pretimeout_interrupt = 1,
	    .pretimeout_s = 10,
	    .initial_ds = 3005,
	    .present_ds = 2999,
	    .has_present = true};
	d.chassis.drive_fault = true;
	d.dcmi_watts = 0;
	d.dcmi_active = false;
	osh_strlcpy(d.bmc_url, "https://10.1.2.3/", sizeof(d.bmc_url));
	osh_buf_init(&b, 0);
	render_scrape(&b, m, &d, 0.1);
	has(b.data, "ipmi_sel_events_count_by_state{state=\"Warning\"} 2\n");
	has(b.data, "ipmi_sel_events_count_by_state{state=\"Critical\"} 1\n");
	has(b.data, "ipmi_sel_events_count_by_state{state=\"N/A\"} 1\n");
	assert_null(strstr(b.data, "state=\"Nominal\""));
	has(b.data,
	    "ipmi_sel_events_count_by_name{name=\""
	    "correctable_memory_error\"} 2\n");
	has(b.data,
	    "ipmi_sel_events_latest_timestamp{name=\""
	    "correctable_memory_error\"} 1700000000\n");
	/* Two rules of one name: one series. */
	has(b.data, "ipmi_sel_events_count_by_name{name=\"hot\"} 1\n");
	has(b.data,
	    "ipmi_sel_events_latest_timestamp{name=\"hot\"} 1700000100\n");
	assert_null(strstr(strstr(b.data, "count_by_name{name=\"hot\"}") + 1,
	    "count_by_name{name=\"hot\"}"));
	has(b.data, "ipmi_bmc_watchdog_timer_state 1\n");
	has(b.data,
	    "ipmi_bmc_watchdog_timer_use_state{name=\"SMS/OS\"} 1\n"
	    "ipmi_bmc_watchdog_timer_use_state{name=\"OEM\"} 0\n");
	has(b.data, "ipmi_bmc_watchdog_logging_state 1\n");
	has(b.data,
	    "ipmi_bmc_watchdog_timeout_action_state{action=\"Power "
	    "Cycle\"} 1\n");
	has(b.data,
	    "ipmi_bmc_watchdog_pretimeout_interrupt_state{interrupt="
	    "\"SMI\"} 1\n");
	has(b.data, "ipmi_bmc_watchdog_pretimeout_interval_seconds 10\n");
	has(b.data, "ipmi_bmc_watchdog_initial_countdown_seconds 300\n");
	has(b.data, "ipmi_bmc_watchdog_current_countdown_seconds 299\n");
	has(b.data,
	    "# HELP ipmi_chassis_drive_fault_state Current drive fault "
	    "state (1=false, 0=true).\n");
	has(b.data, "ipmi_chassis_drive_fault_state 0\n");
	has(b.data, "ipmi_chassis_cooling_fault_state 1\n");
	has(b.data, ",bmc_url=\"https://10.1.2.3/\"} 1\n");
	/* No measurement: absent, not 0; the collector is up. */
	assert_null(strstr(b.data, "ipmi_dcmi_power_consumption_watts"));
	has(b.data, "ipmi_up{collector=\"dcmi\"} 1\n");
	has(b.data, "ipmi_up{collector=\"sel-events\"} 1\n");
	osh_buf_release(&b);
	d.dcmi_active = true;
	d.dcmi_watts = 240;
	d.watchdog.use = 0; /* reserved: none of the names */
	d.watchdog.has_present = false; /* ipmi_sim leaves it out */
	osh_buf_init(&b, 0);
	render_scrape(&b, m, &d, 0.1);
	has(b.data, "ipmi_dcmi_power_consumption_watts 240\n");
	assert_null(strstr(b.data, "timer_use_state{name=\"SMS/OS\"} 1"));
	assert_null(strstr(b.data, "current_countdown"));
	osh_buf_release(&b);
	selevents_tally_free(&d.sel_events);
	config_free(c);
}

static void
thresholds_beside_readings(void **state)
{
	char err[256];
	struct exp_config *c = parse("", err, sizeof(err));
	const struct module *m = config_module(c, "default");
	struct osh_sensor s[3];
	struct scrape_data d;
	struct osh_buf b;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(s, 0, sizeof(s));
	s[0] = (struct osh_sensor){.record_id = 3,
	    .threshold = true,
	    .base_unit = 1,
	    .has_value = true,
	    .value = 24,
	    .readable = true};
	osh_strlcpy(s[0].name, "Inlet Temp", sizeof(s[0].name));
	s[0].has_th[OSH_TH_LC] = s[0].has_th[OSH_TH_UNR] = true;
	s[0].th[OSH_TH_LC] = 0;
	s[0].th[OSH_TH_UNR] = 50;
	s[1] = (struct osh_sensor){.record_id = 11,
	    .threshold = true,
	    .base_unit = 4,
	    .has_value = true,
	    .value = 12,
	    .readable = true};
	osh_strlcpy(s[1].name, "12V", sizeof(s[1].name));
	s[1].has_th[OSH_TH_UNC] = true;
	s[1].th[OSH_TH_UNC] = 12.6;
	s[2] = (struct osh_sensor){.record_id = 20,
	    .threshold = true,
	    .base_unit = 19, /* CFM: a generic sensor */
	    .has_value = true,
	    .value = 30,
	    .readable = true};
	osh_strlcpy(s[2].name, "Airflow", sizeof(s[2].name));
	s[2].has_th[OSH_TH_LNC] = true;
	s[2].th[OSH_TH_LNC] = 10;
	d.sensors = s;
	d.nsensors = 3;
	d.done = 1u << COLL_IPMI;
	osh_buf_init(&b, 0);
	render_scrape(&b, m, &d, 0.1);
	has(b.data,
	    "ipmi_temperature_threshold_celsius{id=\"3\",name=\"Inlet "
	    "Temp\",threshold=\"lower_critical\"} 0\n"
	    "ipmi_temperature_threshold_celsius{id=\"3\",name=\"Inlet "
	    "Temp\",threshold=\"upper_non_recoverable\"} 50\n");
	has(b.data,
	    "ipmi_voltage_threshold_volts{id=\"11\",name=\"12V\","
	    "threshold=\"upper_non_critical\"} 12.6\n");
	has(b.data,
	    "ipmi_sensor_threshold{id=\"20\",name=\"Airflow\","
	    "type=\"Reserved\",threshold=\"lower_non_critical\"} 10\n");
	has(b.data, "# TYPE ipmi_voltage_threshold_volts gauge\n");
	/* Only thresholds the SDR makes readable. */
	assert_null(strstr(b.data, "upper_critical"));
	assert_null(strstr(b.data, "ipmi_fan_speed_threshold_rpm"));
	osh_buf_release(&b);
	config_free(c);
}

/* A module with one sel_events rule of regex (YAML single quoted), or
 * NULL with err when it is refused. */
static struct exp_config *
one_rule(const char *regex, char *err, size_t len)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
	    "modules:\n  a:\n    sel_events:\n      - {name: x, regex: '%s'}\n",
	    regex);
	return parse(yaml, err, len);
}

/* RE2's escapes mean what they mean to upstream, or are refused at load:
 * never a pattern that matches otherwise (glibc reads \pL as "pL", and
 * [\s] as a backslash or an s). */
static void
re2_escapes(void **state)
{
	static const struct {
		const char *re, *text;
		bool match;
	} cases[] = {
	    {"^\\pL+$", "Correctable", true},
	    {"^\\pL+$", "pL1", false},
	    {"^\\p{L}+ \\d$", "Memory 1", true},
	    {"^\\PL+$", "12 ;", true},
	    {"^\\PL+$", "a", false},
	    {"^\\p{Lu}\\p{Ll}+$", "Memory", true},
	    {"^\\p{Lu}\\p{Ll}+$", "memory", false},
	    {"^[\\pL\\d]+ ;", "DIMM1 ; x", true},
	    {"^\\pN+$", "42", true},
	    {"a\\sb", "a b", true},
	    {"^[\\s]$", " ", true},
	    {"^[\\s]$", "s", false},
	    {"^\\S+$", "a b", false},
	    {"^\\w+$", "CPU_1", true},
	    {"^\\w+$", "CPU-1", false},
	    {"^\\W$", "-", true},
	    {"\\bCPU\\b", "CPU 1", true},
	    {"\\bCPU\\b", "CPU1", false},
	    {"a\\.b", "a.b", true},
	    {"a\\.b", "axb", false},
	    {"^[\\.]$", "\\", false},
	    {"^[\\.]$", ".", true},
	    {"\\Aup", "up", true},
	    {"\\Aup", "x up", false},
	    {"C$\\z", "C", true},
	};
	static const char *const refused[] = {"\\p{Greek}", "\\x41", "[\\D]",
	    "(a)\\1", "\\Q.\\E", "[\\-a]", "\\pZ"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct exp_config *c = one_rule(cases[i].re, err, sizeof(err));
		const struct module *m;

		if (c == NULL)
			fail_msg("\"%s\": %s", cases[i].re, err);
		m = config_module(c, "a");
		if ((regexec(&m->sel_events[0].re, cases[i].text, 0, NULL, 0) ==
			0) != cases[i].match)
			fail_msg("\"%s\" on \"%s\": want %s", cases[i].re,
			    cases[i].text, cases[i].match ? "a match" : "none");
		config_free(c);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		err[0] = '\0';
		if (one_rule(refused[i], err, sizeof(err)) != NULL)
			fail_msg("\"%s\" accepted", refused[i]);
		assert_non_null(strstr(err, "unsupported"));
	}
}

/* An entry whose event text or sensor name has a comma: upstream's line
 * pattern for ipmi-sel's output matches it not, so it counts nowhere. */
static void
sel_comma_counts_nowhere(void **state)
{
	char err[256];
	struct exp_config *c =
	    one_rule("out-of-range|Failure", err, sizeof(err));
	const struct module *m = config_module(c, "a");
	struct osh_sel_entry e[3];
	struct sel_tally t;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < 3; i++) {
		e[i].record_type = 2;
		e[i].timestamp = 1700000000 + (int64_t)i;
		e[i].severity = OSH_SENSOR_CRITICAL;
		osh_strlcpy(
		    e[i].type_name, "Power Supply", sizeof(e[i].type_name));
		osh_strlcpy(e[i].sensor, "PSU1 Status", sizeof(e[i].sensor));
	}
	osh_strlcpy(
	    e[0].event, "Power Supply Failure detected", sizeof(e[0].event));
	osh_strlcpy(e[1].event, "Power Supply input out-of-range, but present",
	    sizeof(e[1].event));
	osh_strlcpy(
	    e[2].event, "Power Supply Failure detected", sizeof(e[2].event));
	osh_strlcpy(e[2].sensor, "PSU2,Status", sizeof(e[2].sensor));
	assert_int_equal(selevents_tally(m, e, 3, &t), 0);
	assert_int_equal(t.by_state[SEL_STATE_CRITICAL], 1);
	assert_int_equal(t.count[0], 1);
	assert_int_equal(t.latest[0], 1700000000);
	selevents_tally_free(&t);
	config_free(c);
}

/* ipmi_exporter_build_info: upstream's name, help, and labels in the
 * Prometheus client's order. */
static void
build_info(void **state)
{
	struct osh_metrics *m = osh_metrics_new();
	struct osh_buf b;
	char labels[512], want[600];

	(void)state;
	buildinfo_labels(labels, sizeof(labels));
	assert_true(strncmp(labels, "branch=\"", 8) == 0);
	assert_non_null(strstr(labels, "\",goarch=\""));
	assert_non_null(strstr(labels, "\",goos=\""));
	assert_non_null(strstr(labels, "\",goversion=\""));
	assert_non_null(strstr(labels, "\",revision=\""));
	assert_non_null(strstr(labels, "\",tags=\"unknown\",version=\""));
	assert_non_null(strstr(labels, buildinfo_revision()));
	assert_true(buildinfo_version()[0] != '\0');
	buildinfo_register(m);
	osh_buf_init(&b, 0);
	osh_metrics_render(m, &b);
	has(b.data,
	    "# HELP ipmi_exporter_build_info A metric with a constant '1' "
	    "value labeled by version, revision, branch, goversion from "
	    "which ipmi_exporter was built, and the goos and goarch for the "
	    "build.\n# TYPE ipmi_exporter_build_info gauge\n");
	snprintf(
	    want, sizeof(want), "ipmi_exporter_build_info{%s} 1\n", labels);
	has(b.data, want);
	osh_buf_release(&b);
	osh_metrics_free(m);
}

/* Fans in percent: upstream's ipmi_fan_speed_ratio (reading / 100),
 * their state beside the RPM fans' in one ipmi_fan_speed_state family;
 * another sensor in percent is generic. */
static void
fan_ratio(void **state)
{
	char err[256];
	struct exp_config *c = parse("", err, sizeof(err));
	const struct module *m = config_module(c, "default");
	struct osh_sensor s[3];
	struct scrape_data d;
	struct osh_buf b;
	const char *p;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 3; i++) {
		s[i].threshold = s[i].has_value = s[i].readable = true;
		s[i].type = 0x04;
		s[i].state = OSH_SENSOR_NOMINAL;
	}
	s[0].record_id = 5;
	s[0].base_unit = 18; /* RPM */
	s[0].value = 6400;
	osh_strlcpy(s[0].name, "FAN1", sizeof(s[0].name));
	s[1].record_id = 6;
	s[1].percentage = true;
	s[1].value = 45;
	s[1].state = OSH_SENSOR_WARNING;
	s[1].has_th[OSH_TH_LNC] = true;
	s[1].th[OSH_TH_LNC] = 10;
	osh_strlcpy(s[1].name, "Fan 2", sizeof(s[1].name));
	s[2].record_id = 7;
	s[2].type = 0x07; /* Processor */
	s[2].percentage = true;
	s[2].value = 30;
	osh_strlcpy(s[2].name, "CPU Usage", sizeof(s[2].name));
	d.sensors = s;
	d.nsensors = 3;
	d.done = 1u << COLL_IPMI;
	osh_buf_init(&b, 0);
	render_scrape(&b, m, &d, 0.1);
	has(b.data,
	    "# HELP ipmi_fan_speed_ratio Fan speed as a proportion of the "
	    "maximum speed.\n# TYPE ipmi_fan_speed_ratio gauge\n"
	    "ipmi_fan_speed_ratio{id=\"6\",name=\"Fan 2\"} 0.45\n");
	has(b.data, "ipmi_fan_speed_rpm{id=\"5\",name=\"FAN1\"} 6400\n");
	has(b.data,
	    "# TYPE ipmi_fan_speed_state gauge\n"
	    "ipmi_fan_speed_state{id=\"5\",name=\"FAN1\"} 0\n"
	    "ipmi_fan_speed_state{id=\"6\",name=\"Fan 2\"} 1\n");
	p = strstr(b.data, "# HELP ipmi_fan_speed_state");
	assert_non_null(p);
	assert_null(strstr(p + 1, "# HELP ipmi_fan_speed_state"));
	has(b.data,
	    "ipmi_fan_speed_threshold_ratio{id=\"6\",name=\"Fan 2\","
	    "threshold=\"lower_non_critical\"} 0.1\n");
	has(b.data,
	    "ipmi_sensor_value{id=\"7\",name=\"CPU Usage\",type=\"Processor\"} "
	    "30\n");
	osh_buf_release(&b);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(v110_file_loads),
	    cmocka_unit_test(v110_errors),
	    cmocka_unit_test(re2_escapes),
	    cmocka_unit_test(build_info),
	    cmocka_unit_test(fan_ratio),
	    cmocka_unit_test(sel_comma_counts_nowhere),
	    cmocka_unit_test(v110_rendering),
	    cmocka_unit_test(thresholds_beside_readings),
	};
	return cmocka_run_group_tests_name(
	    "ipmi_exporter_v110", tests, NULL, NULL);
}
