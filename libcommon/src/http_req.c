/* http_req.c - requests and replies: an osh_req is made from a parsed
 * head, read through its accessors, and answered with osh_reply* (whole or
 * streamed), which formats the response onto its connection (or nowhere,
 * once the client has gone), counts it and writes the access log line. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "http_int.h"
#include "osh/crypto.h"
#include "osh/json.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/router.h"

#define RESP_HEADERS_MAX 8192 /* headers a handler may add */

static struct transport *
tr(const struct osh_req *req)
{
	return req->transport;
}

static struct req_box *
box_of(struct osh_req *req)
{
	return (struct req_box *)(void *)req;
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
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
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

/* The client: the peer, or, from a trusted proxy, who it speaks for
 * (X-Forwarded-For read from the right past the trusted proxies, else
 * X-Real-IP; osh_proxy_client). The last HTTP_XFF_FIELDS fields of
 * X-Forwarded-For count: the walk stops long before the earlier ones. */
#define HTTP_XFF_FIELDS 8
static void
forwarded_client(
    const struct conn *c, const struct osh_http_head *head, struct osh_req *req)
{
	const char *xff[HTTP_XFF_FIELDS];
	size_t nxff = 0;

	if (c->trusted) {
		for (size_t i = 0; i < head->nfields; i++) {
			const char *name, *value;

			osh_http_head_field_at(head, i, &name, &value);
			if (strcasecmp(name, "X-Forwarded-For") != 0)
				continue;
			if (nxff == HTTP_XFF_FIELDS) {
				memmove(
				    xff, xff + 1, sizeof(xff[0]) * (nxff - 1));
				nxff--;
			}
			xff[nxff++] = value;
		}
	}
	osh_proxy_client(&c->h->proxies, c->peer, c->trusted, xff, nxff,
	    c->trusted ? osh_http_head_field(head, "X-Real-IP") : NULL,
	    req->client_addr, sizeof(req->client_addr));
}

struct req_box *
http_req_new(struct conn *c, struct osh_http_head *head)
{
	struct osh_http *h = c->h;
	struct req_box *b;
	struct osh_req *req;
	const char *rid = NULL, *fwd;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	req = &b->req;
	if ((req->path = strdup(head != NULL ? head->path : "")) == NULL) {
		free(b);
		return NULL;
	}
	req->transport = &b->t;
	req->server = h;
	req->app = h->app;
	req->start_us = osh_now_us();
	b->t.conn = c;
	b->t.head = head;
	/* Set-Cookie may carry a session: wiped like everything sent. */
	osh_buf_init_secret(&b->t.headers, RESP_HEADERS_MAX);
	LIST_INSERT_HEAD(&h->reqs, b, t.link);
	h->in_flight++;
	osh_strlcpy(req->client_addr, c->peer, sizeof(req->client_addr));
	if (head != NULL) {
		req->method = head->method;
		rid = osh_http_head_field(head, "X-Request-Id");
		forwarded_client(c, head, req);
		fwd = osh_http_head_field(head, "X-Forwarded-Proto");
		req->https = c->tls ||
		    (c->trusted && fwd != NULL &&
			strcasecmp(fwd, "https") == 0);
	}
	if (rid != NULL && request_id_ok(rid))
		osh_strlcpy(req->request_id, rid, sizeof(req->request_id));
	else
		osh_random_token(req->request_id, sizeof(req->request_id), 12);
	return b;
}

static void
req_free(struct req_box *b)
{
	struct osh_req *req = &b->req;
	struct osh_http *h = req->server;

	if (h != NULL) {
		LIST_REMOVE(b, t.link);
		h->in_flight--;
		if (b->t.detached) {
			h->ndetached--;
			if (h->m_detached != NULL)
				osh_metric_set(h->m_detached, "", h->ndetached);
			if (b->t.client != NULL)
				http_client_add(&h->clients, b->t.client,
				    HTTP_CLIENT_DETACHED, -1);
		}
	}
	if (b->t.conn != NULL)
		b->t.conn->req = NULL;
	for (size_t i = 0; i < req->nparams; i++)
		free(req->params[i].value);
	free(req->path);
	/* Bodies carry passwords and tokens; heads, Authorization. */
	if (req->body != NULL)
		osh_wipe(req->body, req->body_len);
	free(req->body);
	osh_http_head_free(b->t.head);
	osh_http_query_release(&b->t.query);
	osh_buf_release(&b->t.headers);
	free(b);
}

void
http_req_drop(struct req_box *b)
{
	b->t.conn = NULL;
	req_free(b);
}

void
http_req_detach(struct req_box *b)
{
	struct conn *c = b->t.conn;
	struct osh_http *h = c->h;

	b->t.conn = NULL;
	b->t.detached = true;
	h->ndetached++;
	if (h->m_detached != NULL)
		osh_metric_set(h->m_detached, "", h->ndetached);
	if (h->m_gone != NULL)
		osh_metric_add(h->m_gone, "", 1);
	if (c->client != NULL) {
		b->t.client = c->client;
		http_client_add(
		    &h->clients, c->client, HTTP_CLIENT_DETACHED, 1);
	}
}

const char *
osh_req_header(struct osh_req *req, const char *name)
{
	if (tr(req)->head == NULL)
		return NULL;
	return osh_http_head_field(tr(req)->head, name);
}

const char *
osh_req_query(struct osh_req *req, const char *name)
{
	return osh_http_query_get(&tr(req)->query, name);
}

void
osh_req_query_each(struct osh_req *req,
    bool (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	const struct osh_http_query *q = &tr(req)->query;

	for (size_t i = 0; i < q->n; i++)
		if (!fn(q->kv[i].key, q->kv[i].value, arg))
			break;
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
	return tr(req)->conn != NULL;
}

static bool
header_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') ||
			strchr("!#$%&'*+-.^_`|~", c) != NULL))
			return false;
	}
	return true;
}

static bool
header_value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

void
osh_resp_header(struct osh_req *req, const char *name, const char *value)
{
	struct transport *t = tr(req);

	/* Appended, not printed: printf formats through a scratch buffer on
	 * the stack, and values may be secret (Set-Cookie). */
	if (!header_name_ok(name) || !header_value_ok(value) ||
	    osh_buf_puts(&t->headers, name) != 0 ||
	    osh_buf_puts(&t->headers, ": ") != 0 ||
	    osh_buf_puts(&t->headers, value) != 0 ||
	    osh_buf_puts(&t->headers, "\r\n") != 0) {
		osh_log_warn(req->request_id,
		    "msg=\"response header dropped\" name_len=%zu",
		    strlen(name));
		return;
	}
	if (strcasecmp(name, "Cache-Control") == 0)
		t->cache_control = true;
	if (strcasecmp(name, "Retry-After") == 0)
		t->retry_after = true;
}

/* The Date header's value, formatted once a second. */
static const char *
http_date(void)
{
	static const char days[7][4] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	static char buf[40];
	static time_t last = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm) != NULL) {
		snprintf(buf, sizeof(buf),
		    "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		last = now;
	}
	return buf;
}

static bool
head_only(const struct osh_req *req)
{
	return req->method == OSH_HEAD;
}

static int
version(const struct osh_req *req)
{
	return tr(req)->head != NULL ? tr(req)->head->version : 11;
}

static void
wipe_and_free(const void *data, size_t len, void *arg)
{
	void *p = (void *)(uintptr_t)data;

	(void)arg;
	osh_wipe(p, len);
	free(p);
}

/* Queues what b holds on c, b's data handed over: libevent sends it from
 * there and wipes it once written or dropped (an evbuffer's own copy
 * would be freed unwiped, and replies carry tokens and passwords). b is
 * empty afterwards. */
static void
queue(struct conn *c, struct osh_buf *b)
{
	size_t len = b->len;
	char *data;

	if (len == 0) {
		osh_buf_release(b);
		return;
	}
	data = osh_buf_steal(b);
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), data, len,
		wipe_and_free, NULL) != 0)
		wipe_and_free(data, len, NULL);
}

/* Formats the status line and headers into out. length < 0: none
 * (streamed). */
static void
write_head(struct osh_buf *out, struct osh_req *req, int status,
    const char *ctype, long long length, bool chunked, bool close)
{
	struct transport *t = tr(req);

	osh_buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
	    reason(status), http_date());
	if (ctype != NULL)
		osh_buf_printf(out, "Content-Type: %s\r\n", ctype);
	if (chunked)
		osh_buf_puts(out, "Transfer-Encoding: chunked\r\n");
	else if (length >= 0)
		osh_buf_printf(out, "Content-Length: %lld\r\n", length);
	if (close)
		osh_buf_puts(out, "Connection: close\r\n");
	else if (version(req) == 10)
		osh_buf_puts(out, "Connection: keep-alive\r\n");
	osh_buf_printf(out, "X-Request-Id: %s\r\n", req->request_id);
	if (!t->cache_control)
		osh_buf_puts(out, "Cache-Control: no-store\r\n");
	/* Every 503 is overload or a dependency away for a moment: the
	 * client is told when to come back, unless the handler said. */
	if (status == 503 && !t->retry_after)
		osh_buf_puts(out, "Retry-After: " OSH_RETRY_AFTER_S "\r\n");
	if (t->headers.len > 0)
		osh_buf_append(out, t->headers.data, t->headers.len);
	osh_buf_puts(out, "\r\n");
}

static bool
closing(const struct conn *c)
{
	return !c->keep_alive || c->h->stopping;
}

/* Counts, logs and frees a request whose reply has gone out (or nowhere,
 * when its client is gone). */
static void
finish(struct osh_req *req, int status)
{
	struct osh_http *h = req->server;
	double secs = (double)(osh_now_us() - req->start_us) / 1e6;
	const char *route = req->route ? req->route->pattern : "unmatched";
	bool alive = osh_req_alive(req);
	struct conn *c = tr(req)->conn;
	char path[256];

	if (h != NULL && h->metrics != NULL)
		osh_metrics_http(h->metrics, route,
		    osh_method_name(req->method), status, secs);
	osh_log(status >= 500 ? OSH_LOG_WARN : OSH_LOG_INFO, req->request_id,
	    "msg=\"request\" method=%s path=\"%s\" route=\"%s\" status=%d "
	    "duration_ms=%.2f client=\"%s\"%s",
	    osh_method_name(req->method),
	    osh_log_quote(req->path, path, sizeof(path)), route, status,
	    secs * 1000.0, req->client_addr, alive ? "" : " client_gone=true");
	req_free(box_of(req));
	if (c != NULL)
		http_conn_replied(c, closing(c));
}

void
osh_reply(struct osh_req *req, int status, const char *content_type,
    const void *body, size_t len)
{
	struct conn *c = tr(req)->conn;
	bool nobody =
	    (status >= 100 && status < 200) || status == 204 || status == 304;

	if (c != NULL && !tr(req)->streaming) {
		struct osh_buf out;

		if (nobody)
			len = 0;
		osh_buf_init_secret(&out, 0);
		write_head(&out, req, status, len > 0 ? content_type : NULL,
		    nobody ? -1 : (long long)len, false, closing(c));
		if (len > 0 && !head_only(req) &&
		    (osh_buf_reserve(&out, len) != 0 ||
			osh_buf_append(&out, body, len) != 0)) {
			/* Out of memory: the head promised a body that
			 * cannot come, so the connection must end. */
			osh_buf_release(&out);
			c->keep_alive = false;
		}
		queue(c, &out);
	}
	finish(req, status);
}

void
osh_reply_body(struct osh_req *req, int status, const char *content_type,
    struct osh_body *b)
{
	struct conn *c = tr(req)->conn;
	size_t len = osh_body_len(b);

	if ((status >= 100 && status < 200) || status == 204 || status == 304) {
		osh_reply(req, status, NULL, NULL, 0);
		return;
	}
	/* A shared body holds no secret, so it may be compressed (no
	 * BREACH-style guessing against it): once, for every client that
	 * takes gzip. */
	if (len >= HTTP_GZIP_MIN) {
		struct osh_body *gz;

		osh_resp_header(req, "Vary", "Accept-Encoding");
		if (osh_http_accepts_gzip(
			osh_req_header(req, "Accept-Encoding")) &&
		    (gz = http_body_gzip(b)) != NULL) {
			osh_resp_header(req, "Content-Encoding", "gzip");
			b = gz;
			len = osh_body_len(gz);
		}
	}
	if (c != NULL && !tr(req)->streaming) {
		struct osh_buf out;

		osh_buf_init_secret(&out, 0);
		write_head(&out, req, status, len > 0 ? content_type : NULL,
		    (long long)len, false, closing(c));
		queue(c, &out);
		/* Out of memory: the head promised a body that cannot
		 * come, so the connection must end. */
		if (len > 0 && !head_only(req) &&
		    http_body_queue(bufferevent_get_output(c->bev), b) != 0)
			c->keep_alive = false;
	}
	finish(req, status);
}

/* Replies with obj's text, then wipes that text (json-c keeps it in obj
 * and frees it unwiped). */
static void
reply_json(struct osh_req *req, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s = NULL;

	if (obj != NULL)
		s = json_object_to_json_string_length(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
	osh_reply(req, status, "application/json", s, len);
	if (s != NULL && len > 0)
		osh_wipe((void *)(uintptr_t)s, len);
}

void
osh_reply_json(struct osh_req *req, int status, struct json_object *obj)
{
	reply_json(req, status, obj);
	json_object_put(obj);
}

void
osh_reply_json_secret(struct osh_req *req, int status, struct json_object *obj)
{
	reply_json(req, status, obj);
	osh_json_wipe_all(obj);
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
		/* A refused body may still hold a password (next to an
		 * unknown member, or one too long): all of it is wiped,
		 * marked secret or not. */
		osh_json_wipe_all(o);
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

/* A streamed reply is chunked; to an HTTP/1.0 client it ends when the
 * connection closes. */
static bool
chunked(const struct osh_req *req)
{
	return version(req) == 11;
}

void
osh_reply_start(struct osh_req *req, int status, const char *ctype)
{
	struct conn *c = tr(req)->conn;
	struct osh_buf out;

	tr(req)->status = status;
	tr(req)->streaming = true;
	if (c == NULL)
		return;
	if (!chunked(req))
		c->keep_alive = false;
	osh_buf_init_secret(&out, 0);
	write_head(&out, req, status, ctype, -1, chunked(req), closing(c));
	queue(c, &out);
}

void
osh_reply_chunk(struct osh_req *req, const void *data, size_t len)
{
	struct conn *c = tr(req)->conn;
	struct osh_buf out;

	if (c == NULL || len == 0 || head_only(req) || !tr(req)->streaming)
		return;
	osh_buf_init_secret(&out, 0);
	if (osh_buf_reserve(&out, len + 32) != 0) {
		/* Out of memory: the body is cut short; so is the
		 * connection, after it. */
		c->keep_alive = false;
		return;
	}
	if (chunked(req))
		osh_buf_printf(&out, "%zx\r\n", len);
	osh_buf_append(&out, data, len);
	if (chunked(req))
		osh_buf_puts(&out, "\r\n");
	queue(c, &out);
}

void
osh_reply_end(struct osh_req *req)
{
	struct conn *c = tr(req)->conn;

	if (c != NULL && chunked(req) && !head_only(req) && tr(req)->streaming)
		evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	finish(req, tr(req)->status);
}
