/* http_listen.c - the HTTP server itself: listening on TCP and on a unix
 * socket, accepting (pausing when out of descriptors), its metrics, and
 * starting and stopping it. Connections are in http.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "http_int.h"
#include "osh/log.h"
#include "osh/metrics.h"

#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)l;
	(void)socklen;
	http_accept_conn(arg, fd, sa, false);
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
	http_accept_conn(arg, fd, sa, true);
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

	if (now - h->accept_error_logged_us >= HTTP_LOG_EVERY_US) {
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
	    "Connections cut by a http_deadline: first byte of a new connection, "
	    "request head, body, keep-alive idle, reply write",
	    OSH_COUNTER, NULL, 0);
	h->m_gone = osh_metric_new(m, "osh_http_client_gone_total",
	    "Requests whose client went away before the reply", OSH_COUNTER,
	    NULL, 0);
	h->m_detached = osh_metric_new(m, "osh_http_detached_requests",
	    "Requests still running whose client went away (they http_count "
	    "against the connection limits)",
	    OSH_GAUGE, NULL, 0);
	http_gauge(h);
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
	char err[160];
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
	if (osh_cidr_list_parse(
		opt->trusted_proxies ? opt->trusted_proxies : "", &h->proxies,
		err, sizeof(err)) != 0) {
		osh_log_error(
		    NULL, "msg=\"bad trusted proxies\" error=\"%s\"", err);
		goto out_free;
	}
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
			http_conn_free(c);
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
		http_conn_free(TAILQ_FIRST(&h->conns));
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
