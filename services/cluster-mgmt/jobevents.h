/* jobevents.h - each job's own Redis stream of changes, osh:job:<id>:events
 * (jobevents.c), kept OSH_JOB_EVENTS_TTL_S after its last entry: what
 * GET /api/jobs/{id}/events (Server-Sent Events) replays from a
 * Last-Event-ID and follows. Entries: type (task, job, request) and data
 * (JSON text). Writing is best effort: a lost entry never changes a job,
 * and GET /api/jobs/{id}/tasks stays the truth. */
#ifndef CM_JOBEVENTS_H
#define CM_JOBEVENTS_H

#include <json-c/json.h>
#include <stdint.h>

struct osh_redis;

#define JOBEVENTS_MAXLEN "20000"

/* The TTL in seconds of every job stream (set once from the config). */
void jobevents_set_ttl(int64_t seconds);

/* A task changed (data: the task's JSON with job_id). */
void jobevents_task(struct osh_redis *r, struct json_object *task);
/* A request was sent for a task (data: the request). */
void jobevents_request(struct osh_redis *r, struct json_object *req);
/* The job changed state (data: {id, state, event}). */
void jobevents_job(struct osh_redis *r, struct json_object *job);

/* The stream's key for job id into buf. */
void jobevents_key(int64_t id, char *buf, size_t len);

#endif
