/* http_admit.c - the HTTP server's connection limits: whether a new
 * connection is admitted, answered 503 or closed at once, by the server's
 * limit and its client's (counted in http_limit.c), and which connection
 * is closed to make room: the oldest idle keep-alive one, else the one
 * whose request head has been coming for longest. */
#include <stdio.h>
#include <string.h>
#include <event2/bufferevent.h>

#include "http_int.h"
#include "osh/log.h"

#define SLOW_HEAD_MS 1000 /* a head in progress longer may make room */

/* Over a limit: a short answer, then close. */
void
http_conn_over_limit(struct conn *c, const char *reason, const char *message)
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
	http_count(h->m_refused, labels);
	if (now - h->refusal_logged_us >= HTTP_LOG_EVERY_US) {
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
	http_deadline(c, h->header_ms);
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
	http_count(h->m_evicted, labels);
	http_conn_free(c);
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
		/* The head's http_deadline runs from its start. */
		if (c->state == CONN_HEAD && !c->refused &&
		    c->head_deadline_us - head_us < oldest) {
			oldest = c->head_deadline_us - head_us;
			slowest = c;
		}
	}
	if (slowest == NULL || oldest > now ||
	    now - oldest < (uint64_t)SLOW_HEAD_MS * 1000)
		return false;
	http_count(h->m_slow, "");
	http_conn_free(slowest);
	return true;
}

/* What the limits say of a new connection from cl (NULL: a trusted proxy
 * or a local peer, bound by the server's limit only; else already
 * counted on cl): admitted (NULL; after closing an idle connection to
 * make room, when that helps), answered 503 (the reason, *refuse set),
 * or closed at once (the reason). */
const char *
http_admit(struct osh_http *h, struct http_client *cl, bool *refuse)
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
