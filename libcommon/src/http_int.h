/* http_int.h - what http.c (the server and its connections) and http_req.c
 * (requests and replies) share. Private to libcommon's http*.c, the only
 * files that see libevent's bufferevents. */
#ifndef OSH_HTTP_INT_H
#define OSH_HTTP_INT_H

#include <sys/queue.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh/http.h"
#include "osh/http_parse.h"
#include "osh/util.h"

struct bufferevent;
struct event;
struct evconnlistener;
struct osh_metric;

#define HTTP_MAX_PROXIES 8

enum conn_state {
	CONN_IDLE, /* keep-alive, waiting for the next request */
	CONN_HEAD, /* reading a request head (or the TLS handshake) */
	CONN_BODY, /* reading its body */
	CONN_HANDLING, /* the request is with the dispatcher */
	CONN_FLUSHING, /* the reply is queued and being written */
	CONN_LINGER, /* closing: our side is done, the peer's input is
			drained for a moment so that it reads the reply
			rather than a reset */
};

struct req_box;

/* One client connection. Owned by the server (its list), freed by
 * conn_free in http.c only, never while one of its callbacks is below on
 * the stack (libevent callbacks are deferred, replies only queue). */
struct conn {
	struct osh_http *h;
	TAILQ_ENTRY(conn) link;
	struct bufferevent *bev;
	struct event *timer; /* the deadline of the current state */
	enum conn_state state;
	struct osh_http_parser parser;
	struct osh_buf body;
	struct req_box *req; /* read, being handled or replied; else NULL */
	char peer[64];
	bool tls;
	bool keep_alive; /* may carry another request */
	bool discard; /* input was left unread: linger before closing */
	bool eof; /* the peer closed its side */
	bool refused; /* over the connection limit: 503 and close */
};

/* What http*.c keep beside each osh_req. */
struct transport {
	struct conn *conn; /* NULL once the client is gone */
	struct osh_http_head *head; /* NULL for a request refused unparsed */
	struct osh_http_query query;
	struct osh_buf headers; /* "Name: value\r\n" added by handlers */
	bool cache_control; /* a handler set Cache-Control */
	bool dispatched;
	bool streaming;
	int status; /* of a streamed reply */
	LIST_ENTRY(req_box) link; /* the server's requests in flight */
};

struct req_box {
	struct osh_req req;
	struct transport t;
};

struct osh_http {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *accept_retry; /* re-enables accepting after EMFILE */
	struct ssl_ctx_st *tls;
	osh_dispatch_fn dispatch;
	void *arg;
	void *app;
	int64_t (*body_limit)(void *, enum osh_method, const char *);
	void *body_limit_arg;
	size_t max_body;
	unsigned max_conns, hard_conns;
	int header_ms, body_ms, idle_ms, write_ms;
	int port;
	bool stopping;
	TAILQ_HEAD(conn_list, conn) conns;
	LIST_HEAD(req_list, req_box) reqs;
	unsigned nconns, in_flight;
	char proxies[HTTP_MAX_PROXIES][64];
	size_t nproxies;
	uint64_t refusal_logged_us, accept_error_logged_us;
	struct osh_metrics *metrics;
	struct osh_metric *m_conns, *m_refused, *m_timeouts, *m_gone;
};

/* http_req.c: a new request for connection c, read from 'head' (taken;
 * NULL when the request was refused before its head parsed). Counted in
 * flight until its reply. NULL when out of memory. */
struct req_box *http_req_new(struct conn *c, struct osh_http_head *head);
/* http_req.c: frees a request that never reached the dispatcher (its
 * client went away while it was being read), without a reply. */
void http_req_drop(struct req_box *b);

/* http.c: the reply of c's request is queued in full; the request is
 * about to be freed. 'close': the connection must not carry another. */
void http_conn_replied(struct conn *c, bool close);

#endif
