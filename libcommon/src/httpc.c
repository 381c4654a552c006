/* httpc.c - libcurl's multi interface driven by libevent: curl tells us
 * which sockets to watch and when to wake it; we tell curl what happened.
 * At most max_inflight transfers run at once; up to max_queue more wait
 * their turn (their deadline counting from the request), and beyond that
 * a request is refused at once (OSH_HTTPC_BUSY), counted.
 * What goes through it is often secret (service secrets out, tokens and
 * BMC passwords back): our copies are wiped when done, and curl's own
 * memory is wiped when curl frees it (its allocator is ours). */
#include <curl/curl.h>
#include <event2/event.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/crypto.h"
#include "osh/httpc.h"
#include "osh/metrics.h"
#include "osh/util.h"

#define MAX_BODY (8u << 20)
#define DEFAULT_MAX_INFLIGHT 32
#define DEFAULT_MAX_QUEUE 256

struct xfer;
TAILQ_HEAD(xfer_list, xfer);

struct osh_httpc {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	int running;
	struct xfer_list xfers; /* running */
	struct xfer_list waiting; /* for a turn, oldest first */
	size_t inflight, nwaiting, max_inflight, max_queue;
	struct osh_metrics *metrics;
	const char *pool_name;
	struct osh_pool_stats ps;
};

struct xfer {
	TAILQ_ENTRY(xfer) next;
	struct osh_httpc *c;
	CURL *easy;
	struct curl_slist *headers;
	struct osh_buf body;
	char *req_body;
	size_t req_len;
	osh_httpc_cb cb;
	void *arg;
	uint64_t queued_us, deadline_us;
	char error[CURL_ERROR_SIZE];
};

struct sock {
	struct event *ev;
	struct osh_httpc *c;
};

/* curl's allocator: the usual one, except that whatever curl frees is
 * wiped first (its buffers held requests with Authorization headers and
 * bodies with secrets, and answers with tokens and passwords), and that
 * growing a block leaves no copy behind. */
static void *
curl_malloc_cb(size_t n)
{
	return malloc(n);
}

static void
curl_free_cb(void *p)
{
	if (p == NULL)
		return;
	osh_wipe(p, malloc_usable_size(p));
	free(p);
}

static void *
curl_realloc_cb(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		curl_free_cb(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	curl_free_cb(p);
	return q;
}

static char *
curl_strdup_cb(const char *s)
{
	return strdup(s);
}

static void *
curl_calloc_cb(size_t n, size_t size)
{
	return calloc(n, size);
}

static void
wipe_headers(struct curl_slist *l)
{
	for (; l != NULL; l = l->next)
		if (l->data != NULL)
			osh_wipe(l->data, strlen(l->data));
}

/* Frees what a transfer holds of its own, wiped. */
static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	wipe_headers(x->headers);
	curl_slist_free_all(x->headers);
	osh_buf_release(&x->body);
	if (x->req_body != NULL)
		osh_wipe(x->req_body, x->req_len);
	free(x->req_body);
	free(x);
}

static void promote(struct osh_httpc *c);

static void
finish(struct xfer *x, CURLcode rc)
{
	struct osh_httpc *c = x->c;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(x->c->multi, x->easy);
	TAILQ_REMOVE(&x->c->xfers, x, next);
	c->inflight--;
	if (rc != CURLE_OK) {
		if (x->error[0] == '\0')
			osh_strlcpy(
			    x->error, curl_easy_strerror(rc), sizeof(x->error));
		status = 0;
	}
	x->cb((int)status, x->body.data ? x->body.data : "", x->body.len,
	    rc == CURLE_OK ? NULL : x->error, x->arg);
	xfer_free(x);
	promote(c);
}

/* Answers a transfer that never started, with status 0. */
static void
fail_waiting(struct xfer *x, const char *why)
{
	osh_strlcpy(x->error, why, sizeof(x->error));
	x->cb(0, "", 0, x->error, x->arg);
	xfer_free(x);
}

/* Hands x to curl with what is left of its deadline; -1 when curl does
 * not take it. */
static int
start(struct osh_httpc *c, struct xfer *x)
{
	uint64_t now = osh_now_us();
	long left_ms = x->deadline_us > now
	    ? (long)((x->deadline_us - now + 999) / 1000)
	    : 1;

	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, left_ms);
	TAILQ_INSERT_TAIL(&c->xfers, x, next);
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		TAILQ_REMOVE(&c->xfers, x, next);
		return -1;
	}
	c->inflight++;
	osh_pool_stats_wait(&c->ps, now - x->queued_us);
	return 0;
}

/* Starts waiting transfers while there is room; those whose deadline
 * passed meanwhile fail instead. */
static void
promote(struct osh_httpc *c)
{
	struct xfer *x;

	while (c->inflight < c->max_inflight &&
	    (x = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, x, next);
		c->nwaiting--;
		if (osh_now_us() >= x->deadline_us) {
			c->ps.timeouts++;
			fail_waiting(x, "deadline passed while waiting");
		} else if (start(c, x) != 0) {
			fail_waiting(x, "cannot start the request");
		}
	}
}

static void
check_done(struct osh_httpc *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct xfer *x;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		finish(x, msg->data.result);
	}
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct osh_httpc *c = arg;
	int flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, fd, flags, &c->running);
	check_done(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct osh_httpc *c = arg;

	(void)fd;
	(void)what;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &c->running);
	check_done(c);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct osh_httpc *c = userp;
	struct sock *sk = socketp;
	short ev = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			event_free(sk->ev);
			free(sk);
		}
		curl_multi_assign(c->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if (sk == NULL) {
		if ((sk = calloc(1, sizeof(*sk))) == NULL)
			return -1;
		sk->c = c;
		curl_multi_assign(c->multi, s, sk);
	} else {
		event_free(sk->ev);
	}
	sk->ev = event_new(c->base, s, ev, on_socket_event, c);
	event_add(sk->ev, NULL);
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct osh_httpc *c = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	return 0;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (osh_buf_append(&x->body, p, size * n) != 0)
		return 0; /* too large: curl fails the transfer */
	return size * n;
}

struct osh_httpc *
osh_httpc_new(struct event_base *base)
{
	static bool inited;
	struct osh_httpc *c;

	if (!inited) {
		if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc_cb,
			curl_free_cb, curl_realloc_cb, curl_strdup_cb,
			curl_calloc_cb) != CURLE_OK)
			curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	TAILQ_INIT(&c->xfers);
	TAILQ_INIT(&c->waiting);
	c->max_inflight = DEFAULT_MAX_INFLIGHT;
	c->max_queue = DEFAULT_MAX_QUEUE;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (c->multi == NULL || c->timer == NULL) {
		osh_httpc_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void
osh_httpc_free(struct osh_httpc *c)
{
	struct xfer *x;

	if (c == NULL)
		return;
	if (c->multi != NULL) {
		/* Fail what waits and what is still running, then let
		 * curl forget it; nothing starts or waits any more. */
		c->max_inflight = c->max_queue = 0;
		while ((x = TAILQ_FIRST(&c->waiting)) != NULL) {
			TAILQ_REMOVE(&c->waiting, x, next);
			c->nwaiting--;
			fail_waiting(x, "shutting down");
		}
		while ((x = TAILQ_FIRST(&c->xfers)) != NULL) {
			osh_strlcpy(
			    x->error, "shutting down", sizeof(x->error));
			finish(x, CURLE_ABORTED_BY_CALLBACK);
		}
		curl_multi_cleanup(c->multi);
	}
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
}

int
osh_httpc_request(struct osh_httpc *c, const char *method, const char *url,
    const char *const *headers, const char *body, size_t len, int timeout_ms,
    osh_httpc_cb cb, void *arg)
{
	struct xfer *x;

	if (c->inflight >= c->max_inflight && c->nwaiting >= c->max_queue) {
		c->ps.rejected++;
		return OSH_HTTPC_BUSY;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->easy = curl_easy_init()) == NULL) {
		free(x);
		return -1;
	}
	x->queued_us = osh_now_us();
	x->deadline_us =
	    x->queued_us + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000u;
	x->c = c;
	x->cb = cb;
	x->arg = arg;
	osh_buf_init_secret(&x->body, MAX_BODY);
	for (const char *const *h = headers; h != NULL && *h != NULL; h++)
		x->headers = curl_slist_append(x->headers, *h);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body != NULL) {
		x->req_body = malloc(len + 1);
		if (x->req_body != NULL) {
			memcpy(x->req_body, body, len);
			x->req_body[len] = '\0';
			x->req_len = len;
		}
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->req_body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (c->inflight >= c->max_inflight) {
		TAILQ_INSERT_TAIL(&c->waiting, x, next);
		c->nwaiting++;
		return 0;
	}
	if (start(c, x) != 0) {
		xfer_free(x);
		return -1;
	}
	return 0;
}

void
osh_httpc_set_limits(struct osh_httpc *c, size_t max_inflight, size_t max_queue)
{
	c->max_inflight = max_inflight > 0 ? max_inflight : 1;
	c->max_queue = max_queue;
	promote(c);
}

void
osh_httpc_pool_stats(const struct osh_httpc *c, struct osh_pool_stats *out)
{
	*out = c->ps;
	out->size = c->max_inflight;
	out->in_use = c->inflight;
	out->depth = c->nwaiting;
	out->limit = c->max_queue;
}

static void
collect(struct osh_metrics *m, void *arg)
{
	struct osh_httpc *c = arg;
	struct osh_pool_stats ps;

	osh_httpc_pool_stats(c, &ps);
	osh_metrics_pool(m, c->pool_name, &ps);
}

void
osh_httpc_metrics(
    struct osh_httpc *c, struct osh_metrics *m, const char *pool_name)
{
	c->pool_name = pool_name;
	osh_metrics_on_collect(m, collect, c);
}
