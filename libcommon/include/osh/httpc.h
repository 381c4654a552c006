/* httpc.h - outgoing HTTP on the event loop (libcurl multi): many requests
 * at once, each with a deadline, never blocking the loop. */
#ifndef OSH_HTTPC_H
#define OSH_HTTPC_H

#include <stddef.h>

struct event_base;
struct osh_httpc;
struct osh_metrics;
struct osh_pool_stats;

/* status is the HTTP status, or 0 when there was no answer (error says
 * why). body (NUL terminated) is valid only during the callback, and
 * wiped afterwards: a callback that copies a secret out of it wipes its
 * copy itself. */
typedef void (*osh_httpc_cb)(
    int status, const char *body, size_t len, const char *error, void *arg);

struct osh_httpc *osh_httpc_new(struct event_base *base);
/* Pending requests get their callbacks (status 0) before this returns. */
void osh_httpc_free(struct osh_httpc *c);

/* headers: NULL-terminated "Name: value" strings (copied); body may be
 * NULL. Both copies are wiped when the transfer ends, and so is what
 * libcurl held of them (the caller's own strings are the caller's to
 * wipe). Returns 0, and the callback runs later, exactly once; or
 * OSH_HTTPC_BUSY at once when max_inflight requests run and max_queue
 * wait already (answer 503), or -1 when out of memory: the callback then
 * never runs. A request that waits for its turn has what is left of
 * timeout_ms once it starts (one whose deadline passed while waiting
 * fails then, status 0). Answers larger than 8 MiB fail. */
#define OSH_HTTPC_BUSY (-2)
int osh_httpc_request(struct osh_httpc *c, const char *method, const char *url,
    const char *const *headers, const char *body, size_t len, int timeout_ms,
    osh_httpc_cb cb, void *arg);

/* Requests running at once (default 32) and waiting (default 256) at
 * most. */
void osh_httpc_set_limits(
    struct osh_httpc *c, size_t max_inflight, size_t max_queue);

/* Running, waiting, waits for a turn and refusals, for osh_metrics_pool;
 * osh_httpc_metrics registers them with m as pool="<pool_name>" (a
 * static name). c must outlive m's collections. */
void osh_httpc_pool_stats(
    const struct osh_httpc *c, struct osh_pool_stats *out);
void osh_httpc_metrics(
    struct osh_httpc *c, struct osh_metrics *m, const char *pool_name);

#endif
