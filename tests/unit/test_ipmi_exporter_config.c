/* Unit tests: the exporter's YAML modules and its metric output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipmi-exporter/exporter.h"

static struct exp_config *
parse(const char *yaml, char *err, size_t len)
{
	return config_parse(yaml, strlen(yaml), err, len);
}

static void
reference_file_loads(void **state)
{
	static const char yaml[] =
	    "modules:\n"
	    "  default:\n"
	    "    user: admin\n"
	    "    pass: secret\n"
	    "    driver: LAN_2_0\n"
	    "    privilege: admin\n"
	    "    timeout: 10000\n"
	    "    collectors: [ipmi, bmc, chassis, dcmi, sel]\n"
	    "    exclude_sensor_ids: [2, 29]\n"
	    "    workaround_flags: [opensesspriv, discretereading]\n"
	    "    collector_cmd:\n"
	    "      ipmi: sudo\n"
	    "  lan15:\n"
	    "    driver: LAN\n"
	    "    privilege: user\n"
	    "    timeout: 5s\n"
	    "    cipher_suite: 17\n"
	    "    sensors:\n"
	    "      exclude_names: ['PS[0-9]+ Fan', 'CPU[0-9]{1,2} Temp',\n"
	    "        '[[:alpha:]]+[]a-z]*(x|y)?', '(Inlet|Exhaust) .*']\n"
	    "      include_types: [Temperature, Fan]\n";
	char err[256] = "";
	struct exp_config *c = parse(yaml, err, sizeof(err));
	const struct module *m;

	(void)state;
	assert_non_null(c);
	m = config_module(c, "default");
	assert_string_equal(m->user, "admin");
	assert_string_equal(m->password, "secret");
	assert_int_equal(m->timeout_ms, 10000);
	assert_int_equal(m->nexclude, 2);
	assert_int_equal(m->workarounds, OSH_IPMI_WA_OPENSESSPRIV);
	assert_true(m->collectors & (1u << COLL_SEL));
	assert_false(m->collectors & (1u << COLL_FRU));
	m = config_module(c, "lan15");
	assert_true(m->ipmi15);
	assert_int_equal(m->privilege, OSH_IPMI_PRIV_USER);
	assert_int_equal(m->timeout_ms, 5000);
	assert_int_equal(m->cipher_suite, 17);
	/* Defaults as the reference has them. */
	assert_true(m->collectors & (1u << COLL_IPMI));
	assert_true(m->collectors & (1u << COLL_DCMI));
	assert_false(m->collectors & (1u << COLL_SEL));
	config_free(c);
}

static void
default_module_always_exists(void **state)
{
	char err[256];
	struct exp_config *c = parse("", err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_non_null(config_module(c, "default"));
	assert_null(config_module(c, "other"));
	assert_int_equal(config_ensure_module(c, "osh"), 0);
	assert_true(config_module(c, "osh")->from_server_mgmt);
	config_free(c);
}

static void
errors_name_the_line(void **state)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"modules:\n  a:\n    usr: x\n", "line 3: unknown key \"usr\""},
	    {"modules:\n  a:\n    collectors: [ipmi, smart]\n",
		"invalid collector \"smart\""},
	    {"modules:\n  a:\n    driver: KCS\n", "driver must be"},
	    {"modules:\n  a:\n    privilege: root\n", "privilege must"},
	    {"modules:\n  a:\n    timeout: soon\n", "timeout must"},
	    {"modules:\n  a:\n    workaround_flags: [magic]\n",
		"unknown workaround flag"},
	    {"modules:\n  a:\n    exclude_sensor_ids: [x]\n", "numbers"},
	    {"modules:\n  a:\n    sensors:\n      include_names: ['(']\n",
		"bad pattern"},
	    {"modules:\n  osh:\n    user: u\n", "not allowed"},
	    {"mods:\n  a: {}\n", "unknown key \"mods\""},
	    {"modules: [a, b]\n", "modules must be a mapping"},
	    {"modules:\n  a: {user: [\n", "line"},
	    {"modules:\n  a:\n    pass_file: /nonexistent/pw\n",
		"cannot read pass_file"},
	    /* regcomp would take seconds and gigabytes on these. */
	    {"modules:\n  a:\n    sensors:\n      include_names: "
	     "['a++++++++++++++++++++++++++++++']\n",
		"nests too many repetitions"},
	    {"modules:\n  a:\n    sensors:\n      include_names: "
	     "['((a{1,100}){1,100}){1,100}']\n",
		"nests too many repetitions"},
	    {"modules:\n  a:\n    sensors:\n      exclude_types: "
	     "['(((((x*)*)*)*)*){9}{9}{9}']\n",
		"nests too many repetitions"},
	    {"modules:\n  a:\n    sensors:\n      exclude_types: ['x{300}']\n",
		"nests too many repetitions"},
	    /* Its epsilon closure ran for minutes (found by fuzzing); RE2,
	     * Prometheus' engine, refuses nested repetitions too. */
	    {"modules:\n  a:\n    sensors:\n      exclude_types: "
	     "['6******++++++nc']\n",
		"nests too many repetitions"},
	    {"modules:\n  a:\n    sensors:\n      exclude_types: ['a**']\n",
		"nests too many repetitions"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(parse(bad[i].yaml, err, sizeof(err)));
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
}

static void
sensor_filters(void **state)
{
	static const char yaml[] =
	    "modules:\n  f:\n    exclude_sensor_ids: [7]\n"
	    "    sensors:\n      include_names: ['CPU.*', 'FAN[0-9]', 'PSU.+?']\n"
	    "      exclude_types: [Fan]\n";
	char err[256];
	struct exp_config *c = parse(yaml, err, sizeof(err));
	const struct module *m = config_module(c, "f");
	struct osh_sensor s;

	(void)state;
	memset(&s, 0, sizeof(s));
	osh_strlcpy(s.name, "CPU1 Temp", sizeof(s.name));
	s.record_id = 1;
	assert_true(module_wants_sensor(m, &s, "Temperature"));
	s.record_id = 7;
	assert_false(module_wants_sensor(m, &s, "Temperature"));
	s.record_id = 2;
	osh_strlcpy(
	    s.name, "XCPU1", sizeof(s.name)); /* anchored: no partial match */
	assert_false(module_wants_sensor(m, &s, "Temperature"));
	osh_strlcpy(s.name, "FAN1", sizeof(s.name));
	assert_false(module_wants_sensor(m, &s, "Fan"));
	config_free(c);
}

static void
rendering(void **state)
{
	char err[256];
	struct exp_config *c = parse("modules:\n  default:\n    collectors: "
				     "[ipmi, bmc, chassis, dcmi, sel, fru]\n",
	    err, sizeof(err));
	const struct module *m = config_module(c, "default");
	struct osh_sensor sensors[4];
	struct scrape_data d;
	struct osh_buf b;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(sensors, 0, sizeof(sensors));
	sensors[0] = (struct osh_sensor){.record_id = 1,
	    .threshold = true,
	    .base_unit = 1,
	    .has_value = true,
	    .value = 45,
	    .readable = true,
	    .state = OSH_SENSOR_NOMINAL};
	osh_strlcpy(
	    sensors[0].name, "CPU \"1\"\\Temp", sizeof(sensors[0].name));
	sensors[1] = (struct osh_sensor){.record_id = 5,
	    .threshold = true,
	    .base_unit = 18,
	    .has_value = true,
	    .value = 6400.5,
	    .readable = true,
	    .state = OSH_SENSOR_CRITICAL};
	osh_strlcpy(sensors[1].name, "FAN1", sizeof(sensors[1].name));
	sensors[2] = (struct osh_sensor){.record_id = 17,
	    .type = 8,
	    .reading_type = 0x6f,
	    .readable = true,
	    .state = OSH_SENSOR_WARNING};
	osh_strlcpy(sensors[2].name, "PSU1 Status", sizeof(sensors[2].name));
	sensors[3] = sensors[1]; /* a duplicate record */
	d.sensors = sensors;
	d.nsensors = 4;
	d.done = (1u << COLL_IPMI) | (1u << COLL_CHASSIS) | (1u << COLL_BMC) |
	    (1u << COLL_SEL);
	d.chassis.power_on = true;
	d.device.manufacturer_id = 674;
	osh_strlcpy(d.device.firmware, "2.0a", sizeof(d.device.firmware));
	d.sel.entries = 5;
	d.sel.free_bytes = 15920;
	osh_buf_init(&b, 0);
	assert_int_equal(render_scrape(&b, m, &d, 0.25), 1);
	assert_non_null(strstr(b.data,
	    "ipmi_temperature_celsius{id=\"1\",name=\"CPU \\\"1\\\"\\\\Temp\"} "
	    "45\n"));
	assert_non_null(strstr(
	    b.data, "ipmi_fan_speed_rpm{id=\"5\",name=\"FAN1\"} 6400.5\n"));
	assert_non_null(
	    strstr(b.data, "ipmi_fan_speed_state{id=\"5\",name=\"FAN1\"} 2\n"));
	assert_non_null(strstr(b.data,
	    "ipmi_sensor_value{id=\"17\",name=\"PSU1 Status\",type=\"Power "
	    "Supply\"} NaN\n"));
	assert_non_null(strstr(b.data,
	    "ipmi_sensor_state{id=\"17\",name=\"PSU1 Status\",type=\"Power "
	    "Supply\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "ipmi_bmc_info{firmware_revision=\"2.0\","
	    "manufacturer_id=\"Dell Inc. (674)\",system_firmware_version="
	    "\"N/A\",bmc_url=\"N/A\"} 1\n"));
	assert_non_null(strstr(b.data, "ipmi_chassis_power_state 1\n"));
	assert_non_null(strstr(b.data, "ipmi_sel_logs_count 5\n"));
	assert_non_null(strstr(b.data, "ipmi_up{collector=\"dcmi\"} 0\n"));
	assert_non_null(strstr(b.data, "ipmi_up{collector=\"fru\"} 0\n"));
	assert_non_null(strstr(b.data, "ipmi_up{collector=\"ipmi\"} 1\n"));
	assert_non_null(strstr(b.data, "ipmi_scrape_duration_seconds 0.25"));
	/* The duplicate is written once. */
	assert_null(strstr(
	    strstr(b.data, "ipmi_fan_speed_rpm{") + 1, "ipmi_fan_speed_rpm{"));
	osh_buf_release(&b);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reference_file_loads),
	    cmocka_unit_test(default_module_always_exists),
	    cmocka_unit_test(errors_name_the_line),
	    cmocka_unit_test(sensor_filters),
	    cmocka_unit_test(rendering),
	};
	return cmocka_run_group_tests_name("ipmi_exporter", tests, NULL, NULL);
}
