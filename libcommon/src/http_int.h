/* http_int.h - what the HTTP server's pieces share: http.c (connections),
 * http_listen.c (listening and the server), http_admit.c (connection
 * limits and eviction), http_limit.c (what each client holds), http_tls.c
 * (TLS) and http_req.c (requests and replies). Private to libcommon's
 * http*.c, the only files that see libevent's bufferevents. */
#ifndef OSH_HTTP_INT_H
#define OSH_HTTP_INT_H

#include <event2/util.h>
#include <sys/queue.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh/http.h"
#include "osh/http_parse.h"
#include "osh/proxy.h"
#include "osh/util.h"

struct bufferevent;
struct event;
struct evconnlistener;
struct osh_metric;
struct sockaddr;

#define HTTP_LOG_EVERY_US 1000000 /* repeated warnings: once a second */
#define HTTP_MAX_WRITE (256 * 1024) /* bytes written to a socket a turn */

/*
 * http_limit.c: what each client address holds of the server.
 */

#define HTTP_CLIENT_KEY_LEN 17 /* family, then the address or /64 */

struct http_client;

struct http_clients {
	struct http_client **bucket;
	size_t nbuckets, n;
	unsigned char hash_key[16];
};

enum http_client_count {
	HTTP_CLIENT_CONNS, /* open connections */
	HTTP_CLIENT_IDLE, /* idle keep-alive connections (among those) */
	HTTP_CLIENT_DETACHED, /* requests running without their client */
};

/* The key a client is counted under: an IPv4 address (IPv4-mapped IPv6
 * included), or an IPv6 address's /64. False for other peers (a unix
 * socket), which are not counted per client. */
bool http_client_key(
    const struct sockaddr *sa, unsigned char key[HTTP_CLIENT_KEY_LEN]);
int http_clients_init(struct http_clients *t, unsigned max_conns);
void http_clients_release(struct http_clients *t);
/* The entry of key, made when there is none (NULL: out of memory). An
 * entry that counts nothing after http_client_add lowered a count is
 * freed: take one only to count something on it at once. */
struct http_client *http_client_get(
    struct http_clients *t, const unsigned char *key);
void http_client_add(struct http_clients *t, struct http_client *cl,
    enum http_client_count what, int delta);
/* Open connections and requests running detached. */
unsigned http_client_load(const struct http_client *cl);
unsigned http_client_idle(const struct http_client *cl);

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
 * http_conn_free in http.c only, never while one of its callbacks is
 * below on the stack (libevent callbacks are deferred, replies only
 * queue). */
struct conn {
	struct osh_http *h;
	TAILQ_ENTRY(conn) link;
	TAILQ_ENTRY(conn) idle_link; /* in h->idle while CONN_IDLE */
	struct bufferevent *bev;
	struct event *timer; /* the deadline of the current state */
	enum conn_state state;
	struct osh_http_parser parser;
	struct osh_buf body;
	struct req_box *req; /* read, being handled or replied; else NULL */
	struct http_client *client; /* NULL: not counted per client */
	char peer[64];
	uint64_t head_deadline_us; /* the whole head is due by then */
	bool tls;
	bool local; /* came through the unix socket */
	bool trusted; /* a proxy whose X-Real-IP is believed */
	bool got_byte; /* the current request's first byte came */
	bool keep_alive; /* may carry another request */
	bool discard; /* input was left unread: linger before closing */
	bool eof; /* the peer closed its side */
	bool refused; /* over a connection limit: 503 and close */
};

/* What http*.c keep beside each osh_req. */
struct transport {
	struct conn *conn; /* NULL once the client is gone */
	/* Once detached (client gone while it ran): counted against its
	 * client (NULL: not counted per client) and the server's limit
	 * until it is replied to. */
	bool detached;
	struct http_client *client;
	struct osh_http_head *head; /* NULL for a request refused unparsed */
	struct osh_http_query query;
	struct osh_buf headers; /* "Name: value\r\n" added by handlers */
	bool cache_control; /* a handler set Cache-Control */
	bool retry_after; /* a handler set Retry-After */
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
	struct evconnlistener *ulistener; /* the unix socket, or NULL */
	char *unix_path; /* removed when we stop, if still ours */
	uint64_t unix_dev, unix_ino;
	struct event *accept_retry; /* re-enables accepting after EMFILE */
	struct ssl_ctx_st *tls;
	osh_dispatch_fn dispatch;
	void *arg;
	void *app;
	int64_t (*body_limit)(void *, enum osh_method, const char *);
	void *body_limit_arg;
	size_t max_body;
	unsigned max_conns, hard_conns;
	unsigned max_client, hard_client; /* per client address */
	int first_byte_ms, header_ms, body_ms, idle_ms, write_ms;
	int port;
	bool stopping;
	TAILQ_HEAD(conn_list, conn) conns;
	TAILQ_HEAD(idle_list, conn) idle; /* oldest first */
	LIST_HEAD(req_list, req_box) reqs;
	unsigned nconns, in_flight, ndetached;
	struct http_clients clients;
	struct osh_cidr_list proxies; /* trusted proxies */
	uint64_t refusal_logged_us, accept_error_logged_us;
	struct osh_metrics *metrics;
	struct osh_metric *m_conns, *m_refused, *m_timeouts, *m_gone;
	struct osh_metric *m_evicted, *m_detached, *m_slow;
};

/* http_req.c: a new request for connection c, read from 'head' (taken;
 * NULL when the request was refused before its head parsed). Counted in
 * flight until its reply. NULL when out of memory. */
struct req_box *http_req_new(struct conn *c, struct osh_http_head *head);
/* http_req.c: frees a request that never reached the dispatcher (its
 * client went away while it was being read), without a reply. */
void http_req_drop(struct req_box *b);
/* http_req.c: a dispatched request's client went away: the request runs
 * on, counted as detached (against its client and the server's limit)
 * until its reply. */
void http_req_detach(struct req_box *b);
/* http.c: true when the peer is in a trusted proxy's range. */
bool http_trusted_proxy(const struct osh_http *h, const struct sockaddr *sa);

/* http.c: the reply of c's request is queued in full; the request is
 * about to be freed. 'close': the connection must not carry another. */
void http_conn_replied(struct conn *c, bool close);
/* http.c: closes c and frees it; a request it had dispatched runs on,
 * detached. */
void http_conn_free(struct conn *c);
/* http.c: arms the connection's one deadline, or clears it (ms < 0). */
void http_deadline(struct conn *c, int ms);
/* http.c: a new connection on fd, from sa (local: through the unix
 * socket); fd is the connection's or closed. */
void http_accept_conn(
    struct osh_http *h, evutil_socket_t fd, struct sockaddr *sa, bool local);
/* http.c: counts one on m (NULL: no metrics) under labels. */
void http_count(struct osh_metric *m, const char *labels);
/* http.c: sets the open connections gauge. */
void http_gauge(struct osh_http *h);

/* http_admit.c: what the limits say of a new connection from cl (NULL:
 * a trusted proxy or a local peer; else already counted on cl):
 * admitted (NULL), answered 503 (the reason, *refuse set), or closed at
 * once (the reason). May close an idle or slow connection to make
 * room. */
const char *http_admit(
    struct osh_http *h, struct http_client *cl, bool *refuse);
/* http_admit.c: c is over a limit: a short 503, then close. */
void http_conn_over_limit(
    struct conn *c, const char *reason, const char *message);

/* http_body.c: queues b on out, where it lies: out holds a reference of
 * its own until b is written or dropped. -1 when out of memory. */
struct evbuffer;
int http_body_queue(struct evbuffer *out, struct osh_body *b);

/* Shared bodies shorter than this are sent as they are. */
#define HTTP_GZIP_MIN 1024
/* http_body.c: b's gzip encoding, made the first time it is asked for and
 * kept with b until b goes: NULL when b is short, shrinks by less than a
 * tenth, or memory ran out. */
struct osh_body *http_body_gzip(struct osh_body *b);
/* http_encoding.c: data gzip-compressed into a new body (NULL when out
 * of memory). */
struct osh_body *http_gzip(const void *data, size_t len);

/* http_tls.c: a bufferevent for the accepted fd, over TLS with the
 * server's context when tls. NULL on failure. */
struct bufferevent *http_new_bev(
    struct osh_http *h, evutil_socket_t fd, bool tls);

#endif
