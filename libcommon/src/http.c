/* http.c - the HTTP/1.1 server's connections: a new connection accepted
 * (within the limits of http_admit.c), reading requests with http_parse.c
 * within deadlines, body limits known from the route before a body byte
 * is read, keep-alive and pipelining, half-closed clients, write
 * back-pressure, and closing connections without losing their last
 * reply. Listening and the server itself are in http_listen.c, TLS in
 * http_tls.c, requests and replies themselves in http_req.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http_int.h"
#include "osh/crypto.h"
#include "osh/log.h"
#include "osh/metrics.h"

#define READ_HIGH (64 * 1024) /* input buffered while a request is handled */
#define LINGER_MS 2000 /* draining a closing connection's input at most */

static void conn_process(struct conn *c);

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

void
http_count(struct osh_metric *m, const char *labels)
{
	if (m != NULL)
		osh_metric_add(m, labels, 1);
}

void
http_gauge(struct osh_http *h)
{
	if (h->m_conns != NULL)
		osh_metric_set(h->m_conns, "", h->nconns);
}

/* Arms the connection's one http_deadline, or clears it (ms < 0). */
void
http_deadline(struct conn *c, int ms)
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

/* The head of a new request is due within the head's http_deadline of its
 * first byte. */
static void
head_started(struct conn *c)
{
	c->got_byte = true;
	c->head_deadline_us = osh_now_us() + (uint64_t)c->h->header_ms * 1000;
	http_deadline(c, c->h->header_ms);
}

static void
idle_enter(struct conn *c)
{
	struct osh_http *h = c->h;

	c->state = CONN_IDLE;
	TAILQ_INSERT_TAIL(&h->idle, c, idle_link);
	if (c->client != NULL)
		http_client_add(&h->clients, c->client, HTTP_CLIENT_IDLE, 1);
	http_deadline(c, h->idle_ms);
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
			http_conn_free(c);
			return;
		}
		c->state = CONN_LINGER;
		drain_all(in);
		if (!c->tls)
			shutdown(bufferevent_getfd(c->bev), SHUT_WR);
		bufferevent_enable(c->bev, EV_READ);
		http_deadline(c, LINGER_MS);
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
	http_deadline(c, -1);
	/* The write callback finishes the job once the reply is out. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		http_deadline(c, 0);
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
		http_deadline(c, 0);
		return;
	}
	c->state = CONN_HANDLING;
	http_deadline(c, -1);
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
	http_deadline(c, -1);
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
	http_deadline(c, h->body_ms);
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
		/* The head's http_deadline runs from its first byte. */
		idle_leave(c, CONN_HEAD);
		head_started(c);
		conn_process(c);
		return;
	case CONN_HEAD:
		/* The first byte of a new connection's first request: the
		 * head is still due by its http_deadline from the accept. */
		if (!c->got_byte && evbuffer_get_length(in) > 0) {
			uint64_t now = osh_now_us();

			c->got_byte = true;
			http_deadline(c,
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
		http_count(c->h->m_timeouts, "kind=\"write\"");
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
	http_conn_free(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_IDLE:
		http_count(c->h->m_timeouts, "kind=\"idle\"");
		http_conn_free(c);
		return;
	case CONN_HEAD:
		if (!c->got_byte) {
			/* Connected, and not a byte since (nor a TLS
			 * handshake finished): a slot held for nothing. */
			http_count(c->h->m_timeouts, "kind=\"first_byte\"");
			http_conn_free(c);
			return;
		}
		http_count(c->h->m_timeouts, "kind=\"header\"");
		if (!osh_http_parser_started(&c->parser)) {
			http_conn_free(c);
			return;
		}
		conn_refuse(c, 408, "request head not received in time");
		return;
	case CONN_BODY:
		http_count(c->h->m_timeouts, "kind=\"body\"");
		conn_refuse(c, 408, "request body not received in time");
		return;
	case CONN_FLUSHING:
		/* Armed at 0 when nothing was left to write, or the bound on
		 * a refused connection. */
		if (c->refused &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
			http_conn_free(c);
			return;
		}
		conn_flushed(c);
		return;
	case CONN_LINGER: http_conn_free(c); return;
	case CONN_HANDLING: return;
	}
}

void
http_conn_free(struct conn *c)
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
	http_gauge(h);
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
http_trusted_proxy(const struct osh_http *h, const struct sockaddr *sa)
{
	return osh_cidr_list_has_sa(&h->proxies, sa);
}

/* A new connection (local: through the unix socket). */
void
http_accept_conn(
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
	if (!local && !http_trusted_proxy(h, sa) && http_client_key(sa, key) &&
	    (cl = http_client_get(&h->clients, key)) != NULL)
		http_client_add(&h->clients, cl, HTTP_CLIENT_CONNS, 1);
	if ((refusal = http_admit(h, cl, &refuse)) != NULL && !refuse) {
		char labels[64];

		snprintf(labels, sizeof(labels), "reason=\"%s\"", refusal);
		http_count(h->m_refused, labels);
		goto out_close;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out_close;
	c->h = h;
	c->local = local;
	c->tls = h->tls != NULL && !local;
	c->trusted = local || http_trusted_proxy(h, sa);
	c->keep_alive = true;
	osh_http_parser_init(&c->parser);
	osh_buf_init_secret(&c->body, 0);
	osh_strlcpy(c->peer, peer, sizeof(c->peer));
	if ((c->timer = evtimer_new(h->base, on_timer, c)) == NULL)
		goto out_free;
	if ((c->bev = http_new_bev(h, fd, c->tls)) == NULL)
		goto out_free_timer;
	TAILQ_INSERT_TAIL(&h->conns, c, link);
	h->nconns++;
	http_gauge(h);
	c->client = cl;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
	wt.tv_sec = h->write_ms / 1000;
	wt.tv_usec = (h->write_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (refusal != NULL) {
		http_conn_over_limit(c, refusal,
		    strcmp(refusal, "limit") == 0
			? "too many connections, retry later"
			: "too many connections from this client, retry "
			  "later");
		return;
	}
	/* A first byte soon (a TLS handshake included), the whole head by
	 * the head's http_deadline. */
	c->state = CONN_HEAD;
	c->head_deadline_us = osh_now_us() + (uint64_t)h->header_ms * 1000;
	http_deadline(c,
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
