/* http.c - the HTTP/1.1 server on libevent's listener and bufferevents:
 * accepting on TCP and a unix socket (within a connection limit, and one
 * per client address; idle keep-alive connections make room first), TLS,
 * reading requests with http_parse.c within deadlines, body limits known
 * from the route before a body byte is read, keep-alive and pipelining,
 * half-closed clients, write back-pressure, and closing connections
 * without losing their last reply. Requests and replies themselves live
 * in http_req.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "http_int.h"
#include "osh/crypto.h"
#include "osh/log.h"
#include "osh/metrics.h"

#define READ_HIGH (64 * 1024) /* input buffered while a request is handled */
#define LINGER_MS 2000 /* draining a closing connection's input at most */
#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */
#define LOG_EVERY_US 1000000 /* repeated warnings: once a second */
#define SLOW_HEAD_MS 1000 /* a head in progress longer may make room */

static void conn_process(struct conn *c);
static void conn_free(struct conn *c);

/* Drains n bytes of a connection's input, wiping them first: requests
 * carry credentials, and libevent frees its buffers as they are. */
static void
drain_wiped(struct evbuffer *in, size_t n)
{
	struct evbuffer_iovec v[8];

	while (n > 0) {
		int k = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 8);
		size_t done = 0;

		if (k <= 0)
			return;
		for (int i = 0; i < k && i < 8 && done < n; i++) {
			size_t m =
			    v[i].iov_len < n - done ? v[i].iov_len : n - done;
			osh_wipe(v[i].iov_base, m);
			done += m;
		}
		evbuffer_drain(in, done);
		n -= done;
	}
}

static void
drain_all(struct evbuffer *in)
{
	drain_wiped(in, evbuffer_get_length(in));
}

static void
count(struct osh_metric *m, const char *labels)
{
	if (m != NULL)
		osh_metric_add(m, labels, 1);
}

static void
gauge(struct osh_http *h)
{
	if (h->m_conns != NULL)
		osh_metric_set(h->m_conns, "", h->nconns);
}

/* Arms the connection's one deadline, or clears it (ms < 0). */
static void
deadline(struct conn *c, int ms)
{
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(c->timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* The head of a new request is due within the head's deadline of its
 * first byte. */
static void
head_started(struct conn *c)
{
	c->got_byte = true;
	c->head_deadline_us = osh_now_us() + (uint64_t)c->h->header_ms * 1000;
	deadline(c, c->h->header_ms);
}

static void
idle_enter(struct conn *c)
{
	struct osh_http *h = c->h;

	c->state = CONN_IDLE;
	TAILQ_INSERT_TAIL(&h->idle, c, idle_link);
	if (c->client != NULL)
		http_client_add(&h->clients, c->client, HTTP_CLIENT_IDLE, 1);
	deadline(c, h->idle_ms);
}

/* Leaves CONN_IDLE, for 'state'. */
static void
idle_leave(struct conn *c, enum conn_state state)
{
	struct osh_http *h = c->h;

	TAILQ_REMOVE(&h->idle, c, idle_link);
	if (c->client != NULL)
		http_client_add(&h->clients, c->client, HTTP_CLIENT_IDLE, -1);
	c->state = state;
}

/* The last reply is written: on to the next request, or close. A closing
 * connection with input still coming lingers: closing a socket with
 * unread input sends a reset, which may destroy the reply in flight. */
static void
conn_flushed(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (!c->keep_alive || c->h->stopping) {
		if (c->eof || (!c->discard && evbuffer_get_length(in) == 0)) {
			conn_free(c);
			return;
		}
		c->state = CONN_LINGER;
		drain_all(in);
		if (!c->tls)
			shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		bufferevent_enable(c->bev, EV_READ);
		deadline(c, LINGER_MS);
		return;
	}
	osh_http_parser_reset(&c->parser);
	osh_buf_release(&c->body);
	if (evbuffer_get_length(in) > 0) {
		c->state = CONN_HEAD;
		head_started(c);
		conn_process(c);
	} else {
		idle_enter(c);
	}
}

void
http_conn_replied(struct conn *c, bool close)
{
	c->req = NULL;
	if (close)
		c->keep_alive = false;
	c->state = CONN_FLUSHING;
	deadline(c, -1);
	/* The write callback finishes the job once the reply is out. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		deadline(c, 0);
}

/* Answers the request being read with an error and closes the connection
 * afterwards; its input is not read any further. */
static void
conn_refuse(struct conn *c, int status, const char *msg)
{
	c->keep_alive = false;
	c->discard = true;
	if (c->req == NULL && (c->req = http_req_new(c, NULL)) == NULL) {
		/* Out of memory: close from the timer, not under a caller
		 * that still holds c. */
		c->state = CONN_LINGER;
		deadline(c, 0);
		return;
	}
	c->state = CONN_HANDLING;
	deadline(c, -1);
	c->req->t.dispatched = true;
	osh_reply_error(&c->req->req, status, NULL, NULL, "%s", msg);
}

static void
conn_dispatch(struct conn *c)
{
	struct req_box *b = c->req;
	struct osh_http *h = c->h;

	if (c->body.len > 0) {
		b->req.body_len = c->body.len;
		b->req.body = osh_buf_steal(&c->body);
	}
	osh_buf_release(&c->body);
	c->state = CONN_HANDLING;
	deadline(c, -1);
	b->t.dispatched = true;
	h->dispatch(&b->req, h->arg);
}

/* The head is in: the request is created, and its body limit is known
 * before any of the body is read. */
static void
conn_head(struct conn *c)
{
	struct osh_http *h = c->h;
	struct osh_http_head *head = osh_http_parser_take_head(&c->parser);
	bool body;
	int64_t limit;
	char msg[80];

	if (head == NULL || (c->req = http_req_new(c, head)) == NULL) {
		if (c->req == NULL)
			osh_http_head_free(head);
		conn_refuse(c, 503, "out of memory");
		return;
	}
	if (!head->keep_alive)
		c->keep_alive = false;
	if (head->query != NULL &&
	    osh_http_query_parse(
		head->query, strlen(head->query), &c->req->t.query) != 0) {
		conn_refuse(c, 400, "query string is not valid");
		return;
	}
	body = head->framing != OSH_HTTP_NO_BODY;
	limit = h->body_limit != NULL
	    ? h->body_limit(h->body_limit_arg, head->method, head->path)
	    : (int64_t)h->max_body;
	if (limit < 0) {
		/* Nothing serves it: the dispatcher answers 404 or 405,
		 * without the body, which stays unread. */
		if (body) {
			c->keep_alive = false;
			c->discard = true;
		}
		conn_dispatch(c);
		return;
	}
	if ((uint64_t)limit > h->max_body)
		limit = (int64_t)h->max_body;
	if (body && limit == 0) {
		conn_refuse(c, 400, "this endpoint takes no request body");
		return;
	}
	if (head->framing == OSH_HTTP_LENGTH &&
	    head->content_length > (uint64_t)limit) {
		snprintf(msg, sizeof(msg),
		    "request body larger than %lld bytes", (long long)limit);
		conn_refuse(c, 413, msg);
		return;
	}
	if (!body) {
		conn_dispatch(c);
		return;
	}
	osh_http_parser_body_max(&c->parser, (uint64_t)limit);
	osh_buf_init_secret(&c->body, 0);
	if (head->expect_continue)
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	c->state = CONN_BODY;
	deadline(c, h->body_ms);
}

static void
conn_parse_error(struct conn *c)
{
	char msg[80];

	if (c->parser.status == 413)
		snprintf(msg, sizeof(msg),
		    "request body larger than %llu bytes",
		    (unsigned long long)c->parser.body_max);
	else
		osh_strlcpy(msg, c->parser.error, sizeof(msg));
	conn_refuse(c, c->parser.status, msg);
}

/* Feeds buffered input to the parser while a request is being read. */
static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state == CONN_HEAD || c->state == CONN_BODY) {
		struct evbuffer_iovec v;
		enum osh_http_result r;
		size_t used = 0;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			v.iov_len = 0;
		if (v.iov_len == 0 && c->state == CONN_HEAD)
			return;
		if (c->state == CONN_HEAD)
			r = osh_http_parse_head(
			    &c->parser, v.iov_base, v.iov_len, &used);
		else
			r = osh_http_parse_body(
			    &c->parser, v.iov_base, v.iov_len, &used, &c->body);
		drain_wiped(in, used);
		if (r == OSH_HTTP_ERROR) {
			conn_parse_error(c);
			return;
		}
		if (r == OSH_HTTP_MORE) {
			if (v.iov_len == 0)
				return;
			continue;
		}
		if (c->state == CONN_HEAD)
			conn_head(c);
		else
			conn_dispatch(c);
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	switch (c->state) {
	case CONN_LINGER: drain_all(in); return;
	case CONN_IDLE:
		/* The head's deadline runs from its first byte. */
		idle_leave(c, CONN_HEAD);
		head_started(c);
		conn_process(c);
		return;
	case CONN_HEAD:
		/* The first byte of a new connection's first request: the
		 * head is still due by its deadline from the accept. */
		if (!c->got_byte && evbuffer_get_length(in) > 0) {
			uint64_t now = osh_now_us();

			c->got_byte = true;
			deadline(c,
			    c->head_deadline_us > now
				? (int)((c->head_deadline_us - now) / 1000)
				: 0);
		}
		conn_process(c);
		return;
	case CONN_BODY: conn_process(c); return;
	case CONN_HANDLING:
	case CONN_FLUSHING:
		/* A pipelined request waits (up to READ_HIGH bytes). */
		return;
	}
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* Also called once the socket is first writable, before any reply:
	 * only an empty buffer means the reply is out. */
	if (c->state == CONN_FLUSHING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_flushed(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	if (what & BEV_EVENT_TIMEOUT) {
		count(c->h->m_timeouts, "kind=\"write\"");
	} else if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (c->state == CONN_HANDLING || c->state == CONN_FLUSHING)) {
		/* The end of the client's input once its request is in: a
		 * half-close (shutdown(SHUT_WR)), and it still reads. The
		 * reply goes, then the connection closes. A client that is
		 * really gone resets the connection when the reply comes:
		 * only errors detach a request. */
		c->eof = true;
		c->keep_alive = false;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	conn_free(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_IDLE:
		count(c->h->m_timeouts, "kind=\"idle\"");
		conn_free(c);
		return;
	case CONN_HEAD:
		if (!c->got_byte) {
			/* Connected, and not a byte since (nor a TLS
			 * handshake finished): a slot held for nothing. */
			count(c->h->m_timeouts, "kind=\"first_byte\"");
			conn_free(c);
			return;
		}
		count(c->h->m_timeouts, "kind=\"header\"");
		if (!osh_http_parser_started(&c->parser)) {
			conn_free(c);
			return;
		}
		conn_refuse(c, 408, "request head not received in time");
		return;
	case CONN_BODY:
		count(c->h->m_timeouts, "kind=\"body\"");
		conn_refuse(c, 408, "request body not received in time");
		return;
	case CONN_FLUSHING:
		/* Armed at 0 when nothing was left to write, or the bound on
		 * a refused connection. */
		if (c->refused &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
			conn_free(c);
			return;
		}
		conn_flushed(c);
		return;
	case CONN_LINGER: conn_free(c); return;
	case CONN_HANDLING: return;
	}
}

static void
conn_free(struct conn *c)
{
	struct osh_http *h = c->h;

	if (c->req != NULL) {
		if (c->req->t.dispatched) {
			/* The handler keeps its request: detached, it
			 * replies into the void. */
			http_req_detach(c->req);
		} else {
			http_req_drop(c->req);
		}
	}
	if (c->state == CONN_IDLE)
		idle_leave(c, CONN_LINGER);
	if (c->client != NULL)
		http_client_add(&h->clients, c->client, HTTP_CLIENT_CONNS, -1);
	TAILQ_REMOVE(&h->conns, c, link);
	h->nconns--;
	gauge(h);
	drain_all(bufferevent_get_input(c->bev));
	bufferevent_free(c->bev);
	event_free(c->timer);
	osh_http_parser_release(&c->parser);
	osh_buf_release(&c->body);
	free(c);
}

static void
peer_name(const struct sockaddr *sa, char *out, size_t len)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (sa->sa_family == AF_UNIX)
		osh_strlcpy(out, "unix", len);
	else if (a == NULL ||
	    inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
		osh_strlcpy(out, "unknown", len);
}

bool
http_trusted_proxy(const struct osh_http *h, const char *addr)
{
	for (size_t i = 0; i < h->nproxies; i++)
		if (strcmp(h->proxies[i], addr) == 0)
			return true;
	return false;
}

/* Over a limit: a short answer, then close. */
static void
conn_over_limit(struct conn *c, const char *reason, const char *message)
{
	struct osh_http *h = c->h;
	uint64_t now = osh_now_us();
	char body[160], head[256], labels[64];
	int blen, hlen;

	blen = snprintf(body, sizeof(body),
	    "{\"error\":{\"code\":\"unavailable\",\"message\":\"%s\","
	    "\"request_id\":\"\"}}",
	    message);
	hlen = snprintf(head, sizeof(head),
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\n"
	    "Retry-After: 1\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "Content-Length: %d\r\n\r\n",
	    blen);
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	count(h->m_refused, labels);
	if (now - h->refusal_logged_us >= LOG_EVERY_US) {
		h->refusal_logged_us = now;
		osh_log_warn(NULL,
		    "msg=\"connection refused\" reason=%s limit=%u "
		    "per_client=%u client=\"%s\"",
		    reason, h->max_conns, h->max_client, c->peer);
	}
	c->refused = true;
	c->keep_alive = false;
	c->discard = true;
	c->state = CONN_FLUSHING;
	bufferevent_write(c->bev, head, (size_t)hlen);
	bufferevent_write(c->bev, body, (size_t)blen);
	deadline(c, h->header_ms);
}

/* Closes the oldest idle keep-alive connection (of client cl, or of
 * anyone when cl is NULL) to make room for a new one. False when there
 * is none. */
static bool
evict_idle(struct osh_http *h, struct http_client *cl, const char *reason)
{
	struct conn *c;
	char labels[64];

	if (cl != NULL && http_client_idle(cl) == 0)
		return false;
	for (c = TAILQ_FIRST(&h->idle); c != NULL; c = TAILQ_NEXT(c, idle_link))
		if (cl == NULL || c->client == cl)
			break;
	if (c == NULL)
		return false;
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	count(h->m_evicted, labels);
	conn_free(c);
	return true;
}

/* At the server's limit with no idle connection to close: closes the
 * connection whose request head has been coming for longest (nothing
 * sent yet, a TLS handshake, or part of a head), once that is more than
 * SLOW_HEAD_MS. A client sends its head at once; one that dribbles it
 * holds a slot for nothing, and without this enough of them (a few from
 * each of many addresses, under the per-client limit) would hold every
 * slot until their deadlines, and every other client would be refused.
 * False when there is none that slow. */
static bool
evict_slow_head(struct osh_http *h)
{
	uint64_t now = osh_now_us(), oldest = UINT64_MAX;
	uint64_t head_us = (uint64_t)h->header_ms * 1000;
	struct conn *c, *slowest = NULL;

	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = TAILQ_NEXT(c, link)) {
		/* The head's deadline runs from its start. */
		if (c->state == CONN_HEAD && !c->refused &&
		    c->head_deadline_us - head_us < oldest) {
			oldest = c->head_deadline_us - head_us;
			slowest = c;
		}
	}
	if (slowest == NULL || oldest > now ||
	    now - oldest < (uint64_t)SLOW_HEAD_MS * 1000)
		return false;
	count(h->m_slow, "");
	conn_free(slowest);
	return true;
}

/* What the limits say of a new connection from cl (NULL: a trusted proxy
 * or a local peer, bound by the server's limit only; else already
 * counted on cl): admitted (NULL; after closing an idle connection to
 * make room, when that helps), answered 503 (the reason, *refuse set),
 * or closed at once (the reason). */
static const char *
admit(struct osh_http *h, struct http_client *cl, bool *refuse)
{
	*refuse = false;
	if (h->nconns >= h->hard_conns || h->stopping)
		return "overload";
	if (cl != NULL && http_client_load(cl) > h->max_client &&
	    !evict_idle(h, cl, "client_limit")) {
		if (http_client_load(cl) > h->hard_client)
			return "client_overload";
		*refuse = true;
		return "client_limit";
	}
	/* Requests whose client went away still hold their share. */
	if (h->nconns + h->ndetached >= h->max_conns &&
	    !evict_idle(h, NULL, "limit") && !evict_slow_head(h)) {
		*refuse = true;
		return "limit";
	}
	return NULL;
}

static struct bufferevent *
new_bev(struct osh_http *h, evutil_socket_t fd, bool tls)
{
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent *bev;
	SSL *ssl;

	if (!tls)
		return bufferevent_socket_new(h->base, fd, opts);
	if ((ssl = SSL_new(h->tls)) == NULL)
		return NULL;
	/* Renegotiation is a cheap way for a client to make us work hard,
	 * and no client of ours needs it. Decrypted requests are wiped from
	 * OpenSSL's buffers once read. */
	SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	SSL_set_options(ssl, SSL_OP_CLEANSE_PLAINTEXT);
#endif
	bev = bufferevent_openssl_socket_new(
	    h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients often close without close_notify: not an error here. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* A new connection (local: through the unix socket). */
static void
accept_conn(
    struct osh_http *h, evutil_socket_t fd, struct sockaddr *sa, bool local)
{
	unsigned char key[HTTP_CLIENT_KEY_LEN];
	struct http_client *cl = NULL;
	const char *refusal;
	char peer[64];
	struct timeval wt;
	struct conn *c;
	bool refuse;

	peer_name(sa, peer, sizeof(peer));
	/* Proxies speak for many clients: the server's limit only. The new
	 * connection counts on its client from here on. */
	if (!local && !http_trusted_proxy(h, peer) &&
	    http_client_key(sa, key) &&
	    (cl = http_client_get(&h->clients, key)) != NULL)
		http_client_add(&h->clients, cl, HTTP_CLIENT_CONNS, 1);
	if ((refusal = admit(h, cl, &refuse)) != NULL && !refuse) {
		char labels[64];

		snprintf(labels, sizeof(labels), "reason=\"%s\"", refusal);
		count(h->m_refused, labels);
		goto out_close;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out_close;
	c->h = h;
	c->local = local;
	c->tls = h->tls != NULL && !local;
	c->trusted = local || http_trusted_proxy(h, peer);
	c->keep_alive = true;
	osh_http_parser_init(&c->parser);
	osh_buf_init_secret(&c->body, 0);
	osh_strlcpy(c->peer, peer, sizeof(c->peer));
	if ((c->timer = evtimer_new(h->base, on_timer, c)) == NULL)
		goto out_free;
	if ((c->bev = new_bev(h, fd, c->tls)) == NULL)
		goto out_free_timer;
	TAILQ_INSERT_TAIL(&h->conns, c, link);
	h->nconns++;
	gauge(h);
	c->client = cl;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
	wt.tv_sec = h->write_ms / 1000;
	wt.tv_usec = (h->write_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (refusal != NULL) {
		conn_over_limit(c, refusal,
		    strcmp(refusal, "limit") == 0
			? "too many connections, retry later"
			: "too many connections from this client, retry "
			  "later");
		return;
	}
	/* A first byte soon (a TLS handshake included), the whole head by
	 * the head's deadline. */
	c->state = CONN_HEAD;
	c->head_deadline_us = osh_now_us() + (uint64_t)h->header_ms * 1000;
	deadline(c,
	    h->first_byte_ms < h->header_ms ? h->first_byte_ms : h->header_ms);
	return;
out_free_timer:
	event_free(c->timer);
out_free:
	osh_http_parser_release(&c->parser);
	free(c);
out_close:
	if (cl != NULL)
		http_client_add(&h->clients, cl, HTTP_CLIENT_CONNS, -1);
	evutil_closesocket(fd);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)l;
	(void)socklen;
	accept_conn(arg, fd, sa, false);
}

static void
on_accept_unix(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};

	(void)l;
	/* Unnamed client sockets come with an empty address. */
	if (sa == NULL || socklen < (int)sizeof(sa_family_t))
		sa = (struct sockaddr *)&un;
	accept_conn(arg, fd, sa, true);
}

static void
on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct osh_http *h = arg;

	(void)fd;
	(void)what;
	if (h->listener != NULL)
		evconnlistener_enable(h->listener);
	if (h->ulistener != NULL)
		evconnlistener_enable(h->ulistener);
}

/* accept(2) failed: out of descriptors, most likely. Pausing is better
 * than spinning on a listener that stays readable. */
static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	struct osh_http *h = arg;
	struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};
	int err = EVUTIL_SOCKET_ERROR();
	uint64_t now = osh_now_us();

	if (now - h->accept_error_logged_us >= LOG_EVERY_US) {
		h->accept_error_logged_us = now;
		osh_log_warn(NULL,
		    "msg=\"accept failed\" error=\"%s\" connections=%u",
		    evutil_socket_error_to_string(err), h->nconns);
	}
	evconnlistener_disable(l);
	evtimer_add(h->accept_retry, &tv);
}

static struct evconnlistener *
listen_on(struct osh_http *h, const char *addr, int port)
{
	struct addrinfo hints, *ai = NULL;
	struct evconnlistener *l = NULL;
	char portstr[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(addr, portstr, &hints, &ai) != 0 || ai == NULL)
		return NULL;
	l = evconnlistener_new_bind(h->base, on_accept, h,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    511, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	return l;
}

/* Whether something answers on the unix socket at path: a live server
 * (ours or not) is never displaced; a socket nothing answers on is what
 * a crash left behind. */
static bool
unix_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if ((fd = socket(
		 AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return false;
	osh_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	/* EAGAIN: a live server with a full backlog. */
	rc = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return rc;
}

/* Listens on the unix socket at path, mode 0660 (who may connect is up
 * to the directory holding it and the group). A socket left there by a
 * server that is gone is removed first; anything else at path (a file, a
 * live socket) is left alone and the server does not start. */
static struct evconnlistener *
listen_unix(struct osh_http *h, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct evconnlistener *l;
	struct stat st;
	mode_t mask;
	int fd, rc;

	if (!osh_strlcpy(sa.sun_path, path, sizeof(sa.sun_path))) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return NULL;
		}
		if (unix_live(path)) {
			errno = EADDRINUSE;
			return NULL;
		}
		if (unlink(path) != 0)
			return NULL;
		osh_log_info(NULL,
		    "msg=\"stale unix socket removed\" path=\"%s\"", path);
	} else if (errno != ENOENT) {
		return NULL;
	}
	if ((fd = socket(
		 AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	/* Created 0600 (no window where others may connect), then 0660. */
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (rc != 0) {
		close(fd);
		return NULL;
	}
	if (chmod(path, 0660) != 0 || stat(path, &st) != 0 ||
	    listen(fd, 511) != 0 ||
	    (l = evconnlistener_new(h->base, on_accept_unix, h,
		 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) ==
		NULL) {
		rc = errno;
		unlink(path);
		close(fd);
		errno = rc;
		return NULL;
	}
	h->unix_dev = (uint64_t)st.st_dev;
	h->unix_ino = (uint64_t)st.st_ino;
	return l;
}

/* Stops listening on the unix socket and removes it, if it is still the
 * one we made. */
static void
unix_close(struct osh_http *h)
{
	struct stat st;

	if (h->ulistener == NULL)
		return;
	evconnlistener_free(h->ulistener);
	h->ulistener = NULL;
	if (lstat(h->unix_path, &st) == 0 &&
	    (uint64_t)st.st_dev == h->unix_dev &&
	    (uint64_t)st.st_ino == h->unix_ino)
		unlink(h->unix_path);
}

static void
metrics_init(struct osh_http *h, struct osh_metrics *m)
{
	if (m == NULL)
		return;
	h->metrics = m;
	h->m_conns = osh_metric_new(m, "osh_http_connections",
	    "Open client connections", OSH_GAUGE, NULL, 0);
	h->m_refused = osh_metric_new(m, "osh_http_connections_refused_total",
	    "Connections refused: over the server's limit (limit: 503) or far "
	    "over it (overload: closed at once), over the limit of one client "
	    "address (client_limit: 503) or far over it (client_overload)",
	    OSH_COUNTER, NULL, 0);
	h->m_evicted = osh_metric_new(m, "osh_http_idle_closed_total",
	    "Idle keep-alive connections closed to make room for a new one, "
	    "at the server's limit or a client's",
	    OSH_COUNTER, NULL, 0);
	h->m_slow = osh_metric_new(m, "osh_http_slow_closed_total",
	    "Connections closed at the server's limit to make room for a new "
	    "one because their request head had been coming for over a second "
	    "(slow clients)",
	    OSH_COUNTER, NULL, 0);
	h->m_timeouts = osh_metric_new(m, "osh_http_timeouts_total",
	    "Connections cut by a deadline: first byte of a new connection, "
	    "request head, body, keep-alive idle, reply write",
	    OSH_COUNTER, NULL, 0);
	h->m_gone = osh_metric_new(m, "osh_http_client_gone_total",
	    "Requests whose client went away before the reply", OSH_COUNTER,
	    NULL, 0);
	h->m_detached = osh_metric_new(m, "osh_http_detached_requests",
	    "Requests still running whose client went away (they count "
	    "against the connection limits)",
	    OSH_GAUGE, NULL, 0);
	gauge(h);
	osh_metric_add(h->m_refused, "reason=\"limit\"", 0);
	osh_metric_add(h->m_refused, "reason=\"overload\"", 0);
	osh_metric_add(h->m_refused, "reason=\"client_limit\"", 0);
	osh_metric_add(h->m_refused, "reason=\"client_overload\"", 0);
	osh_metric_add(h->m_evicted, "reason=\"limit\"", 0);
	osh_metric_add(h->m_evicted, "reason=\"client_limit\"", 0);
	osh_metric_add(h->m_slow, "", 0);
	osh_metric_set(h->m_detached, "", 0);
	osh_metric_add(h->m_gone, "", 0);
	osh_metric_add(h->m_timeouts, "kind=\"first_byte\"", 0);
	osh_metric_add(h->m_timeouts, "kind=\"header\"", 0);
	osh_metric_add(h->m_timeouts, "kind=\"body\"", 0);
	osh_metric_add(h->m_timeouts, "kind=\"idle\"", 0);
	osh_metric_add(h->m_timeouts, "kind=\"write\"", 0);
}

static int
or_default(int v, int def)
{
	return v > 0 ? v : def;
}

struct osh_http *
osh_http_new(struct event_base *base, const struct osh_http_options *opt,
    osh_dispatch_fn dispatch, void *arg)
{
	struct osh_http *h;
	char list[512], *tok, *save = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	h->dispatch = dispatch;
	h->arg = arg;
	h->app = opt->app;
	h->body_limit = opt->body_limit;
	h->body_limit_arg = opt->body_limit_arg;
	h->max_body = opt->max_body;
	h->max_conns = (unsigned)or_default(
	    opt->max_connections, OSH_HTTP_MAX_CONNECTIONS);
	h->hard_conns =
	    h->max_conns + (h->max_conns / 8 > 16 ? h->max_conns / 8 : 16);
	h->max_client = (unsigned)or_default(opt->max_connections_per_client,
	    OSH_HTTP_MAX_CONNECTIONS_PER_CLIENT);
	h->hard_client =
	    h->max_client + (h->max_client / 8 > 16 ? h->max_client / 8 : 16);
	h->first_byte_ms = or_default(
	    opt->first_byte_timeout_ms, OSH_HTTP_FIRST_BYTE_TIMEOUT_MS);
	h->header_ms =
	    or_default(opt->header_timeout_ms, OSH_HTTP_HEADER_TIMEOUT_MS);
	h->body_ms = or_default(opt->body_timeout_ms, OSH_HTTP_BODY_TIMEOUT_MS);
	h->idle_ms = or_default(opt->idle_timeout_ms, OSH_HTTP_IDLE_TIMEOUT_MS);
	h->write_ms =
	    or_default(opt->write_timeout_ms, OSH_HTTP_WRITE_TIMEOUT_MS);
	h->port = -1;
	TAILQ_INIT(&h->conns);
	TAILQ_INIT(&h->idle);
	LIST_INIT(&h->reqs);
	if (http_clients_init(&h->clients, h->max_conns) != 0) {
		free(h);
		return NULL;
	}
	metrics_init(h, opt->metrics);
	osh_strlcpy(list, opt->trusted_proxies ? opt->trusted_proxies : "",
	    sizeof(list));
	for (tok = strtok_r(list, ", ", &save);
	     tok != NULL && h->nproxies < HTTP_MAX_PROXIES;
	     tok = strtok_r(NULL, ", ", &save))
		osh_strlcpy(h->proxies[h->nproxies++], tok, 64);
	osh_http_set_tls(h, opt->tls);
	if ((h->accept_retry = evtimer_new(base, on_accept_retry, h)) == NULL)
		goto out_free;
	if ((h->listener = listen_on(h, opt->addr, opt->port)) == NULL) {
		osh_log_error(NULL,
		    "msg=\"cannot listen\" addr=\"%s\" port=%d error=\"%s\"",
		    opt->addr, opt->port, strerror(errno));
		goto out_free;
	}
	evconnlistener_set_error_cb(h->listener, on_accept_error);
	if (getsockname(evconnlistener_get_fd(h->listener),
		(struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6
			? ((struct sockaddr_in6 *)&ss)->sin6_port
			: ((struct sockaddr_in *)&ss)->sin_port);
	if (opt->unix_path != NULL && opt->unix_path[0] != '\0') {
		if ((h->unix_path = strdup(opt->unix_path)) == NULL ||
		    (h->ulistener = listen_unix(h, opt->unix_path)) == NULL) {
			osh_log_error(NULL,
			    "msg=\"cannot listen\" unix=\"%s\" error=\"%s\"",
			    opt->unix_path, strerror(errno));
			goto out_free;
		}
		evconnlistener_set_error_cb(h->ulistener, on_accept_error);
	}
	return h;
out_free:
	osh_http_free(h);
	return NULL;
}

void
osh_http_set_tls(struct osh_http *h, struct ssl_ctx_st *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	if (h->tls != NULL)
		SSL_CTX_free(h->tls);
	h->tls = ctx;
}

void
osh_http_stop_accepting(struct osh_http *h)
{
	struct conn *c, *next;

	h->stopping = true;
	if (h->listener != NULL) {
		evconnlistener_free(h->listener);
		h->listener = NULL;
		h->port = -1;
	}
	unix_close(h);
	/* Idle connections go now; the others after their reply. */
	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		c->keep_alive = false;
		if (c->state == CONN_IDLE ||
		    (c->state == CONN_HEAD &&
			!osh_http_parser_started(&c->parser)))
			conn_free(c);
	}
}

unsigned
osh_http_in_flight(const struct osh_http *h)
{
	return h->in_flight;
}

unsigned
osh_http_connections(const struct osh_http *h)
{
	return h->nconns;
}

int
osh_http_port(const struct osh_http *h)
{
	return h->port;
}

void
osh_http_free(struct osh_http *h)
{
	struct req_box *b;

	if (h == NULL)
		return;
	if (h->listener != NULL)
		evconnlistener_free(h->listener);
	unix_close(h);
	free(h->unix_path);
	while (!TAILQ_EMPTY(&h->conns))
		conn_free(TAILQ_FIRST(&h->conns));
	/* Requests still with their handlers outlive the server. */
	while ((b = LIST_FIRST(&h->reqs)) != NULL) {
		LIST_REMOVE(b, t.link);
		b->req.server = NULL;
		b->t.client = NULL;
	}
	http_clients_release(&h->clients);
	if (h->accept_retry != NULL)
		event_free(h->accept_retry);
	osh_http_set_tls(h, NULL);
	free(h);
}
