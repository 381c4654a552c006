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

struct probe {
	int fd;
	struct event *ev;
	struct sockaddr_storage sa;
	socklen_t salen;
	osh_rmcp_cb cb;
	void *arg;
	uint64_t start_us;
	int timeout_ms;
	bool resent, v20;
	struct event_base *base;
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
finish(struct probe *p, const struct osh_rmcp_caps *caps)
{
	struct osh_rmcp_caps none;

	if (caps == NULL) {
		memset(&none, 0, sizeof(none));
		caps = &none;
	}
	event_free(p->ev);
	close(p->fd);
	p->cb(caps, p->arg);
	free(p);
}

static void
send_request(struct probe *p)
{
	uint8_t buf[32];
	size_t n = osh_rmcp_request(buf, p->v20);

	(void)!send(p->fd, buf, n, 0);
}

static void
on_event(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct timeval tv;
	uint8_t buf[512];
	ssize_t n;

	if (what & EV_READ) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			struct osh_rmcp_caps c;
			if (osh_rmcp_parse(buf, (size_t)n, &c)) {
				c.rtt_ms =
				    (double)(osh_now_us() - p->start_us) /
				    1000.0;
				finish(p, &c);
				return;
			}
			/* Some BMCs refuse the 2.0 form: ask plainly. */
			if (p->v20 && n > 20) {
				p->v20 = false;
				send_request(p);
			}
		} else if (n < 0 && errno == ECONNREFUSED) {
			struct osh_rmcp_caps c;
			memset(&c, 0, sizeof(c));
			c.refused = true; /* nothing listens there */
			finish(p, &c);
			return;
		}
		tv.tv_sec = 0;
		tv.tv_usec = 200000;
		event_add(p->ev, &tv);
		return;
	}
	if (!p->resent) {
		p->resent = true;
		send_request(p);
		tv.tv_sec = (p->timeout_ms / 2) / 1000;
		tv.tv_usec = ((p->timeout_ms / 2) % 1000) * 1000;
		event_add(p->ev, &tv);
		return;
	}
	finish(p, NULL);
}

int
osh_rmcp_probe(struct event_base *base, const char *addr, uint16_t port,
    int timeout_ms, osh_rmcp_cb cb, void *arg)
{
	struct probe *p = calloc(1, sizeof(*p));
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;
	struct timeval tv;

	if (p == NULL)
		return -1;
	s4 = (struct sockaddr_in *)&p->sa;
	s6 = (struct sockaddr_in6 *)&p->sa;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		p->salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		p->salen = sizeof(*s6);
	} else {
		free(p);
		return -1;
	}
	p->fd = socket(
	    p->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		free(p);
		return -1;
	}
	/* Connected, so ICMP port-unreachable shows up as ECONNREFUSED. */
	if (connect(p->fd, (struct sockaddr *)&p->sa, p->salen) != 0) {
		close(p->fd);
		free(p);
		return -1;
	}
	p->cb = cb;
	p->arg = arg;
	p->base = base;
	p->v20 = true;
	p->timeout_ms = timeout_ms < 100 ? 100 : timeout_ms;
	p->start_us = osh_now_us();
	p->ev = event_new(base, p->fd, EV_READ, on_event, p);
	send_request(p);
	tv.tv_sec = (p->timeout_ms / 2) / 1000;
	tv.tv_usec = ((p->timeout_ms / 2) % 1000) * 1000;
	event_add(p->ev, &tv);
	return 0;
}
