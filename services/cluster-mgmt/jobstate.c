/* jobstate.c - the state machine of jobs and tasks as two tables of
 * allowed transitions; anything not listed is refused. */
#include <string.h>

#include <osh/util.h>

#include "jobstate.h"

static const char *const job_names[JOB_STATE_COUNT] = {
    [JOB_QUEUED] = "queued",
    [JOB_RUNNING] = "running",
    [JOB_PAUSED] = "paused",
    [JOB_SUCCEEDED] = "succeeded",
    [JOB_FAILED] = "failed",
    [JOB_CANCELLED] = "cancelled",
};

static const char *const job_event_names[JOB_EVENT_COUNT] = {
    [JOB_EV_START] = "start",
    [JOB_EV_PAUSE] = "pause",
    [JOB_EV_RESUME] = "resume",
    [JOB_EV_CANCEL] = "cancel",
    [JOB_EV_FINISH] = "finish",
    [JOB_EV_FINISH_FAILED] = "finish_failed",
    [JOB_EV_BUDGET] = "budget",
    [JOB_EV_CANARY_FAILED] = "canary_failed",
    [JOB_EV_EXPIRE] = "expire",
};

static const char *const task_names[TASK_STATE_COUNT] = {
    [TASK_PENDING] = "pending",
    [TASK_DISPATCHED] = "dispatched",
    [TASK_VERIFYING] = "verifying",
    [TASK_RETRY_WAIT] = "retry_wait",
    [TASK_SUCCEEDED] = "succeeded",
    [TASK_FAILED] = "failed",
    [TASK_SKIPPED] = "skipped",
    [TASK_CANCELLED] = "cancelled",
};

static const char *const task_event_names[TASK_EVENT_COUNT] = {
    [TASK_EV_DISPATCH] = "dispatch",
    [TASK_EV_RECALL] = "recall",
    [TASK_EV_DONE] = "done",
    [TASK_EV_ACCEPTED] = "accepted",
    [TASK_EV_ACHIEVED] = "achieved",
    [TASK_EV_NOT_ACHIEVED] = "not_achieved",
    [TASK_EV_TRANSIENT] = "transient",
    [TASK_EV_FAIL] = "fail",
    [TASK_EV_RETRY_DUE] = "retry_due",
    [TASK_EV_SKIP] = "skip",
    [TASK_EV_CANCEL] = "cancel",
};

/*
 * A job: queued until not_before, running until its tasks end; paused by
 * an operator or a failed canary; cancel stops it from any live state.
 */
static const struct jobstate_rule job_rules[] = {
    {JOB_QUEUED, JOB_EV_START, JOB_RUNNING},
    {JOB_QUEUED, JOB_EV_PAUSE, JOB_PAUSED},
    {JOB_QUEUED, JOB_EV_CANCEL, JOB_CANCELLED},
    {JOB_QUEUED, JOB_EV_EXPIRE, JOB_FAILED},
    {JOB_RUNNING, JOB_EV_PAUSE, JOB_PAUSED},
    {JOB_RUNNING, JOB_EV_CANCEL, JOB_CANCELLED},
    {JOB_RUNNING, JOB_EV_FINISH, JOB_SUCCEEDED},
    {JOB_RUNNING, JOB_EV_FINISH_FAILED, JOB_FAILED},
    {JOB_RUNNING, JOB_EV_BUDGET, JOB_FAILED},
    {JOB_RUNNING, JOB_EV_CANARY_FAILED, JOB_PAUSED},
    {JOB_PAUSED, JOB_EV_RESUME, JOB_RUNNING},
    {JOB_PAUSED, JOB_EV_CANCEL, JOB_CANCELLED},
    {JOB_PAUSED, JOB_EV_EXPIRE, JOB_FAILED},
};

/*
 * A task: pending until picked; dispatched until its result; verifying
 * until the state asked for is seen; backing off after a transient error.
 * A dispatched task cannot be cancelled or skipped: its command may be
 * running at the BMC, and its result decides. Its job's stop reaches it
 * as a recall (before the send) or after the result.
 */
static const struct jobstate_rule task_rules[] = {
    {TASK_PENDING, TASK_EV_DISPATCH, TASK_DISPATCHED},
    {TASK_PENDING, TASK_EV_SKIP, TASK_SKIPPED},
    {TASK_PENDING, TASK_EV_CANCEL, TASK_CANCELLED},
    {TASK_DISPATCHED, TASK_EV_RECALL, TASK_PENDING},
    {TASK_DISPATCHED, TASK_EV_DONE, TASK_SUCCEEDED},
    {TASK_DISPATCHED, TASK_EV_ACCEPTED, TASK_VERIFYING},
    {TASK_DISPATCHED, TASK_EV_TRANSIENT, TASK_RETRY_WAIT},
    {TASK_DISPATCHED, TASK_EV_FAIL, TASK_FAILED},
    {TASK_VERIFYING, TASK_EV_ACHIEVED, TASK_SUCCEEDED},
    {TASK_VERIFYING, TASK_EV_NOT_ACHIEVED, TASK_FAILED},
    {TASK_VERIFYING, TASK_EV_CANCEL, TASK_CANCELLED},
    {TASK_RETRY_WAIT, TASK_EV_RETRY_DUE, TASK_PENDING},
    {TASK_RETRY_WAIT, TASK_EV_SKIP, TASK_SKIPPED},
    {TASK_RETRY_WAIT, TASK_EV_CANCEL, TASK_CANCELLED},
};

static bool
next(const struct jobstate_rule *rules, size_t n, int nstates, int nevents,
    int from, int event, int *to)
{
	if (from < 0 || from >= nstates || event < 0 || event >= nevents)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (rules[i].from == from && rules[i].event == event) {
			*to = rules[i].to;
			return true;
		}
	}
	return false;
}

bool
jobstate_job_next(int from, int event, int *to)
{
	return next(job_rules, OSH_ARRAY_LEN(job_rules), JOB_STATE_COUNT,
	    JOB_EVENT_COUNT, from, event, to);
}

bool
jobstate_task_next(int from, int event, int *to)
{
	return next(task_rules, OSH_ARRAY_LEN(task_rules), TASK_STATE_COUNT,
	    TASK_EVENT_COUNT, from, event, to);
}

static bool
final(const struct jobstate_rule *rules, size_t n, int nstates, int s)
{
	if (s < 0 || s >= nstates)
		return false;
	for (size_t i = 0; i < n; i++)
		if (rules[i].from == s)
			return false;
	return true;
}

bool
jobstate_job_final(int s)
{
	return final(job_rules, OSH_ARRAY_LEN(job_rules), JOB_STATE_COUNT, s);
}

bool
jobstate_task_final(int s)
{
	return final(
	    task_rules, OSH_ARRAY_LEN(task_rules), TASK_STATE_COUNT, s);
}

const char *
jobstate_job_name(int s)
{
	return s >= 0 && s < JOB_STATE_COUNT ? job_names[s] : NULL;
}

const char *
jobstate_job_event_name(int e)
{
	return e >= 0 && e < JOB_EVENT_COUNT ? job_event_names[e] : NULL;
}

const char *
jobstate_task_name(int s)
{
	return s >= 0 && s < TASK_STATE_COUNT ? task_names[s] : NULL;
}

const char *
jobstate_task_event_name(int e)
{
	return e >= 0 && e < TASK_EVENT_COUNT ? task_event_names[e] : NULL;
}

static int
parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; name != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
jobstate_job_parse(const char *name)
{
	return parse(job_names, JOB_STATE_COUNT, name);
}

int
jobstate_task_parse(const char *name)
{
	return parse(task_names, TASK_STATE_COUNT, name);
}

const struct jobstate_rule *
jobstate_job_rules(size_t *n)
{
	*n = OSH_ARRAY_LEN(job_rules);
	return job_rules;
}

const struct jobstate_rule *
jobstate_task_rules(size_t *n)
{
	*n = OSH_ARRAY_LEN(task_rules);
	return task_rules;
}
