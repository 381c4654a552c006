/* Unit tests: module osh's credential cache (creds.c) against a small
 * stand-in for auth and server-mgmt on loopback (evhttp): answers cached,
 * unknown targets refused and remembered, bracketed IPv6 targets reaching
 * server-mgmt intact, an answer for another address refused, one service
 * token for many lookups at once, and the table bounded (least recently
 * used out first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <osh/crypto.h>
#include <osh/util.h>

#include "ipmi-exporter/creds.h"

struct fake {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int tokens, lookups;
	char last_target[300];
};

/* server-mgmt knows 10.x.y.z and [fd00::7]; "10.6.6.6" is answered
 * with another address. */
static void
serve(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq q;
	const char *target;
	char host[256];
	uint16_t port;

	if (strcmp(uri, "/internal/auth/service-token") == 0) {
		f->tokens++;
		evbuffer_add_printf(
		    out, "{\"access_token\":\"tok\",\"expires_in\":900}");
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
		return;
	}
	f->lookups++;
	memset(&q, 0, sizeof(q));
	evhttp_parse_query(uri, &q);
	target = evhttp_find_header(&q, "target");
	osh_strlcpy(
	    f->last_target, target ? target : "", sizeof(f->last_target));
	evhttp_clear_headers(&q);
	if (!osh_ipmi_parse_address(
		f->last_target, host, sizeof(host), &port) ||
	    (strncmp(host, "10.", 3) != 0 && strcmp(host, "fd00::7") != 0)) {
		evhttp_send_reply(req, 404, "Not Found", out);
		evbuffer_free(out);
		return;
	}
	if (strcmp(host, "10.6.6.6") == 0)
		osh_strlcpy(host, "10.6.6.7", sizeof(host));
	evbuffer_add_printf(out,
	    "{\"id\":1,\"name\":\"s\",\"host\":\"%s\",\"port\":%u,"
	    "\"username\":\"admin\",\"password\":\"pw\",\"ipmi_version\":"
	    "\"2.0\",\"privilege\":\"operator\",\"cipher_suite\":17,"
	    "\"workarounds\":\"opensesspriv\"}",
	    host, port);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

struct got {
	struct fake *f;
	int calls, status;
	struct osh_ipmi_target t;
	bool have;
};

static int outstanding;

static void
on_creds(
    const struct osh_ipmi_target *t, int status, const char *why, void *arg)
{
	struct got *g = arg;

	(void)why;
	g->calls++;
	g->status = status;
	g->have = t != NULL;
	if (t != NULL)
		g->t = *t;
	if (--outstanding == 0)
		event_base_loopbreak(g->f->base);
}

static void
wait_all(struct fake *f)
{
	struct timeval cap = {5, 0};

	if (outstanding > 0) {
		event_base_loopexit(f->base, &cap);
		event_base_dispatch(f->base);
	}
	assert_int_equal(outstanding, 0);
}

static void
get(struct creds *c, struct fake *f, const char *target, struct got *g)
{
	memset(g, 0, sizeof(*g));
	g->f = f;
	outstanding++;
	creds_get(c, target, 2000, on_creds, g);
	wait_all(f);
	assert_int_equal(g->calls, 1);
}

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct evhttp_bound_socket *s;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof(ss);

	f->base = event_base_new();
	f->http = evhttp_new(f->base);
	evhttp_set_gencb(f->http, serve, f);
	s = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(s);
	getsockname(
	    evhttp_bound_socket_get_fd(s), (struct sockaddr *)&ss, &len);
	f->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	evhttp_free(f->http);
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct creds *
creds_on(struct fake *f, size_t max)
{
	char url[64];
	struct creds *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	c = creds_new(f->base,
	    &(struct creds_options){.server_mgmt_url = url,
		.auth_url = url,
		.secret = "s3cret",
		.ttl_s = 300,
		.max_entries = max});
	assert_non_null(c);
	return c;
}

static void
found_cached_refused(void **state)
{
	struct fake *f = *state;
	struct creds *c = creds_on(f, 0);
	struct got g;

	get(c, f, "10.0.0.7:623", &g);
	assert_int_equal(g.status, 200);
	assert_true(g.have);
	assert_string_equal(g.t.host, "10.0.0.7");
	assert_int_equal(g.t.port, 623);
	assert_string_equal(g.t.password, "pw");
	assert_int_equal(g.t.privilege, OSH_IPMI_PRIV_OPERATOR);
	assert_int_equal(g.t.cipher_suite, 17);
	assert_int_equal(f->tokens, 1);
	assert_int_equal(f->lookups, 1);
	/* From the cache: at once, nothing asked. */
	get(c, f, "10.0.0.7:623", &g);
	assert_true(g.have);
	assert_int_equal(f->lookups, 1);

	/* Unknown: 404, and remembered for a while. */
	get(c, f, "192.0.2.1:623", &g);
	assert_int_equal(g.status, 404);
	assert_false(g.have);
	get(c, f, "192.0.2.1:623", &g);
	assert_int_equal(g.status, 404);
	assert_int_equal(f->lookups, 2);
	assert_int_equal(creds_cached(c), 2);

	/* An answer for another address is refused, not used. */
	get(c, f, "10.6.6.6", &g);
	assert_int_equal(g.status, 502);
	assert_false(g.have);
	creds_free(c);
}

static void
bracketed_ipv6_reaches_server_mgmt(void **state)
{
	struct fake *f = *state;
	struct creds *c = creds_on(f, 0);
	struct got g;

	get(c, f, "[fd00::7]:9001", &g);
	assert_string_equal(f->last_target, "[fd00::7]:9001");
	assert_int_equal(g.status, 200);
	assert_string_equal(g.t.host, "fd00::7");
	assert_int_equal(g.t.port, 9001);
	/* Odd characters travel escaped, not altered. */
	get(c, f, "10.1.1.1:623&target=x#y", &g);
	assert_string_equal(f->last_target, "10.1.1.1:623&target=x#y");
	assert_int_equal(g.status, 404);
	creds_free(c);
}

static void
one_token_for_many(void **state)
{
	struct fake *f = *state;
	struct creds *c = creds_on(f, 0);
	struct got g[10];
	char t[32];

	for (int i = 0; i < 10; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].f = f;
		outstanding++;
		snprintf(t, sizeof(t), "10.0.1.%d", i);
		creds_get(c, t, 2000, on_creds, &g[i]);
	}
	wait_all(f);
	for (int i = 0; i < 10; i++)
		assert_int_equal(g[i].status, 200);
	assert_int_equal(f->tokens, 1);
	assert_int_equal(f->lookups, 10);
	creds_free(c);
}

static void
bounded_least_recently_used_out(void **state)
{
	struct fake *f = *state;
	struct creds *c = creds_on(f, 16);
	struct got g;
	char t[32];

	get(c, f, "10.9.9.9", &g);
	for (int i = 0; i < 40; i++) {
		snprintf(t, sizeof(t), "10.0.2.%d", i);
		get(c, f, t, &g);
		assert_true(creds_cached(c) <= 16);
		/* Kept in use, 10.9.9.9 stays. */
		get(c, f, "10.9.9.9", &g);
	}
	assert_int_equal(creds_cached(c), 16);
	assert_int_equal(f->lookups, 41);
	get(c, f, "10.0.2.39", &g); /* recent: still there */
	assert_int_equal(f->lookups, 41);
	get(c, f, "10.0.2.0", &g); /* old: asked again */
	assert_int_equal(f->lookups, 42);
	creds_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		found_cached_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		bracketed_ipv6_reaches_server_mgmt, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		one_token_for_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		bounded_least_recently_used_out, setup, teardown),
	};

	if (osh_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
