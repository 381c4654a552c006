/* Unit tests of the IPMI engine against real ipmi_sim BMCs started with
 * deploy/sim/osh-sim: every part of a request, session reuse, the SDR
 * cache, SEL pages and the SEL cache, deadlines against a silent BMC and
 * inside long reads, wrong credentials, IPMI 1.5, keepalives past the
 * BMC's session timeout, BMC resets, and BMCs named by host name (looked
 * up on the loop: /etc/hosts, a DNS server on loopback, a silent one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/resolve.h"
#include "osh/util.h"

struct env {
	char dir[64];
	int port;
	struct event_base *base;
	struct osh_ipmi *m;
	/* A DNS server on loopback, and a socket that never answers. */
	struct evdns_server_port *dns;
	evutil_socket_t dns_fd, silent_fd;
	char dns_ns[32], silent_ns[32]; /* "127.0.0.1:port" */
};

static struct env E;

static int
sim(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "deploy/sim/osh-sim %s >/dev/null", args);
	return system(cmd);
}

/* The test DNS server: moving.test has the IPv4 address in dns_addr,
 * anything else does not exist. */
static char dns_addr[INET_ADDRSTRLEN] = "127.0.0.1";
static int dns_queries;

static void
serve(struct evdns_server_request *req, void *arg)
{
	(void)arg;
	for (int i = 0; i < req->nquestions; i++) {
		const struct evdns_server_question *q = req->questions[i];
		unsigned char a[4];

		dns_queries++;
		if (strcasecmp(q->name, "moving.test") != 0) {
			evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
			return;
		}
		if (q->type == EVDNS_TYPE_A &&
		    inet_pton(AF_INET, dns_addr, a) == 1)
			evdns_server_request_add_a_reply(
			    req, q->name, 1, a, 60);
	}
	evdns_server_request_respond(req, 0);
}

/* A UDP socket on 127.0.0.1; "127.0.0.1:port" in ns. */
static evutil_socket_t
udp_socket(char *ns, size_t len)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	evutil_socket_t fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) != 0) {
		close(fd);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	snprintf(ns, len, "127.0.0.1:%d", ntohs(sin.sin_port));
	return fd;
}

static int
setup(void **state)
{
	struct osh_ipmi_options o = {.threads = 8,
	    .idle_timeout_ms = 30000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100};
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
	snprintf(args, sizeof(args), "add %s --kind bigsel --sel 900 --port %d",
	    E.dir, E.port + 6);
	sim(args);
	E.base = event_base_new();
	E.m = osh_ipmi_new(E.base, &o);
	E.dns_fd = udp_socket(E.dns_ns, sizeof(E.dns_ns));
	E.silent_fd = udp_socket(E.silent_ns, sizeof(E.silent_ns));
	if (E.dns_fd < 0 || E.silent_fd < 0)
		return -1;
	E.dns =
	    evdns_add_server_port_with_base(E.base, E.dns_fd, 0, serve, NULL);
	*state = &E;
	return E.m && E.dns ? 0 : -1;
}

static int
teardown(void **state)
{
	char args[200];

	(void)state;
	osh_ipmi_free(E.m);
	evdns_close_server_port(E.dns);
	evutil_closesocket(E.dns_fd);
	evutil_closesocket(E.silent_fd);
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

/* Threads of this process now. */
static int
threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	int n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			n = (int)strtol(line + 8, NULL, 10);
	fclose(f);
	return n;
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
	assert_int_equal(g.r.nsensors, 19);
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

/* A callback that forgets the session it was answered on, and asks
 * again, as a discovery scan does when credentials fail: the engine must
 * not touch that session after the callback (it freed it under itself:
 * use-after-free, crashes seen in server-mgmt). Also a callback that
 * opens more sessions than the engine keeps, so that the one just
 * answered on is the least recently used. */
static void
on_ignore(const struct osh_ipmi_result *r, void *arg)
{
	(void)r;
	(void)arg;
}

struct forgetful {
	struct osh_ipmi *m;
	int left;
	int answers;
};

static void
on_forget(const struct osh_ipmi_result *r, void *arg)
{
	struct forgetful *f = arg;
	struct osh_ipmi_target t = target(E.port, "not-the-one");
	struct osh_ipmi_target other = target(E.port + 1, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};

	assert_int_equal(r->err, OSH_IPMI_AUTH_FAILED);
	f->answers++;
	osh_ipmi_forget(f->m, t.host, t.port);
	if (f->left-- > 0) {
		assert_int_equal(
		    osh_ipmi_submit(f->m, &other, &rq, 5000, on_ignore, NULL),
		    0);
		assert_int_equal(
		    osh_ipmi_submit(f->m, &t, &rq, 5000, on_forget, f), 0);
		return;
	}
	event_base_loopbreak(E.base);
}

static void
callback_forgets_its_session(void **state)
{
	struct osh_ipmi_options o = {.threads = 2,
	    .idle_timeout_ms = 30000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 2};
	struct forgetful f = {osh_ipmi_new(E.base, &o), 3, 0};
	struct osh_ipmi_target t = target(E.port, "not-the-one");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};

	(void)state;
	assert_non_null(f.m);
	assert_int_equal(osh_ipmi_submit(f.m, &t, &rq, 5000, on_forget, &f), 0);
	while (f.answers < 4)
		event_base_dispatch(E.base);
	pump(500);
	osh_ipmi_free(f.m);
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
	struct osh_ipmi_options o = {.threads = 2,
	    .idle_timeout_ms = 45000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100}; /* the default */
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
	struct osh_ipmi_options o = {.threads = 1,
	    .idle_timeout_ms = 2000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100};
	struct osh_ipmi_target a = target(E.port, "secret");
	struct osh_ipmi_target b = target(E.port + 1, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	char args[200];
	struct got g;
	int nthreads;

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	submit_on(m, &a, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	nthreads = threads();
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
	/* FreeIPMI gives up on the old session within its timeout; the
	 * thread started meanwhile ends, the set-aside session is freed. */
	for (int i = 0; i < 60 && metric(reg, "osh_ipmi_threads_stuck") != 0;
	     i++)
		pump(500);
	assert_true(metric(reg, "osh_ipmi_threads_stuck") == 0);
	for (int i = 0; i < 20 && threads() != nthreads; i++)
		pump(100);
	assert_int_equal(threads(), nthreads);
	/* Idle sessions expire (2 s here): the set-aside one is gone too. */
	for (int i = 0; i < 50 && osh_ipmi_session_count(m) != 0; i++)
		pump(100);
	assert_int_equal(osh_ipmi_session_count(m), 0);
	osh_ipmi_free(m);
	osh_metrics_free(reg);
}

/* What a SEL request saw: the page's record ids. */
struct sel_got {
	bool done;
	struct osh_ipmi_result r;
	uint16_t ids[OSH_IPMI_SEL_PAGE_MAX];
	double elapsed;
};

static void
on_sel(const struct osh_ipmi_result *r, void *arg)
{
	struct sel_got *g = arg;

	g->done = true;
	g->r = *r;
	g->r.sensors = NULL;
	g->r.sel = NULL;
	for (size_t i = 0; i < r->nsel && i < OSH_IPMI_SEL_PAGE_MAX; i++)
		g->ids[i] = r->sel[i].id;
	event_base_loopbreak(E.base);
}

static void
run_sel(struct osh_ipmi *m, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, int deadline_ms, struct sel_got *g)
{
	uint64_t t0 = osh_now_us();

	memset(g, 0, sizeof(*g));
	assert_int_equal(osh_ipmi_submit(m, t, rq, deadline_ms, on_sel, g), 0);
	while (!g->done)
		event_base_dispatch(E.base);
	g->elapsed = (double)(osh_now_us() - t0) / 1e6;
}

#define SEL_PART 8 /* OSH_IPMI_WANT_SEL = 1 << 8 */

/* A log of 900+ entries read with deadlines too short for the whole
 * walk (20 ms): each request answers by its deadline, the SEL part failed as a
 * timeout, the walk goes on where the last one stopped (no record is read
 * twice, as the engine counts them), and once it is complete the page
 * comes. */
static void
sel_walk_stops_at_deadline(void **state)
{
	struct osh_ipmi_options o = {.threads = 2,
	    .idle_timeout_ms = 30000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	struct osh_ipmi_target t = target(E.port + 6, "secret");
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_SEL_INFO | OSH_IPMI_WANT_SEL,
	    .sel = {.limit = 10}};
	struct sel_got g;
	unsigned cut = 0;

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	/* The session first, so that the deadlines below are spent on the
	 * walk alone: on an idle machine ipmi_sim answers a Get SEL Entry in
	 * about 0.1 ms, and 900 of them fit in a deadline of 120 ms. */
	run_sel(m, &t,
	    &(struct osh_ipmi_request){.want = OSH_IPMI_WANT_SEL_INFO}, 5000,
	    &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	for (int i = 0; i < 2000; i++) {
		run_sel(m, &t, &rq, 20, &g);
		/* Generous for a loaded machine under SAN=1: the deadline is
		 * what ends each walk (the error says so), not the log's end. */
		assert_true(g.elapsed < 0.020 + 0.5);
		if (g.r.done & OSH_IPMI_WANT_SEL)
			break;
		assert_int_equal(g.r.err, OSH_IPMI_TIMEOUT);
		if (g.r.part_err[SEL_PART] == OSH_IPMI_TIMEOUT)
			cut++;
	}
	assert_true(g.r.done & OSH_IPMI_WANT_SEL);
	assert_true(g.r.sel_total >= 904);
	assert_true(cut > 0);
	assert_int_equal(g.r.nsel, 10);
	pump(200); /* a worker answered late comes back */
	assert_true(metric(reg, "osh_ipmi_sel_records_read_total") ==
	    (double)g.r.sel_total);
	osh_ipmi_free(m);
	osh_metrics_free(reg);
}

/* The log a page at a time, newest first, from the engine's copy of it:
 * the first page reads every record once, later pages none; two entries
 * added are read alone; a cursor from before a clear is refused. */
static void
sel_pages(void **state)
{
	struct osh_ipmi_target t = target(E.port + 6, "secret");
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_SEL_INFO | OSH_IPMI_WANT_SEL,
	    .sel = {.limit = 100}};
	struct osh_ipmi_request clear = {.want = OSH_IPMI_WANT_SEL_CLEAR};
	static struct sel_got g;
	size_t total, seen = 0;
	uint16_t last = 0xffff, newest, oldest;
	char args[200];

	(void)state;
	run_sel(E.m, &t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	total = g.r.sel_total;
	assert_true(total >= 904);
	assert_int_equal(total, g.r.sel_info.entries);
	assert_int_equal(g.r.sel_read, total);
	newest = g.ids[0];
	for (;;) {
		assert_int_equal(
		    g.r.nsel, total - seen < 100 ? total - seen : 100);
		for (size_t i = 0; i < g.r.nsel; i++) {
			assert_true(g.ids[i] < last); /* newest first */
			last = g.ids[i];
		}
		seen += g.r.nsel;
		if (g.r.sel_next == 0)
			break;
		assert_int_equal(g.r.sel_next, last - 1); /* ipmi_sim counts */
		rq.sel.start = g.r.sel_next;
		run_sel(E.m, &t, &rq, 5000, &g);
		assert_int_equal(g.r.err, OSH_IPMI_OK);
		assert_int_equal(g.r.sel_read, 0);
		assert_int_equal(g.r.sel_total, total);
	}
	assert_int_equal(seen, total);
	oldest = last;
	/* Two entries more: only they are read. */
	snprintf(args, sizeof(args), "event %s 127.0.0.1:%d --count 2", E.dir,
	    E.port + 6);
	assert_int_equal(sim(args), 0);
	rq.sel.start = 0;
	rq.sel.limit = 3;
	run_sel(E.m, &t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_int_equal(g.r.sel_read, 2);
	assert_int_equal(g.r.sel_total, total + 2);
	assert_true(g.ids[0] > newest && g.ids[1] > newest);
	assert_int_equal(g.ids[2], newest);
	/* Cleared: a cursor from before is gone, the log read anew. */
	run_sel(E.m, &t, &clear, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	rq.sel.start = oldest;
	run_sel(E.m, &t, &rq, 5000, &g);
	assert_true(g.r.done & OSH_IPMI_WANT_SEL);
	assert_true(g.r.sel_start_gone);
	assert_int_equal(g.r.nsel, 0);
	assert_true(g.r.sel_total <= 1); /* the BMC may log the clear */
	assert_int_equal(g.r.sel_read, g.r.sel_total);
}

/* A BMC named by host name (localhost, from /etc/hosts) is reached; its
 * session is kept by that name, reused, and forgotten by it. */
static void
bmc_by_host_name(void **state)
{
	struct osh_ipmi_target t = target(E.port, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	size_t before;
	struct got g;

	(void)state;
	osh_strlcpy(t.host, "localhost", sizeof(t.host));
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.chassis.power_on);
	assert_true(g.r.new_session);
	run(&t, &rq, 5000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_false(g.r.new_session);
	before = osh_ipmi_session_count(E.m);
	osh_ipmi_forget(E.m, "localhost", (uint16_t)E.port);
	for (int i = 0; i < 50 && osh_ipmi_session_count(E.m) == before; i++)
		pump(100);
	assert_int_equal(osh_ipmi_session_count(E.m), before - 1);
}

/* Answers of requests submitted at once, and what the engine held when
 * each came. */
struct many {
	int answers;
	int want;
	struct osh_metrics *reg;
	enum osh_ipmi_err err[8];
	char message[8][160];
	double busy[8]; /* osh_ipmi_workers_busy */
	double elapsed[8];
	uint64_t t0;
};

struct one {
	struct many *all;
	int i;
};

static void
on_many(const struct osh_ipmi_result *r, void *arg)
{
	struct one *o = arg;
	struct many *a = o->all;

	a->err[o->i] = r->err;
	osh_strlcpy(a->message[o->i], r->message, sizeof(a->message[0]));
	a->busy[o->i] = metric(a->reg, "osh_ipmi_workers_busy");
	a->elapsed[o->i] = (double)(osh_now_us() - a->t0) / 1e6;
	if (++a->answers == a->want)
		event_base_loopbreak(E.base);
}

/* A name that does not exist: every request for it answers UNREACHABLE
 * naming the DNS error, long before its deadline, from one lookup (the
 * requests queued behind it are answered with it), and no worker thread
 * was ever taken. */
static void
unresolvable_name_holds_no_worker(void **state)
{
	struct osh_ipmi_options o = {.threads = 1,
	    .idle_timeout_ms = 1000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100,
	    .nameservers = E.dns_ns};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	struct osh_ipmi_target t = target(623, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct many a = {.want = 6, .reg = reg};
	struct one ones[6];
	int nthreads = threads();

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	osh_strlcpy(t.host, "no-such-bmc.test", sizeof(t.host));
	dns_queries = 0;
	a.t0 = osh_now_us();
	for (int i = 0; i < 6; i++) {
		ones[i] = (struct one){&a, i};
		assert_int_equal(
		    osh_ipmi_submit(m, &t, &rq, 3000, on_many, &ones[i]), 0);
	}
	while (a.answers < a.want)
		event_base_dispatch(E.base);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a.err[i], OSH_IPMI_UNREACHABLE);
		assert_non_null(strstr(a.message[i], "no-such-bmc.test"));
		assert_non_null(strstr(a.message[i], "no such host"));
		assert_non_null(strstr(a.message[i], "not_found"));
		assert_true(a.busy[i] == 0);
		assert_true(a.elapsed[i] < 1.0); /* the deadline: 3 s */
	}
	/* One lookup: its A and AAAA questions. */
	assert_true(dns_queries >= 1 && dns_queries <= 2);
	assert_true(
	    metric(reg, "osh_ipmi_host_lookups_total{result=\"failed\"}") == 1);
	assert_int_equal(threads(), nthreads);
	assert_true(metric(reg, "osh_ipmi_threads_stuck") == 0);
	/* The session made for it expires like any other. */
	for (int i = 0; i < 40 && osh_ipmi_session_count(m) != 0; i++)
		pump(100);
	assert_int_equal(osh_ipmi_session_count(m), 0);
	osh_ipmi_free(m);
	osh_metrics_free(reg);
}

/* A DNS server that never answers: the request answers UNREACHABLE by its
 * deadline, and meanwhile the engine's only worker thread serves another
 * BMC. A lookup still waiting when the engine is freed is answered. */
static void
silent_dns_answers_by_deadline(void **state)
{
	struct osh_ipmi_options o = {.threads = 1,
	    .idle_timeout_ms = 30000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100,
	    .nameservers = E.silent_ns};
	struct osh_metrics *reg = osh_metrics_new();
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	struct osh_ipmi_target named = target(E.port, "secret");
	struct osh_ipmi_target addr = target(E.port, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct many a = {.want = 2, .reg = reg};
	struct one ones[2] = {{&a, 0}, {&a, 1}};
	int nthreads = threads();
	struct got g;

	(void)state;
	assert_non_null(m);
	osh_ipmi_metrics(m, reg);
	osh_strlcpy(named.host, "bmc.test", sizeof(named.host));
	a.t0 = osh_now_us();
	assert_int_equal(
	    osh_ipmi_submit(m, &named, &rq, 1500, on_many, &ones[0]), 0);
	assert_int_equal(
	    osh_ipmi_submit(m, &addr, &rq, 5000, on_many, &ones[1]), 0);
	while (a.answers < a.want)
		event_base_dispatch(E.base);
	/* The BMC by address first, while the name was still looked up. */
	assert_int_equal(a.err[1], OSH_IPMI_OK);
	assert_true(a.elapsed[1] < a.elapsed[0]);
	assert_int_equal(a.err[0], OSH_IPMI_UNREACHABLE);
	assert_non_null(strstr(a.message[0], "bmc.test"));
	assert_non_null(strstr(a.message[0], "timeout"));
	assert_true(a.elapsed[0] >= 1.45 && a.elapsed[0] < 1.5 + 0.3);
	assert_true(a.busy[0] == 0);
	assert_int_equal(threads(), nthreads);
	/* Freed with a lookup under way: it is answered, shutting down. */
	osh_strlcpy(named.host, "bmc2.test", sizeof(named.host));
	memset(&g, 0, sizeof(g));
	assert_int_equal(
	    osh_ipmi_submit(m, &named, &rq, 5000, on_result, &g), 0);
	pump(50);
	assert_false(g.done);
	osh_ipmi_free(m);
	assert_true(g.done);
	assert_int_equal(g.r.err, OSH_IPMI_INTERNAL);
	osh_metrics_free(reg);
}

/* Each session opened looks the name up again, so a BMC whose address
 * changed is followed; an open session stays where it is. The resolver is
 * the caller's here, caching nothing. */
static void
address_change_followed(void **state)
{
	struct osh_resolver *r = osh_resolver_new(
	    E.base, &(struct osh_resolver_options){.nameservers = E.dns_ns});
	struct osh_ipmi_options o = {.threads = 2,
	    .idle_timeout_ms = 30000,
	    .max_queue_per_bmc = 16,
	    .max_sessions = 100,
	    .resolver = r};
	struct osh_ipmi *m = osh_ipmi_new(E.base, &o);
	struct osh_ipmi_target t = target(E.port + 1, "secret");
	struct osh_ipmi_request rq = {.want = OSH_IPMI_WANT_CHASSIS};
	struct got g;

	(void)state;
	assert_non_null(r);
	assert_non_null(m);
	osh_strlcpy(t.host, "moving.test", sizeof(t.host));
	osh_strlcpy(dns_addr, "127.0.0.1", sizeof(dns_addr));
	submit_on(m, &t, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.new_session);
	/* Moved: the open session is kept (no lookup)... */
	osh_strlcpy(dns_addr, "127.0.0.2", sizeof(dns_addr));
	submit_on(m, &t, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_false(g.r.new_session);
	/* ...until a session is opened again: it goes to the new address,
	 * where nothing listens. */
	osh_ipmi_forget(m, "moving.test", (uint16_t)t.port);
	for (int i = 0; i < 50 && osh_ipmi_session_count(m) != 0; i++)
		pump(100);
	assert_int_equal(osh_ipmi_session_count(m), 0);
	submit_on(m, &t, &rq, 1000, &g);
	assert_true(
	    g.r.err == OSH_IPMI_UNREACHABLE || g.r.err == OSH_IPMI_TIMEOUT);
	assert_non_null(strstr(g.r.message, "moving.test (127.0.0.2)"));
	/* Back: found again. */
	osh_strlcpy(dns_addr, "127.0.0.1", sizeof(dns_addr));
	submit_on(m, &t, &rq, 3000, &g);
	assert_int_equal(g.r.err, OSH_IPMI_OK);
	assert_true(g.r.new_session);
	osh_ipmi_free(m);
	osh_resolver_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(everything),
	    cmocka_unit_test(sel_walk_stops_at_deadline),
	    cmocka_unit_test(sel_pages),
	    cmocka_unit_test(power_and_sensor_changes),
	    cmocka_unit_test(silent_bmc_meets_deadline),
	    cmocka_unit_test(wrong_password),
	    cmocka_unit_test(callback_forgets_its_session),
	    cmocka_unit_test(ipmi15),
	    cmocka_unit_test(session_outlives_bmc_idle_timeout),
	    cmocka_unit_test(bmc_reset_does_not_starve_others),
	    cmocka_unit_test(bmc_by_host_name),
	    cmocka_unit_test(unresolvable_name_holds_no_worker),
	    cmocka_unit_test(silent_dns_answers_by_deadline),
	    cmocka_unit_test(address_change_followed),
	};
	osh_log_init("test", OSH_LOG_ERROR);
	return cmocka_run_group_tests_name("ipmi_live", tests, setup, teardown);
}
