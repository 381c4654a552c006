/* router.h - the route table: path patterns with {parameters}, each route
 * stating its permission and body limit. The router answers 404, 405, 413,
 * 415, 401 and 403 itself; a handler runs only for a request that passed. */
#ifndef OSH_ROUTER_H
#define OSH_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

typedef void (*osh_handler_fn)(struct osh_req *req);

/* perm values beyond "resource:verb" strings. */
#define OSH_PERM_PUBLIC NULL /* no token needed */
#define OSH_PERM_ANY "any" /* any valid token */
#define OSH_PERM_SERVICE "service" /* a service token only */

enum osh_route_flags {
	OSH_ROUTE_CSV = 1 << 0, /* body may be text/csv too */
	OSH_ROUTE_OPTIONAL_BODY = 1 << 1, /* an empty body is fine */
};

struct osh_route {
	enum osh_method method;
	const char *pattern; /* "/api/users/{id}" */
	const char *perm;
	size_t max_body; /* 0: the route takes no body */
	osh_handler_fn fn;
	unsigned flags;
};

struct osh_router;
struct osh_redis;
struct osh_jwt_verifier;

/* The table must outlive the router. Patterns are checked: a malformed one
 * makes this return NULL. */
struct osh_router *osh_router_new(const struct osh_route *routes, size_t n);
void osh_router_free(struct osh_router *r);

struct osh_revocations;

/* Token checking: verifier (required for non-public routes), the in-memory
 * deny-lists and the Redis client to ask when they are not in sync (both
 * may be NULL in unit tests). */
void osh_router_set_auth(struct osh_router *r, struct osh_jwt_verifier *v,
    struct osh_revocations *revoked, struct osh_redis *redis);

/* Finds the route for method and path, filling req-style params (HEAD
 * takes GET routes). Returns NULL with *allowed set to the methods the path
 * does accept (0: none). */
const struct osh_route *osh_router_match(const struct osh_router *r,
    enum osh_method method, const char *path, struct osh_param *params,
    size_t *nparams, unsigned *allowed);

/* Index of a route within the table, for metrics. */
size_t osh_router_index(const struct osh_router *r, const struct osh_route *rt);

/* The largest body the route for method and path takes (its max_body; 0:
 * none), or -1 when no route serves them. For osh_http_options.body_limit
 * (arg: the router). */
int64_t osh_router_body_limit(
    void *arg, enum osh_method method, const char *path);

/* Dispatch callback for osh_http_new (arg: the router). */
void osh_router_dispatch(struct osh_req *req, void *arg);

#endif
