/* Unit tests of the worker pool: background work runs only when no other
 * waits and never fills the bounded queue; work not started yet can be
 * taken back; and a pool left behind at the end
 * (osh_work_pool_free_within running out) starts nothing more, its
 * threads ending after the work they are on, so that nothing of the
 * owner's is touched while the process tears itself down. */
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "osh/work.h"

static atomic_bool release;
static atomic_int started, finished;

/* A BMC gone silent: returns once released. */
static void
blocking(void *arg)
{
	(void)arg;
	started++;
	while (!release)
		usleep(1000);
	finished++;
}

static void
done(void *arg)
{
	(void)arg;
	fail_msg("no done callback runs once the pool is left behind");
}

/* One thread, held by a gate item, so that what follows queues. */
static atomic_bool gate_open;
static char order[16];
static atomic_int norder, ndone;

static void
gate(void *arg)
{
	(void)arg;
	while (!gate_open)
		usleep(1000);
}

static void
mark(void *arg)
{
	order[norder++] = *(const char *)arg;
}

static void
count_done(void *arg)
{
	(void)arg;
	ndone++;
}

static void
run_until(struct event_base *b, int done)
{
	for (int i = 0; i < 2000 && ndone < done; i++) {
		event_base_loop(b, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

static void
test_background_waits_for_requests(void **state)
{
	struct event_base *b = event_base_new();
	struct osh_work_pool *p = osh_work_pool_new(b, 1, 2);
	static char bg = 'b', r1 = '1', r2 = '2';

	(void)state;
	gate_open = false;
	norder = ndone = 0;
	assert_int_equal(osh_work_submit(p, gate, count_done, NULL), 0);
	usleep(20000); /* the gate is on the thread */
	assert_int_equal(
	    osh_work_submit_background(p, mark, count_done, &bg), 0);
	assert_int_equal(osh_work_submit(p, mark, count_done, &r1), 0);
	assert_int_equal(osh_work_submit(p, mark, count_done, &r2), 0);
	/* The bound is the requests': background work is past it. */
	assert_true(osh_work_full(p));
	assert_int_equal(
	    osh_work_submit_background(p, mark, count_done, &bg), 0);
	assert_int_equal(osh_work_queued(p), 2);
	assert_int_equal(osh_work_queued_background(p), 2);
	gate_open = true;
	run_until(b, 5);
	assert_int_equal(ndone, 5);
	order[norder] = '\0';
	assert_string_equal(order, "12bb");
	osh_work_pool_free(p);
	event_base_free(b);
}

static void
test_cancel_takes_back_what_waits(void **state)
{
	struct event_base *b = event_base_new();
	struct osh_work_pool *p = osh_work_pool_new(b, 1, 8);
	static char x = 'x', y = 'y', z = 'z';

	(void)state;
	gate_open = false;
	norder = ndone = 0;
	assert_int_equal(osh_work_submit(p, gate, count_done, &z), 0);
	usleep(20000);
	assert_int_equal(osh_work_submit(p, mark, count_done, &x), 0);
	assert_int_equal(
	    osh_work_submit_background(p, mark, count_done, &y), 0);
	assert_int_equal(osh_work_cancel(p, &x), 0);
	assert_int_equal(osh_work_cancel(p, &y), 0);
	assert_int_equal(osh_work_cancel(p, &x), -1);
	/* Started: it runs to its end, its done callback too. */
	assert_int_equal(osh_work_cancel(p, &z), -1);
	assert_int_equal(osh_work_queued(p), 0);
	assert_int_equal(osh_work_queued_background(p), 0);
	gate_open = true;
	run_until(b, 1);
	usleep(20000);
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(ndone, 1);
	assert_int_equal(norder, 0);
	osh_work_pool_free(p);
	event_base_free(b);
}

/* Left behind on purpose: kept here, so that LeakSanitizer sees them
 * held. */
static struct event_base *volatile left_base;
static struct osh_work_pool *volatile left_pool;

static void
test_left_behind_starts_nothing_more(void **state)
{
	struct event_base *base = left_base = event_base_new();
	struct osh_work_pool *p = left_pool = osh_work_pool_new(base, 1, 16);

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 4; i++)
		assert_int_equal(osh_work_submit(p, blocking, done, NULL), 0);
	while (started == 0)
		usleep(1000);
	assert_int_equal(osh_work_abandoned(), 0);
	assert_int_equal(osh_work_pool_free_within(p, 50), -1);
	assert_int_equal(osh_work_abandoned(), 1);
	release = true;
	/* The thread ends after its item instead of taking the three
	 * queued behind it. */
	usleep(200000);
	assert_int_equal(finished, 1);
	assert_int_equal(started, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_background_waits_for_requests),
	    cmocka_unit_test(test_cancel_takes_back_what_waits),
	    /* Last: it leaves a thread behind. */
	    cmocka_unit_test(test_left_behind_starts_nothing_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
