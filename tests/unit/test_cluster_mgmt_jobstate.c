/* Unit tests: the job and task state machine (jobstate.c). Every pair of
 * state and event is checked against the matrix written out here, so a
 * transition added, removed or changed in the table shows up as a failure
 * naming the pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-mgmt/jobstate.h"

#define NO (-1)

/* The expected next job state for [state][event]; NO: refused. */
static const int job_matrix[JOB_STATE_COUNT][JOB_EVENT_COUNT] = {
    /*            start        pause       resume       cancel
     *            finish       fin_failed  budget       canary  expire */
    [JOB_QUEUED] = {JOB_RUNNING, JOB_PAUSED, NO, JOB_CANCELLED, NO, NO, NO, NO,
	JOB_FAILED},
    [JOB_RUNNING] = {NO, JOB_PAUSED, NO, JOB_CANCELLED, JOB_SUCCEEDED,
	JOB_FAILED, JOB_FAILED, JOB_PAUSED, NO},
    [JOB_PAUSED] = {NO, NO, JOB_RUNNING, JOB_CANCELLED, NO, NO, NO, NO,
	JOB_FAILED},
    [JOB_SUCCEEDED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [JOB_FAILED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [JOB_CANCELLED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO},
};

/* The expected next task state for [state][event]; NO: refused. Columns:
 * dispatch recall done accepted achieved not_achieved transient fail
 * retry_due skip cancel. */
static const int task_matrix[TASK_STATE_COUNT][TASK_EVENT_COUNT] = {
    [TASK_PENDING] = {TASK_DISPATCHED, NO, NO, NO, NO, NO, NO, NO, NO,
	TASK_SKIPPED, TASK_CANCELLED},
    [TASK_DISPATCHED] = {NO, TASK_PENDING, TASK_SUCCEEDED, TASK_VERIFYING, NO,
	NO, TASK_RETRY_WAIT, TASK_FAILED, NO, NO, NO},
    [TASK_VERIFYING] = {NO, NO, NO, NO, TASK_SUCCEEDED, TASK_FAILED, NO, NO, NO,
	NO, TASK_CANCELLED},
    [TASK_RETRY_WAIT] = {NO, NO, NO, NO, NO, NO, NO, NO, TASK_PENDING,
	TASK_SKIPPED, TASK_CANCELLED},
    [TASK_SUCCEEDED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [TASK_FAILED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [TASK_SKIPPED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [TASK_CANCELLED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
};

static void
every_job_transition(void **state)
{
	(void)state;
	for (int s = 0; s < JOB_STATE_COUNT; s++) {
		for (int e = 0; e < JOB_EVENT_COUNT; e++) {
			int to = 12345;
			bool ok = jobstate_job_next(s, e, &to);

			if (ok != (job_matrix[s][e] != NO) ||
			    (ok && to != job_matrix[s][e]))
				fail_msg("job %s on %s: got %s, want %s",
				    jobstate_job_name(s),
				    jobstate_job_event_name(e),
				    ok ? jobstate_job_name(to) : "refused",
				    job_matrix[s][e] == NO
					? "refused"
					: jobstate_job_name(job_matrix[s][e]));
			if (!ok)
				assert_int_equal(to, 12345);
		}
	}
}

static void
every_task_transition(void **state)
{
	(void)state;
	for (int s = 0; s < TASK_STATE_COUNT; s++) {
		for (int e = 0; e < TASK_EVENT_COUNT; e++) {
			int to = 12345;
			bool ok = jobstate_task_next(s, e, &to);

			if (ok != (task_matrix[s][e] != NO) ||
			    (ok && to != task_matrix[s][e]))
				fail_msg("task %s on %s: got %s, want %s",
				    jobstate_task_name(s),
				    jobstate_task_event_name(e),
				    ok ? jobstate_task_name(to) : "refused",
				    task_matrix[s][e] == NO
					? "refused"
					: jobstate_task_name(
					      task_matrix[s][e]));
			if (!ok)
				assert_int_equal(to, 12345);
		}
	}
}

static void
out_of_range_is_refused(void **state)
{
	int to = 7;

	(void)state;
	assert_false(jobstate_job_next(-1, JOB_EV_START, &to));
	assert_false(jobstate_job_next(JOB_STATE_COUNT, JOB_EV_START, &to));
	assert_false(jobstate_job_next(JOB_QUEUED, -1, &to));
	assert_false(jobstate_job_next(JOB_QUEUED, JOB_EVENT_COUNT, &to));
	assert_false(jobstate_task_next(-1, TASK_EV_DISPATCH, &to));
	assert_false(jobstate_task_next(TASK_STATE_COUNT, 0, &to));
	assert_false(jobstate_task_next(TASK_PENDING, TASK_EVENT_COUNT, &to));
	assert_int_equal(to, 7);
	assert_null(jobstate_job_name(JOB_STATE_COUNT));
	assert_null(jobstate_task_name(-1));
	assert_null(jobstate_task_event_name(TASK_EVENT_COUNT));
	assert_false(jobstate_job_final(-1));
	assert_false(jobstate_task_final(TASK_STATE_COUNT));
}

static void
finals_are_the_states_nothing_leaves(void **state)
{
	(void)state;
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		assert_int_equal(jobstate_job_final(s),
		    s == JOB_SUCCEEDED || s == JOB_FAILED ||
			s == JOB_CANCELLED);
	for (int s = 0; s < TASK_STATE_COUNT; s++)
		assert_int_equal(jobstate_task_final(s),
		    s == TASK_SUCCEEDED || s == TASK_FAILED ||
			s == TASK_SKIPPED || s == TASK_CANCELLED);
}

static void
names_round_trip_and_rules_are_unique(void **state)
{
	const struct jobstate_rule *r;
	size_t n;

	(void)state;
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		assert_int_equal(jobstate_job_parse(jobstate_job_name(s)), s);
	for (int s = 0; s < TASK_STATE_COUNT; s++)
		assert_int_equal(jobstate_task_parse(jobstate_task_name(s)), s);
	assert_int_equal(jobstate_job_parse("done"), -1);
	assert_int_equal(jobstate_task_parse(NULL), -1);
	for (int e = 0; e < JOB_EVENT_COUNT; e++)
		assert_non_null(jobstate_job_event_name(e));
	for (int e = 0; e < TASK_EVENT_COUNT; e++)
		assert_non_null(jobstate_task_event_name(e));
	/* One rule per (state, event): the database copy has it as key. */
	r = jobstate_job_rules(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_false(
			    r[i].from == r[j].from && r[i].event == r[j].event);
	r = jobstate_task_rules(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_false(
			    r[i].from == r[j].from && r[i].event == r[j].event);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_job_transition),
	    cmocka_unit_test(every_task_transition),
	    cmocka_unit_test(out_of_range_is_refused),
	    cmocka_unit_test(finals_are_the_states_nothing_leaves),
	    cmocka_unit_test(names_round_trip_and_rules_are_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
