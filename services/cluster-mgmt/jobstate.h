/* jobstate.h - the states of jobs and of their tasks, and the one table of
 * transitions between them (jobstate.c). The table is the only definition:
 * cluster-mgmt writes it into its database at start (job_transitions) and
 * every change of state in SQL goes through it (move_state()), so the C
 * table and what the database allows cannot drift apart. */
#ifndef CM_JOBSTATE_H
#define CM_JOBSTATE_H

#include <stdbool.h>
#include <stddef.h>

enum job_state {
	JOB_QUEUED, /* waiting for not_before */
	JOB_RUNNING,
	JOB_PAUSED, /* by an operator, or by a failed canary */
	JOB_SUCCEEDED, /* every task succeeded or was skipped */
	JOB_FAILED, /* some task failed, or the failure budget ran out */
	JOB_CANCELLED,
	JOB_STATE_COUNT
};

enum job_event {
	JOB_EV_START, /* not_before reached */
	JOB_EV_PAUSE,
	JOB_EV_RESUME,
	JOB_EV_CANCEL,
	JOB_EV_FINISH, /* every task ended, none failed */
	JOB_EV_FINISH_FAILED, /* every task ended, some failed */
	JOB_EV_BUDGET, /* max_failures exceeded: the rest is skipped */
	JOB_EV_CANARY_FAILED, /* a task of the canary wave failed */
	JOB_EV_EXPIRE, /* not_after passed before the start */
	JOB_EVENT_COUNT
};

enum task_state {
	TASK_PENDING, /* runnable when budgets allow */
	TASK_DISPATCHED, /* a request is (being) sent for this attempt */
	TASK_VERIFYING, /* accepted; polling until the state asked for */
	TASK_RETRY_WAIT, /* a transient error; backing off */
	TASK_SUCCEEDED,
	TASK_FAILED,
	TASK_SKIPPED, /* failure budget, or a lease held by another job */
	TASK_CANCELLED,
	TASK_STATE_COUNT
};

enum task_event {
	TASK_EV_DISPATCH, /* picked by the scheduler */
	TASK_EV_RECALL, /* picked, but its job stopped before the send */
	TASK_EV_DONE, /* accepted, nothing to verify */
	TASK_EV_ACCEPTED, /* accepted, verify follows */
	TASK_EV_ACHIEVED, /* the state asked for was seen */
	TASK_EV_NOT_ACHIEVED, /* the verify deadline passed */
	TASK_EV_TRANSIENT, /* timeout, unreachable, busy, lost: retry */
	TASK_EV_FAIL, /* a permanent error, or no retries left */
	TASK_EV_RETRY_DUE, /* the backoff is over */
	TASK_EV_SKIP,
	TASK_EV_CANCEL,
	TASK_EVENT_COUNT
};

/* One allowed transition. */
struct jobstate_rule {
	int from, event, to;
};

/* The next state of a job or task on an event into *to; false (and *to
 * untouched) when the event is refused in that state, or a value is out
 * of range. */
bool jobstate_job_next(int from, int event, int *to);
bool jobstate_task_next(int from, int event, int *to);

/* Whether a state is final (nothing leaves it). */
bool jobstate_job_final(int s);
bool jobstate_task_final(int s);

/* Names as the API and the database spell them ("running", "retry_wait",
 * "not_achieved"); NULL when out of range. Static strings. */
const char *jobstate_job_name(int s);
const char *jobstate_job_event_name(int e);
const char *jobstate_task_name(int s);
const char *jobstate_task_event_name(int e);

/* The state of a name, -1 when none. */
int jobstate_job_parse(const char *name);
int jobstate_task_parse(const char *name);

/* The rules (static tables) and their counts, for the database copy. */
const struct jobstate_rule *jobstate_job_rules(size_t *n);
const struct jobstate_rule *jobstate_task_rules(size_t *n);

#endif
