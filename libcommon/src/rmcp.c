/* rmcp.c - unauthenticated capability probe over RMCP/UDP. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "osh/rmcp.h"
#include "osh/util.h"

/* A probe ends by its deadline whatever arrives: the deadline timer is set
 * once and nothing moves it; the resend has its own timer; reads only
 * count what is not an answer. */
struct osh_rmcp_probe {
	int fd;
	struct event *rd, *deadline, *resend;
	osh_rmcp_cb cb;
	void *arg;
	uint64_t start_us;
	unsigned junk;
	bool v20;
};

size_t
osh_rmcp_request(uint8_t *buf, bool v20)
{
	static const uint8_t head[] = {
	    0x06, 0x00, 0xff, 0x07, /* RMCP, class IPMI */
	    0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, /* no auth, len 9 */
	    0x20, 0x18, 0xc8, 0x81, 0x00, 0x38, /* to BMC, app 0x38 */
	};
	uint8_t sum = 0;

	memcpy(buf, head, sizeof(head));
	buf[20] = v20 ? 0x8e : 0x0e; /* this channel (+2.0 data) */
	buf[21] = 0x04; /* administrator */
	for (int i = 17; i < 22; i++)
		sum = (uint8_t)(sum + buf[i]);
	buf[22] = (uint8_t)-sum;
	return 23;
}

bool
osh_rmcp_parse(const uint8_t *p, size_t n, struct osh_rmcp_caps *c)
{
	size_t at;
	const uint8_t *d;

	memset(c, 0, sizeof(c[0]));
	if (n < 4 || p[0] != 0x06 || p[3] != 0x07)
		return false;
	/* IPMI 1.5 session header: auth type, seq, id (+16 auth code). */
	at = 4;
	if (n < at + 10)
		return false;
	at += p[at] != 0 ? 1 + 4 + 4 + 16 : 1 + 4 + 4;
	if (n < at + 1)
		return false;
	at += 1; /* message length */
	/* rqAddr netfn cksum rsAddr seq cmd cc data... */
	if (n < at + 7 + 8 || p[at + 5] != 0x38 || p[at + 6] != 0x00)
		return false;
	d = p + at + 7;
	c->answered = true;
	c->auth_none = d[1] & 0x01;
	c->auth_md2 = d[1] & 0x02;
	c->auth_md5 = d[1] & 0x04;
	c->auth_straight = d[1] & 0x10;
	c->auth_oem = d[1] & 0x20;
	c->anonymous_login = d[2] & 0x01;
	c->null_usernames = d[2] & 0x02;
	c->non_null_usernames = d[2] & 0x04;
	c->user_level_auth = !(d[2] & 0x08);
	c->per_message_auth = !(d[2] & 0x10);
	if (d[1] & 0x80) { /* extended data present */
		c->ipmi15 = d[3] & 0x01;
		c->ipmi20 = d[3] & 0x02;
	} else {
		c->ipmi15 = true;
	}
	c->oem_id = (uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16;
	return true;
}

static void
probe_free(struct osh_rmcp_probe *p)
{
	if (p->rd != NULL)
		event_free(p->rd);
	if (p->deadline != NULL)
		event_free(p->deadline);
	if (p->resend != NULL)
		event_free(p->resend);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* Frees the probe, then runs its callback: the callback may start
 * another probe, or free what arg points to. */
static void
finish(struct osh_rmcp_probe *p, struct osh_rmcp_caps *c)
{
	osh_rmcp_cb cb = p->cb;
	void *arg = p->arg;

	c->junk = p->junk;
	probe_free(p);
	cb(c, arg);
}

static void
send_request(struct osh_rmcp_probe *p)
{
	uint8_t buf[32];
	size_t n = osh_rmcp_request(buf, p->v20);

	(void)!send(p->fd, buf, n, 0);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct osh_rmcp_probe *p = arg;
	struct osh_rmcp_caps c;
	uint8_t buf[512];
	ssize_t n;

	(void)what;
	memset(&c, 0, sizeof(c));
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != ECONNREFUSED)
			return; /* EAGAIN, EINTR: wait for more */
		c.refused = true; /* ICMP port unreachable: nothing there */
		finish(p, &c);
		return;
	}
	if (osh_rmcp_parse(buf, (size_t)n, &c)) {
		c.rtt_ms = (double)(osh_now_us() - p->start_us) / 1000.0;
		finish(p, &c);
		return;
	}
	if (++p->junk >= OSH_RMCP_MAX_JUNK) {
		memset(&c, 0, sizeof(c));
		finish(p, &c);
		return;
	}
	/* Some BMCs refuse the 2.0 form with a short error: ask plainly,
	 * once. */
	if (p->v20 && n > 20) {
		p->v20 = false;
		send_request(p);
	}
}

static void
on_resend(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_request(arg);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct osh_rmcp_caps c;

	(void)fd;
	(void)what;
	memset(&c, 0, sizeof(c));
	finish(arg, &c);
}

static void
set_timer(struct event *ev, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

struct osh_rmcp_probe *
osh_rmcp_probe_start(struct event_base *base, const char *addr, uint16_t port,
    int timeout_ms, osh_rmcp_cb cb, void *arg)
{
	struct osh_rmcp_probe *p = calloc(1, sizeof(*p));
	struct sockaddr_storage sa;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
	socklen_t salen;

	if (p == NULL)
		return NULL;
	p->fd = -1;
	memset(&sa, 0, sizeof(sa));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		salen = sizeof(*s6);
	} else {
		goto out_free;
	}
	p->fd =
	    socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Connected, so ICMP port-unreachable shows up as ECONNREFUSED and
	 * only the host asked can answer. */
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, salen) != 0)
		goto out_free;
	p->cb = cb;
	p->arg = arg;
	p->v20 = true;
	if (timeout_ms < 100)
		timeout_ms = 100;
	p->start_us = osh_now_us();
	p->rd = event_new(base, p->fd, EV_READ | EV_PERSIST, on_read, p);
	p->deadline = evtimer_new(base, on_deadline, p);
	p->resend = evtimer_new(base, on_resend, p);
	if (p->rd == NULL || p->deadline == NULL || p->resend == NULL ||
	    event_add(p->rd, NULL) != 0)
		goto out_free;
	send_request(p);
	set_timer(p->resend, timeout_ms / 2);
	set_timer(p->deadline, timeout_ms);
	return p;
out_free:
	probe_free(p);
	return NULL;
}

void
osh_rmcp_probe_cancel(struct osh_rmcp_probe *p)
{
	if (p != NULL)
		probe_free(p);
}

int
osh_rmcp_probe(struct event_base *base, const char *addr, uint16_t port,
    int timeout_ms, osh_rmcp_cb cb, void *arg)
{
	return osh_rmcp_probe_start(base, addr, port, timeout_ms, cb, arg) ? 0
									   : -1;
}
