/* Unit tests: metrics.c, config.c and log.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/config.h"
#include "osh/log.h"
#include "osh/metrics.h"

static void
render(void **state)
{
	static const double b[] = {0.1, 1};
	struct osh_metrics *m = osh_metrics_new();
	struct osh_metric *c =
	    osh_metric_new(m, "x_total", "X things", OSH_COUNTER, NULL, 0);
	struct osh_metric *h =
	    osh_metric_new(m, "x_seconds", "X time", OSH_HISTOGRAM, b, 2);
	struct osh_buf out;

	(void)state;
	osh_metric_add(c, "k=\"a\"", 1);
	osh_metric_add(c, "k=\"a\"", 2);
	osh_metric_add(c, "k=\"b\"", 1);
	osh_metric_observe(h, "", 0.05);
	osh_metric_observe(h, "", 0.5);
	osh_metric_observe(h, "", 5);
	osh_buf_init(&out, 0);
	osh_metrics_render(m, &out);
	assert_non_null(strstr(out.data,
	    "# TYPE x_total counter\n"
	    "x_total{k=\"a\"} 3\nx_total{k=\"b\"} 1\n"));
	assert_non_null(strstr(out.data,
	    "x_seconds_bucket{le=\"0.1\"} 1\n"
	    "x_seconds_bucket{le=\"1\"} 2\nx_seconds_bucket{le=\"+Inf\"} 3\n"
	    "x_seconds_sum 5.55\nx_seconds_count 3\n"));
	/* Families without series are left out. */
	assert_null(strstr(out.data, "osh_http_requests_total"));
	osh_buf_release(&out);
	osh_metrics_free(m);
}

/* A pool's figures render as osh_pool_* series labelled by pool. */
static void
pool_series(void **state)
{
	struct osh_metrics *m = osh_metrics_new();
	struct osh_pool_stats ps;
	struct osh_buf out;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	ps.size = 4;
	ps.in_use = 3;
	ps.depth = 7;
	ps.limit = 256;
	ps.rejected = 2;
	ps.timeouts = 1;
	osh_pool_stats_wait(&ps, 500); /* 0.5 ms */
	osh_pool_stats_wait(&ps, 2000000); /* 2 s */
	osh_metrics_pool(m, "db", &ps);
	osh_metrics_pool(m, "db", &ps); /* sets, not adds */
	osh_buf_init(&out, 0);
	osh_metrics_render(m, &out);
	assert_non_null(
	    strstr(out.data, "osh_pool_queue_depth{pool=\"db\"} 7\n"));
	assert_non_null(
	    strstr(out.data, "osh_pool_queue_limit{pool=\"db\"} 256\n"));
	assert_non_null(strstr(out.data, "osh_pool_in_use{pool=\"db\"} 3\n"));
	assert_non_null(strstr(out.data, "osh_pool_size{pool=\"db\"} 4\n"));
	assert_non_null(
	    strstr(out.data, "osh_pool_rejected_total{pool=\"db\"} 2\n"));
	assert_non_null(
	    strstr(out.data, "osh_pool_timeouts_total{pool=\"db\"} 1\n"));
	assert_non_null(strstr(out.data,
	    "osh_pool_wait_seconds_bucket{pool=\"db\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(out.data,
	    "osh_pool_wait_seconds_bucket{pool=\"db\",le=\"2.5\"} 2\n"));
	assert_non_null(strstr(out.data,
	    "osh_pool_wait_seconds_bucket{pool=\"db\",le=\"+Inf\"} 2\n"
	    "osh_pool_wait_seconds_sum{pool=\"db\"} 2.0005\n"
	    "osh_pool_wait_seconds_count{pool=\"db\"} 2\n"));
	osh_buf_release(&out);
	osh_metrics_free(m);
}

static void
escape(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(osh_metrics_escape("a\"b\\c\nd", out, sizeof(out)),
	    "a\\\"b\\\\c\\nd");
	assert_string_equal(
	    osh_log_quote("x\"y\n", out, sizeof(out)), "x\\\"y?");
}

static int64_t port;
static const char *name;
static bool flag;

static const struct osh_config_item items[] = {
    {"OSH_TEST_PORT", OSH_CONF_INT, &port, "80", 1, 65535, NULL, ""},
    {"OSH_TEST_NAME", OSH_CONF_STRING, &name, NULL, 0, 0, NULL, ""},
    {"OSH_TEST_FLAG", OSH_CONF_BOOL, &flag, "no", 0, 0, NULL, ""},
};

static void
config_table(void **state)
{
	char err[200];

	(void)state;
	unsetenv("OSH_TEST_NAME");
	assert_int_equal(osh_config_load(items, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "OSH_TEST_NAME"));
	setenv("OSH_TEST_NAME", "n", 1);
	assert_int_equal(osh_config_load(items, 3, err, sizeof(err)), 0);
	assert_int_equal(port, 80);
	assert_false(flag);
	setenv("OSH_TEST_PORT", "70000", 1);
	assert_int_equal(osh_config_load(items, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "OSH_TEST_PORT"));
	setenv("OSH_TEST_PORT", "8101", 1);
	setenv("OSH_TEST_FLAG", "maybe", 1);
	assert_int_equal(osh_config_load(items, 3, err, sizeof(err)), -1);
	setenv("OSH_TEST_FLAG", "true", 1);
	assert_int_equal(osh_config_load(items, 3, err, sizeof(err)), 0);
	assert_int_equal(port, 8101);
	assert_true(flag);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(render),
	    cmocka_unit_test(pool_series),
	    cmocka_unit_test(escape),
	    cmocka_unit_test(config_table),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
