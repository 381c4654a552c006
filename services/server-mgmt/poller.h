/* poller.h - keeps every server's reachability and power state current:
 * a background round over all servers with credentials at a set interval
 * and bounded concurrency, and the one place where what a BMC answered is
 * recorded (and a power change published). */
#ifndef SM_POLLER_H
#define SM_POLLER_H

#include <stdint.h>

#include "sm.h"

struct poller;

struct poller *poller_new(struct sm_app *app);
void poller_free(struct poller *p);

/* Records what a request to a server's BMC saw: status, power state,
 * device identity; publishes server.power_changed when the power state
 * changed. done (may be NULL) gets the server's JSON afterwards (NULL when
 * it could not be stored). */
void poller_observe(struct sm_app *app, int64_t id, const char *name,
    const struct osh_ipmi_request *rq, const struct osh_ipmi_result *r,
    void (*done)(const char *server_json, void *arg), void *arg);

#endif
