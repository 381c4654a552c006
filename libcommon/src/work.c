/* work.c - worker threads for blocking work. Finished items go onto a
 * done list and one byte on a pipe wakes the loop to run their callbacks.
 * Background items (osh_work_submit_background) wait in a list of their
 * own, taken only when no other item waits, and count against nobody's
 * bound.
 * At most 'base + extra' items run at once; the owner raises 'extra' for
 * threads it knows are stuck (on a BMC that went silent, say), so that
 * they do not starve everyone else, and lowers it when they come back:
 * threads beyond 'base + extra' then end as soon as they are idle. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <sys/queue.h>
#include <unistd.h>

#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/util.h"
#include "osh/work.h"

struct item {
	STAILQ_ENTRY(item) next;
	osh_work_fn work;
	osh_done_fn done;
	void *arg;
	uint64_t queued_us;
};
STAILQ_HEAD(item_list, item);

struct osh_work_pool;

/* A thread's place: started (to be joined), and whether it has ended. */
struct slot {
	pthread_t thread;
	bool used, ended;
	struct osh_work_pool *p;
};

struct osh_work_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item_list todo, done;
	struct item_list background; /* taken when todo is empty */
	size_t queued, max_queue;
	size_t queued_background;
	int active; /* threads running work now */
	bool quit;
	/* Left behind at the end (osh_work_pool_free_within ran out): each
	 * thread ends after the item it is on, taking no other, so that as
	 * little as possible runs while the process tears itself down. */
	bool abandoned;
	pthread_cond_t idle;
	int base, extra; /* how many may run at once: base + extra */
	int live, cap; /* threads in their loop; at most cap */
	struct slot *slots; /* cap of them */
	int pipe_rd, pipe_wr;
	struct event *ev;
	struct osh_pool_stats ps; /* waits and refusals, under mu */
};

/* Whether no item waits (p->mu held). */
static bool
nothing_to_do(const struct osh_work_pool *p)
{
	return STAILQ_EMPTY(&p->todo) && STAILQ_EMPTY(&p->background);
}

static void *
worker(void *arg)
{
	struct slot *sl = arg;
	struct osh_work_pool *p = sl->p;
	struct item *it;
	bool wake;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->abandoned)
			goto out_end;
		while ((nothing_to_do(p) || p->active >= p->base + p->extra) &&
		    !p->quit) {
			if (p->live > p->base + p->extra)
				goto out_end; /* idle and one too many */
			pthread_cond_wait(&p->cv, &p->mu);
		}
		if (nothing_to_do(p))
			break;
		if ((it = STAILQ_FIRST(&p->todo)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->todo, next);
			p->queued--;
		} else {
			it = STAILQ_FIRST(&p->background);
			STAILQ_REMOVE_HEAD(&p->background, next);
			p->queued_background--;
		}
		p->active++;
		osh_pool_stats_wait(&p->ps, osh_now_us() - it->queued_us);
		pthread_mutex_unlock(&p->mu);

		it->work(it->arg);

		pthread_mutex_lock(&p->mu);
		p->active--;
		pthread_cond_broadcast(&p->idle);
		wake = STAILQ_EMPTY(&p->done);
		STAILQ_INSERT_TAIL(&p->done, it, next);
		if (wake)
			(void)!write(p->pipe_wr, "x", 1);
	}
out_end:
	/* Joined by the next spawn or by the pool's end; after this the
	 * thread touches nothing of the pool's. */
	sl->ended = true;
	p->live--;
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void reap(struct osh_work_pool *p);

/* Pools left behind with threads still in their work (see
 * osh_work_abandoned). */
static _Atomic int abandoned_pools;

/* Runs the done callbacks of everything finished so far, and joins the
 * threads that ended meanwhile. */
static void
drain(struct osh_work_pool *p)
{
	struct item_list list;
	struct item *it;
	char buf[64];

	while (read(p->pipe_rd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	list = p->done;
	STAILQ_INIT(&p->done);
	if (STAILQ_EMPTY(&list))
		STAILQ_INIT(&list);
	reap(p);
	pthread_mutex_unlock(&p->mu);
	while ((it = STAILQ_FIRST(&list)) != NULL) {
		STAILQ_REMOVE_HEAD(&list, next);
		if (it->done != NULL)
			it->done(it->arg);
		free(it);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

/* Joins the threads that ended (p->mu held: they no longer need it). */
static void
reap(struct osh_work_pool *p)
{
	for (int i = 0; i < p->cap; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->used && sl->ended) {
			pthread_join(sl->thread, NULL);
			sl->used = sl->ended = false;
		}
	}
}

/* Starts threads until 'want' are live (p->mu held). */
static void
spawn(struct osh_work_pool *p, int want)
{
	reap(p);
	for (int i = 0; i < p->cap && p->live < want; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->used)
			continue;
		sl->p = p;
		if (pthread_create(&sl->thread, NULL, worker, sl) != 0) {
			osh_log_warn(NULL,
			    "msg=\"cannot start a worker thread\" "
			    "threads=%d",
			    p->live);
			break;
		}
		sl->used = true;
		p->live++;
	}
}

void
osh_work_pool_set_extra(struct osh_work_pool *p, int extra)
{
	pthread_mutex_lock(&p->mu);
	if (extra < 0)
		extra = 0;
	if (extra > p->cap - p->base)
		extra = p->cap - p->base;
	p->extra = extra;
	/* More: start them. Fewer: the idle ones beyond end. */
	spawn(p, p->base + extra);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct osh_work_pool *
osh_work_pool_new(struct event_base *base, int threads, size_t max_queue)
{
	struct osh_work_pool *p;
	int fds[2];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->idle, NULL);
	STAILQ_INIT(&p->todo);
	STAILQ_INIT(&p->done);
	STAILQ_INIT(&p->background);
	p->max_queue = max_queue;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		goto out_free;
	p->pipe_rd = fds[0];
	p->pipe_wr = fds[1];
	p->ev = event_new(base, p->pipe_rd, EV_READ | EV_PERSIST, on_wake, p);
	if (p->ev == NULL || event_add(p->ev, NULL) != 0)
		goto out_close;
	p->base = threads;
	p->cap = threads * 2;
	p->slots = calloc((size_t)p->cap, sizeof(*p->slots));
	if (p->slots == NULL)
		goto out_close;
	pthread_mutex_lock(&p->mu);
	spawn(p, threads);
	pthread_mutex_unlock(&p->mu);
	if (p->live == 0)
		goto out_close;
	p->base = p->live;
	return p;
out_close:
	if (p->ev != NULL)
		event_free(p->ev);
	close(fds[0]);
	close(fds[1]);
	free(p->slots);
out_free:
	free(p);
	return NULL;
}

int
osh_work_pool_free_within(struct osh_work_pool *p, int timeout_ms)
{
	struct timespec until;
	int rc = 0;

	if (p == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	while ((p->active > 0 || !nothing_to_do(p)) && rc == 0)
		rc = pthread_cond_timedwait(&p->idle, &p->mu, &until);
	if (p->active > 0 || !nothing_to_do(p)) {
		/* What waits is not started: its owner has given it up. */
		p->abandoned = true;
		abandoned_pools++;
		pthread_mutex_unlock(&p->mu);
		osh_log_warn(NULL,
		    "msg=\"worker threads still busy at exit, "
		    "leaving them\" busy=%d",
		    p->active);
		for (int i = 0; i < p->cap; i++)
			if (p->slots[i].used)
				pthread_detach(p->slots[i].thread);
		event_del(p->ev); /* their done callbacks never run */
		return -1;
	}
	pthread_mutex_unlock(&p->mu);
	osh_work_pool_free(p);
	return 0;
}

void
osh_work_pool_free(struct osh_work_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->cap; i++) {
		if (p->slots[i].used)
			pthread_join(p->slots[i].thread, NULL);
		p->slots[i].used = false;
	}
	drain(p);
	event_free(p->ev);
	close(p->pipe_rd);
	close(p->pipe_wr);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_cond_destroy(&p->idle);
	free(p->slots);
	free(p);
}

enum lane {
	BOUNDED,
	OWED,
	BACKGROUND
};

static int
submit(struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg,
    enum lane lane)
{
	struct item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return -1;
	it->work = work;
	it->done = done;
	it->arg = arg;
	it->queued_us = osh_now_us();
	pthread_mutex_lock(&p->mu);
	if ((lane == BOUNDED && p->queued >= p->max_queue) || p->quit) {
		if (!p->quit)
			p->ps.rejected++;
		pthread_mutex_unlock(&p->mu);
		free(it);
		return -1;
	}
	if (lane == BACKGROUND) {
		STAILQ_INSERT_TAIL(&p->background, it, next);
		p->queued_background++;
	} else {
		STAILQ_INSERT_TAIL(&p->todo, it, next);
		p->queued++;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int
osh_work_abandoned(void)
{
	return abandoned_pools;
}

size_t
osh_work_queued(const struct osh_work_pool *p)
{
	return p->queued;
}

int
osh_work_submit(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg)
{
	return submit(p, work, done, arg, BOUNDED);
}

int
osh_work_submit_owed(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg)
{
	return submit(p, work, done, arg, OWED);
}

int
osh_work_submit_background(
    struct osh_work_pool *p, osh_work_fn work, osh_done_fn done, void *arg)
{
	return submit(p, work, done, arg, BACKGROUND);
}

size_t
osh_work_queued_background(const struct osh_work_pool *p)
{
	return p->queued_background;
}

/* Takes the first item for arg off list l, if there. */
static bool
unqueue(struct item_list *l, void *arg)
{
	struct item *it;

	STAILQ_FOREACH(it, l, next)
	{
		/* cppcheck-suppress uninitvar ; it does not know STAILQ */
		if (it->arg == arg) {
			STAILQ_REMOVE(l, it, item, next);
			free(it);
			return true;
		}
	}
	return false;
}

int
osh_work_cancel(struct osh_work_pool *p, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (unqueue(&p->todo, arg))
		p->queued--;
	else if (unqueue(&p->background, arg))
		p->queued_background--;
	else
		rc = -1;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

bool
osh_work_full(struct osh_work_pool *p)
{
	bool full;

	pthread_mutex_lock(&p->mu);
	full = p->queued >= p->max_queue;
	if (full)
		p->ps.rejected++;
	pthread_mutex_unlock(&p->mu);
	return full;
}

void
osh_work_pool_stats(struct osh_work_pool *p, struct osh_pool_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->ps;
	out->size = (size_t)(p->base + p->extra);
	out->in_use = (size_t)p->active;
	out->depth = p->queued;
	out->limit = p->max_queue;
	pthread_mutex_unlock(&p->mu);
}
