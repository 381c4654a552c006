/* http.h - the HTTP server: turns libevent requests into osh_req, sends
 * replies, records metrics and the access log. The only module that sees
 * libevent's HTTP types. */
#ifndef OSH_HTTP_H
#define OSH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"

struct event_base;
struct json_object;
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
	char client_addr[64]; /* the client, as told by a trusted proxy */
	struct osh_param params[OSH_MAX_PARAMS];
	size_t nparams;
	const struct osh_route *route; /* set by the router */
	struct osh_claims claims; /* valid when authed */
	bool authed;
	void *app; /* the service's context, for handlers */
	void *data; /* free for the handler's own state */
	uint64_t start_us;
	void *transport; /* private to http.c */
	struct osh_http *server;
};

typedef void (*osh_dispatch_fn)(struct osh_req *req, void *arg);

struct osh_http_options {
	const char *addr;
	int port;
	size_t max_body; /* hard limit on any body */
	int idle_timeout_s;
	const char *trusted_proxies; /* comma list of addresses */
	struct osh_metrics *metrics;
	void *app;
};

/* Binds and starts serving on the loop. Returns NULL (and logs why) when
 * the address cannot be bound. */
struct osh_http *osh_http_new(struct event_base *base,
    const struct osh_http_options *opt, osh_dispatch_fn dispatch, void *arg);
/* Stops accepting new connections; requests in flight go on. */
void osh_http_stop_accepting(struct osh_http *h);
/* Requests received and not replied yet. */
unsigned osh_http_in_flight(const struct osh_http *h);
void osh_http_free(struct osh_http *h);

/* Request accessors. Header and query values are owned by the request. */
const char *osh_req_header(struct osh_req *req, const char *name);
const char *osh_req_query(struct osh_req *req, const char *name);
const char *osh_req_param(const struct osh_req *req, const char *name);
/* Calls fn for every query parameter; stops when fn returns false. */
void osh_req_query_each(struct osh_req *req,
    bool (*fn)(const char *key, const char *value, void *arg), void *arg);
/* Adds a response header sent with the reply. */
void osh_resp_header(struct osh_req *req, const char *name, const char *value);

/* Replies and frees req. 'body' is copied. */
void osh_reply(struct osh_req *req, int status, const char *content_type,
    const void *body, size_t len);
/* Replies with a JSON body and puts 'obj' (may be NULL for no body). */
void osh_reply_json(struct osh_req *req, int status, struct json_object *obj);
/* Replies with the error body described by err. */
void osh_reply_err(struct osh_req *req, const struct osh_err *err);
/* Shorthand: fills an osh_err and replies with it. */
void osh_reply_error(struct osh_req *req, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

struct osh_field;
/* The body as a JSON object checked against the n fields (an empty body
 * is {}). When it is bad, replies 400 naming the field and returns NULL. */
struct json_object *osh_req_json(
    struct osh_req *req, const struct osh_field *f, size_t n);
/* The path parameter 'name' as a positive id. When it is not one, replies
 * 404 "<what> not found" and returns false. */
bool osh_req_id(
    struct osh_req *req, const char *name, const char *what, int64_t *id);

/* Streaming replies for large bodies: start, any number of chunks, end.
 * req is freed by osh_reply_end. */
void osh_reply_start(struct osh_req *req, int status, const char *ctype);
void osh_reply_chunk(struct osh_req *req, const void *data, size_t len);
void osh_reply_end(struct osh_req *req);
/* False once the client has gone away; handlers may stop early. */
bool osh_req_alive(const struct osh_req *req);

const char *osh_method_name(enum osh_method m);

#endif
