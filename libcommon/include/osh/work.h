/* work.h - a pool of worker threads for blocking work (password hashing,
 * IPMI). Results come back on the event loop. */
#ifndef OSH_WORK_H
#define OSH_WORK_H

#include <stddef.h>

struct event_base;
struct osh_work_pool;

typedef void (*osh_work_fn)(void *arg); /* runs on a worker thread */
typedef void (*osh_done_fn)(void *arg); /* runs on the loop afterwards */

struct osh_work_pool *osh_work_pool_new(
    struct event_base *base, int threads, size_t max_queue);
/* Finishes queued work, joins the threads, runs pending done callbacks. */
void osh_work_pool_free(struct osh_work_pool *p);

/* The same, waiting at most timeout_ms for work still running (a thread
 * blocked on a dead peer, say). Returns -1 when that ran out: the threads
 * and the pool are then left behind (the process is ending) and the done
 * callbacks of unfinished work never run. */
int osh_work_pool_free_within(struct osh_work_pool *p, int timeout_ms);

/* Returns -1 when the queue is full; the caller answers 503. */
int osh_work_submit(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg);

size_t osh_work_queued(const struct osh_work_pool *p);

/* Lets 'extra' more items run at once than the pool was made with (up to
 * as many again), starting threads as needed: the caller counts threads
 * it knows to be stuck in work that will not finish soon. Lowering it
 * ends the threads beyond the new count as soon as they are idle. */
void osh_work_pool_set_extra(struct osh_work_pool *p, int extra);

#endif
