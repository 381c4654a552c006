/* Unit tests: router.c matching and the role table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/auth.h"
#include "osh/router.h"
#include "osh/util.h"

static void
h(struct osh_req *req)
{
	(void)req;
}

static const struct osh_route routes[] = {
    {OSH_GET, "/api/users", "users:read", 0, h, 0},
    {OSH_POST, "/api/users", "users:write", 1024, h, 0},
    {OSH_GET, "/api/users/{id}", "users:read", 0, h, 0},
    {OSH_DELETE, "/api/users/{id}", "users:delete", 0, h, 0},
    {OSH_GET, "/api/servers/{id}/sel/{entry}", "servers:read", 0, h, 0},
    {OSH_GET, "/api/users/me", OSH_PERM_ANY, 0, h, 0},
};

static void
release(struct osh_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].value);
}

static void
matching(void **state)
{
	struct osh_router *r = osh_router_new(routes, OSH_ARRAY_LEN(routes));
	struct osh_param p[OSH_MAX_PARAMS];
	const struct osh_route *rt;
	unsigned allowed;
	size_t n;

	(void)state;
	assert_non_null(r);
	rt = osh_router_match(r, OSH_GET, "/api/users", p, &n, &allowed);
	assert_ptr_equal(rt, &routes[0]);
	assert_int_equal(n, 0);
	rt = osh_router_match(r, OSH_DELETE, "/api/users/42", p, &n, &allowed);
	assert_ptr_equal(rt, &routes[3]);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].name, "id");
	assert_string_equal(p[0].value, "42");
	release(p, n);
	rt = osh_router_match(
	    r, OSH_GET, "/api/servers/7/sel/99", p, &n, &allowed);
	assert_ptr_equal(rt, &routes[4]);
	assert_int_equal(n, 2);
	assert_string_equal(p[1].name, "entry");
	assert_string_equal(p[1].value, "99");
	release(p, n);
	/* Order decides between a parameter and a literal. */
	rt = osh_router_match(r, OSH_GET, "/api/users/me", p, &n, &allowed);
	assert_ptr_equal(rt, &routes[2]);
	release(p, n);
	osh_router_free(r);
}

static void
not_found_and_not_allowed(void **state)
{
	struct osh_router *r = osh_router_new(routes, OSH_ARRAY_LEN(routes));
	struct osh_param p[OSH_MAX_PARAMS];
	unsigned allowed;
	size_t n;

	(void)state;
	assert_null(
	    osh_router_match(r, OSH_GET, "/api/nothing", p, &n, &allowed));
	assert_int_equal(allowed, 0);
	assert_null(
	    osh_router_match(r, OSH_GET, "/api/users/1/x", p, &n, &allowed));
	assert_null(
	    osh_router_match(r, OSH_GET, "/api//users", p, &n, &allowed));
	assert_null(
	    osh_router_match(r, OSH_GET, "/api/users//", p, &n, &allowed));
	/* One spelling per route: a trailing slash is another path. */
	assert_null(
	    osh_router_match(r, OSH_GET, "/api/users/", p, &n, &allowed));
	assert_int_equal(allowed, 0);
	assert_null(
	    osh_router_match(r, OSH_DELETE, "/api/users/42/", p, &n, &allowed));
	assert_null(
	    osh_router_match(r, OSH_GET, "/api/users/me/", p, &n, &allowed));
	assert_null(
	    osh_router_match(r, OSH_PUT, "/api/users", p, &n, &allowed));
	assert_int_equal(allowed, OSH_GET | OSH_POST);
	assert_null(osh_router_match(r, OSH_GET, "", p, &n, &allowed));
	osh_router_free(r);
}

static void
bad_patterns(void **state)
{
	static const struct osh_route bad1[] = {
	    {OSH_GET, "nope", NULL, 0, h, 0}};
	static const struct osh_route bad2[] = {
	    {OSH_GET, "/a/{x", NULL, 0, h, 0}};
	static const struct osh_route bad3[] = {
	    {OSH_GET, "/a//b", NULL, 0, h, 0}};
	static const struct osh_route bad4[] = {
	    {OSH_GET, "/a", NULL, 0, NULL, 0}};
	/* One parameter more than a request holds. */
	static const struct osh_route bad5[] = {
	    {OSH_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", NULL, 0, h, 0}};
	static const struct osh_route max[] = {
	    {OSH_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/i", NULL, 0, h, 0}};
	struct osh_router *r;

	(void)state;
	assert_null(osh_router_new(bad1, 1));
	assert_null(osh_router_new(bad2, 1));
	assert_null(osh_router_new(bad3, 1));
	assert_null(osh_router_new(bad4, 1));
	assert_null(osh_router_new(bad5, 1));
	assert_non_null(r = osh_router_new(max, 1));
	osh_router_free(r);
}

static void
roles(void **state)
{
	(void)state;
	assert_true(osh_role_allows("admin", "users:delete"));
	assert_true(osh_role_allows("operator", "servers:power"));
	assert_false(osh_role_allows("operator", "users:read"));
	assert_false(osh_role_allows("operator", "servers:delete"));
	assert_true(osh_role_allows("viewer", "servers:read"));
	assert_false(osh_role_allows("viewer", "servers:write"));
	assert_false(osh_role_allows("viewer", "audit:read"));
	assert_true(osh_role_allows("service", "internal:read"));
	assert_false(osh_role_allows("service", "users:read"));
	assert_false(osh_role_allows("root", "servers:read"));
	assert_true(osh_role_valid("viewer"));
	assert_false(osh_role_valid("Admin"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matching),
	    cmocka_unit_test(not_found_and_not_allowed),
	    cmocka_unit_test(bad_patterns),
	    cmocka_unit_test(roles),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
