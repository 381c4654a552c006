/* Unit tests of the IPMI engine against real ipmi_sim BMCs started with
 * deploy/sim/osh-sim: every part of a request, session reuse, the SDR
 * cache, deadlines against a silent BMC, wrong credentials, IPMI 1.5,
 * keepalives past the BMC's session timeout, BMC resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/util.h"

struct env {
	char dir[64];
	int port;
	struct event_base *base;
	struct osh_ipmi *m;
};

static struct env E;

static int
sim(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "deploy/sim/osh-sim %s >/dev/null", args);
	return system(cmd);
}

static int
setup(void **state)
{
	struct osh_ipmi_options o = {8, 30000, 16, 100};
	char args[200];

	snprintf(E.dir, sizeof(E.dir), "/tmp/osh-ipmi-test-%d", (int)getpid());
	E.port = 31000 + (int)(getpid() % 1000) * 8;
	snprintf(
	    args, sizeof(args), "up %s --count 2 --port %d", E.dir, E.port);
	if (sim(args) != 0)
		return -1;
	snprintf(args, sizeof(args), "add %s --kind silent --port %d", E.dir,
	    E.port + 4);
	sim(args);
	snprintf(args, sizeof(args), "add %s --kind ipmi15 --port %d", E.dir,
	    E.port + 5);
	sim(args);
	E.base = event_base_new();
	E.m = osh_ipmi_new(E.base, &o);
	*state = &E;
	return E.m ? 0 : -1;
}

static int
teardown(void **state)
{
	char args[200];

	(void)state;
	osh_ipmi_free(E.m);
	event_base_free(E.base);
	snprintf(args, sizeof(args), "down %s", E.dir);
	sim(args);
	snprintf(args, sizeof(args), "rm -rf %s", E.dir);
	(void)!system(args);
	return 0;
}

static struct osh_ipmi_target
target(int port, const char *password)
{
	struct osh_ipmi_target t;

	memset(&t, 0, sizeof(t));
	osh_strlcpy(t.host, "127.0.0.1", sizeof(t.host));
	t.port = (uint16_t)port;
	osh_strlcpy(t.user, "admin", sizeof(t.user));
	osh_strlcpy(t.password, password, sizeof(t.password));
	t.privilege = OSH_IPMI_PRIV_ADMIN;
	t.cipher_suite = 3;
	t.workarounds = OSH_IPMI_WA_OPENSESSPRIV;
	return t;
}

struct got {
	bool done;
	struct osh_ipmi_result r;
	struct osh_sensor sensors[32];
	struct osh_sel_entry sel[16];
	double elapsed;
};

static void
on_result(const struct osh_ipmi_result *r, void *arg)
{
	struct got *g = arg;

	g->done = true;
	g->r = *r;
	g->r.sensors = NULL;
	g->r.sel = NULL;
	for (size_t i = 0; i < r->nsensors && i < 32; i++)
		g->sensors[i] = r->sensors[i];
	for (size_t i = 0; i < r->nsel && i < 16; i++)
		g->sel[i] = r->sel[i];
	event_base_loopbreak(E.base);
}

/* Runs the loop for ms (timers, sweeps, workers coming back). */
static void
pump(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(E.base, &tv);
	event_base_dispatch(E.base);
}

static void
submit_on(struct osh_ipmi *m, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, int deadline_ms, struct got *g)
{
	uint64_t t0 = osh_now_us();

	memset(g, 0, sizeof(*g));
	assert_int_equal(
	    osh_ipmi_submit(m, t, rq, deadline_ms, on_result, g), 0);
	while (!g->done)
		event_base_dispatch(E.base);
	g->elapsed = (double)(osh_now_us() - t0) / 1e6;
}

/* The value of an unlabelled series on the engine's /metrics. */
static double
metric(struct osh_metrics *reg, const char *name)
{
	struct osh_buf b;
	char pat[128];
	const char *at;
	double v = -1;

	osh_buf_init(&b, 0);
	osh_metrics_render(reg, &b);
	snprintf(pat, sizeof(pat), "\n%s ", name);
	if ((at = strstr(b.data, pat)) != NULL)
		v = strtod(at + strlen(pat), NULL);
	osh_buf_release(&b);
	return v;
}

static void
run(const struct osh_ipmi_target *t, const struct osh_ipmi_request *rq,
    int deadline_ms, struct got *g)
{
	uint64_t t0 = osh_now_us();

	memset(g, 0, sizeof(*g));
	assert_int_equal(
	    osh_ipmi_submit(E.m, t, rq, deadline_ms, on_result, g), 0);
	while (!g->done)
		event_base_dispatch(E.base);
	g->elapsed = (double)(osh_now_us() - t0) / 1e6;
}

/* The named sensor; a test fails when it is missing. */
static const struct osh_sensor *
sensor(struct got *g, const char *name)
{
	static const struct osh_sensor none;

	for (size_t i = 0; i < g->r.nsensors && i < 32; i++)
		if (strcmp(g->sensors[i].name, name) == 0)
			return &g->sensors[i];
	fail_msg("no sensor \"%s\"", name);
	return &none;
}

static void
everything(void **state)
{
	struct osh_ipmi_target t = target(E.port, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_DEVICE_ID |
		OSH_IPMI_WANT_CHASSIS | OSH_IPMI_WANT_SENSORS |
		OSH_IPMI_WANT_FRU | OSH_IPMI_WANT_SEL_INFO | OSH_IPMI_WANT_SEL};
	const struct osh_sensor *s;
	struct got g;

	(void)state;
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.new_session);
	assert_int_equal(g.r.device.manufacturer_id, 674);
	assert_true(g.r.chassis.power_on);
	assert_int_equal(g.r.nsensors, 18);
	s = sensor(&g, "CPU1 Temp");
	assert_true(s->has_value);
	assert_true(s->value > 44.5 && s->value < 45.5);
	assert_int_equal(s->state, OSH_SENSOR_NOMINAL);
	assert_true(s->has_th[OSH_TH_UC]);
	assert_true(s->th[OSH_TH_UC] > 94.5 && s->th[OSH_TH_UC] < 95.5);
	s = sensor(&g, "12V");
	assert_true(s->value > 11.9 && s->value < 12.1);
	s = sensor(&g, "FAN1");
	assert_true(s->value > 6300 && s->value < 6500);
	s = sensor(&g, "PSU1 Status");
	assert_false(s->threshold);
	assert_int_equal(s->events & 1, 1);
	assert_string_equal(g.r.fru.product_mfg, "Dell Inc.");
	assert_string_equal(g.r.fru.product_name, "PowerEdge R650");
	assert_string_equal(g.r.fru.chassis_type, "Rack Mount Chassis");
	assert_true(g.r.sel_info.entries >= 4);
	assert_true(g.r.nsel >= 4);
	{
		bool seen = false;
		for (size_t i = 0; i < g.r.nsel && i < 16; i++)
			if (strcmp(g.sel[i].sensor, "CPU1 Temp") == 0 &&
			    strstr(g.sel[i].description, "Upper Critical"))
				seen = true;
		assert_true(seen);
	}
	/* Again: same session, SDRs from the cache. */
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_false(g.r.new_session);
	assert_true(g.r.sdr_cached);
}

static void
power_and_sensor_changes(void **state)
{
	struct osh_ipmi_target t = target(E.port + 1, "secret");
	struct osh_ipmi_request off = {
	    .want = OSH_IPMI_WANT_CONTROL, .power = OSH_POWER_OFF};
	struct osh_ipmi_request st = {
	    .want = OSH_IPMI_WANT_CHASSIS | OSH_IPMI_WANT_SENSORS};
	char args[200];
	struct got g;

	(void)state;
	run(&t, &off, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	snprintf(args, sizeof(args), "set %s bmc2 'CPU1 Temp' 97", E.dir);
	sim(args);
	usleep(1300000);
	run(&t, &st, 5000, &g);
	assert_false(g.r.chassis.power_on);
	assert_true(sensor(&g, "CPU1 Temp")->value > 96.5);
	assert_int_equal(sensor(&g, "CPU1 Temp")->state, OSH_SENSOR_CRITICAL);
}

static void
silent_bmc_meets_deadline(void **state)
{
	struct osh_ipmi_target t = target(E.port + 4, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct got g;

	(void)state;
	run(&t, &rq, 800, &g);
	assert_int_equal(g.r.err, OSH_IPMI_TIMEOUT);
	assert_true(g.elapsed < 1.0);
}

static void
wrong_password(void **state)
{
	struct osh_ipmi_target t = target(E.port, "not-the-one");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct got g;

	(void)state;
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_AUTH_FAILED);
	assert_string_equal(osh_ipmi_err_code(g.r.err), "bmc_auth_failed");
}

static void
ipmi15(void **state)
{
	struct osh_ipmi_target t = target(E.port + 5, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct got g;

	(void)state;
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_UNSUPPORTED); /* no RMCP+ */
	t.ipmi15 = true;
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.chassis.power_on);
}

/* ipmi_sim drops sessions idle for 30 s: keepalives hold ours open. */
static void
session_outlives_bmc_idle_timeout(void **state)
{
	struct osh_ipmi_options o = {2, 45000, 16, 100}; /* the default */
	struct osh_ipmi_target t = target(E.port, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	struct got g;

	(void)state;
	assert_non_null(m);
	submit_on(m, &t, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	pump(33000);
	submit_on(m, &t, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_false(g.r.new_session);
	assert_true(g.elapsed < 0.5);
	osh_ipmi_free(m);
}

/* A BMC reset leaves our session dangling: FreeIPMI waits it out on its
 * worker. The caller still gets its answer at the deadline, the next
 * request opens a new session, and other BMCs are served meanwhile even
 * by a pool of one thread. */
static void
bmc_reset_does_not_starve_others(void **state)
{
	struct osh_ipmi_options o = {1, 2000, 16, 100};
	struct osh_ipmi_target a = target(E.port, "secret");
	struct osh_ipmi_target b = target(E.port + 1, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	char args[200];
	struct got g;

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	submit_on(m, &a, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	snprintf(args, sizeof(args), "reset %s bmc1", E.dir);
	assert_int_equal(sim(args), 0);
	submit_on(m, &a, &rq, 1000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_TIMEOUT);
	assert_true(g.elapsed < 1.3);
	pump(1300); /* the stuck check */
	assert_true(metric(reg, "osh_ipmi_threads_stuck") == 1);
	assert_true(metric(reg, "osh_ipmi_stuck_sessions_total") == 1);
	submit_on(m, &b, &rq, 2000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	submit_on(m, &a, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.new_session);
	/* FreeIPMI gives up on the old session within its timeout. */
	for (int i = 0; i < 60 && metric(reg, "osh_ipmi_threads_stuck") != 0;
	     i++)
		pump(500);
	assert_true(metric(reg, "osh_ipmi_threads_stuck") == 0);
	osh_ipmi_free(m);
	osh_metrics_free(reg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(everything),
	    cmocka_unit_test(power_and_sensor_changes),
	    cmocka_unit_test(silent_bmc_meets_deadline),
	    cmocka_unit_test(wrong_password),
	    cmocka_unit_test(ipmi15),
	    cmocka_unit_test(session_outlives_bmc_idle_timeout),
	    cmocka_unit_test(bmc_reset_does_not_starve_others),
	};
	osh_log_init("test", OSH_LOG_ERROR);
	return cmocka_run_group_tests_name("ipmi_live", tests, setup, teardown);
}
