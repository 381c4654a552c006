/* Unit tests: the HTTP server (http.c, http_req.c) over real loopback
 * sockets. The server runs a tiny router on its own event loop thread;
 * the tests are blocking clients that speak raw HTTP/1.1 (and TLS through
 * OpenSSL and curl). Deadlines are short here (a few hundred ms) so that
 * slow clients are cut quickly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <zlib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "osh/crypto.h"
#include "osh/http.h"
#include "osh/httpc.h"
#include "osh/json.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/util.h"
/* The per-client keys are private to libcommon's http*.c. */
#include "../../libcommon/src/http_int.h"

#define FIRST_BYTE_MS 200
#define HEADER_MS 500
#define BODY_MS 500
#define IDLE_MS 2000
#define WRITE_MS 500
#define MAX_CONNS 4
#define HARD_CONNS (MAX_CONNS + 16)
#define MAX_BODY (8 << 20)
#define BIG_REPLY (16 << 20)
#define SHARED_REPLY (512 << 10) /* more than socket buffers take */

/*
 * The server side: a loop thread and a few routes.
 */

struct srv {
	struct event_base *base;
	struct osh_http *h;
	struct osh_metrics *m;
	pthread_t thread;
	int port;
	SSL_CTX *tls;
	int replied_alive, replied_gone; /* by /slow */
	char *big;
	struct osh_body *shared; /* what /shared answers with */
	const char *secret; /* what /token answers with */
};

static struct srv S;

struct slow {
	struct osh_req *req;
	struct event *ev;
};

static void
slow_done(evutil_socket_t fd, short what, void *arg)
{
	struct slow *s = arg;

	(void)fd;
	(void)what;
	if (osh_req_alive(s->req))
		S.replied_alive++;
	else
		S.replied_gone++;
	osh_resp_header(s->req, "X-Late", "yes");
	osh_reply(s->req, 200, "text/plain", "late", 4);
	event_free(s->ev);
	free(s);
}

static void
h_slow(struct osh_req *req)
{
	struct slow *s = calloc(1, sizeof(*s));
	int64_t ms = 100;
	struct timeval tv;

	assert_non_null(s);
	osh_parse_int(osh_req_query(req, "ms"), 0, 10000, &ms);
	s->req = req;
	s->ev = evtimer_new(S.base, slow_done, s);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->ev, &tv);
}

static void
h_stream(struct osh_req *req)
{
	osh_resp_header(req, "X-Stream", "1");
	osh_reply_start(req, 200, "text/csv");
	osh_reply_chunk(req, "a,b\n", 4);
	osh_reply_chunk(req, "", 0);
	osh_reply_chunk(req, "1,2\n", 4);
	osh_reply_end(req);
}

static void
h_stats(struct osh_req *req)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "in_flight=%u conns=%u gone=%d",
	    osh_http_in_flight(S.h), osh_http_connections(S.h), S.replied_gone);

	osh_reply(req, 200, "text/plain", buf, (size_t)n);
}

static void
h_metrics(struct osh_req *req)
{
	struct osh_buf b;

	osh_buf_init(&b, 0);
	osh_metrics_render(S.m, &b);
	osh_reply(req, 200, "text/plain", b.data, b.len);
	osh_buf_release(&b);
}

/* A login-like body: a password next to a name of any length. */
static const struct osh_field json_fields[] = {
    {"username", OSH_FIELD_STRING, true, false, 1, 0, NULL},
    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 1, 1024,
	NULL},
};

static void
h_json(struct osh_req *req)
{
	struct json_object *o =
	    osh_req_json(req, json_fields, OSH_ARRAY_LEN(json_fields));

	if (o == NULL)
		return;
	osh_json_put_wiped(o, json_fields, OSH_ARRAY_LEN(json_fields));
	osh_reply(req, 200, "text/plain", "ok", 2);
}

/* Answers with tokens, in the body and in a cookie. */
static void
h_token(struct osh_req *req)
{
	struct json_object *o = json_object_new_object();
	struct osh_buf cookie;

	json_object_object_add(
	    o, "access_token", json_object_new_string(S.secret));
	osh_buf_init_secret(&cookie, 0);
	osh_buf_puts(&cookie, "refresh=");
	osh_buf_puts(&cookie, S.secret);
	osh_resp_header(req, "Set-Cookie", cookie.data);
	osh_buf_release(&cookie);
	osh_reply_json_secret(req, 200, o);
}

static void
dispatch(struct osh_req *req, void *arg)
{
	const char *p = req->path;

	(void)arg;
	if (strcmp(p, "/hello") == 0) {
		osh_reply(req, 200, "text/plain", "hello", 5);
	} else if (strcmp(p, "/echo") == 0 || strcmp(p, "/small") == 0) {
		const char *q = osh_req_query(req, "q");
		if (q != NULL)
			osh_resp_header(req, "X-Q", q);
		osh_reply(req, 200, "application/octet-stream", req->body,
		    req->body_len);
	} else if (strcmp(p, "/ping") == 0) {
		osh_reply(req, 204, NULL, NULL, 0);
	} else if (strcmp(p, "/busy") == 0) {
		osh_reply_error(req, 503, NULL, NULL, "busy");
	} else if (strcmp(p, "/busy-own") == 0) {
		osh_resp_header(req, "Retry-After", "30");
		osh_reply_error(req, 503, NULL, NULL, "busy");
	} else if (strcmp(p, "/slow") == 0) {
		h_slow(req);
	} else if (strcmp(p, "/stream") == 0) {
		h_stream(req);
	} else if (strcmp(p, "/stats") == 0) {
		h_stats(req);
	} else if (strcmp(p, "/whoami") == 0) {
		osh_reply(req, 200, "text/plain", req->client_addr,
		    strlen(req->client_addr));
	} else if (strcmp(p, "/scheme") == 0) {
		osh_reply(req, 200, "text/plain", req->https ? "https" : "http",
		    req->https ? 5 : 4);
	} else if (strcmp(p, "/json") == 0) {
		h_json(req);
	} else if (strcmp(p, "/token") == 0) {
		h_token(req);
	} else if (strcmp(p, "/metrics") == 0) {
		h_metrics(req);
	} else if (strcmp(p, "/shared") == 0) {
		osh_reply_body(req, 200, "text/plain", S.shared);
	} else if (strcmp(p, "/big") == 0) {
		osh_reply(req, 200, "text/plain", S.big, BIG_REPLY);
	} else if (strcmp(p, "/plain") == 0) {
		osh_http_set_tls(S.h, NULL);
		osh_reply(req, 200, "text/plain", "ok", 2);
	} else if (strcmp(p, "/stop-accepting") == 0) {
		osh_http_stop_accepting(S.h);
		osh_reply(req, 200, "text/plain", "ok", 2);
	} else if (strcmp(p, "/quit") == 0) {
		osh_reply(req, 200, "text/plain", "bye", 3);
		event_base_loopbreak(S.base);
	} else {
		osh_reply_error(req, 404, NULL, NULL, "no such endpoint");
	}
}

/* The route table's body limits, as a router would give them. */
static int64_t
body_limit(void *arg, enum osh_method m, const char *path)
{
	(void)arg;
	if (strcmp(path, "/echo") == 0)
		return m == OSH_POST ? 1 << 20 : -1;
	if (strcmp(path, "/small") == 0)
		return m == OSH_POST ? 100 : -1;
	if (strcmp(path, "/ping") == 0)
		return m == OSH_POST ? 0 : -1;
	if (strcmp(path, "/json") == 0)
		return m == OSH_POST ? 1 << 20 : -1;
	if (strcmp(path, "/nowhere") == 0)
		return -1;
	return 0;
}

static void *
loop_main(void *arg)
{
	(void)arg;
	event_base_dispatch(S.base);
	return NULL;
}

/* Options a test sets before start*() beyond the usual ones. */
static struct {
	int per_client;
	const char *unix_path;
	const char *proxies; /* NULL: 127.0.0.1 */
	int first_byte_ms, header_ms; /* 0: FIRST_BYTE_MS, HEADER_MS */
} T;

static void
start_with(SSL_CTX *tls, int max_conns)
{
	struct osh_http_options o = {
	    .addr = "127.0.0.1",
	    .port = 0,
	    .unix_path = T.unix_path,
	    .max_body = MAX_BODY,
	    .idle_timeout_ms = IDLE_MS,
	    .trusted_proxies = T.proxies ? T.proxies : "127.0.0.1",
	    .max_connections = max_conns,
	    .max_connections_per_client = T.per_client,
	    .first_byte_timeout_ms =
		T.first_byte_ms > 0 ? T.first_byte_ms : FIRST_BYTE_MS,
	    .header_timeout_ms = T.header_ms > 0 ? T.header_ms : HEADER_MS,
	    .body_timeout_ms = BODY_MS,
	    .write_timeout_ms = WRITE_MS,
	    .body_limit = body_limit,
	    .tls = tls,
	};

	memset(&S, 0, sizeof(S));
	S.base = event_base_new();
	S.m = osh_metrics_new();
	o.metrics = S.m;
	S.h = osh_http_new(S.base, &o, dispatch, NULL);
	assert_non_null(S.h);
	S.port = osh_http_port(S.h);
	assert_true(S.port > 0);
	S.big = malloc(BIG_REPLY);
	memset(S.big, 'x', BIG_REPLY);
	S.big[SHARED_REPLY - 1] = 'y';
	S.shared = osh_body_new(S.big, SHARED_REPLY);
	assert_non_null(S.shared);
	assert_int_equal(pthread_create(&S.thread, NULL, loop_main, NULL), 0);
}

static void
start(SSL_CTX *tls)
{
	start_with(tls, MAX_CONNS);
}

/*
 * The client side: blocking sockets (or TLS over them).
 */

struct cl {
	int fd;
	SSL *ssl;
	char buf[1 << 16];
	size_t len;
};

struct resp {
	int status;
	char head[4096];
	char *body;
	size_t body_len;
};

/* A connection to port from the loopback address 'from' (NULL:
 * 127.0.0.1, a trusted proxy of the test server; 127.0.0.2 and on are
 * other clients). */
static struct cl *
dial_from(const char *from, int port)
{
	struct cl *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {5, 0};

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (from != NULL) {
		struct sockaddr_in src = {.sin_family = AF_INET};

		assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
		assert_int_equal(
		    bind(c->fd, (struct sockaddr *)&src, sizeof(src)), 0);
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

static struct cl *
dial_to(int port)
{
	return dial_from(NULL, port);
}

/* A connection to the test server's unix socket. */
static struct cl *
dial_unix(const char *path)
{
	struct cl *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {5, 0};

	osh_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

static struct cl *
dial(void)
{
	struct cl *c = dial_to(S.port);

	assert_non_null(c);
	return c;
}

static void
cl_close(struct cl *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c);
}

/* Closes with a reset (SO_LINGER 0): a client really gone. */
static void
cl_reset(struct cl *c)
{
	struct linger l = {1, 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	cl_close(c);
}

static void
cl_send(struct cl *c, const void *p, size_t n)
{
	if (c->ssl != NULL) {
		assert_int_equal(SSL_write(c->ssl, p, (int)n), (int)n);
		return;
	}
	while (n > 0) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
		assert_true(k > 0);
		p = (const char *)p + k;
		n -= (size_t)k;
	}
}

static void
cl_puts(struct cl *c, const char *s)
{
	cl_send(c, s, strlen(s));
}

/* Reads more into c->buf: bytes read, 0 at end of stream, -1 on error or
 * timeout. */
static ssize_t
cl_fill(struct cl *c)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		return -1;
	if (c->ssl != NULL) {
		int k = SSL_read(
		    c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
		if (k <= 0)
			return SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN
			    ? 0
			    : -1;
		n = k;
	} else {
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	}
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static void
consume(struct cl *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Takes n body bytes, reading as needed. */
static int
take_body(struct cl *c, struct resp *r, size_t n)
{
	r->body = realloc(r->body, r->body_len + n + 1);
	while (n > 0) {
		size_t k;

		if (c->len == 0 && cl_fill(c) <= 0)
			return -1;
		k = c->len < n ? c->len : n;
		memcpy(r->body + r->body_len, c->buf, k);
		r->body_len += k;
		r->body[r->body_len] = '\0';
		consume(c, k);
		n -= k;
	}
	return 0;
}

/* Reads a line ending in CRLF into out. */
static int
take_line(struct cl *c, char *out, size_t len)
{
	char *e;

	while ((e = memchr(c->buf, '\n', c->len)) == NULL)
		if (cl_fill(c) <= 0)
			return -1;
	if ((size_t)(e - c->buf) >= len)
		return -1;
	memcpy(out, c->buf, (size_t)(e - c->buf + 1));
	out[e - c->buf + 1] = '\0';
	consume(c, (size_t)(e - c->buf + 1));
	return 0;
}

static const char *
resp_header(const struct resp *r, const char *name)
{
	static char val[256];
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	if ((p = strcasestr(r->head, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, "\r"), p);
	return val;
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Reads one response (head_req: the request was HEAD). -1 when the
 * connection ended or timed out first. */
static int
resp_read(struct cl *c, struct resp *r, bool head_req)
{
	char *end, line[128];
	const char *v;

	memset(r, 0, sizeof(*r));
	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		if (cl_fill(c) <= 0)
			return -1;
	if ((size_t)(end - c->buf) + 4 >= sizeof(r->head))
		return -1;
	memcpy(r->head, c->buf, (size_t)(end - c->buf) + 2);
	consume(c, (size_t)(end - c->buf) + 4);
	if (sscanf(r->head, "HTTP/1.1 %d ", &r->status) != 1)
		return -1;
	r->body = calloc(1, 1);
	if (head_req || r->status == 204 || r->status == 304 ||
	    r->status / 100 == 1)
		return 0;
	if ((v = resp_header(r, "Transfer-Encoding")) != NULL) {
		assert_string_equal(v, "chunked");
		for (;;) {
			unsigned long n;

			if (take_line(c, line, sizeof(line)) != 0)
				return -1;
			n = strtoul(line, NULL, 16);
			if (n == 0)
				return take_line(c, line, sizeof(line));
			if (take_body(c, r, n) != 0 ||
			    take_line(c, line, sizeof(line)) != 0)
				return -1;
		}
	}
	if ((v = resp_header(r, "Content-Length")) != NULL)
		return take_body(c, r, strtoul(v, NULL, 10));
	while (cl_fill(c) > 0)
		;
	return take_body(c, r, c->len);
}

/* True when the server closed the connection (reading hits its end). */
static bool
closed_by_server(struct cl *c)
{
	char b[256];
	ssize_t n;

	c->len = 0;
	do {
		n = c->ssl != NULL ? SSL_read(c->ssl, b, sizeof(b))
				   : recv(c->fd, b, sizeof(b), 0);
	} while (n > 0);
	if (c->ssl != NULL)
		return SSL_get_error(c->ssl, (int)n) != SSL_ERROR_WANT_READ &&
		    errno != EAGAIN;
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* One request on a fresh connection. */
static void
get(const char *path, struct resp *r)
{
	struct cl *c = dial();
	char req[256];

	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
	cl_puts(c, req);
	assert_int_equal(resp_read(c, r, false), 0);
	cl_close(c);
}

static int
stat_of(const char *name)
{
	struct resp r;
	const char *p;
	int v;

	get("/stats", &r);
	p = strstr(r.body, name);
	assert_non_null(p);
	v = (int)strtol(p + strlen(name) + 1, NULL, 10);
	resp_free(&r);
	return v;
}

/* Waits until the server has no request in flight and only n connections
 * beside the one asking. */
static void
wait_quiet(int n)
{
	for (int i = 0; i < 100; i++) {
		if (stat_of("in_flight") == 1 && stat_of("conns") == n + 1)
			return;
		usleep(50000);
	}
	fail_msg("server did not settle: in_flight=%d conns=%d",
	    stat_of("in_flight"), stat_of("conns"));
}

static bool
metric_has(const char *text)
{
	struct resp r;
	bool found;

	get("/metrics", &r);
	found = strstr(r.body, text) != NULL;
	if (!found)
		fprintf(stderr, "%s\n", r.body);
	resp_free(&r);
	return found;
}

static void
stop(void)
{
	struct cl *c;

	wait_quiet(0);
	/* The loop stops before the answer is written: none is read. */
	c = dial();
	cl_puts(c, "GET /quit HTTP/1.1\r\nHost: t\r\n\r\n");
	pthread_join(S.thread, NULL);
	cl_close(c);
	assert_int_equal(osh_http_in_flight(S.h), 0);
	osh_http_free(S.h);
	osh_metrics_free(S.m);
	event_base_free(S.base);
	/* The last reference: a reply that kept one leaks it. */
	osh_body_unref(S.shared);
	free(S.big);
}

static uint64_t
ms_since(uint64_t t0)
{
	return (osh_now_us() - t0) / 1000;
}

/*
 * The tests.
 */

static void
keep_alive_and_basics(void **state)
{
	struct cl *c;
	struct resp r;

	(void)state;
	start(NULL);
	c = dial();
	for (int i = 0; i < 3; i++) {
		cl_puts(c,
		    "GET /hello HTTP/1.1\r\nHost: t\r\nX-Request-Id: "
		    "rid-1\r\n\r\n");
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "hello");
		assert_string_equal(resp_header(&r, "Content-Length"), "5");
		assert_string_equal(resp_header(&r, "X-Request-Id"), "rid-1");
		assert_string_equal(
		    resp_header(&r, "Cache-Control"), "no-store");
		assert_non_null(strstr(resp_header(&r, "Date"), " GMT"));
		assert_null(resp_header(&r, "Connection"));
		resp_free(&r);
	}
	/* Query decoding and a body, on the same connection. */
	cl_puts(c,
	    "POST /echo?q=a%20b+c HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 3\r\n\r\nxyz");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "xyz");
	assert_string_equal(resp_header(&r, "X-Q"), "a b c");
	resp_free(&r);
	/* 404 from the dispatcher, 204 without a body. */
	cl_puts(c, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "\"not_found\""));
	resp_free(&r);
	cl_puts(c, "POST /ping HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 204);
	assert_null(resp_header(&r, "Content-Length"));
	assert_null(resp_header(&r, "Retry-After"));
	resp_free(&r);
	/* Every 503 says when to come back: the default, or the
	 * handler's own, never both. */
	cl_puts(c, "GET /busy HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(resp_header(&r, "Retry-After"), "1");
	assert_non_null(strstr(r.body, "\"unavailable\""));
	resp_free(&r);
	cl_puts(c, "GET /busy-own HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(resp_header(&r, "Retry-After"), "30");
	assert_null(strstr(r.head, "Retry-After: 1\r\n"));
	resp_free(&r);
	/* Connection: close is honoured. */
	cl_puts(
	    c, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	assert_true(closed_by_server(c));
	cl_close(c);
	/* HTTP/1.0: closed unless keep-alive is asked for. */
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(resp_header(&r, "Connection"), "keep-alive");
	resp_free(&r);
	cl_puts(c, "GET /hello HTTP/1.0\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	assert_true(closed_by_server(c));
	cl_close(c);
	stop();
}

/* A shared body goes to many clients at once, whole, and to a HEAD not
 * at all; a client gone before reading it drops its reference. */
/* Whether gz (len bytes of gzip) inflates to want (n bytes). */
static bool
gunzipped_is(const char *gz, size_t len, const char *want, size_t n)
{
	z_stream zs = {0};
	char *out = malloc(n + 1);
	bool same = false;

	if (out == NULL || inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(out);
		return false;
	}
	zs.next_in = (Bytef *)(uintptr_t)gz;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)(n + 1);
	same = inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == n &&
	    memcmp(out, want, n) == 0;
	inflateEnd(&zs);
	free(out);
	return same;
}

static void
shared_body(void **state)
{
	struct cl *c[3];
	struct resp r;

	(void)state;
	start(NULL);
	for (size_t i = 0; i < OSH_ARRAY_LEN(c); i++) {
		c[i] = dial();
		cl_puts(c[i],
		    "GET /shared HTTP/1.1\r\nHost: t\r\n\r\n"
		    "HEAD /shared HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /shared HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	for (size_t i = 0; i < OSH_ARRAY_LEN(c); i++) {
		assert_int_equal(resp_read(c[i], &r, false), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, SHARED_REPLY);
		assert_int_equal(r.body[SHARED_REPLY - 1], 'y');
		assert_string_equal(
		    resp_header(&r, "Cache-Control"), "no-store");
		resp_free(&r);
		assert_int_equal(resp_read(c[i], &r, true), 0);
		assert_string_equal(
		    resp_header(&r, "Content-Length"), "524288");
		resp_free(&r);
		assert_int_equal(resp_read(c[i], &r, false), 0);
		assert_int_equal(r.body_len, SHARED_REPLY);
		resp_free(&r);
		cl_close(c[i]);
	}
	/* gzip for a client that takes it, made once and the same for
	 * each; the body as it is for one that refuses it. */
	for (int i = 0; i < 2; i++) {
		c[0] = dial();
		cl_puts(c[0],
		    "GET /shared HTTP/1.1\r\nHost: t\r\n"
		    "Accept-Encoding: deflate, gzip\r\n\r\n"
		    "GET /shared HTTP/1.1\r\nHost: t\r\n"
		    "Accept-Encoding: gzip;q=0, *\r\n\r\n");
		assert_int_equal(resp_read(c[0], &r, false), 0);
		assert_string_equal(
		    resp_header(&r, "Content-Encoding"), "gzip");
		assert_string_equal(resp_header(&r, "Vary"), "Accept-Encoding");
		assert_true(r.body_len < SHARED_REPLY / 100);
		assert_true(
		    gunzipped_is(r.body, r.body_len, S.big, SHARED_REPLY));
		resp_free(&r);
		assert_int_equal(resp_read(c[0], &r, false), 0);
		assert_null(resp_header(&r, "Content-Encoding"));
		assert_string_equal(resp_header(&r, "Vary"), "Accept-Encoding");
		assert_int_equal(r.body_len, SHARED_REPLY);
		resp_free(&r);
		cl_close(c[0]);
	}
	/* Gone before reading: the queued body is dropped with its
	 * connection. */
	c[0] = dial();
	cl_puts(c[0], "GET /shared HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(recv(c[0]->fd, r.head, 1, 0), 1);
	cl_reset(c[0]);
	stop();
}

static void
pipelining(void **state)
{
	static const char reqs[] =
	    "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
	    "GET /slow?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n"
	    "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
	struct cl *c;
	struct resp r;

	(void)state;
	start(NULL);
	c = dial();
	cl_puts(c, reqs);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "abcde");
	resp_free(&r);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "late");
	resp_free(&r);
	/* HEAD: the GET's headers, no body. */
	assert_int_equal(resp_read(c, &r, true), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Length"), "5");
	resp_free(&r);
	/* Streamed: chunked. */
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(resp_header(&r, "Transfer-Encoding"), "chunked");
	assert_string_equal(resp_header(&r, "X-Stream"), "1");
	assert_string_equal(r.body, "a,b\n1,2\n");
	resp_free(&r);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	cl_close(c);
	/* Streamed to HTTP/1.0: ended by closing. */
	c = dial();
	cl_puts(c, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_null(resp_header(&r, "Transfer-Encoding"));
	assert_string_equal(resp_header(&r, "Connection"), "close");
	assert_string_equal(r.body, "a,b\n1,2\n");
	resp_free(&r);
	cl_close(c);
	/* HEAD of a streamed reply. */
	c = dial();
	cl_puts(c,
	    "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\nGET /hello "
	    "HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, true), 0);
	resp_free(&r);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	cl_close(c);
	stop();
}

static void
expect_continue(void **state)
{
	struct cl *c;
	struct resp r;

	(void)state;
	start(NULL);
	/* Accepted: 100 first, then the body, then the answer. */
	c = dial();
	cl_puts(c,
	    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 100);
	resp_free(&r);
	cl_puts(c, "0123456789");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "0123456789");
	resp_free(&r);
	cl_close(c);
	/* Too large: the final answer at once, no 100. */
	c = dial();
	cl_puts(c,
	    "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "larger than 100 bytes"));
	assert_string_equal(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	assert_true(closed_by_server(c));
	cl_close(c);
	/* A body where none is taken: 400 at once. */
	c = dial();
	cl_puts(c,
	    "POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "takes no request body"));
	resp_free(&r);
	cl_close(c);
	stop();
}

/* A large body sent to a route that refuses it: the answer comes before
 * the client has sent most of it. */
static void
body_refused_before_read(void **state)
{
	const char *paths[] = {"/ping", "/small", "/nowhere"};
	const int want[] = {400, 413, 404};
	char *chunk = calloc(1, 65536);

	(void)state;
	start(NULL);
	for (size_t i = 0; i < OSH_ARRAY_LEN(paths); i++) {
		struct cl *c = dial();
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		size_t sent = 0;
		char head[256];
		struct resp r;

		snprintf(head, sizeof(head),
		    "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: "
		    "application/json\r\nContent-Length: %d\r\n\r\n",
		    paths[i], MAX_BODY);
		cl_puts(c, head);
		/* Send the body a piece at a time until the answer shows. */
		while (sent < MAX_BODY && poll(&pfd, 1, 20) == 0) {
			cl_send(c, chunk, 65536);
			sent += 65536;
		}
		assert_true(sent < MAX_BODY / 4);
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, want[i]);
		assert_string_equal(resp_header(&r, "Connection"), "close");
		resp_free(&r);
		assert_true(closed_by_server(c));
		cl_close(c);
	}
	/* Content-Length over the server's own limit (and the route's). */
	{
		struct cl *c = dial();
		struct resp r;

		cl_puts(c,
		    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
		    "99999999999\r\n\r\n");
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 413);
		assert_non_null(strstr(r.body, "larger than 1048576 bytes"));
		resp_free(&r);
		cl_close(c);
	}
	/* Chunked: cut when it passes the limit. */
	{
		struct cl *c = dial();
		struct resp r;

		cl_puts(c,
		    "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:"
		    " chunked\r\n\r\n40\r\n");
		cl_send(c, chunk, 64);
		cl_puts(c, "\r\n40\r\n");
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 413);
		resp_free(&r);
		cl_close(c);
	}
	free(chunk);
	stop();
}

static void
malformed_requests(void **state)
{
	static const struct {
		const char *req;
		int status;
	} bad[] = {
	    {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		400},
	    {"GET /hello HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400},
	    {"GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505},
	    {"BREW /hello HTTP/1.1\r\nHost: t\r\n\r\n", 501},
	    {"GET /hello?a=%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400},
	    {"GET /a%00 HTTP/1.1\r\nHost: t\r\n\r\n", 400},
	    {"GET /hello HTTP/1.1\r\n\r\n", 400},
	};

	(void)state;
	start(NULL);
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++) {
		struct cl *c = dial();
		struct resp r;

		cl_puts(c, bad[i].req);
		assert_int_equal(resp_read(c, &r, false), 0);
		if (r.status != bad[i].status)
			fail_msg("request %zu: status %d", i, r.status);
		assert_non_null(strstr(r.body, "\"error\""));
		resp_free(&r);
		assert_true(closed_by_server(c));
		cl_close(c);
	}
	/* A request line too long. */
	{
		struct cl *c = dial();
		char *line = malloc(10000);
		struct resp r;

		memset(line, 'a', 9999);
		line[0] = '/';
		line[9999] = '\0';
		cl_puts(c, "GET ");
		cl_puts(c, line);
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 414);
		resp_free(&r);
		cl_close(c);
		free(line);
	}
	stop();
}

/* A client sending its head a byte at a time (slowloris) is cut by the
 * head's deadline, whatever it sends; so is one sending nothing, one
 * whose body is late, and an idle keep-alive connection. */
static void
deadlines(void **state)
{
	const char *trickle =
	    "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct cl *c;
	struct resp r;
	uint64_t t0;
	size_t i;

	(void)state;
	start(NULL);
	c = dial();
	t0 = osh_now_us();
	for (i = 0; i < strlen(trickle); i++) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

		if (poll(&pfd, 1, 0) == 1 ||
		    send(c->fd, trickle + i, 1, MSG_NOSIGNAL) != 1)
			break;
		usleep(50000);
	}
	/* 50 ms a byte: the whole head would take seconds. */
	assert_true(i < strlen(trickle));
	assert_true(ms_since(t0) < 10 * HEADER_MS);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 408);
	resp_free(&r);
	cl_close(c);

	/* Empty lines before a request do not keep a connection alive. */
	c = dial();
	t0 = osh_now_us();
	while (send(c->fd, "\r\n", 2, MSG_NOSIGNAL) == 2 &&
	    ms_since(t0) < 10 * HEADER_MS)
		usleep(100000);
	assert_true(ms_since(t0) < 10 * HEADER_MS);
	cl_close(c);

	/* Nothing sent: closed without an answer, by the first byte's
	 * deadline (well before the head's). */
	c = dial();
	t0 = osh_now_us();
	assert_true(closed_by_server(c));
	assert_true(ms_since(t0) >= FIRST_BYTE_MS - 50);
	assert_true(ms_since(t0) < HEADER_MS);
	cl_close(c);

	/* A first byte in time: the rest of the head is due by the head's
	 * deadline from the accept. */
	c = dial();
	t0 = osh_now_us();
	usleep(FIRST_BYTE_MS / 2 * 1000);
	cl_puts(c, "GET /hello HTTP/1.1\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 408);
	assert_true(ms_since(t0) >= HEADER_MS - 50);
	resp_free(&r);
	cl_close(c);

	/* A late body: 408. */
	c = dial();
	cl_puts(c,
	    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
	    "\r\nsome");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 408);
	resp_free(&r);
	cl_close(c);

	/* Idle keep-alive connection: closed after the idle deadline. */
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	resp_free(&r);
	t0 = osh_now_us();
	assert_true(closed_by_server(c));
	assert_true(ms_since(t0) >= IDLE_MS - 50);
	cl_close(c);

	/* A client that does not read its (large) reply is cut. */
	c = dial();
	cl_puts(c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
	wait_quiet(0);
	cl_close(c);

	assert_true(
	    metric_has("osh_http_timeouts_total{kind=\"first_byte\"} 1"));
	assert_true(metric_has("osh_http_timeouts_total{kind=\"header\"} 3"));
	assert_true(metric_has("osh_http_timeouts_total{kind=\"body\"} 1"));
	assert_true(metric_has("osh_http_timeouts_total{kind=\"idle\"} 1"));
	assert_true(metric_has("osh_http_timeouts_total{kind=\"write\"} 1"));
	stop();
}

/* MAX_CONNS are served; more get 503 and Retry-After; far more are
 * closed at once. */
static void
connection_cap(void **state)
{
	struct cl *held[HARD_CONNS + 1];
	struct resp r;
	struct cl *c;
	int n = 0;

	(void)state;
	start(NULL);
	/* Busy connections (idle ones would make room). */
	for (; n < MAX_CONNS; n++) {
		held[n] = dial();
		cl_puts(
		    held[n], "GET /slow?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	usleep(100000);
	c = dial();
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(resp_header(&r, "Retry-After"), "1");
	assert_string_equal(
	    resp_header(&r, "Content-Type"), "application/json");
	assert_non_null(strstr(r.body, "\"unavailable\""));
	resp_free(&r);
	assert_true(closed_by_server(c));
	cl_close(c);
	usleep(100000);
	/* Up to the hard limit, connections held open get their 503. */
	for (; n < HARD_CONNS; n++) {
		held[n] = dial();
		assert_int_equal(resp_read(held[n], &r, false), 0);
		assert_int_equal(r.status, 503);
		resp_free(&r);
	}
	/* Beyond it: closed without a word. */
	c = dial();
	assert_true(closed_by_server(c));
	assert_int_equal(c->len, 0);
	cl_close(c);
	for (int i = 0; i < n; i++)
		cl_close(held[i]);
	/* Room again once the slow requests are answered (their clients
	 * may have only half-closed). */
	usleep(1500000);
	for (int i = 0; i < 100; i++) {
		c = dial();
		cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		i = resp_read(c, &r, false) == 0 && r.status == 200 ? 100 : i;
		resp_free(&r);
		cl_close(c);
		usleep(50000);
	}
	assert_true(metric_has("osh_http_connections_refused_total{reason="
			       "\"limit\"} 17"));
	assert_true(metric_has("osh_http_connections_refused_total{reason="
			       "\"overload\"} 1"));
	stop();
}

/* Clients that hang up while their request waits: those that reset
 * the connection are gone (the request stays valid, its reply goes
 * nowhere); those that close it may have only half-closed it, so their
 * reply is sent. Nothing leaks (the sanitizers watch). */
static void
client_gone(void **state)
{
	struct resp r;

	(void)state;
	start_with(NULL, 256);
	for (int i = 0; i < 200; i++) {
		struct cl *c = dial();

		cl_puts(c, "GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n");
		if (i % 4 == 0)
			cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		usleep(1000);
		if (i % 2 == 0)
			cl_reset(c);
		else
			cl_close(c);
	}
	/* A half-close after a request that is answered at once still gets
	 * its answer. */
	{
		struct cl *c = dial();

		cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		shutdown(c->fd, SHUT_WR);
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_string_equal(r.body, "hello");
		resp_free(&r);
		cl_close(c);
	}
	wait_quiet(0);
	assert_int_equal(stat_of("gone"), 100);
	assert_true(metric_has("osh_http_client_gone_total 100"));
	assert_true(metric_has("osh_http_detached_requests 0"));
	stop();
	assert_int_equal(S.replied_gone, 100);
	assert_int_equal(S.replied_alive, 100);
}

/* A client that sends its request and half-closes (shutdown(SHUT_WR))
 * gets its reply, however long the handler takes, and then the
 * connection closes. */
static void
half_close(void **state)
{
	struct resp r;
	struct cl *c;

	(void)state;
	start(NULL);
	for (int i = 0; i < 3; i++) {
		c = dial();
		cl_puts(c,
		    i == 2 ? "POST /echo HTTP/1.1\r\nHost: t\r\n"
			     "Content-Length: 3\r\n\r\nabc"
			   : "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n"
			     "\r\n");
		if (i == 1)
			usleep(50000); /* the handler is waiting by then */
		shutdown(c->fd, SHUT_WR);
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, i == 2 ? "abc" : "late");
		/* Known to be half-closed before the reply was made. */
		if (i < 2)
			assert_string_equal(
			    resp_header(&r, "Connection"), "close");
		resp_free(&r);
		assert_true(closed_by_server(c));
		cl_close(c);
	}
	wait_quiet(0);
	assert_true(metric_has("osh_http_client_gone_total 0"));
	stop();
	assert_int_equal(S.replied_alive, 2);
	assert_int_equal(S.replied_gone, 0);
}

/* At the limit, the oldest idle keep-alive connection is closed to make
 * room for a new one; requests whose client went away still count. */
static void
idle_make_room(void **state)
{
	struct cl *held[MAX_CONNS], *c;
	struct resp r;

	(void)state;
	start(NULL);
	for (int i = 0; i < MAX_CONNS; i++) {
		held[i] = dial();
		cl_puts(held[i], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		assert_int_equal(resp_read(held[i], &r, false), 0);
		resp_free(&r);
		usleep(20000);
	}
	/* A fifth: served, and the first idle one is gone. */
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_true(closed_by_server(held[0]));
	cl_close(held[0]);
	/* The others still serve (asked on one of them: a new connection
	 * would make room again). */
	cl_puts(held[1], "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(held[1], &r, false), 0);
	assert_non_null(
	    strstr(r.body, "osh_http_idle_closed_total{reason=\"limit\"} 1"));
	resp_free(&r);
	cl_close(c);
	for (int i = 1; i < MAX_CONNS; i++)
		cl_close(held[i]);
	wait_quiet(0);

	/* Requests detached from their clients fill the server: none has
	 * a connection, and still a new one is refused. */
	for (int i = 0; i < MAX_CONNS; i++) {
		held[i] = dial();
		cl_puts(
		    held[i], "GET /slow?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	usleep(100000);
	for (int i = 0; i < MAX_CONNS; i++)
		cl_reset(held[i]);
	usleep(100000);
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	resp_free(&r);
	cl_close(c);
	usleep(800000);
	assert_true(metric_has("osh_http_detached_requests 0"));
	stop();
}

/* At the limit with no idle connection to close, the connection whose
 * request head has been coming for longest makes room, once that is over
 * a second: slow clients (a byte now and then, from many addresses)
 * cannot hold every slot. A younger head does not make room. */
static void
slow_heads_make_room(void **state)
{
	struct cl *held[MAX_CONNS], *c;
	struct resp r;

	(void)state;
	T.first_byte_ms = T.header_ms = 5000;
	start(NULL);
	for (int i = 0; i < MAX_CONNS; i++) {
		held[i] = dial();
		cl_puts(held[i], "GET /hello HTTP/1.1\r\nHo");
		usleep(20000);
	}
	c = dial();
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	resp_free(&r);
	cl_close(c);
	usleep(1100000);
	/* Now the oldest slow head goes for a new client. */
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	cl_close(c);
	assert_true(closed_by_server(held[0]));
	cl_close(held[0]);
	/* The others may still finish their heads. */
	cl_puts(held[1], "st: t\r\n\r\n");
	assert_int_equal(resp_read(held[1], &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_true(metric_has("osh_http_slow_closed_total 1"));
	for (int i = 1; i < MAX_CONNS; i++)
		cl_close(held[i]);
	T.first_byte_ms = T.header_ms = 0;
	stop();
}

/* One client address may hold max_connections_per_client connections
 * (requests detached from it included); others, and trusted proxies, are
 * not held back by it. */
static void
per_client_cap(void **state)
{
	struct cl *held[3 + 16], *c;
	struct resp r;
	int n;

	(void)state;
	T.per_client = 3;
	start_with(NULL, 64);
	for (int i = 0; i < 3; i++) {
		held[i] = dial_from("127.0.0.2", S.port);
		cl_puts(
		    held[i], "GET /slow?ms=500 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	usleep(100000);
	c = dial_from("127.0.0.2", S.port);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(resp_header(&r, "Retry-After"), "1");
	assert_non_null(strstr(r.body, "from this client"));
	resp_free(&r);
	assert_true(closed_by_server(c));
	cl_close(c);
	/* Another client, and the trusted proxy, are served. */
	c = dial_from("127.0.0.3", S.port);
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	cl_close(c);
	{
		struct cl *p[5];

		for (int i = 0; i < 5; i++) {
			p[i] = dial();
			cl_puts(p[i], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
			assert_int_equal(resp_read(p[i], &r, false), 0);
			assert_int_equal(r.status, 200);
			resp_free(&r);
		}
		for (int i = 0; i < 5; i++)
			cl_close(p[i]);
	}
	/* Once answered, the three are idle: a fourth takes the place of
	 * the oldest. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(resp_read(held[i], &r, false), 0);
		assert_string_equal(r.body, "late");
		resp_free(&r);
	}
	c = dial_from("127.0.0.2", S.port);
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_true(closed_by_server(held[0]));
	for (int i = 0; i < 3; i++)
		cl_close(held[i]);
	cl_close(c);
	assert_true(metric_has(
	    "osh_http_idle_closed_total{reason=\"client_limit\"} 1"));
	wait_quiet(0);

	/* Requests it hung up on still count. */
	for (int i = 0; i < 3; i++) {
		held[i] = dial_from("127.0.0.2", S.port);
		cl_puts(
		    held[i], "GET /slow?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	usleep(100000);
	for (int i = 0; i < 3; i++)
		cl_reset(held[i]);
	usleep(100000);
	assert_true(metric_has("osh_http_detached_requests 3"));
	c = dial_from("127.0.0.2", S.port);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	resp_free(&r);
	cl_close(c);
	usleep(800000);
	c = dial_from("127.0.0.2", S.port);
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	cl_close(c);
	wait_quiet(0);

	/* Far over its limit, a client's connections are closed at once:
	 * three busy, sixteen answered 503 and held open. */
	for (n = 0; n < 3; n++) {
		held[n] = dial_from("127.0.0.2", S.port);
		cl_puts(
		    held[n], "GET /slow?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	usleep(100000);
	for (; n < 3 + 16; n++) {
		held[n] = dial_from("127.0.0.2", S.port);
		assert_int_equal(resp_read(held[n], &r, false), 0);
		assert_int_equal(r.status, 503);
		resp_free(&r);
	}
	c = dial_from("127.0.0.2", S.port);
	assert_true(closed_by_server(c));
	assert_int_equal(c->len, 0);
	cl_close(c);
	for (int i = 0; i < n; i++)
		cl_close(held[i]);
	assert_true(metric_has("osh_http_connections_refused_total{reason="
			       "\"client_limit\"} 18"));
	assert_true(metric_has("osh_http_connections_refused_total{reason="
			       "\"client_overload\"} 1"));
	usleep(900000);
	stop();
	T.per_client = 0;
}

/* Stopping closes idle connections at once, answers the busy ones (with
 * Connection: close) and accepts no more. */
static void
stop_accepting(void **state)
{
	struct cl *idle, *busy, *c;
	struct resp r;

	(void)state;
	start(NULL);
	idle = dial();
	cl_puts(idle, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(idle, &r, false), 0);
	resp_free(&r);
	busy = dial();
	cl_puts(busy, "GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
	usleep(50000);
	c = dial();
	cl_puts(c, "GET /stop-accepting HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	cl_close(c);
	assert_true(closed_by_server(idle));
	cl_close(idle);
	assert_int_equal(resp_read(busy, &r, false), 0);
	assert_string_equal(r.body, "late");
	assert_string_equal(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	assert_true(closed_by_server(busy));
	cl_close(busy);
	assert_null(dial_to(S.port));
	/* Nothing left to serve: the loop ends by itself. */
	pthread_join(S.thread, NULL);
	assert_int_equal(osh_http_in_flight(S.h), 0);
	assert_int_equal(osh_http_connections(S.h), 0);
	osh_http_free(S.h);
	osh_metrics_free(S.m);
	event_base_free(S.base);
	/* The last reference: a reply that kept one leaks it. */
	osh_body_unref(S.shared);
	free(S.big);
}

/*
 * Secrets left in memory. After a secret went through the server (or
 * httpc) and all is done, the process's writable memory is searched for
 * it: a copy that was freed without being wiped is still there (the
 * sanitizers' quarantine keeps freed blocks as they were; plain malloc
 * keeps most of them). The secret itself and the search's buffer live in
 * pages of their own, left out of the search.
 */

#define SECRET_LEN 48
#define SCAN_CHUNK (1 << 20)

static char *secret_page, *scan_buf;

/* A new random secret, in secret_page. */
static const char *
new_secret(int i)
{
	char *s = secret_page + i * 64;

	if (secret_page == NULL) {
		secret_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		scan_buf = mmap(NULL, SCAN_CHUNK, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(
		    secret_page != MAP_FAILED && scan_buf != MAP_FAILED);
		s = secret_page + i * 64;
	}
	osh_random_token(s, SECRET_LEN + 1, SECRET_LEN / 2);
	return s;
}

static bool
overlaps(unsigned long lo, unsigned long hi, const void *p, size_t n)
{
	unsigned long a = (unsigned long)(uintptr_t)p;

	return a < hi && a + n > lo;
}

/* True when some writable memory of the process other than the secret's
 * own page holds the middle 24 characters of s (a freed block keeps its
 * middle whatever malloc writes at its start). */
static bool
memory_holds(const char *s)
{
	const char *needle = s + (SECRET_LEN - 24) / 2;
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY);
	char line[512];
	bool found = false;

	assert_non_null(maps);
	assert_true(mem >= 0);
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[1] != 'w' ||
		    hi - lo > (1ul << 30) || /* sanitizer shadow memory */
		    overlaps(lo, hi, secret_page, 4096) ||
		    overlaps(lo, hi, scan_buf, SCAN_CHUNK))
			continue;
		for (unsigned long off = lo; off < hi;) {
			size_t want =
			    hi - off < SCAN_CHUNK ? hi - off : SCAN_CHUNK;
			ssize_t k = pread(mem, scan_buf, want, (off_t)off);
			const char *at;

			if (k <= 0)
				break;
			if ((at = memmem(scan_buf, (size_t)k, needle, 24)) !=
			    NULL) {
				fprintf(stderr, "secret found at %#lx in %s",
				    off + (unsigned long)(at - scan_buf), line);
				found = true;
			}
			if ((size_t)k < want || off + (size_t)k >= hi)
				break;
			off += (size_t)k - 23;
		}
	}
	close(mem);
	fclose(maps);
	return found;
}

/* Sends text on a new connection and reads the answer, then wipes the
 * client's copies of both. */
static int
exchange_wiped(char *text, size_t len)
{
	struct cl *c = dial();
	struct resp r;
	int status;

	cl_send(c, text, len);
	osh_wipe(text, len);
	assert_int_equal(resp_read(c, &r, false), 0);
	status = r.status;
	osh_wipe(r.head, sizeof(r.head));
	osh_wipe(r.body, r.body_len);
	resp_free(&r);
	osh_wipe(c->buf, sizeof(c->buf));
	cl_close(c);
	return status;
}

/* A request whose head (a bearer token) and body (a password) are
 * secret: answered, refused for an unknown member or a password too
 * long, or malformed JSON; its body sent in pieces, so that it grows
 * while it is read. */
static void
secrets_wiped_request(void **state)
{
	static const char *const tails[] = {
	    "}",
	    ",\"unknown\":1}",
	    ",\"username\":\"again\"",
	};
	static const int want[] = {200, 400, 400};

	(void)state;
	start_with(NULL, 64);
	for (size_t i = 0; i < OSH_ARRAY_LEN(tails); i++) {
		const char *token = new_secret(0), *pw = new_secret(1);
		struct osh_buf b;

		/* The password first: the early part of the body is what
		 * a realloc leaves behind. (Secrets are appended, never
		 * printed: printf leaves pieces of what it formats on the
		 * stack.) */
		osh_buf_init_secret(&b, 0);
		osh_buf_puts(&b, "{\"password\":\"");
		osh_buf_puts(&b, pw);
		osh_buf_puts(&b, "\",\"username\":\"");
		while (b.len < 100000)
			osh_buf_puts(&b, "name-name-name-name-");
		osh_buf_puts(&b, "\"");
		osh_buf_puts(&b, tails[i]);
		{
			struct osh_buf req;

			osh_buf_init_secret(&req, 0);
			osh_buf_puts(&req,
			    "POST /json HTTP/1.1\r\nHost: t\r\n"
			    "Authorization: Bearer ");
			osh_buf_puts(&req, token);
			osh_buf_puts(&req,
			    "\r\nTransfer-Encoding: chunked\r\n"
			    "Connection: close\r\n\r\n");
			for (size_t off = 0; off < b.len; off += 1000) {
				size_t n =
				    b.len - off < 1000 ? b.len - off : 1000;
				osh_buf_printf(&req, "%zx\r\n", n);
				osh_buf_append(&req, b.data + off, n);
				osh_buf_puts(&req, "\r\n");
			}
			osh_buf_puts(&req, "0\r\n\r\n");
			osh_buf_release(&b);
			assert_int_equal(
			    exchange_wiped(req.data, req.len), want[i]);
			osh_buf_release(&req);
		}
		wait_quiet(0);
		if (memory_holds(token))
			fail_msg("case %zu: the bearer token was left", i);
		if (memory_holds(pw))
			fail_msg("case %zu: the password was left", i);
	}
	stop();
}

/* Tokens answered (in a JSON body and a cookie) leave no copy behind
 * once written. */
static void
secrets_wiped_reply(void **state)
{
	char req[] = "GET /token HTTP/1.1\r\nHost: t\r\n"
		     "Connection: close\r\n\r\n";

	(void)state;
	start_with(NULL, 64);
	S.secret = new_secret(2);
	assert_int_equal(exchange_wiped(req, strlen(req)), 200);
	wait_quiet(0);
	assert_false(memory_holds(S.secret));
	stop();
}

struct httpc_result {
	int status;
	bool done;
	bool echoed;
};

static void
on_httpc(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct httpc_result *r = arg;

	(void)error;
	r->status = status;
	r->echoed = len > 0 && strstr(body, "\"password\"") != NULL;
	r->done = true;
}

/* An outgoing request with a bearer token and a password, answered with
 * the password (as the exporter's credential lookups are): once the
 * client is freed, nothing of either is left, in httpc or in libcurl. */
static void
secrets_wiped_httpc(void **state)
{
	const char *token = new_secret(3), *pw = new_secret(4);
	struct event_base *base = event_base_new();
	struct osh_httpc *hc = osh_httpc_new(base);
	struct httpc_result r = {0};
	struct osh_buf auth, body;
	const char *headers[3] = {NULL, "Content-Type: application/json"};
	char url[64];

	(void)state;
	start_with(NULL, 64);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", S.port);
	osh_buf_init_secret(&auth, 0);
	osh_buf_puts(&auth, "Authorization: Bearer ");
	osh_buf_puts(&auth, token);
	osh_buf_init_secret(&body, 0);
	osh_buf_puts(&body, "{\"password\":\"");
	osh_buf_puts(&body, pw);
	osh_buf_puts(&body, "\"}");
	headers[0] = auth.data;
	assert_int_equal(osh_httpc_request(hc, "POST", url, headers, body.data,
			     body.len, 5000, on_httpc, &r),
	    0);
	osh_buf_release(&auth);
	osh_buf_release(&body);
	while (!r.done)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(r.status, 200);
	assert_true(r.echoed);
	osh_httpc_free(hc);
	event_base_free(base);
	wait_quiet(0);
	if (memory_holds(token))
		fail_msg("the bearer token was left");
	if (memory_holds(pw))
		fail_msg("the password was left");
	stop();
}

/* Clients are counted by IPv4 address (mapped ones too) and by IPv6
 * /64; unix socket peers are not counted per client. */
static void
client_keys(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
	    {"192.0.2.1", "192.0.2.1", true},
	    {"192.0.2.1", "192.0.2.2", false},
	    {"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
	    {"2001:db8:1:2::1", "2001:db8:1:3::1", false},
	    {"::ffff:192.0.2.1", "192.0.2.1", true},
	    {"::ffff:192.0.2.1", "::ffff:192.0.2.2", false},
	    {"::1", "::2", true},
	    {"0.0.0.1", "::1", false},
	};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	unsigned char ka[HTTP_CLIENT_KEY_LEN], kb[HTTP_CLIENT_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct sockaddr_storage sa, sb;
		const char *in[2] = {cases[i].a, cases[i].b};
		struct sockaddr_storage *out[2] = {&sa, &sb};

		for (int k = 0; k < 2; k++) {
			struct sockaddr_in *v4 = (struct sockaddr_in *)out[k];
			struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out[k];

			memset(out[k], 0, sizeof(*out[k]));
			if (inet_pton(AF_INET, in[k], &v4->sin_addr) == 1) {
				v4->sin_family = AF_INET;
			} else {
				assert_int_equal(
				    inet_pton(AF_INET6, in[k], &v6->sin6_addr),
				    1);
				v6->sin6_family = AF_INET6;
			}
		}
		assert_true(http_client_key((struct sockaddr *)&sa, ka));
		assert_true(http_client_key((struct sockaddr *)&sb, kb));
		if ((memcmp(ka, kb, sizeof(ka)) == 0) != cases[i].same)
			fail_msg("%s and %s", cases[i].a, cases[i].b);
	}
	assert_false(http_client_key((struct sockaddr *)&un, ka));
}

/*
 * The unix socket, for the gateway.
 */

static const char *
whoami(struct cl *c, const char *real_ip)
{
	static char out[64];
	char req[256];
	struct resp r;

	snprintf(req, sizeof(req),
	    "GET /whoami HTTP/1.1\r\nHost: t\r\n%s%s%s\r\n",
	    real_ip ? "X-Real-IP: " : "", real_ip ? real_ip : "",
	    real_ip ? "\r\n" : "");
	cl_puts(c, req);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	osh_strlcpy(out, r.body, sizeof(out));
	resp_free(&r);
	return out;
}

/* What the server makes of a request sent with X-Forwarded-Proto: proto
 * (NULL: none). */
static const char *
scheme(struct cl *c, const char *proto)
{
	static char out[16];
	char req[256];
	struct resp r;

	snprintf(req, sizeof(req),
	    "GET /scheme HTTP/1.1\r\nHost: t\r\n%s%s%s\r\n",
	    proto ? "X-Forwarded-Proto: " : "", proto ? proto : "",
	    proto ? "\r\n" : "");
	cl_puts(c, req);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	osh_strlcpy(out, r.body, sizeof(out));
	resp_free(&r);
	return out;
}

/* A unix socket bound at path and left behind (as a crash leaves it), or
 * still listening (fd returned). */
static int
unix_socket_at(const char *path, bool keep)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	osh_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	if (!keep) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
unix_socket(void **state)
{
	struct osh_http_options o = {.addr = "127.0.0.1", .max_body = 1024};
	struct event_base *base = event_base_new();
	char dir[] = "/tmp/osh-http-unix-XXXXXX", path[64];
	struct cl *c, *held[4];
	struct resp r;
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/svc.sock", dir);
	o.unix_path = path;
	/* Anything but a dead socket at the path is left alone. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_null(osh_http_new(base, &o, dispatch, NULL));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	fd = unix_socket_at(path, true);
	assert_null(osh_http_new(base, &o, dispatch, NULL));
	close(fd);
	event_base_free(base);
	/* A socket left by a server that is gone is replaced. */
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	T.unix_path = path;
	T.per_client = 2;
	start_with(NULL, 64);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	/* Its peers are proxies: their X-Real-IP is the client. */
	c = dial_unix(path);
	assert_non_null(c);
	assert_string_equal(whoami(c, "203.0.113.9"), "203.0.113.9");
	assert_string_equal(whoami(c, "2001:db8::7"), "2001:db8::7");
	assert_string_equal(whoami(c, "not an address"), "unix");
	assert_string_equal(whoami(c, NULL), "unix");
	/* ... and their X-Forwarded-Proto, the scheme the client used. */
	assert_string_equal(scheme(c, "https"), "https");
	assert_string_equal(scheme(c, "http"), "http");
	assert_string_equal(scheme(c, "httpsx"), "http");
	assert_string_equal(scheme(c, NULL), "http");
	cl_close(c);
	/* A TCP client that is not a trusted proxy is not believed. */
	c = dial_from("127.0.0.2", S.port);
	assert_string_equal(whoami(c, "203.0.113.9"), "127.0.0.2");
	assert_string_equal(scheme(c, "https"), "http");
	cl_close(c);
	/* The proxy speaks for many clients: no per-client limit. */
	for (int i = 0; i < 4; i++) {
		held[i] = dial_unix(path);
		assert_non_null(held[i]);
		cl_puts(
		    held[i], "GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(resp_read(held[i], &r, false), 0);
		assert_int_equal(r.status, 200);
		resp_free(&r);
		cl_close(held[i]);
	}
	stop();
	/* Gone with the server. */
	assert_int_not_equal(lstat(path, &st), 0);
	T.unix_path = NULL;
	T.per_client = 0;
	rmdir(dir);
}

/* The body of the answer to GET path with the extra header lines. */
static const char *
ask(struct cl *c, const char *path, const char *headers)
{
	static char out[64];
	char req[512];
	struct resp r;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
	    headers);
	cl_puts(c, req);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	osh_strlcpy(out, r.body, sizeof(out));
	resp_free(&r);
	return out;
}

/* Trusted proxies as CIDR ranges: their X-Forwarded-For is read from the
 * right past the trusted ones, their X-Forwarded-Proto believed; others'
 * are not. A list that does not parse fails the server. */
static void
trusted_proxy_ranges(void **state)
{
	struct osh_http_options bad = {.addr = "127.0.0.1",
	    .max_body = 1024,
	    .trusted_proxies = "127.0.0.0/8, 10.0.0.0/33"};
	struct event_base *base = event_base_new();
	struct cl *c;

	(void)state;
	assert_null(osh_http_new(base, &bad, dispatch, NULL));
	event_base_free(base);
	T.proxies = "127.0.0.2/31 ::1";
	start_with(NULL, 64);
	/* 127.0.0.3 is in 127.0.0.2/31. */
	c = dial_from("127.0.0.3", S.port);
	assert_string_equal(ask(c, "/whoami", ""), "127.0.0.3");
	assert_string_equal(
	    ask(c, "/whoami", "X-Forwarded-For: 198.51.100.7\r\n"),
	    "198.51.100.7");
	assert_string_equal(ask(c, "/whoami",
				"X-Forwarded-For: 6.6.6.6, 198.51.100.7, "
				"127.0.0.2\r\nX-Real-IP: 6.6.6.7\r\n"),
	    "198.51.100.7");
	assert_string_equal(ask(c, "/whoami",
				"X-Forwarded-For: 6.6.6.6\r\n"
				"X-Forwarded-For: 2001:DB8::9\r\n"),
	    "2001:db8::9");
	assert_string_equal(
	    ask(c, "/whoami", "X-Real-IP: 203.0.113.9\r\n"), "203.0.113.9");
	assert_string_equal(
	    ask(c, "/scheme", "X-Forwarded-Proto: HTTPS\r\n"), "https");
	assert_string_equal(
	    ask(c, "/scheme", "X-Forwarded-Proto: http\r\n"), "http");
	cl_close(c);
	/* 127.0.0.4 is not: it speaks for no one. */
	c = dial_from("127.0.0.4", S.port);
	assert_string_equal(
	    ask(c, "/whoami", "X-Forwarded-For: 198.51.100.7\r\n"),
	    "127.0.0.4");
	assert_string_equal(
	    ask(c, "/whoami", "X-Real-IP: 203.0.113.9\r\n"), "127.0.0.4");
	assert_string_equal(
	    ask(c, "/scheme", "X-Forwarded-Proto: https\r\n"), "http");
	cl_close(c);
	stop();
	T.proxies = NULL;
}

/*
 * TLS, with a certificate made for the test.
 */

static char tls_dir[64];

static SSL_CTX *
server_ctx(void)
{
	char cert[128], key[128], cmd[512];
	SSL_CTX *ctx;

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/osh-http-tls-XXXXXX");
	assert_non_null(mkdtemp(tls_dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
	snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -keyout %s -out %s -days 1 "
	    "-subj /CN=localhost -addext subjectAltName=DNS:localhost "
	    ">/dev/null 2>&1",
	    key, cert);
	assert_int_equal(system(cmd), 0);
	ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(
	    SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
	assert_int_equal(
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	return ctx;
}

static struct cl *
dial_tls(SSL_CTX *cctx)
{
	struct cl *c = dial();
	char host[] = "localhost"; /* the macro takes a non-const name */

	c->ssl = SSL_new(cctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, host);
	SSL_set1_host(c->ssl, "localhost");
	if (SSL_connect(c->ssl) != 1) {
		ERR_print_errors_fp(stderr);
		fail_msg("TLS handshake failed");
	}
	return c;
}

static void
tls(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = SSL_CTX_new(TLS_client_method());
	char path[128], cmd[512];
	struct resp r;
	struct cl *c;
	uint64_t t0;
	FILE *p;

	(void)state;
	snprintf(path, sizeof(path), "%s/cert.pem", tls_dir);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, path, NULL), 1);
	start(sctx);
	/* The server holds its own reference. */
	SSL_CTX_free(sctx);
	c = dial_tls(cctx);
	for (int i = 0; i < 2; i++) {
		cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		assert_int_equal(resp_read(c, &r, false), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "hello");
		resp_free(&r);
	}
	cl_puts(c, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "a,b\n1,2\n");
	resp_free(&r);
	/* Over TLS, a request came over HTTPS whatever it says. */
	assert_string_equal(scheme(c, NULL), "https");
	assert_string_equal(scheme(c, "http"), "https");
	cl_close(c);

	/* curl, verifying the certificate. */
	snprintf(cmd, sizeof(cmd),
	    "curl -sS --cacert %s --resolve localhost:%d:127.0.0.1 "
	    "https://localhost:%d/echo -H 'Expect: 100-continue' "
	    "--data-binary @%s 2>&1 | wc -c",
	    path, S.port, S.port, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(cmd, sizeof(cmd), p));
	pclose(p);
	{
		FILE *f = fopen(path, "r");
		long len;

		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fclose(f);
		assert_int_equal(strtol(cmd, NULL, 10), len);
	}

	/* A handshake never started is cut by the first byte's deadline. */
	c = dial();
	t0 = osh_now_us();
	assert_true(closed_by_server(c));
	assert_true(ms_since(t0) >= FIRST_BYTE_MS - 50);
	cl_close(c);
	/* A TLS client that half-closes (close_notify) once its request is
	 * in still gets its reply. */
	c = dial_tls(cctx);
	cl_puts(c, "GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(SSL_shutdown(c->ssl), 0);
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "late");
	resp_free(&r);
	cl_close(c);
	/* Plain HTTP to a TLS port: no answer in clear. */
	c = dial();
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_not_equal(resp_read(c, &r, false), 0);
	resp_free(&r);
	cl_close(c);

	/* stop() speaks plain HTTP: new connections are served plain from
	 * the swap on, while the TLS one goes on. */
	c = dial_tls(cctx);
	cl_puts(c, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	get("/hello", &r);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	cl_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(resp_read(c, &r, false), 0);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
	cl_close(c);
	stop();
	SSL_CTX_free(cctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keep_alive_and_basics),
	    cmocka_unit_test(pipelining),
	    cmocka_unit_test(shared_body),
	    cmocka_unit_test(expect_continue),
	    cmocka_unit_test(body_refused_before_read),
	    cmocka_unit_test(malformed_requests),
	    cmocka_unit_test(deadlines),
	    cmocka_unit_test(connection_cap),
	    cmocka_unit_test(client_gone),
	    cmocka_unit_test(half_close),
	    cmocka_unit_test(idle_make_room),
	    cmocka_unit_test(slow_heads_make_room),
	    cmocka_unit_test(per_client_cap),
	    cmocka_unit_test(client_keys),
	    cmocka_unit_test(unix_socket),
	    cmocka_unit_test(trusted_proxy_ranges),
	    cmocka_unit_test(stop_accepting),
	    cmocka_unit_test(tls),
	    cmocka_unit_test(secrets_wiped_request),
	    cmocka_unit_test(secrets_wiped_reply),
	    cmocka_unit_test(secrets_wiped_httpc),
	};

	signal(SIGPIPE, SIG_IGN);
	osh_log_init(
	    "test", getenv("TEST_LOG") ? OSH_LOG_DEBUG : OSH_LOG_ERROR);
	if (getenv("TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
