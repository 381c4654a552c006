/* fuzz_router.c - libFuzzer target: route matching (osh_router_match) of
 * arbitrary methods and decoded paths against a table shaped like the
 * services' own, checked against a plain reference matcher.
 *
 * Input: byte 0 picks the method, the rest is the path (up to its first
 * NUL, as http.c hands it over after percent-decoding). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/router.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
h(struct osh_req *req)
{
	(void)req;
}

/*
 * The shapes of the services' tables (auth, server-mgmt, the exporter, the
 * built-in routes) and of those to come (clusters, jobs, monitoring):
 * literals, {id} segments, literal siblings of parameters, several methods
 * per path, and the deepest patterns the router takes (16 segments, 8
 * parameters).
 */
static const struct osh_route routes[] = {
    {OSH_GET, "/health", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/ready", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/metrics", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/ipmi", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_POST, "/-/reload", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_POST, "/api/auth/login", OSH_PERM_PUBLIC, 4096, h, 0},
    {OSH_POST, "/api/auth/refresh", OSH_PERM_PUBLIC, 4096, h, 0},
    {OSH_POST, "/api/auth/logout", OSH_PERM_ANY, 4096, h,
	OSH_ROUTE_OPTIONAL_BODY},
    {OSH_GET, "/api/auth/profile", OSH_PERM_ANY, 0, h, 0},
    {OSH_PATCH, "/api/auth/profile", OSH_PERM_ANY, 4096, h, 0},
    {OSH_POST, "/api/auth/password", OSH_PERM_ANY, 4096, h, 0},
    {OSH_GET, "/api/auth/jwks", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/api/users", "users:read", 0, h, 0},
    {OSH_POST, "/api/users", "users:write", 8192, h, 0},
    {OSH_GET, "/api/users/{id}", "users:read", 0, h, 0},
    {OSH_PATCH, "/api/users/{id}", "users:write", 8192, h, 0},
    {OSH_DELETE, "/api/users/{id}", "users:delete", 0, h, 0},
    {OSH_GET, "/api/audit", "audit:read", 0, h, 0},
    {OSH_GET, "/api/audit/export.csv", "audit:read", 0, h, 0},
    {OSH_POST, "/internal/auth/service-token", OSH_PERM_PUBLIC, 4096, h, 0},
    {OSH_GET, "/api/servers", "servers:read", 0, h, 0},
    {OSH_POST, "/api/servers", "servers:write", 16384, h, 0},
    {OSH_GET, "/api/servers/stats", "servers:read", 0, h, 0},
    {OSH_POST, "/api/servers/import", "servers:write", 4194304, h,
	OSH_ROUTE_CSV},
    {OSH_GET, "/api/servers/import/template.csv", "servers:read", 0, h, 0},
    {OSH_GET, "/api/servers/{id}", "servers:read", 0, h, 0},
    {OSH_PATCH, "/api/servers/{id}", "servers:write", 16384, h, 0},
    {OSH_DELETE, "/api/servers/{id}", "servers:delete", 0, h, 0},
    {OSH_PUT, "/api/servers/{id}/credentials", "servers:write", 2048, h, 0},
    {OSH_POST, "/api/servers/{id}/power", "servers:power", 1024, h, 0},
    {OSH_GET, "/api/servers/{id}/power", "servers:read", 0, h, 0},
    {OSH_PUT, "/api/servers/{id}/boot-device", "servers:power", 1024, h, 0},
    {OSH_POST, "/api/servers/{id}/identify", "servers:power", 1024, h, 0},
    {OSH_GET, "/api/servers/{id}/sensors", "servers:read", 0, h, 0},
    {OSH_GET, "/api/servers/{id}/inventory", "servers:read", 0, h, 0},
    {OSH_GET, "/api/servers/{id}/sel", "servers:read", 0, h, 0},
    {OSH_DELETE, "/api/servers/{id}/sel", "servers:write", 0, h, 0},
    {OSH_GET, "/api/servers/{id}/sel/{entry}", "servers:read", 0, h, 0},
    {OSH_POST, "/api/servers/{id}/refresh", "servers:read", 0, h, 0},
    {OSH_POST, "/api/discovery/scans", "discovery:write", 8192, h, 0},
    {OSH_GET, "/api/discovery/scans/{id}", "discovery:read", 0, h, 0},
    {OSH_POST, "/api/discovery/scans/{id}/import", "servers:write", 65536, h,
	0},
    {OSH_GET, "/internal/prometheus/targets", OSH_PERM_PUBLIC, 0, h, 0},
    {OSH_GET, "/internal/servers/credentials", OSH_PERM_SERVICE, 0, h, 0},
    {OSH_GET, "/internal/servers/{id}/credentials", OSH_PERM_SERVICE, 0, h, 0},
    {OSH_GET, "/api/clusters", "clusters:read", 0, h, 0},
    {OSH_POST, "/api/clusters", "clusters:write", 8192, h, 0},
    {OSH_GET, "/api/clusters/{id}", "clusters:read", 0, h, 0},
    {OSH_PATCH, "/api/clusters/{id}", "clusters:write", 8192, h, 0},
    {OSH_DELETE, "/api/clusters/{id}", "clusters:delete", 0, h, 0},
    {OSH_PUT, "/api/clusters/{id}/servers/{server_id}", "clusters:write", 0, h,
	0},
    {OSH_DELETE, "/api/clusters/{id}/servers/{server_id}", "clusters:write", 0,
	h, 0},
    {OSH_POST, "/api/clusters/{id}/power", "servers:power", 1024, h, 0},
    {OSH_GET, "/api/jobs", "jobs:read", 0, h, 0},
    {OSH_GET, "/api/jobs/{id}", "jobs:read", 0, h, 0},
    {OSH_GET, "/api/jobs/{id}/tasks", "jobs:read", 0, h, 0},
    {OSH_GET, "/api/jobs/{id}/events", "jobs:read", 0, h, 0},
    {OSH_POST, "/api/jobs/{id}/cancel", "jobs:write", 0, h, 0},
    {OSH_POST, "/api/monitoring/webhook", OSH_PERM_SERVICE, 1048576, h, 0},
    {OSH_GET, "/api/monitoring/alerts", "alerts:read", 0, h, 0},
    {OSH_POST, "/api/monitoring/alerts/{fingerprint}/ack", "alerts:write", 1024,
	h, OSH_ROUTE_OPTIONAL_BODY},
    {OSH_DELETE, "/api/monitoring/silences/{id}", "alerts:write", 0, h, 0},
    {OSH_GET, "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}", OSH_PERM_ANY, 0, h,
	0},
    {OSH_OPTIONS, "/d/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15", OSH_PERM_ANY, 0, h,
	0},
    {OSH_HEAD, "/d/1/2/3/4/5/6/7/8/9/10/11/12/13/{last}", OSH_PERM_ANY, 0, h,
	0},
};

static const enum osh_method methods[] = {
    OSH_GET, OSH_POST, OSH_PUT, OSH_PATCH, OSH_DELETE, OSH_HEAD, OSH_OPTIONS};

#define REF_MAX_SEGS 64

/*
 * Two policies of the router that issue 7 changes on other branches: one
 * trailing slash forgiven ("/api/users/" for "/api/users"; taken away so
 * that the gateway's per-path limits see every request), and HEAD served
 * by GET routes (the new HTTP server). The target reads them off the
 * router once and then holds every request to them.
 */
static bool forgive_slash, head_as_get;

struct seg {
	const char *s;
	size_t len;
};

/* The routes' patterns split into segments, once. */
static struct seg pattern_segs[OSH_ARRAY_LEN(routes)][REF_MAX_SEGS + 1];
static size_t pattern_nsegs[OSH_ARRAY_LEN(routes)];

/* Reports a broken invariant; libFuzzer keeps the input. */
static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_router: %s\n", what);
	abort();
}

/* Splits s[0, len) after its leading '/' at every '/'; the number of
 * segments, or REF_MAX_SEGS + 1 when there are more than fit. */
static size_t
split(const char *s, size_t len, struct seg *out)
{
	size_t n = 0, start = 1;

	if (len <= 1)
		return 0;
	for (size_t i = 1; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (n == REF_MAX_SEGS)
			return REF_MAX_SEGS + 1;
		out[n].s = s + start;
		out[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static bool
is_param(const struct seg *p)
{
	return p->len >= 3 && p->s[0] == '{';
}

/* The reference: the first route in table order whose segments match and
 * whose method is 'm'; *allowed collects the other methods of matching
 * routes seen before it. Returns the index or -1. */
static long
reference(enum osh_method m, const char *path, unsigned *allowed)
{
	struct seg ps[REF_MAX_SEGS + 1];
	size_t len = strlen(path), np;

	*allowed = 0;
	if (path[0] != '/')
		return -1;
	if (forgive_slash && len > 1 && path[len - 1] == '/')
		len--;
	np = split(path, len, ps);
	if (np > 16)
		return -1;
	for (size_t i = 0; i < OSH_ARRAY_LEN(routes); i++) {
		const struct seg *rs = pattern_segs[i];
		bool match = pattern_nsegs[i] == np;

		for (size_t k = 0; match && k < np; k++) {
			if (is_param(&rs[k]))
				match = ps[k].len > 0;
			else
				match = rs[k].len == ps[k].len &&
				    memcmp(rs[k].s, ps[k].s, ps[k].len) == 0;
		}
		if (!match)
			continue;
		if (routes[i].method == m ||
		    (head_as_get && m == OSH_HEAD &&
			routes[i].method == OSH_GET))
			return (long)i;
		*allowed |= routes[i].method;
	}
	return -1;
}

/* The parameters must be the route's {names} in order, each holding the
 * path segment in its place. */
static void
check_params(const struct osh_route *rt, const char *path,
    const struct osh_param *params, size_t nparams)
{
	struct seg ps[REF_MAX_SEGS + 1], rs[REF_MAX_SEGS + 1];
	size_t len = strlen(path), np, nr, k = 0;

	if (forgive_slash && len > 1 && path[len - 1] == '/')
		len--;
	np = split(path, len, ps);
	nr = split(rt->pattern, strlen(rt->pattern), rs);
	check(np == nr, "segment count differs from the route's");
	for (size_t i = 0; i < nr; i++) {
		if (!is_param(&rs[i]))
			continue;
		check(k < nparams, "parameter missing");
		check(params[k].name != NULL && params[k].value != NULL,
		    "parameter without name or value");
		check(strlen(params[k].name) == rs[i].len - 2 &&
			memcmp(params[k].name, rs[i].s + 1, rs[i].len - 2) == 0,
		    "parameter name differs from the pattern's");
		check(strlen(params[k].value) == ps[i].len &&
			memcmp(params[k].value, ps[i].s, ps[i].len) == 0,
		    "parameter value differs from the path segment");
		check(strchr(params[k].value, '/') == NULL,
		    "parameter value holds a slash");
		k++;
	}
	check(k == nparams, "more parameters than the route has");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct osh_router *r;
	struct osh_param params[OSH_MAX_PARAMS + 1];
	const struct osh_route *rt;
	enum osh_method m;
	size_t nparams = 0;
	unsigned allowed = 0, want_allowed;
	long want;
	char *path;

	if (r == NULL) {
		r = osh_router_new(routes, OSH_ARRAY_LEN(routes));
		check(r != NULL, "the route table does not compile");
		forgive_slash = osh_router_match(r, OSH_GET, "/health/", params,
				    &nparams, &allowed) != NULL;
		head_as_get = osh_router_match(r, OSH_HEAD, "/health", params,
				  &nparams, &allowed) != NULL;
		for (size_t i = 0; i < OSH_ARRAY_LEN(routes); i++)
			pattern_nsegs[i] = split(routes[i].pattern,
			    strlen(routes[i].pattern), pattern_segs[i]);
	}
	if (size == 0)
		return 0;
	m = methods[data[0] % OSH_ARRAY_LEN(methods)];
	/* An exact-size copy, so that reading past the end is caught. */
	if ((path = malloc(size)) == NULL)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	/* A sentinel past the array catches a write beyond OSH_MAX_PARAMS. */
	memset(params, 0, sizeof(params));
	params[OSH_MAX_PARAMS].name = "sentinel";

	rt = osh_router_match(r, m, path, params, &nparams, &allowed);
	want = reference(m, path, &want_allowed);
	check(nparams <= OSH_MAX_PARAMS, "too many parameters");
	check(params[OSH_MAX_PARAMS].name != NULL &&
		strcmp(params[OSH_MAX_PARAMS].name, "sentinel") == 0 &&
		params[OSH_MAX_PARAMS].value == NULL,
	    "parameters written past OSH_MAX_PARAMS");
	if (rt == NULL) {
		check(want == -1, "no route where the reference finds one");
		check(nparams == 0, "parameters without a route");
		check(allowed == want_allowed, "Allow methods differ");
	} else {
		check(want >= 0 && rt == &routes[want],
		    "a route other than the reference's");
		check(rt->method == m ||
			(head_as_get && m == OSH_HEAD && rt->method == OSH_GET),
		    "a route of another method");
		check(osh_router_index(r, rt) == (size_t)want,
		    "route index differs");
		check_params(rt, path, params, nparams);
	}
	for (size_t i = 0; i < nparams; i++)
		free(params[i].value);
	free(path);
	return 0;
}
