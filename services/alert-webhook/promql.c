/* promql.c - the metrics API's queries and their bounds (pure: no I/O). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <osh/util.h>

#include "promql.h"

/* The labels fleet answers keep of each server. */
#define SERVER_LABELS "server_id, server_name, cluster"

/* name -> the metric families the per-server query selects (a regex of
 * names, anchored by Prometheus). */
static const struct {
	const char *name;
	const char *families;
} named[] = {
    {"temperature",
	"ipmi_temperature_celsius|"
	"ipmi_temperature_threshold_celsius"},
    {"fans", "ipmi_fan_speed_rpm|ipmi_fan_speed_threshold_rpm"},
    {"voltage", "ipmi_voltage_volts|ipmi_voltage_threshold_volts"},
    {"current", "ipmi_current_amperes|ipmi_current_threshold_amperes"},
    {"power",
	"ipmi_power_watts|ipmi_power_threshold_watts|"
	"ipmi_dcmi_power_consumption_watts"},
    {"sensor_states",
	"ipmi_temperature_state|ipmi_fan_speed_state|"
	"ipmi_voltage_state|ipmi_current_state|"
	"ipmi_power_state|ipmi_sensor_state"},
    {"chassis",
	"ipmi_chassis_power_state|ipmi_chassis_drive_fault_state|"
	"ipmi_chassis_cooling_fault_state"},
    {"sel", "ipmi_sel_logs_count|ipmi_sel_free_space_bytes"},
    {"up", "ipmi_up"},
};

const char *const promql_names[] = {"temperature", "fans", "voltage", "current",
    "power", "sensor_states", "chassis", "sel", "up", NULL};

/* A power sensor that measures a PSU's output: its name says so
 * ("PSU1 Output Power", "PS2 Pout", "PSU1 Power Out"). */
#define POWER_OUT "name=~\"(?i).*out.*\""
#define POWER_NOT_OUT "name!~\"(?i).*out.*\""

/* A server's power draw, each PSU counted once: DCMI's reading where the
 * BMC has one; else its power sensors that are not PSU outputs added
 * (PSU inputs, a system total); else, when the BMC measures only the
 * outputs, those added. Never a PSU's input and output both. */
#define SERVER_POWER                                                           \
	"(max by (" SERVER_LABELS ") (ipmi_dcmi_power_consumption_watts) "     \
	"or sum by (" SERVER_LABELS ") (ipmi_power_watts{" POWER_NOT_OUT "}) " \
	"or sum by (" SERVER_LABELS ") (ipmi_power_watts{" POWER_OUT "}))"

static const struct {
	const char *kind;
	const char *per_server; /* one series per server */
} kinds[] = {
    {"temperature", "max by (" SERVER_LABELS ") (ipmi_temperature_celsius)"},
    {"fans", "max by (" SERVER_LABELS ") (ipmi_fan_speed_rpm)"},
    {"power", SERVER_POWER},
};

const char *const promql_kinds[] = {"temperature", "fans", "power", NULL};

static int64_t
unit_s(char u)
{
	switch (u) {
	case 'w': return 7 * 86400;
	case 'd': return 86400;
	case 'h': return 3600;
	case 'm': return 60;
	case 's': return 1;
	default: return 0;
	}
}

bool
promql_duration(const char *s, int64_t max_s, int64_t *out)
{
	int64_t total = 0, n, u, last = INT64_MAX;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return false;
	if (osh_parse_int(s, 1, max_s, out))
		return true;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return false;
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > max_s)
				return false;
			n = n * 10 + (*p - '0');
		}
		/* Units once each, largest first, as Prometheus wants. */
		if ((u = unit_s(*p)) == 0 || u >= last)
			return false;
		last = u;
		p++;
		if (n > max_s / u || total + n * u > max_s)
			return false;
		total += n * u;
	}
	if (total <= 0)
		return false;
	*out = total;
	return true;
}

int
promql_range_parse(const char *range, const char *step, const char *end,
    int64_t now_s, struct promql_range *out, struct osh_err *err)
{
	int64_t r = PROMQL_DEFAULT_RANGE_S, st, e = now_s, ms;

	if (range != NULL && !promql_duration(range, PROMQL_MAX_RANGE_S, &r))
		return osh_err_set(err, 400, "validation_failed", "range",
		    "range must be a duration (\"1h\", \"30m\", \"7d\") of at "
		    "most 31d");
	if (end != NULL) {
		if (osh_time_parse(end, &ms))
			e = ms / 1000;
		else if (!osh_parse_int(end, 0, INT64_C(253402300799), &e))
			return osh_err_set(err, 400, "validation_failed", "end",
			    "end must be an RFC 3339 time or epoch seconds");
	}
	if (step == NULL) {
		/* Rounded up: never more than the default count. */
		st = (r + PROMQL_DEFAULT_POINTS - 1) / PROMQL_DEFAULT_POINTS;
		if (st < 1)
			st = 1;
	} else if (!promql_duration(step, PROMQL_MAX_STEP_S, &st)) {
		return osh_err_set(err, 400, "validation_failed", "step",
		    "step must be a duration (\"15s\", \"1m\") of at most 1d");
	}
	if (r / st + 1 > PROMQL_MAX_POINTS)
		return osh_err_set(err, 400, "validation_failed", "step",
		    "range %lld s at step %lld s exceeds %d points per "
		    "series: use a step of at least %lld s",
		    (long long)r, (long long)st, PROMQL_MAX_POINTS,
		    (long long)((r + PROMQL_MAX_POINTS - 2) /
			(PROMQL_MAX_POINTS - 1)));
	out->end = e;
	out->start = e - r;
	out->step = st;
	return 0;
}

bool
promql_server_query(const char *name, int64_t id, char *buf, size_t len)
{
	int n;

	if (name == NULL || id <= 0)
		return false;
	for (size_t i = 0; i < OSH_ARRAY_LEN(named); i++) {
		if (strcmp(named[i].name, name) != 0)
			continue;
		/* id is a number: nothing of the caller's text is in the
		 * query. */
		n = snprintf(buf, len, "{__name__=~\"%s\",server_id=\"%lld\"}",
		    named[i].families, (long long)id);
		return n > 0 && (size_t)n < len;
	}
	return false;
}

bool
promql_hottest_query(const char *kind, int64_t n, char *buf, size_t len)
{
	int k;

	if (kind == NULL || n < 1 || n > PROMQL_MAX_TOP)
		return false;
	for (size_t i = 0; i < OSH_ARRAY_LEN(kinds); i++) {
		if (strcmp(kinds[i].kind, kind) != 0)
			continue;
		k = snprintf(buf, len, "sort_desc(topk(%lld, %s))",
		    (long long)n, kinds[i].per_server);
		return k > 0 && (size_t)k < len;
	}
	return false;
}

bool
promql_power_query(const char *by, char *buf, size_t len)
{
	const char *pre, *post;
	int k;

	if (by == NULL)
		return false;
	if (strcmp(by, "total") == 0) {
		pre = "sum(";
		post = ")";
	} else if (strcmp(by, "cluster") == 0) {
		pre = "sort_desc(sum by (cluster) (";
		post = "))";
	} else if (strcmp(by, "server") == 0) {
		pre = "sort_desc(";
		post = ")";
	} else {
		return false;
	}
	k = snprintf(buf, len, "%s%s%s", pre, SERVER_POWER, post);
	return k > 0 && (size_t)k < len;
}
