/* jobstore.h - cluster-mgmt's SQL for jobs and tasks (migrations/
 * 002_jobs.sql holds the logic: job_create, job_control, sched_tick, ...).
 * Every call runs one statement and answers JSON through an
 * osh_db_json_cb; a job that does not exist answers OSH_DB_NOT_FOUND.
 * Refusals raise OSJ0x SQLSTATEs (OSH_DB_RAISED): OSJ01 the job's state
 * refuses the event, OSJ02 no such cluster, OSJ03 an idempotency key
 * reused with another body, OSJ04 nothing failed to retry, OSJ05 the job
 * still runs. */
#ifndef CM_JOBSTORE_H
#define CM_JOBSTORE_H

#include <stdint.h>

#include <osh/db.h>

/* Writes the state machine's table (jobstate.c) into job_transitions. */
void jobstore_load_transitions(struct osh_db *db, osh_db_json_cb cb, void *arg);

/* The plan of a normalized spec (jobinput.h) without running it. */
void jobstore_plan(
    struct osh_db *db, const char *spec, osh_db_json_cb cb, void *arg);
/* Creates the job of spec for creator: {"job", "existing"}; key (may be
 * NULL) is the Idempotency-Key. */
void jobstore_create(struct osh_db *db, const char *spec, const char *creator,
    const char *key, osh_db_json_cb cb, void *arg);
/* A new job of the failed tasks of job id: {"job", "existing": false}. */
void jobstore_retry(struct osh_db *db, int64_t id, const char *creator,
    osh_db_json_cb cb, void *arg);
/* Applies event ("cancel", "pause", "resume") to job id: the job. */
void jobstore_control(struct osh_db *db, int64_t id, const char *event,
    osh_db_json_cb cb, void *arg);

struct jobstore_filter {
	const char *state, *action, *creator, *cluster, *since, *until;
	int64_t limit, offset;
};

void jobstore_list(struct osh_db *db, const struct jobstore_filter *f,
    osh_db_json_cb cb, void *arg);
void jobstore_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg);
/* {"job_id", "items": [task...], "total"} by order; state may be NULL. */
void jobstore_tasks(struct osh_db *db, int64_t id, const char *state,
    int64_t limit, int64_t offset, osh_db_json_cb cb, void *arg);

/* The scheduler (scheduler.c). */
void jobstore_tick(struct osh_db *db, int max_picks, int grace_ms,
    osh_db_json_cb cb, void *arg);
void jobstore_results(
    struct osh_db *db, const char *results, osh_db_json_cb cb, void *arg);
void jobstore_release(struct osh_db *db, int64_t task, int64_t attempt,
    osh_db_json_cb cb, void *arg);
void jobstore_prune(
    struct osh_db *db, int64_t days, osh_db_json_cb cb, void *arg);

#endif
