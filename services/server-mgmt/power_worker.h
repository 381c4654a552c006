/* power_worker.h - server-mgmt's side of the power work streams (issue 9,
 * README "Power requests"): consumes osh:power-requests in consumer group
 * "server-mgmt", runs each request through bmc_call (the API's own path
 * to a BMC), records it in power_requests before acknowledging, writes
 * the result to osh:power-results, and acknowledges. Entries idle in a
 * dead consumer's pending list are claimed; one delivered too often goes
 * to osh:power-requests:dead. */
#ifndef SM_POWER_WORKER_H
#define SM_POWER_WORKER_H

#define POWER_REQUESTS_STREAM "osh:power-requests"
#define POWER_RESULTS_STREAM "osh:power-results"
#define POWER_DEAD_STREAM "osh:power-requests:dead"
#define POWER_GROUP "server-mgmt"

struct sm_app;
struct power_worker;

/* Starts consuming (it reads once its own Redis connection is up). NULL
 * when out of memory or without Redis. */
struct power_worker *power_worker_new(struct sm_app *app);

/* Stops reading and claiming at once; requests waiting for their turn
 * stay pending in the stream (another replica claims them). Requests
 * already with the BMC or the database carry on while the engine and the
 * pools answer them (stop() frees the engine after this), and the worker
 * is freed with the last of them. */
void power_worker_close(struct power_worker *w);

#endif
