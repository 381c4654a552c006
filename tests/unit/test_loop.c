/* Unit tests for the loop-driven modules: work.c, db.c and redis.c with
 * nothing listening (they must fail fast and cleanly, never hang), and
 * http.c serving a real request over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "osh/db.h"
#include "osh/http.h"
#include "osh/httpc.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/redis.h"
#include "osh/util.h"
#include "osh/work.h"

#define CLOSED_PORT 1 /* tcpmux: nothing listens there */

struct counter {
	struct event_base *base;
	int done, want;
	int ok;
};

static void
bump(struct counter *c)
{
	if (++c->done == c->want)
		event_base_loopbreak(c->base);
}

static void
work_fn(void *arg)
{
	int *v = arg;

	*v *= 2;
}

static struct counter *work_counter;

static void
work_done(void *arg)
{
	int *v = arg;

	work_counter->ok += *v;
	bump(work_counter);
}

static void
work_pool(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_work_pool *p = osh_work_pool_new(base, 3, 100);
	struct counter c = {base, 0, 50, 0};
	int vals[50];

	(void)state;
	work_counter = &c;
	for (int i = 0; i < 50; i++) {
		vals[i] = i;
		assert_int_equal(
		    osh_work_submit(p, work_fn, work_done, &vals[i]), 0);
	}
	event_base_dispatch(base);
	assert_int_equal(c.ok, 2 * (49 * 50 / 2));
	osh_work_pool_free(p);
	event_base_free(base);
}

static void
slow_fn(void *arg)
{
	(void)arg;
	usleep(200000);
}

/* One thread, room for one waiting: a third job is refused at once and
 * counted; the two let in run. */
static void
work_queue_full(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_work_pool *p = osh_work_pool_new(base, 1, 1);
	struct counter c = {base, 0, 2, 0};
	struct osh_pool_stats ps;
	int vals[3] = {1, 1, 1};

	(void)state;
	work_counter = &c;
	assert_int_equal(osh_work_submit(p, slow_fn, work_done, &vals[0]), 0);
	/* Wait until the worker has taken it: the queue is empty again. */
	while (osh_work_queued(p) > 0)
		usleep(1000);
	assert_int_equal(osh_work_submit(p, work_fn, work_done, &vals[1]), 0);
	assert_true(osh_work_full(p));
	assert_int_equal(osh_work_submit(p, work_fn, work_done, &vals[2]), -1);
	event_base_dispatch(base);
	assert_int_equal(c.done, 2);
	osh_work_pool_stats(p, &ps);
	assert_int_equal(ps.rejected, 2); /* osh_work_full and the submit */
	assert_int_equal(ps.limit, 1);
	assert_int_equal(ps.size, 1);
	assert_int_equal(ps.waited, 2);
	osh_work_pool_free(p);
	event_base_free(base);
}

static void
on_httpc(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct counter *c = arg;

	(void)body;
	(void)len;
	(void)error;
	if (status == 0)
		c->ok++;
	bump(c);
}

/* One request at a time, one waiting: a third is refused at once
 * (OSH_HTTPC_BUSY, no callback); the two let in fail by their deadline
 * against a server that never answers. */
static void
httpc_queue_full(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_httpc *h = osh_httpc_new(base);
	struct counter c = {base, 0, 2, 0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	struct osh_pool_stats ps;
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0); /* never accepted */
	getsockname(fd, (struct sockaddr *)&sa, &salen);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	osh_httpc_set_limits(h, 1, 1);
	assert_int_equal(
	    osh_httpc_request(h, "GET", url, NULL, NULL, 0, 300, on_httpc, &c),
	    0);
	assert_int_equal(
	    osh_httpc_request(h, "GET", url, NULL, NULL, 0, 300, on_httpc, &c),
	    0);
	assert_int_equal(
	    osh_httpc_request(h, "GET", url, NULL, NULL, 0, 300, on_httpc, &c),
	    OSH_HTTPC_BUSY);
	osh_httpc_pool_stats(h, &ps);
	assert_int_equal(ps.in_use, 1);
	assert_int_equal(ps.depth, 1);
	assert_int_equal(ps.rejected, 1);
	event_base_dispatch(base);
	assert_int_equal(c.done, 2);
	assert_int_equal(c.ok, 2);
	osh_httpc_free(h);
	close(fd);
	event_base_free(base);
}

static void
on_db(PGresult *res, const char *error, void *arg)
{
	struct counter *c = arg;

	assert_null(res);
	assert_non_null(error);
	bump(c);
}

static void
db_down_fails_fast(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_db_options o = {
	    .conninfo = "host=127.0.0.1 port=1 dbname=x user=x",
	    .schema = "x",
	    .size = 2,
	    .query_timeout_ms = 500,
	};
	struct osh_db *db = osh_db_new(base, &o);
	struct counter c = {base, 0, 3, 0};
	uint64_t t0 = osh_now_us();

	(void)state;
	for (int i = 0; i < 3; i++)
		osh_db_query(db, "SELECT 1", 0, NULL, on_db, &c);
	event_base_dispatch(base);
	assert_int_equal(c.done, 3);
	assert_true(osh_now_us() - t0 < 2000000);
	osh_db_free(db);
	event_base_free(base);
}

static void
on_redis(redisReply *reply, void *arg)
{
	struct counter *c = arg;

	assert_null(reply);
	bump(c);
}

static void
redis_down_fails_fast(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_redis_options o = {"127.0.0.1", CLOSED_PORT, NULL, 300, 0};
	struct osh_redis *r = osh_redis_new(base, &o);
	struct counter c = {base, 0, 2, 0};

	(void)state;
	osh_redis_cmd(r, on_redis, &c, "PING");
	osh_redis_cmd(r, on_redis, &c, "GET %s", "k");
	event_base_dispatch(base);
	assert_int_equal(c.done, 2);
	assert_false(osh_redis_connected(r));
	osh_redis_free(r);
	event_base_free(base);
}

static void
echo_dispatch(struct osh_req *req, void *arg)
{
	(void)arg;
	osh_resp_header(req, "X-Param",
	    osh_req_query(req, "q") ? osh_req_query(req, "q") : "none");
	osh_reply(req, 201, "text/plain", req->path, strlen(req->path));
}

struct client {
	struct counter *c;
	int status;
	char body[128];
	char rid[80];
	char param[32];
};

static void
on_response(struct evhttp_request *r, void *arg)
{
	struct client *cl = arg;
	const char *h;

	cl->status = r ? evhttp_request_get_response_code(r) : -1;
	if (r != NULL) {
		struct evbuffer *b = evhttp_request_get_input_buffer(r);
		size_t n = evbuffer_get_length(b);
		if (n >= sizeof(cl->body))
			n = sizeof(cl->body) - 1;
		evbuffer_remove(b, cl->body, n);
		cl->body[n] = '\0';
		h = evhttp_find_header(
		    evhttp_request_get_input_headers(r), "X-Request-Id");
		osh_strlcpy(cl->rid, h ? h : "", sizeof(cl->rid));
		h = evhttp_find_header(
		    evhttp_request_get_input_headers(r), "X-Param");
		osh_strlcpy(cl->param, h ? h : "", sizeof(cl->param));
	}
	bump(cl->c);
}

static void
http_round_trip(void **state)
{
	struct event_base *base = event_base_new();
	struct osh_http_options o = {
	    .addr = "127.0.0.1", .port = 0, .max_body = 1024};
	struct counter c = {base, 0, 1, 0};
	struct client cl = {&c, 0, "", "", ""};
	struct evhttp_connection *conn;
	struct evhttp_request *r;
	struct osh_http *h;
	int port;

	(void)state;
	h = osh_http_new(base, &o, echo_dispatch, NULL);
	assert_non_null(h);
	port = osh_http_port(h);
	assert_true(port > 0);
	conn = evhttp_connection_base_new(
	    base, NULL, "127.0.0.1", (unsigned short)port);
	r = evhttp_request_new(on_response, &cl);
	evhttp_add_header(
	    evhttp_request_get_output_headers(r), "X-Request-Id", "abc-123");
	evhttp_add_header(evhttp_request_get_output_headers(r), "Host", "x");
	evhttp_make_request(conn, r, EVHTTP_REQ_GET, "/a%20b/c?q=hello%21");
	event_base_dispatch(base);
	assert_int_equal(cl.status, 201);
	assert_string_equal(cl.body, "/a b/c");
	assert_string_equal(cl.rid, "abc-123");
	assert_string_equal(cl.param, "hello!");
	assert_int_equal(osh_http_in_flight(h), 0);
	evhttp_connection_free(conn);
	osh_http_free(h);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(work_pool),
	    cmocka_unit_test(work_queue_full),
	    cmocka_unit_test(httpc_queue_full),
	    cmocka_unit_test(db_down_fails_fast),
	    cmocka_unit_test(redis_down_fails_fast),
	    cmocka_unit_test(http_round_trip),
	};
	osh_log_init("test", OSH_LOG_ERROR);
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
