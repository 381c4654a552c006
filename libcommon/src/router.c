/* router.c - route matching and the checks every route gets before its
 * handler runs: 404/405, body size and type, token, revocation, role. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osh/log.h"
#include "osh/redis.h"
#include "osh/revoke.h"
#include "osh/router.h"
#include "osh/util.h"

#define MAX_SEGS 16

struct compiled {
	const struct osh_route *route;
	size_t nsegs;
	struct {
		const char *s; /* literal text (not terminated) */
		size_t len;
		char *name; /* the parameter name, for {name} segments */
	} segs[MAX_SEGS];
};

struct osh_router {
	const struct osh_route *routes;
	size_t n;
	struct compiled *c;
	struct osh_jwt_verifier *verifier;
	struct osh_revocations *revoked;
	struct osh_redis *redis;
};

static bool
compile(const struct osh_route *rt, struct compiled *c)
{
	const char *p = rt->pattern;
	size_t nparams = 0;

	c->route = rt;
	c->nsegs = 0;
	if (p[0] != '/')
		return false;
	while (*p == '/') {
		const char *start = ++p, *end = strchr(start, '/');
		size_t len = end ? (size_t)(end - start) : strlen(start);

		if (len == 0 && end == NULL)
			break;
		if (len == 0 || c->nsegs == MAX_SEGS)
			return false;
		if (start[0] == '{') {
			/* A request holds OSH_MAX_PARAMS parameters: more
			 * would be dropped unseen. */
			if (len < 3 || start[len - 1] != '}' ||
			    ++nparams > OSH_MAX_PARAMS)
				return false;
			c->segs[c->nsegs].name = strndup(start + 1, len - 2);
			if (c->segs[c->nsegs].name == NULL)
				return false;
		} else {
			c->segs[c->nsegs].s = start;
			c->segs[c->nsegs].len = len;
		}
		c->nsegs++;
		p = start + len;
	}
	return *p == '\0';
}

struct osh_router *
osh_router_new(const struct osh_route *routes, size_t n)
{
	struct osh_router *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->routes = routes;
	r->n = n;
	if ((r->c = calloc(n, sizeof(*r->c))) == NULL)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		if (!compile(&routes[i], &r->c[i]) || routes[i].fn == NULL) {
			osh_log_error(NULL, "msg=\"bad route\" pattern=\"%s\"",
			    routes[i].pattern);
			goto out_free;
		}
	}
	return r;
out_free:
	osh_router_free(r);
	return NULL;
}

void
osh_router_free(struct osh_router *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->c != NULL && i < r->n; i++)
		for (size_t k = 0; k < r->c[i].nsegs; k++)
			free(r->c[i].segs[k].name);
	free(r->c);
	free(r);
}

void
osh_router_set_auth(struct osh_router *r, struct osh_jwt_verifier *v,
    struct osh_revocations *revoked, struct osh_redis *redis)
{
	r->verifier = v;
	r->revoked = revoked;
	r->redis = redis;
}

size_t
osh_router_index(const struct osh_router *r, const struct osh_route *rt)
{
	return (size_t)(rt - r->routes);
}

/* Matches one compiled route against the path segments. */
static bool
match_one(const struct compiled *c, const char *const *segs, const size_t *lens,
    size_t nsegs)
{
	if (c->nsegs != nsegs)
		return false;
	for (size_t i = 0; i < nsegs; i++) {
		if (c->segs[i].name != NULL) {
			if (lens[i] == 0)
				return false;
			continue;
		}
		if (c->segs[i].len != lens[i] ||
		    memcmp(c->segs[i].s, segs[i], lens[i]) != 0)
			return false;
	}
	return true;
}

const struct osh_route *
osh_router_match(const struct osh_router *r, enum osh_method method,
    const char *path, struct osh_param *params, size_t *nparams,
    unsigned *allowed)
{
	const char *segs[MAX_SEGS];
	size_t lens[MAX_SEGS], nsegs = 0, plen = strlen(path);
	const char *p = path;

	*allowed = 0;
	*nparams = 0;
	/* One spelling per route: no trailing slash is forgiven, so that the
	 * gateway's per-path limits see every request a handler gets. */
	if (p[0] != '/')
		return NULL;
	if (plen == 1)
		plen = 0; /* "/" itself has no segments */
	while (p < path + plen) {
		const char *start = p + 1,
			   *end = memchr(
			       start, '/', (size_t)(path + plen - start));
		size_t len =
		    end ? (size_t)(end - start) : (size_t)(path + plen - start);

		if (nsegs == MAX_SEGS)
			return NULL;
		segs[nsegs] = start;
		lens[nsegs++] = len;
		p = start + len;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct compiled *c = &r->c[i];

		if (!match_one(c, segs, lens, nsegs))
			continue;
		if (c->route->method != method &&
		    !(method == OSH_HEAD && c->route->method == OSH_GET)) {
			*allowed |= c->route->method;
			continue;
		}
		for (size_t k = 0; k < c->nsegs; k++) {
			if (c->segs[k].name == NULL ||
			    *nparams == OSH_MAX_PARAMS)
				continue;
			params[*nparams].name = c->segs[k].name;
			params[*nparams].value = strndup(segs[k], lens[k]);
			(*nparams)++;
		}
		return c->route;
	}
	return NULL;
}

int64_t
osh_router_body_limit(void *arg, enum osh_method method, const char *path)
{
	const struct osh_router *r = arg;
	const struct osh_route *rt;
	struct osh_param params[OSH_MAX_PARAMS];
	size_t n = 0;
	unsigned allowed;

	rt = osh_router_match(r, method, path, params, &n, &allowed);
	for (size_t i = 0; i < n; i++)
		free(params[i].value);
	return rt != NULL ? (int64_t)rt->max_body : -1;
}

static void
allow_header(struct osh_req *req, unsigned allowed)
{
	static const enum osh_method all[] = {
	    OSH_GET, OSH_POST, OSH_PUT, OSH_PATCH, OSH_DELETE};
	char buf[64] = "";

	for (size_t i = 0; i < OSH_ARRAY_LEN(all); i++) {
		if (!(allowed & all[i]))
			continue;
		if (buf[0] != '\0')
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, osh_method_name(all[i]),
		    sizeof(buf) - strlen(buf) - 1);
	}
	osh_resp_header(req, "Allow", buf);
}

/* Content-Type without parameters equals 'want'. */
static bool
ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	while (ct != NULL && *ct == ' ')
		ct++;
	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool
check_body(struct osh_req *req)
{
	const struct osh_route *rt = req->route;
	const char *ct;

	if (req->body_len == 0) {
		if (rt->max_body > 0 &&
		    !(rt->flags & OSH_ROUTE_OPTIONAL_BODY)) {
			osh_reply_error(req, 400, "validation_failed", NULL,
			    "a request body is required");
			return false;
		}
		return true;
	}
	if (rt->max_body == 0) {
		osh_reply_error(req, 400, "bad_request", NULL,
		    "this endpoint takes no request body");
		return false;
	}
	if (req->body_len > rt->max_body) {
		osh_reply_error(req, 413, NULL, NULL,
		    "request body larger than %zu bytes", rt->max_body);
		return false;
	}
	ct = osh_req_header(req, "Content-Type");
	if (!ctype_is(ct, "application/json") &&
	    !((rt->flags & OSH_ROUTE_CSV) && ctype_is(ct, "text/csv"))) {
		osh_reply_error(req, 415, NULL, NULL,
		    "Content-Type must be application/json%s",
		    (rt->flags & OSH_ROUTE_CSV) ? " or text/csv" : "");
		return false;
	}
	return true;
}

static void
unauthorized(struct osh_req *req, const char *msg)
{
	osh_resp_header(
	    req, "WWW-Authenticate", "Bearer realm=\"openserverhub\"");
	osh_reply_error(req, 401, NULL, NULL, "%s", msg);
}

/* Runs the handler once the token is known good and the role fits. */
static void
authorize(struct osh_req *req)
{
	const char *perm = req->route->perm;
	const char *role = req->claims.role;

	if (strcmp(perm, OSH_PERM_ANY) == 0) {
		if (strcmp(role, "service") == 0) {
			osh_reply_error(req, 403, NULL, NULL,
			    "service tokens cannot use this endpoint");
			return;
		}
	} else if (strcmp(perm, OSH_PERM_SERVICE) == 0) {
		if (strcmp(role, "service") != 0) {
			osh_reply_error(req, 403, NULL, NULL,
			    "this endpoint is for services only");
			return;
		}
	} else if (!osh_role_allows(role, perm)) {
		osh_reply_error(req, 403, NULL, NULL,
		    "role \"%s\" lacks permission \"%s\"", role, perm);
		return;
	}
	req->authed = true;
	req->route->fn(req);
}

static void
on_revocation(redisReply *reply, void *arg)
{
	struct osh_req *req = arg;
	int64_t before;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3) {
		osh_reply_error(
		    req, 503, NULL, NULL, "token revocation list unavailable");
		return;
	}
	if (reply->element[0]->type == REDIS_REPLY_STRING ||
	    reply->element[2]->type == REDIS_REPLY_STRING) {
		unauthorized(req, "token has been revoked");
		return;
	}
	if (reply->element[1]->type == REDIS_REPLY_STRING &&
	    osh_parse_int(reply->element[1]->str, 0, INT64_MAX, &before) &&
	    req->claims.iat_ms < before) {
		unauthorized(req, "token has been revoked");
		return;
	}
	authorize(req);
}

void
osh_router_dispatch(struct osh_req *req, void *arg)
{
	struct osh_router *r = arg;
	const char *authz, *token;
	enum osh_token_status st;
	unsigned allowed;

	req->route = osh_router_match(
	    r, req->method, req->path, req->params, &req->nparams, &allowed);
	if (req->route == NULL) {
		if (allowed != 0) {
			allow_header(req, allowed);
			osh_reply_error(req, 405, NULL, NULL,
			    "method %s not allowed here",
			    osh_method_name(req->method));
		} else {
			osh_reply_error(
			    req, 404, NULL, NULL, "no such endpoint");
		}
		return;
	}
	if (!check_body(req))
		return;
	if (req->route->perm == OSH_PERM_PUBLIC) {
		req->route->fn(req);
		return;
	}
	authz = osh_req_header(req, "Authorization");
	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0) {
		unauthorized(req, "a bearer token is required");
		return;
	}
	for (token = authz + 7; *token == ' '; token++)
		;
	if (r->verifier == NULL) {
		unauthorized(req, "tokens cannot be verified");
		return;
	}
	st = osh_jwt_verify(r->verifier, token, osh_wall_s(), &req->claims);
	if (st != OSH_TOKEN_OK) {
		unauthorized(req, osh_token_status_str(st));
		return;
	}
	switch (
	    osh_revocations_check(r->revoked, &req->claims, osh_wall_ms())) {
	case OSH_NOT_REVOKED: authorize(req); return;
	case OSH_REVOKED: unauthorized(req, "token has been revoked"); return;
	case OSH_REVOKE_UNKNOWN: break;
	}
	if (r->redis == NULL) {
		authorize(req);
		return;
	}
	/* The local copy is not in sync: ask Redis. */
	osh_redis_cmd(r->redis, on_revocation, req,
	    "MGET osh:revoked:jti:%s osh:revoked:user:%lld osh:revoked:sid:%s",
	    req->claims.jti, (long long)req->claims.user_id,
	    req->claims.sid[0] ? req->claims.sid : "-");
}
