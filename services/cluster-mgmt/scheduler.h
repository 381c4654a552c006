/* scheduler.h - runs jobs on the event loop (scheduler.c): every tick one
 * statement (sched_tick) decides in the database what to send, the
 * requests go to osh:power-requests, and results read from
 * osh:power-results in group "cluster-mgmt" are stored before they are
 * acknowledged (POWER-STREAMS.md). All state lives in the database, so a
 * restarted cluster-mgmt carries on: what was sent is not sent again
 * unless its attempt is lost (no result past its deadline and a grace). */
#ifndef CM_SCHEDULER_H
#define CM_SCHEDULER_H

struct cm_app;
struct scheduler;

#define POWER_REQUESTS "osh:power-requests"
#define POWER_RESULTS "osh:power-results"
#define POWER_GROUP "cluster-mgmt"

/* Starts the scheduler of app (its service's loop, database and Redis).
 * NULL on failure. */
struct scheduler *scheduler_new(struct cm_app *app);
/* Stops it; requests held back for jitter are dropped (their attempts
 * count as lost and are retried by the next scheduler). NULL is fine. */
void scheduler_free(struct scheduler *s);
/* Asks for a tick soon (after a change a handler stored). */
void scheduler_kick(struct scheduler *s);

#endif
