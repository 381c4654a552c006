/* work.h - a pool of worker threads for blocking work (password hashing,
 * IPMI). Results come back on the event loop. */
#ifndef OSH_WORK_H
#define OSH_WORK_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct osh_work_pool;
struct osh_pool_stats;

typedef void (*osh_work_fn)(void *arg); /* runs on a worker thread */
typedef void (*osh_done_fn)(void *arg); /* runs on the loop afterwards */

struct osh_work_pool *osh_work_pool_new(
    struct event_base *base, int threads, size_t max_queue);
/* Finishes queued work, joins the threads, runs pending done callbacks. */
void osh_work_pool_free(struct osh_work_pool *p);

/* The same, waiting at most timeout_ms for work still running (a thread
 * blocked on a dead peer, say). Returns -1 when that ran out: the threads
 * and the pool are then left behind (the process is ending), work not
 * started yet never starts, each thread ends once its current work
 * returns, and no done callback runs any more: the owner keeps whatever
 * that work touches (it is never freed). */
int osh_work_pool_free_within(struct osh_work_pool *p, int timeout_ms);

/* How many pools were left behind so: their threads may still be inside
 * a library when main returns, and exit() would run the libraries'
 * destructors under them (OpenSSL's, say): the process ends with _exit
 * then (osh_service_main). */
int osh_work_abandoned(void);

/* Returns -1 when the queue is full (counted as rejected) or the pool is
 * ending; the caller answers 503. */
int osh_work_submit(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg);

/* The same past max_queue (-1 only when the pool is ending): work the
 * owner owes whatever the load, such as closing what it opened, and
 * bounds itself. */
int osh_work_submit_owed(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg);

/* Background work (keeping idle connections alive, closing them): waits
 * in a list of its own, taken by a thread only when no other work waits,
 * and never counted against max_queue (so it never has other work
 * refused); unbounded: the caller bounds it (-1 only when the pool is
 * ending). */
int osh_work_submit_background(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg);
size_t osh_work_queued_background(const struct osh_work_pool *p);

/* Takes work submitted with arg off the queue when no thread has started
 * it yet: 0, and neither it nor its done callback will run; -1 when it
 * has started (or is unknown): its done callback runs as usual. For work
 * whose deadline passed while it waited for a thread. */
int osh_work_cancel(struct osh_work_pool *p, void *arg);

/* Whether the queue is full now: a caller that would queue work for later
 * refuses at once instead (counted as rejected when true). */
bool osh_work_full(struct osh_work_pool *p);

size_t osh_work_queued(const struct osh_work_pool *p);

/* Threads, busy ones, the queue, waits for a thread and refusals, for
 * osh_metrics_pool. */
void osh_work_pool_stats(struct osh_work_pool *p, struct osh_pool_stats *out);

/* Lets 'extra' more items run at once than the pool was made with (up to
 * as many again), starting threads as needed: the caller counts threads
 * it knows to be stuck in work that will not finish soon. Lowering it
 * ends the threads beyond the new count as soon as they are idle. */
void osh_work_pool_set_extra(struct osh_work_pool *p, int extra);

#endif
