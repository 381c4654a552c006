/* http.h - the HTTP/1.1 server (plain or TLS): connections with their
 * limits and deadlines, requests turned into osh_req, replies sent back,
 * metrics and the access log. Only libcommon's http*.c see libevent's
 * connection types.
 *
 * Lifetimes and ownership.
 * - A connection is private to the server. It reads one request at a time
 *   (a pipelined request waits in its buffer until the previous reply has
 *   been written), within deadlines: a new connection's first byte within
 *   first_byte_timeout_ms of the accept (a TLS handshake included), the
 *   head within header_timeout_ms of its first byte (of the accept, for
 *   the first request), the body within body_timeout_ms of the head, the
 *   next request of a keep-alive connection within idle_timeout_ms. A
 *   reply that makes no progress for write_timeout_ms is cut.
 * - Connections are limited in number, for the server and for each client
 *   address (see osh_http_options); at a limit, the oldest idle keep-alive
 *   connection (of that client, for its own limit) is closed to make room
 *   before a new connection is refused.
 * - A client that ends its side once its request is in (shutdown(SHUT_WR),
 *   a half-close) still gets the reply, with Connection: close.
 * - Once a request's head is in, the server creates its osh_req; once its
 *   body is in, it hands the osh_req to the dispatcher. From then on the
 *   osh_req belongs to whoever handles it until exactly one call of
 *   osh_reply, osh_reply_json, osh_reply_err, osh_reply_error or
 *   osh_reply_end frees it. Nothing may touch it afterwards, and a request
 *   never replied to is a leak.
 * - The osh_req holds its own copies of everything it exposes (path, body,
 *   headers, query, parameters), so it stays valid whatever the client
 *   does. When the client goes away while its request is being handled
 *   (waiting on the database or a BMC, say: the connection was reset, or
 *   a reply stalled past the write deadline), the connection is closed and
 *   freed at once and the osh_req is only detached from it:
 *   osh_req_alive() turns false, osh_resp_header and the reply still work,
 *   and the reply, when it comes, is counted and logged with
 *   client_gone=true and sent nowhere. Until then the request counts
 *   against the connection limits of the server and of its client, so
 *   that clients hanging up in a loop cannot pile up work.
 * - Requests the server refuses before they reach the dispatcher (malformed,
 *   body too large or not wanted, deadlines missed) are answered, counted
 *   and logged the same way, and their connection closes.
 */
#ifndef OSH_HTTP_H
#define OSH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"

struct event_base;
struct json_object;
struct ssl_ctx_st;
struct osh_route;
struct osh_metrics;

enum osh_method {
	OSH_GET = 1 << 0,
	OSH_POST = 1 << 1,
	OSH_PUT = 1 << 2,
	OSH_PATCH = 1 << 3,
	OSH_DELETE = 1 << 4,
	OSH_HEAD = 1 << 5,
	OSH_OPTIONS = 1 << 6,
};

#define OSH_MAX_PARAMS 8
#define OSH_REQUEST_ID_MAX 64

struct osh_param {
	const char *name;
	char *value; /* decoded, owned by the request */
};

/* One request, from arrival to reply. Created by the server, handed to the
 * dispatcher, freed by osh_reply*(); nothing may touch it afterwards. */
struct osh_req {
	enum osh_method method;
	char *path; /* decoded path, no query string */
	char *body; /* NUL terminated copy, or NULL */
	size_t body_len;
	char request_id[OSH_REQUEST_ID_MAX];
	char client_addr[64]; /* the client, as told by trusted proxies
				 (osh_proxy_client); "unix" for a unix
				 socket peer that did not say */
	/* Came over HTTPS: to this server (TLS), or to a trusted proxy
	 * that says so (X-Forwarded-Proto: https, believed from trusted
	 * proxies and unix socket peers only). For cookies' Secure. */
	bool https;
	struct osh_param params[OSH_MAX_PARAMS];
	size_t nparams;
	const struct osh_route *route; /* set by the router */
	struct osh_claims claims; /* valid when authed */
	bool authed;
	void *app; /* the service's context, for handlers */
	void *data; /* free for the handler's own state */
	uint64_t start_us;
	void *transport; /* private to http*.c */
	struct osh_http *server; /* NULL once the server is freed */
};

typedef void (*osh_dispatch_fn)(struct osh_req *req, void *arg);

struct osh_http_options {
	const char *addr;
	int port; /* 0: any free port (osh_http_port tells which) */
	/* Also listen on a unix socket at this path (NULL or "": not), for
	 * the gateway: created 0660 (the directory holding it decides who
	 * reaches it), a stale socket there removed first (anything else
	 * there, a live socket or a file, fails osh_http_new), removed when
	 * the server stops. Its peers are trusted proxies (their X-Real-IP is
	 * believed), not limited per client, and served plain HTTP even when
	 * 'tls' is set. */
	const char *unix_path;
	size_t max_body; /* hard limit on any body */
	int idle_timeout_ms; /* keep-alive connection without a request */
	/* Addresses and CIDR ranges (osh_cidr_list_parse: commas or
	 * spaces) of the proxies whose X-Forwarded-For, X-Real-IP and
	 * X-Forwarded-Proto are believed (osh_proxy_client); they speak for
	 * many clients, so only the server's own limit binds them. A bad
	 * list fails osh_http_new. */
	const char *trusted_proxies;
	struct osh_metrics *metrics;
	void *app;
	/* Open connections, plus requests still running whose client went
	 * away, served at once. Beyond, a connection is answered 503 with
	 * Retry-After and closed; beyond an eighth more (at least 16), it is
	 * closed at once. An idle keep-alive connection (the oldest) is
	 * closed first to make room. */
	int max_connections;
	/* The same for each client address (an IPv6 client by its /64),
	 * trusted proxies and unix socket peers aside. */
	int max_connections_per_client;
	int first_byte_timeout_ms; /* a new connection's first byte */
	int header_timeout_ms; /* the whole head, from its first byte */
	int body_timeout_ms; /* the whole body, from the end of the head */
	int write_timeout_ms; /* a reply making no progress */
	/* The largest body a request may carry, from its head alone, called
	 * with body_limit_arg before any body byte is read: 0 when it
	 * takes none (a body is then refused with 400), or -1 when nothing
	 * serves this method and path (the request is dispatched at once
	 * without its body, to be answered 404 or 405, and the connection
	 * closes). A larger Content-Length is refused with 413 at once, a
	 * chunked body as soon as it passes the limit. NULL: max_body. */
	int64_t (*body_limit)(
	    void *arg, enum osh_method method, const char *path);
	void *body_limit_arg; /* the router, for osh_router_body_limit */
	/* TLS: an OpenSSL SSL_CTX set up for serving (certificate, key,
	 * client CA...), or NULL for plain HTTP. The server takes its own
	 * reference (SSL_CTX_up_ref): the caller keeps and frees its own. */
	struct ssl_ctx_st *tls;
};

/* Defaults for options left 0. */
#define OSH_HTTP_MAX_CONNECTIONS 512
#define OSH_HTTP_MAX_CONNECTIONS_PER_CLIENT 64
#define OSH_HTTP_FIRST_BYTE_TIMEOUT_MS 3000
#define OSH_HTTP_HEADER_TIMEOUT_MS 10000
#define OSH_HTTP_BODY_TIMEOUT_MS 30000
#define OSH_HTTP_IDLE_TIMEOUT_MS 75000
#define OSH_HTTP_WRITE_TIMEOUT_MS 30000

/* Binds and starts serving on the loop. Returns NULL (and logs why) when
 * the address cannot be bound. The process must ignore SIGPIPE (as
 * osh_service_main does): a client may close while its reply is written. */
struct osh_http *osh_http_new(struct event_base *base,
    const struct osh_http_options *opt, osh_dispatch_fn dispatch, void *arg);
/* Stops accepting new connections (the unix socket is removed) and
 * closes idle ones; requests in flight go on, and their connections close
 * after the reply. */
void osh_http_stop_accepting(struct osh_http *h);
/* Requests received and not replied yet. */
unsigned osh_http_in_flight(const struct osh_http *h);
/* Open client connections (lingering ones included). */
unsigned osh_http_connections(const struct osh_http *h);
/* The port listened on (useful with port 0), or -1 once stopped. */
int osh_http_port(const struct osh_http *h);
/* Serves new connections with ctx from now on (NULL: plain HTTP); open
 * connections keep theirs. Takes its own reference, as osh_http_new. */
void osh_http_set_tls(struct osh_http *h, struct ssl_ctx_st *ctx);
/* Closes every connection. Requests still in flight are detached (their
 * replies go nowhere and must not come after the event base is freed);
 * call it once osh_http_in_flight() is 0. */
void osh_http_free(struct osh_http *h);

/* Request accessors. Header and query values are owned by the request;
 * a request whose query string is malformed (bad escape, NUL, invalid
 * UTF-8) never reaches the dispatcher: it is answered 400. */
const char *osh_req_header(struct osh_req *req, const char *name);
const char *osh_req_query(struct osh_req *req, const char *name);
const char *osh_req_param(const struct osh_req *req, const char *name);
/* Calls fn for every query parameter; stops when fn returns false. */
void osh_req_query_each(struct osh_req *req,
    bool (*fn)(const char *key, const char *value, void *arg), void *arg);
/* Adds a response header sent with the reply. A name that is not a token
 * or a value with control characters is dropped (and logged). */
void osh_resp_header(struct osh_req *req, const char *name, const char *value);

/* Replies and frees req. 'body' is copied; the copy is wiped once
 * written (or dropped), as is everything the server sends. Wiping 'body'
 * itself is the caller's business. Every 503 carries Retry-After:
 * OSH_RETRY_AFTER_S seconds unless the handler set its own with
 * osh_resp_header. */
#define OSH_RETRY_AFTER_S "1"
void osh_reply(struct osh_req *req, int status, const char *content_type,
    const void *body, size_t len);
/* A reply body shared by many replies (an answer kept for a while and sent
 * to every client asking for it): immutable once made, counted by
 * reference, and queued on each connection where it lies instead of being
 * copied per reply. It is never wiped, so it must hold no secret (answers
 * with tokens or credentials go through osh_reply or
 * osh_reply_json_secret). Used on the event loop's thread only: the
 * count is not atomic. */
struct osh_body;
/* A body holding a copy of data (len bytes, then a NUL not counted), with
 * one reference, the caller's. NULL when out of memory. */
struct osh_body *osh_body_new(const void *data, size_t len);
/* Another reference to b; returns b. */
struct osh_body *osh_body_ref(struct osh_body *b);
/* Drops a reference (NULL: nothing); the last one frees b. */
void osh_body_unref(struct osh_body *b);
/* What b holds (NUL terminated) and its length. */
const char *osh_body_data(const struct osh_body *b);
size_t osh_body_len(const struct osh_body *b);
/* Replies with b as the body and frees req. The connection holds a
 * reference of its own until b is written (or dropped): the caller keeps
 * its reference. The head is formatted (and wiped) as osh_reply's. */
void osh_reply_body(struct osh_req *req, int status, const char *content_type,
    struct osh_body *b);
/* Replies with a JSON body and puts 'obj' (may be NULL for no body).
 * Whatever is sent is wiped from memory once written: the text json-c
 * made of obj, the copy queued on the connection. */
void osh_reply_json(struct osh_req *req, int status, struct json_object *obj);
/* osh_reply_json for an answer holding secrets (tokens, credentials):
 * every string in obj is wiped too before it is put, so obj must not be
 * shared. */
void osh_reply_json_secret(
    struct osh_req *req, int status, struct json_object *obj);
/* Replies with the error body described by err. */
void osh_reply_err(struct osh_req *req, const struct osh_err *err);
/* Shorthand: fills an osh_err and replies with it. */
void osh_reply_error(struct osh_req *req, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

struct osh_field;
/* The body as a JSON object checked against the n fields (an empty body
 * is {}). When it is bad, replies 400 naming the field and returns NULL,
 * leaving nothing of the body unwiped (not even a password next to an
 * unknown member). The object returned is the caller's: put it with
 * osh_json_put_wiped(obj, f, n), which wipes the fields marked
 * OSH_FIELD_SECRET. (req->body, the raw text, is wiped when req is
 * freed.) */
struct json_object *osh_req_json(
    struct osh_req *req, const struct osh_field *f, size_t n);
/* The path parameter 'name' as a positive id. When it is not one, replies
 * 404 "<what> not found" and returns false. */
bool osh_req_id(
    struct osh_req *req, const char *name, const char *what, int64_t *id);

/* Streaming replies for large bodies: start, any number of chunks, end
 * (chunked transfer coding; to an HTTP/1.0 client, a body ended by closing
 * the connection). req is freed by osh_reply_end. */
void osh_reply_start(struct osh_req *req, int status, const char *ctype);
void osh_reply_chunk(struct osh_req *req, const void *data, size_t len);
void osh_reply_end(struct osh_req *req);
/* False once the client has gone away (or its reply stalled past the write
 * timeout); handlers may stop early, but must still reply. */
bool osh_req_alive(const struct osh_req *req);

const char *osh_method_name(enum osh_method m);

#endif
