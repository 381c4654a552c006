/* Unit tests for resolve.c: address literals and refusals answered at
 * once, names answered by a DNS server on loopback (libevent's evdns
 * server), answers cached, a silent server cut at the deadline, the cap on
 * lookups at once, and lookups cancelled or pending when the resolver is
 * freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "osh/resolve.h"
#include "osh/util.h"

struct answer {
	int calls;
	enum osh_resolve_status st;
	struct osh_resolved res;
	struct event_base *base; /* broken out of when set */
};

static void
on_answer(enum osh_resolve_status st, const struct osh_resolved *res, void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->st = st;
	if (res != NULL)
		a->res = *res;
	else
		memset(&a->res, 0, sizeof(a->res));
	if (a->base != NULL)
		event_base_loopbreak(a->base);
}

/* A UDP socket on 127.0.0.1, its port in *port. */
static evutil_socket_t
udp_socket(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	evutil_socket_t fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	evutil_make_socket_nonblocking(fd);
	return fd;
}

static int dns_queries;

/* The test's DNS server: bmc1.test has two IPv4 addresses, v6.test one
 * IPv6 address, anything else does not exist. */
static void
serve(struct evdns_server_request *req, void *arg)
{
	(void)arg;
	for (int i = 0; i < req->nquestions; i++) {
		const struct evdns_server_question *q = req->questions[i];
		static const unsigned char a1[4] = {10, 0, 0, 7};
		static const unsigned char a2[4] = {10, 0, 0, 8};
		unsigned char a6[16];

		dns_queries++;
		inet_pton(AF_INET6, "fd00::7", a6);
		if (strcasecmp(q->name, "bmc1.test") == 0 &&
		    q->type == EVDNS_TYPE_A) {
			evdns_server_request_add_a_reply(
			    req, q->name, 1, a1, 60);
			evdns_server_request_add_a_reply(
			    req, q->name, 1, a2, 60);
		} else if (strcasecmp(q->name, "v6.test") == 0 &&
		    q->type == EVDNS_TYPE_AAAA) {
			evdns_server_request_add_aaaa_reply(
			    req, q->name, 1, a6, 60);
		} else if (strcasecmp(q->name, "bmc1.test") != 0 &&
		    strcasecmp(q->name, "v6.test") != 0) {
			evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
			return;
		}
	}
	evdns_server_request_respond(req, 0);
}

struct fixture {
	struct event_base *base;
	struct evdns_server_port *server;
	evutil_socket_t server_fd, silent_fd;
	int server_port, silent_port;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->base = event_base_new();
	f->server_fd = udp_socket(&f->server_port);
	f->silent_fd = udp_socket(&f->silent_port);
	f->server = evdns_add_server_port_with_base(
	    f->base, f->server_fd, 0, serve, NULL);
	assert_non_null(f->server);
	dns_queries = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	evdns_close_server_port(f->server);
	evutil_closesocket(f->server_fd);
	evutil_closesocket(f->silent_fd);
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct osh_resolver *
resolver_on(struct fixture *f, int port, int max_inflight)
{
	char ns[64];
	struct osh_resolver *r;

	snprintf(ns, sizeof(ns), "127.0.0.1:%d", port);
	r = osh_resolver_new(f->base,
	    &(struct osh_resolver_options){.max_inflight = max_inflight,
		.cache_ttl_s = 30,
		.cache_max = 4,
		.nameservers = ns});
	assert_non_null(r);
	return r;
}

/* Runs the loop until the answer comes, for at most 5 s. */
static void
wait_answer(struct fixture *f, struct answer *a)
{
	struct timeval cap = {5, 0};

	a->base = f->base;
	if (a->calls == 0) {
		event_base_loopexit(f->base, &cap);
		event_base_dispatch(f->base);
	}
	a->base = NULL;
}

static void
literals_and_refusals_at_once(void **state)
{
	struct fixture *f = *state;
	struct osh_resolver *r = resolver_on(f, f->silent_port, 0);
	static const struct {
		const char *host;
		int family;
		enum osh_resolve_status st;
		const char *first;
	} cases[] = {
	    {"192.0.2.1", AF_UNSPEC, OSH_RESOLVE_OK, "192.0.2.1"},
	    {"fd00::7", AF_UNSPEC, OSH_RESOLVE_OK, "fd00::7"},
	    {"FD00:0:0::7", AF_INET6, OSH_RESOLVE_OK, "fd00::7"},
	    {"192.0.2.1", AF_INET6, OSH_RESOLVE_NOT_FOUND, NULL},
	    {"::1", AF_INET, OSH_RESOLVE_NOT_FOUND, NULL},
	    {"", AF_UNSPEC, OSH_RESOLVE_INVALID, NULL},
	    {"[::1]", AF_UNSPEC, OSH_RESOLVE_INVALID, NULL},
	    {"bad host", AF_UNSPEC, OSH_RESOLVE_INVALID, NULL},
	    {"10.0.0.300", AF_UNSPEC, OSH_RESOLVE_INVALID, NULL},
	    {"a..b", AF_UNSPEC, OSH_RESOLVE_INVALID, NULL},
	    {"localhost", AF_UNSPEC, OSH_RESOLVE_OK, "127.0.0.1"},
	};

	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct answer a = {0};

		/* All of these are answered before osh_resolve returns. */
		assert_null(osh_resolve(
		    r, cases[i].host, cases[i].family, 1000, on_answer, &a));
		assert_int_equal(a.calls, 1);
		assert_int_equal(a.st, cases[i].st);
		if (cases[i].first != NULL)
			assert_string_equal(a.res.text[0], cases[i].first);
		else
			assert_int_equal(a.res.n, 0);
	}
	assert_null(osh_resolve(
	    r, NULL, AF_UNSPEC, 1000, on_answer, &(struct answer){0}));
	assert_int_equal(osh_resolver_inflight(r), 0);
	osh_resolver_free(r);
	assert_int_equal(dns_queries, 0);
}

static void
names_from_dns_and_cached(void **state)
{
	struct fixture *f = *state;
	struct osh_resolver *r = resolver_on(f, f->server_port, 0);
	struct answer a = {0};

	assert_non_null(
	    osh_resolve(r, "BMC1.test", AF_INET, 3000, on_answer, &a));
	wait_answer(f, &a);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.st, OSH_RESOLVE_OK);
	assert_int_equal(a.res.n, 2);
	assert_string_equal(a.res.text[0], "10.0.0.7");
	assert_string_equal(a.res.text[1], "10.0.0.8");
	assert_int_equal(a.res.addr[0].ss_family, AF_INET);
	assert_int_equal(osh_resolver_cached(r), 1);
	assert_int_equal(osh_resolver_inflight(r), 0);

	/* Again: from the cache, at once, no query. */
	int before = dns_queries;
	memset(&a, 0, sizeof(a));
	assert_null(osh_resolve(r, "bmc1.TEST", AF_INET, 3000, on_answer, &a));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.res.n, 2);
	assert_int_equal(dns_queries, before);

	memset(&a, 0, sizeof(a));
	assert_non_null(
	    osh_resolve(r, "v6.test", AF_INET6, 3000, on_answer, &a));
	wait_answer(f, &a);
	assert_int_equal(a.st, OSH_RESOLVE_OK);
	assert_string_equal(a.res.text[0], "fd00::7");

	memset(&a, 0, sizeof(a));
	assert_non_null(
	    osh_resolve(r, "nope.test", AF_UNSPEC, 3000, on_answer, &a));
	wait_answer(f, &a);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.st, OSH_RESOLVE_NOT_FOUND);

	/* The cache holds at most 4 names: the oldest go. */
	for (int i = 0; i < 6; i++) {
		memset(&a, 0, sizeof(a));
		char name[32];
		snprintf(name, sizeof(name), "10.1.1.%d", i);
		osh_resolve(r, name, AF_UNSPEC, 100, on_answer, &a);
	}
	assert_true(osh_resolver_cached(r) <= 4);
	osh_resolver_free(r);
}

static void
silent_server_cut_at_the_deadline(void **state)
{
	struct fixture *f = *state;
	struct osh_resolver *r = resolver_on(f, f->silent_port, 2);
	struct answer a = {0}, b = {0}, busy = {0};
	uint64_t t0 = osh_now_us();

	assert_non_null(
	    osh_resolve(r, "slow.test", AF_UNSPEC, 300, on_answer, &a));
	assert_non_null(
	    osh_resolve(r, "slow2.test", AF_UNSPEC, 300, on_answer, &b));
	/* Two at once at most. */
	assert_null(
	    osh_resolve(r, "slow3.test", AF_UNSPEC, 300, on_answer, &busy));
	assert_int_equal(busy.st, OSH_RESOLVE_BUSY);
	wait_answer(f, &a);
	wait_answer(f, &b);
	assert_int_equal(a.st, OSH_RESOLVE_TIMEOUT);
	assert_int_equal(b.st, OSH_RESOLVE_TIMEOUT);
	assert_int_equal(a.calls, 1);
	assert_true(osh_now_us() - t0 < 2000000);
	/* evdns finishes the cancelled lookups from the loop. */
	for (int i = 0; i < 50 && osh_resolver_inflight(r) > 0; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(osh_resolver_inflight(r), 0);
	assert_int_equal(a.calls, 1);
	osh_resolver_free(r);
}

static void
cancel_and_free_with_lookups_pending(void **state)
{
	struct fixture *f = *state;
	struct osh_resolver *r = resolver_on(f, f->silent_port, 0);
	struct answer a = {0}, b = {0};
	struct osh_resolve_req *q;

	q = osh_resolve(r, "gone.test", AF_UNSPEC, 5000, on_answer, &a);
	assert_non_null(q);
	assert_non_null(
	    osh_resolve(r, "pending.test", AF_UNSPEC, 5000, on_answer, &b));
	osh_resolve_cancel(q);
	osh_resolver_free(r);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.st, OSH_RESOLVE_CANCELLED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		literals_and_refusals_at_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		names_from_dns_and_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		silent_server_cut_at_the_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		cancel_and_free_with_lookups_pending, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
