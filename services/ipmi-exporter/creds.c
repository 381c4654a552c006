/* creds.c - per-target credentials from server-mgmt. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/util.h>

#include "creds.h"

#define NEGATIVE_TTL_S 30
#define HTTP_TIMEOUT_MS 5000

struct entry {
	LIST_ENTRY(entry) next;
	char target[300];
	bool found;
	struct osh_ipmi_target t;
	int64_t expires_s;
};
LIST_HEAD(entry_list, entry);

struct lookup {
	struct creds *c;
	char target[300];
	creds_cb cb;
	void *arg;
};

struct creds {
	struct event_base *base;
	struct osh_httpc *http;
	struct osh_redis *events;
	char *sm_url, *auth_url, *secret;
	int ttl_s;
	char token[2048];
	int64_t token_expires_s;
	struct entry_list cache;
	size_t ncached;
};

static const char *
str_or(const char *s, const char *def)
{
	return s != NULL ? s : def;
}

static void
entry_free(struct creds *c, struct entry *e)
{
	LIST_REMOVE(e, next);
	osh_ipmi_target_wipe(&e->t);
	free(e);
	c->ncached--;
}

static void
forget_all(struct creds *c)
{
	while (!LIST_EMPTY(&c->cache))
		entry_free(c, LIST_FIRST(&c->cache));
}

static struct entry *
find(struct creds *c, const char *target)
{
	struct entry *e, *tmp;
	int64_t now = osh_wall_s();

	for (e = LIST_FIRST(&c->cache); e != NULL; e = tmp) {
		tmp = LIST_NEXT(e, next);
		if (e->expires_s <= now) {
			entry_free(c, e);
			continue;
		}
		if (strcmp(e->target, target) == 0)
			return e;
	}
	return NULL;
}

static void
answer(struct lookup *l, const struct entry *e, int status, const char *why)
{
	l->cb(e && e->found ? &e->t : NULL, e && e->found ? 200 : status, why,
	    l->arg);
	free(l);
}

/* Reads the credential document into a cache entry. */
static bool
entry_fill(struct entry *e, struct json_object *o)
{
	const char *wa =
	    json_object_get_string(json_object_object_get(o, "workarounds"));
	const char *priv =
	    json_object_get_string(json_object_object_get(o, "privilege"));
	char bad[64];
	unsigned w = 0;

	if (!osh_strlcpy(e->t.host,
		str_or(
		    json_object_get_string(json_object_object_get(o, "host")),
		    ""),
		sizeof(e->t.host)))
		return false;
	e->t.port =
	    (uint16_t)json_object_get_int(json_object_object_get(o, "port"));
	osh_strlcpy(e->t.user,
	    str_or(
		json_object_get_string(json_object_object_get(o, "username")),
		""),
	    sizeof(e->t.user));
	osh_strlcpy(e->t.password,
	    str_or(
		json_object_get_string(json_object_object_get(o, "password")),
		""),
	    sizeof(e->t.password));
	e->t.ipmi15 =
	    strcmp(str_or(json_object_get_string(
			      json_object_object_get(o, "ipmi_version")),
		       "2.0"),
		"1.5") == 0;
	e->t.privilege = priv && strcmp(priv, "user") == 0 ? OSH_IPMI_PRIV_USER
	    : priv && strcmp(priv, "operator") == 0 ? OSH_IPMI_PRIV_OPERATOR
						    : OSH_IPMI_PRIV_ADMIN;
	e->t.cipher_suite = (uint8_t)json_object_get_int(
	    json_object_object_get(o, "cipher_suite"));
	if (wa != NULL && osh_ipmi_workarounds_parse(wa, &w, bad, sizeof(bad)))
		e->t.workarounds = w;
	return e->t.port != 0 && e->t.host[0] != '\0';
}

static void
on_lookup(
    int status, const char *body, size_t len, const char *error, void *arg)
{
	struct lookup *l = arg;
	struct creds *c = l->c;
	struct entry *e;
	struct json_object *o;

	(void)len;
	if (status != 200 && status != 404) {
		if (status == 401)
			c->token_expires_s = 0; /* get a new token next time */
		osh_log_warn(NULL,
		    "msg=\"credential lookup failed\" "
		    "target=\"%s\" status=%d error=\"%s\"",
		    l->target, status, error ? error : "");
		answer(l, NULL, 503, "server-mgmt did not give credentials");
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		answer(l, NULL, 503, "out of memory");
		return;
	}
	osh_strlcpy(e->target, l->target, sizeof(e->target));
	if (status == 200 && (o = json_tokener_parse(body)) != NULL) {
		e->found = entry_fill(e, o);
		/* The document held a password: wipe json-c's copy too. */
		const char *pw = json_object_get_string(
		    json_object_object_get(o, "password"));
		if (pw != NULL)
			osh_wipe((void *)(uintptr_t)pw, strlen(pw));
		json_object_put(o);
	}
	e->expires_s = osh_wall_s() + (e->found ? c->ttl_s : NEGATIVE_TTL_S);
	LIST_INSERT_HEAD(&c->cache, e, next);
	c->ncached++;
	answer(l, e, 404, "no server with this BMC address");
}

static void
lookup_now(struct lookup *l)
{
	struct creds *c = l->c;
	char url[1024], auth[2100], *esc;
	const char *headers[] = {auth, NULL};

	esc = strdup(l->target);
	for (char *p = esc; p && *p; p++)
		if (*p == '[' || *p == ']' || *p == ' ' || *p == '&' ||
		    *p == '#' || *p == '?')
			*p = '_'; /* addresses never hold these legitimately */
	snprintf(url, sizeof(url), "%s/internal/servers/credentials?target=%s",
	    c->sm_url, esc ? esc : "");
	free(esc);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	if (osh_httpc_request(c->http, "GET", url, headers, NULL, 0,
		HTTP_TIMEOUT_MS, on_lookup, l) != 0)
		answer(l, NULL, 503, "cannot reach server-mgmt");
}

static void
on_token(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct lookup *l = arg;
	struct creds *c = l->c;
	struct json_object *o;

	(void)len;
	if (status != 200 || (o = json_tokener_parse(body)) == NULL) {
		osh_log_warn(NULL,
		    "msg=\"service token refused\" status=%d "
		    "error=\"%s\"",
		    status, error ? error : "");
		answer(l, NULL, 503, "no service token from auth");
		return;
	}
	osh_strlcpy(c->token,
	    str_or(json_object_get_string(
		       json_object_object_get(o, "access_token")),
		""),
	    sizeof(c->token));
	c->token_expires_s = osh_wall_s() +
	    json_object_get_int(json_object_object_get(o, "expires_in")) - 60;
	json_object_put(o);
	lookup_now(l);
}

void
creds_get(struct creds *c, const char *target, creds_cb cb, void *arg)
{
	struct lookup *l;
	struct entry *e = find(c, target);
	struct json_object *body;
	const char *headers[] = {"Content-Type: application/json", NULL};
	const char *text;
	char url[600];

	if (e != NULL) {
		cb(e->found ? &e->t : NULL, e->found ? 200 : 404,
		    e->found ? NULL : "no server with this BMC address", arg);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		cb(NULL, 503, "out of memory", arg);
		return;
	}
	l->c = c;
	l->cb = cb;
	l->arg = arg;
	osh_strlcpy(l->target, target, sizeof(l->target));
	if (c->token[0] != '\0' && osh_wall_s() < c->token_expires_s) {
		lookup_now(l);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(
	    body, "service", json_object_new_string("ipmi-exporter"));
	json_object_object_add(
	    body, "secret", json_object_new_string(c->secret));
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	snprintf(
	    url, sizeof(url), "%s/internal/auth/service-token", c->auth_url);
	if (osh_httpc_request(c->http, "POST", url, headers, text, strlen(text),
		HTTP_TIMEOUT_MS, on_token, l) != 0)
		answer(l, NULL, 503, "cannot reach auth");
	osh_wipe((void *)(uintptr_t)text, strlen(text));
	json_object_put(body);
}

static void
on_event(redisReply *reply, void *arg)
{
	struct creds *c = arg;
	struct json_object *o;
	const char *type;

	if (reply == NULL) { /* events lost while away: start afresh */
		forget_all(c);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	if ((o = json_tokener_parse(reply->element[2]->str)) == NULL)
		return;
	type = json_object_get_string(json_object_object_get(o, "type"));
	/* Any change to any server may move an address or change a
	 * password: the cache refills on demand. */
	if (type != NULL &&
	    (strcmp(type, "server.updated") == 0 ||
		strcmp(type, "server.deleted") == 0 ||
		strcmp(type, "server.created") == 0))
		forget_all(c);
	json_object_put(o);
}

static void
on_events_connect(void *arg)
{
	struct creds *c = arg;

	forget_all(c);
	osh_redis_subscribe(c->events, "osh:events", on_event, c);
}

struct creds *
creds_new(struct event_base *base, const struct creds_options *opt)
{
	struct creds *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		osh_redis_free(opt->events);
		return NULL;
	}
	c->events = opt->events; /* freed with c from here on */
	c->base = base;
	c->ttl_s = opt->ttl_s;
	LIST_INIT(&c->cache);
	c->sm_url = strdup(opt->server_mgmt_url);
	c->auth_url = strdup(opt->auth_url);
	c->secret = strdup(opt->secret);
	c->http = osh_httpc_new(base);
	if (c->sm_url == NULL || c->auth_url == NULL || c->secret == NULL ||
	    c->http == NULL) {
		creds_free(c);
		return NULL;
	}
	if (c->events != NULL)
		osh_redis_on_connect(c->events, on_events_connect, c);
	return c;
}

void
creds_free(struct creds *c)
{
	if (c == NULL)
		return;
	osh_redis_free(c->events);
	osh_httpc_free(c->http);
	forget_all(c);
	free(c->sm_url);
	free(c->auth_url);
	osh_free_secret(c->secret);
	osh_wipe(c->token, sizeof(c->token));
	free(c);
}

size_t
creds_cached(const struct creds *c)
{
	return c->ncached;
}
