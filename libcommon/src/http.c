/* http.c - the HTTP server on libevent's evhttp. This is the only file that
 * sees struct evhttp_request: requests become osh_req, replies go back
 * through osh_reply*, and every reply is counted and logged here. */
#include <arpa/inet.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/crypto.h"
#include "osh/http.h"
#include "osh/json.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/router.h"
#include "osh/util.h"

#define MAX_PROXIES 8

struct osh_http {
	struct evhttp *evh;
	struct evhttp_bound_socket *sock;
	osh_dispatch_fn dispatch;
	void *arg;
	void *app;
	struct osh_metrics *metrics;
	unsigned in_flight;
	char proxies[MAX_PROXIES][64];
	size_t nproxies;
};

/* What http.c keeps beside each osh_req. */
struct transport {
	struct evhttp_request *evreq; /* NULL once the client is gone */
	struct evhttp_connection *evcon;
	struct evkeyvalq query;
	bool query_parsed;
	int status; /* of a streamed reply */
	const char *query_raw;
};

struct req_box {
	struct osh_req req;
	struct transport t;
};

static struct transport *
tr(const struct osh_req *req)
{
	return req->transport;
}

static enum osh_method
method_of(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return OSH_GET;
	case EVHTTP_REQ_POST: return OSH_POST;
	case EVHTTP_REQ_PUT: return OSH_PUT;
	case EVHTTP_REQ_PATCH: return OSH_PATCH;
	case EVHTTP_REQ_DELETE: return OSH_DELETE;
	case EVHTTP_REQ_HEAD: return OSH_HEAD;
	case EVHTTP_REQ_OPTIONS: return OSH_OPTIONS;
	default: return 0;
	}
}

const char *
osh_method_name(enum osh_method m)
{
	switch (m) {
	case OSH_GET: return "GET";
	case OSH_POST: return "POST";
	case OSH_PUT: return "PUT";
	case OSH_PATCH: return "PATCH";
	case OSH_DELETE: return "DELETE";
	case OSH_HEAD: return "HEAD";
	case OSH_OPTIONS: return "OPTIONS";
	}
	return "OTHER";
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* A request id from outside is kept only when it is short and plain. */
static bool
request_id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= OSH_REQUEST_ID_MAX - 1 ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' ||
			c == '.'))
			return false;
	}
	return n > 0;
}

static bool
is_trusted_proxy(const struct osh_http *h, const char *addr)
{
	for (size_t i = 0; i < h->nproxies; i++)
		if (strcmp(h->proxies[i], addr) == 0)
			return true;
	return false;
}

static bool
addr_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct osh_req *req = arg;

	(void)evcon;
	tr(req)->evreq = NULL;
	tr(req)->evcon = NULL;
}

static void
req_free(struct osh_req *req)
{
	struct transport *t = tr(req);

	if (t->evcon != NULL)
		evhttp_connection_set_closecb(t->evcon, NULL, NULL);
	if (t->query_parsed)
		evhttp_clear_headers(&t->query);
	for (size_t i = 0; i < req->nparams; i++)
		free(req->params[i].value);
	free(req->path);
	free(req->body);
	free(req);
}

static void
set_client_addr(
    struct osh_http *h, struct osh_req *req, struct evhttp_request *evreq)
{
	char *peer = NULL;
	ev_uint16_t port = 0;
	const char *fwd;

	evhttp_connection_get_peer(
	    evhttp_request_get_connection(evreq), &peer, &port);
	osh_strlcpy(req->client_addr, peer != NULL ? peer : "unknown",
	    sizeof(req->client_addr));
	if (peer == NULL || !is_trusted_proxy(h, peer))
		return;
	fwd = evhttp_find_header(
	    evhttp_request_get_input_headers(evreq), "X-Real-IP");
	if (fwd != NULL && addr_ok(fwd))
		osh_strlcpy(req->client_addr, fwd, sizeof(req->client_addr));
}

static void
on_request(struct evhttp_request *evreq, void *arg)
{
	struct osh_http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
	struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
	struct req_box *box;
	struct osh_req *req;
	const char *rid, *path;
	size_t plen = 0;

	if ((box = calloc(1, sizeof(*box))) == NULL) {
		evhttp_send_error(evreq, 503, "out of memory");
		return;
	}
	req = &box->req;
	req->transport = &box->t;
	req->server = h;
	req->app = h->app;
	req->start_us = osh_now_us();
	box->t.evreq = evreq;
	box->t.evcon = evhttp_request_get_connection(evreq);
	h->in_flight++;

	rid = evhttp_find_header(
	    evhttp_request_get_input_headers(evreq), "X-Request-Id");
	if (rid != NULL && request_id_ok(rid))
		osh_strlcpy(req->request_id, rid, sizeof(req->request_id));
	else
		osh_random_token(req->request_id, sizeof(req->request_id), 12);
	set_client_addr(h, req, evreq);
	evhttp_connection_set_closecb(box->t.evcon, on_close, req);

	req->method = method_of(evhttp_request_get_command(evreq));
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	box->t.query_raw = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	req->path =
	    evhttp_uridecode(path != NULL && *path ? path : "/", 0, &plen);
	if (req->path == NULL || strlen(req->path) != plen ||
	    !osh_utf8_valid(req->path, plen)) {
		osh_reply_error(
		    req, 400, "bad_request", NULL, "request path is not valid");
		return;
	}
	req->body_len = evbuffer_get_length(in);
	if (req->body_len > 0) {
		if ((req->body = malloc(req->body_len + 1)) == NULL) {
			osh_reply_error(req, 503, NULL, NULL, "out of memory");
			return;
		}
		evbuffer_remove(in, req->body, req->body_len);
		req->body[req->body_len] = '\0';
	}
	h->dispatch(req, h->arg);
}

struct osh_http *
osh_http_new(struct event_base *base, const struct osh_http_options *opt,
    osh_dispatch_fn dispatch, void *arg)
{
	struct osh_http *h;
	char list[512], *tok, *save = NULL;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->dispatch = dispatch;
	h->arg = arg;
	h->app = opt->app;
	h->metrics = opt->metrics;
	osh_strlcpy(list, opt->trusted_proxies ? opt->trusted_proxies : "",
	    sizeof(list));
	for (tok = strtok_r(list, ", ", &save);
	     tok != NULL && h->nproxies < MAX_PROXIES;
	     tok = strtok_r(NULL, ", ", &save))
		osh_strlcpy(h->proxies[h->nproxies++], tok, 64);
	if ((h->evh = evhttp_new(base)) == NULL)
		goto out_free;
	evhttp_set_allowed_methods(h->evh,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_OPTIONS);
	evhttp_set_max_body_size(h->evh, (ev_ssize_t)opt->max_body);
	evhttp_set_max_headers_size(h->evh, 16384);
	evhttp_set_timeout(
	    h->evh, opt->idle_timeout_s > 0 ? opt->idle_timeout_s : 60);
	evhttp_set_gencb(h->evh, on_request, h);
	h->sock = evhttp_bind_socket_with_handle(
	    h->evh, opt->addr, (ev_uint16_t)opt->port);
	if (h->sock == NULL) {
		osh_log_error(NULL, "msg=\"cannot listen\" addr=\"%s\" port=%d",
		    opt->addr, opt->port);
		goto out_free_evh;
	}
	return h;
out_free_evh:
	evhttp_free(h->evh);
out_free:
	free(h);
	return NULL;
}

void
osh_http_stop_accepting(struct osh_http *h)
{
	if (h->sock != NULL) {
		evhttp_del_accept_socket(h->evh, h->sock);
		h->sock = NULL;
	}
}

unsigned
osh_http_in_flight(const struct osh_http *h)
{
	return h->in_flight;
}

void
osh_http_free(struct osh_http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->evh);
	free(h);
}

const char *
osh_req_header(struct osh_req *req, const char *name)
{
	if (tr(req)->evreq == NULL)
		return NULL;
	return evhttp_find_header(
	    evhttp_request_get_input_headers(tr(req)->evreq), name);
}

static void
parse_query(struct osh_req *req)
{
	struct transport *t = tr(req);

	if (t->query_parsed)
		return;
	TAILQ_INIT(&t->query);
	if (t->query_raw != NULL &&
	    evhttp_parse_query_str(t->query_raw, &t->query) != 0) {
		evhttp_clear_headers(&t->query);
		TAILQ_INIT(&t->query);
	}
	t->query_parsed = true;
}

const char *
osh_req_query(struct osh_req *req, const char *name)
{
	parse_query(req);
	return evhttp_find_header(&tr(req)->query, name);
}

void
osh_req_query_each(struct osh_req *req,
    bool (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	struct evkeyval *kv;

	parse_query(req);
	TAILQ_FOREACH(kv, &tr(req)->query, next)
	{
		if (!fn(kv->key, kv->value, arg))
			break;
	}
}

const char *
osh_req_param(const struct osh_req *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

bool
osh_req_alive(const struct osh_req *req)
{
	return tr(req)->evreq != NULL;
}

void
osh_resp_header(struct osh_req *req, const char *name, const char *value)
{
	if (tr(req)->evreq == NULL)
		return;
	evhttp_add_header(
	    evhttp_request_get_output_headers(tr(req)->evreq), name, value);
}

/* Counts, logs and forgets a request whose reply has gone out. */
static void
finish(struct osh_req *req, int status)
{
	struct osh_http *h = req->server;
	double secs = (double)(osh_now_us() - req->start_us) / 1e6;
	const char *route = req->route ? req->route->pattern : "unmatched";
	char path[256];

	if (h->metrics != NULL)
		osh_metrics_http(h->metrics, route,
		    osh_method_name(req->method), status, secs);
	osh_log(status >= 500 ? OSH_LOG_WARN : OSH_LOG_INFO, req->request_id,
	    "msg=\"request\" method=%s path=\"%s\" route=\"%s\" status=%d "
	    "duration_ms=%.2f client=\"%s\"%s",
	    osh_method_name(req->method),
	    osh_log_quote(req->path, path, sizeof(path)), route, status,
	    secs * 1000.0, req->client_addr,
	    osh_req_alive(req) ? "" : " client_gone=true");
	h->in_flight--;
	req_free(req);
}

static void
common_headers(
    struct evkeyvalq *out, const struct osh_req *req, const char *ctype)
{
	if (ctype != NULL)
		evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "X-Request-Id", req->request_id);
	if (evhttp_find_header(out, "Cache-Control") == NULL)
		evhttp_add_header(out, "Cache-Control", "no-store");
}

void
osh_reply(struct osh_req *req, int status, const char *content_type,
    const void *body, size_t len)
{
	struct evhttp_request *evreq = tr(req)->evreq;

	if (evreq != NULL) {
		struct evbuffer *buf = evhttp_request_get_output_buffer(evreq);

		common_headers(evhttp_request_get_output_headers(evreq), req,
		    len > 0 ? content_type : NULL);
		if (len > 0)
			evbuffer_add(buf, body, len);
		/* The connection may outlive the request: forget it first. */
		evhttp_connection_set_closecb(tr(req)->evcon, NULL, NULL);
		tr(req)->evcon = NULL;
		evhttp_send_reply(evreq, status, reason(status), NULL);
	}
	finish(req, status);
}

void
osh_reply_json(struct osh_req *req, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s = NULL;

	if (obj != NULL)
		s = json_object_to_json_string_length(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
	osh_reply(req, status, "application/json", s, len);
	json_object_put(obj);
}

void
osh_reply_err(struct osh_req *req, const struct osh_err *err)
{
	osh_reply_json(req, err->status, osh_err_json(err, req->request_id));
}

struct json_object *
osh_req_json(struct osh_req *req, const struct osh_field *f, size_t n)
{
	struct osh_err err;
	struct json_object *o;

	if (req->body_len == 0)
		o = json_object_new_object();
	else if ((o = osh_json_parse(req->body, req->body_len,
		      OSH_JSON_MAX_DEPTH, &err)) == NULL) {
		osh_reply_err(req, &err);
		return NULL;
	}
	if (osh_json_check(o, f, n, &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return NULL;
	}
	return o;
}

bool
osh_req_id(struct osh_req *req, const char *name, const char *what, int64_t *id)
{
	if (!osh_parse_int(osh_req_param(req, name), 1, INT64_MAX, id)) {
		osh_reply_error(req, 404, NULL, name, "%s not found", what);
		return false;
	}
	return true;
}

void
osh_reply_error(struct osh_req *req, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	struct osh_err err;
	va_list ap;

	err.status = status;
	err.code = code != NULL ? code : osh_err_code_for(status);
	osh_strlcpy(err.field, field != NULL ? field : "", sizeof(err.field));
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	osh_reply_err(req, &err);
}

void
osh_reply_start(struct osh_req *req, int status, const char *ctype)
{
	struct evhttp_request *evreq = tr(req)->evreq;

	tr(req)->status = status;
	if (evreq == NULL)
		return;
	common_headers(evhttp_request_get_output_headers(evreq), req, ctype);
	evhttp_send_reply_start(evreq, status, reason(status));
}

void
osh_reply_chunk(struct osh_req *req, const void *data, size_t len)
{
	struct evhttp_request *evreq = tr(req)->evreq;
	struct evbuffer *buf;

	if (evreq == NULL || len == 0)
		return;
	if ((buf = evbuffer_new()) == NULL)
		return;
	evbuffer_add(buf, data, len);
	evhttp_send_reply_chunk(evreq, buf);
	evbuffer_free(buf);
}

void
osh_reply_end(struct osh_req *req)
{
	if (tr(req)->evreq != NULL) {
		evhttp_connection_set_closecb(tr(req)->evcon, NULL, NULL);
		tr(req)->evcon = NULL;
		evhttp_send_reply_end(tr(req)->evreq);
	}
	finish(req, tr(req)->status);
}
