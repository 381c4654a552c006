/* creds.c - per-target credentials from server-mgmt, in a bounded hash
 * table. */
#include <event2/event.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/redis.h>
#include <osh/util.h>

#include "creds.h"

#define NEGATIVE_TTL_S 30
#define HTTP_TIMEOUT_MS 5000
#define DEFAULT_MAX_ENTRIES 16384
#define MAX_LOOKUPS 256 /* lookups under way at once */
#define TARGET_MAX 300

struct entry {
	LIST_ENTRY(entry) chain; /* its bucket */
	TAILQ_ENTRY(entry) lru; /* most recently used first */
	char target[TARGET_MAX];
	bool found;
	struct osh_ipmi_target t;
	int64_t expires_s;
};
LIST_HEAD(chain, entry);
TAILQ_HEAD(entry_list, entry);

struct lookup {
	TAILQ_ENTRY(lookup) next; /* waiting for a service token */
	struct creds *c;
	char target[TARGET_MAX];
	int timeout_ms;
	creds_cb cb;
	void *arg;
};
TAILQ_HEAD(lookup_list, lookup);

struct creds {
	struct event_base *base;
	struct osh_httpc *http;
	struct osh_redis *events;
	char *sm_url, *auth_url, *secret;
	int ttl_s;
	char token[2048];
	int64_t token_expires_s;
	bool token_pending;
	struct lookup_list token_waiters;
	size_t lookups; /* under way */
	struct chain *buckets;
	size_t nbuckets; /* a power of two */
	struct entry_list lru;
	size_t ncached, max_entries;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

static const char *
str_or(const char *s, const char *def)
{
	return s != NULL ? s : def;
}

static const char *
quoted(const char *s, char *buf, size_t len)
{
	return osh_log_quote(s, buf, len);
}

/* SipHash with a key of this process: nobody outside can make targets
 * share a bucket. */
static struct chain *
bucket_of(const struct creds *c, const char *target)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(
	    h, (const unsigned char *)target, strlen(target), c->key);
	memcpy(&v, h, sizeof(v));
	return &c->buckets[v & (c->nbuckets - 1)];
}

static void
entry_free(struct creds *c, struct entry *e)
{
	LIST_REMOVE(e, chain);
	TAILQ_REMOVE(&c->lru, e, lru);
	osh_ipmi_target_wipe(&e->t);
	free(e);
	c->ncached--;
}

static void
forget_all(struct creds *c)
{
	while (!TAILQ_EMPTY(&c->lru))
		entry_free(c, TAILQ_FIRST(&c->lru));
}

static struct entry *
find(struct creds *c, const char *target)
{
	struct entry *e;

	LIST_FOREACH(e, bucket_of(c, target), chain)
	{
		if (strcmp(e->target, target) != 0)
			continue;
		/* cppcheck-suppress uninitvar ; it does not know LIST */
		if (e->expires_s <= osh_wall_s()) {
			entry_free(c, e);
			return NULL;
		}
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		return e;
	}
	return NULL;
}

/* Takes e into the table, pushing out the least recently used entry when
 * it is full. */
static void
insert(struct creds *c, struct entry *e)
{
	struct entry *old = find(c, e->target);

	if (old != NULL)
		entry_free(c, old);
	while (c->ncached >= c->max_entries)
		entry_free(c, TAILQ_LAST(&c->lru, entry_list));
	LIST_INSERT_HEAD(bucket_of(c, e->target), e, chain);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->ncached++;
}

static void
answer(struct lookup *l, const struct entry *e, int status, const char *why)
{
	l->c->lookups--;
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
	int port = json_object_get_int(json_object_object_get(o, "port"));

	if (!osh_strlcpy(e->t.host,
		str_or(
		    json_object_get_string(json_object_object_get(o, "host")),
		    ""),
		sizeof(e->t.host)))
		return false;
	e->t.port = port > 0 && port < 65536 ? (uint16_t)port : 0;
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

/* Whether server-mgmt answered for the address that was asked about:
 * the same host (without case) and port. */
static bool
same_address(const char *target, const struct osh_ipmi_target *t)
{
	char host[256];
	uint16_t port;

	return osh_ipmi_parse_address(target, host, sizeof(host), &port) &&
	    port == t->port && strcasecmp(host, t->host) == 0;
}

static void
on_lookup(
    int status, const char *body, size_t len, const char *error, void *arg)
{
	struct lookup *l = arg;
	struct creds *c = l->c;
	struct entry *e;
	struct json_object *o;
	char q[TARGET_MAX + 20], qe[200];

	(void)len;
	if (status != 200 && status != 404) {
		if (status == 401)
			c->token_expires_s = 0; /* get a new token next time */
		osh_log_warn(NULL,
		    "msg=\"credential lookup failed\" "
		    "target=\"%s\" status=%d error=\"%s\"",
		    quoted(l->target, q, sizeof(q)), status,
		    quoted(error ? error : "", qe, sizeof(qe)));
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
		osh_json_wipe_all(o);
		json_object_put(o);
	}
	if (e->found && !same_address(l->target, &e->t)) {
		osh_log_warn(NULL,
		    "msg=\"credentials for another address\" target=\"%s\"",
		    quoted(l->target, q, sizeof(q)));
		osh_ipmi_target_wipe(&e->t);
		free(e);
		answer(
		    l, NULL, 502, "server-mgmt answered for another address");
		return;
	}
	e->expires_s = osh_wall_s() + (e->found ? c->ttl_s : NEGATIVE_TTL_S);
	insert(c, e);
	answer(l, e, 404, "no server with this BMC address");
}

/* Percent-encodes all but RFC 3986's unreserved characters. */
static void
url_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

static void
lookup_now(struct lookup *l)
{
	struct creds *c = l->c;
	char url[1024], auth[2100], esc[3 * TARGET_MAX + 1];
	const char *headers[] = {auth, NULL};

	url_escape(l->target, esc, sizeof(esc));
	snprintf(url, sizeof(url), "%s/internal/servers/credentials?target=%s",
	    c->sm_url, esc);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	if (osh_httpc_request(c->http, "GET", url, headers, NULL, 0,
		l->timeout_ms, on_lookup, l) != 0)
		answer(l, NULL, 503, "cannot reach server-mgmt");
	osh_wipe(auth, sizeof(auth));
}

static void
on_token(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct creds *c = arg;
	struct json_object *o = NULL;
	struct lookup *l;
	char qe[200];
	bool ok;

	(void)len;
	c->token_pending = false;
	ok = status == 200 && (o = json_tokener_parse(body)) != NULL;
	if (!ok) {
		osh_log_warn(NULL,
		    "msg=\"service token refused\" status=%d "
		    "error=\"%s\"",
		    status, quoted(error ? error : "", qe, sizeof(qe)));
	} else {
		osh_strlcpy(c->token,
		    str_or(json_object_get_string(
			       json_object_object_get(o, "access_token")),
			""),
		    sizeof(c->token));
		c->token_expires_s = osh_wall_s() +
		    json_object_get_int(
			json_object_object_get(o, "expires_in")) -
		    60;
		osh_json_wipe_all(o); /* the token */
		json_object_put(o);
	}
	while ((l = TAILQ_FIRST(&c->token_waiters)) != NULL) {
		TAILQ_REMOVE(&c->token_waiters, l, next);
		if (ok)
			lookup_now(l);
		else
			answer(l, NULL, 503, "no service token from auth");
	}
}

/* One token request at a time; lookups wait for it. */
static void
fetch_token(struct creds *c)
{
	struct json_object *body;
	const char *headers[] = {"Content-Type: application/json", NULL};
	const char *text;
	char url[600];

	if (c->token_pending)
		return;
	body = json_object_new_object();
	json_object_object_add(
	    body, "service", json_object_new_string("ipmi-exporter"));
	json_object_object_add(
	    body, "secret", json_object_new_string(c->secret));
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	snprintf(
	    url, sizeof(url), "%s/internal/auth/service-token", c->auth_url);
	c->token_pending = true;
	if (osh_httpc_request(c->http, "POST", url, headers, text, strlen(text),
		HTTP_TIMEOUT_MS, on_token, c) != 0)
		on_token(0, NULL, 0, "cannot reach auth", c);
	osh_wipe((void *)(uintptr_t)text, strlen(text));
	osh_json_wipe_all(body); /* the service secret */
	json_object_put(body);
}

void
creds_get(
    struct creds *c, const char *target, int timeout_ms, creds_cb cb, void *arg)
{
	struct lookup *l;
	struct entry *e;

	if (strlen(target) >= TARGET_MAX) {
		cb(NULL, 404, "no server with this BMC address", arg);
		return;
	}
	if ((e = find(c, target)) != NULL) {
		cb(e->found ? &e->t : NULL, e->found ? 200 : 404,
		    e->found ? NULL : "no server with this BMC address", arg);
		return;
	}
	if (c->lookups >= MAX_LOOKUPS || (l = calloc(1, sizeof(*l))) == NULL) {
		cb(NULL, 503, "too many credential lookups at once", arg);
		return;
	}
	c->lookups++;
	l->c = c;
	l->cb = cb;
	l->arg = arg;
	l->timeout_ms = timeout_ms > 0 && timeout_ms < HTTP_TIMEOUT_MS
	    ? timeout_ms
	    : HTTP_TIMEOUT_MS;
	osh_strlcpy(l->target, target, sizeof(l->target));
	if (c->token[0] != '\0' && osh_wall_s() < c->token_expires_s) {
		lookup_now(l);
		return;
	}
	TAILQ_INSERT_TAIL(&c->token_waiters, l, next);
	fetch_token(c);
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
	c->max_entries =
	    opt->max_entries > 0 ? opt->max_entries : DEFAULT_MAX_ENTRIES;
	for (c->nbuckets = 16; c->nbuckets < c->max_entries; c->nbuckets <<= 1)
		;
	crypto_shorthash_keygen(c->key);
	TAILQ_INIT(&c->lru);
	TAILQ_INIT(&c->token_waiters);
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->sm_url = strdup(opt->server_mgmt_url);
	c->auth_url = strdup(opt->auth_url);
	c->secret = strdup(opt->secret);
	c->http = osh_httpc_new(base);
	if (c->buckets == NULL || c->sm_url == NULL || c->auth_url == NULL ||
	    c->secret == NULL || c->http == NULL) {
		creds_free(c);
		return NULL;
	}
	if (opt->http_max_inflight > 0)
		osh_httpc_set_limits(
		    c->http, opt->http_max_inflight, opt->http_queue_max);
	if (opt->metrics != NULL)
		osh_httpc_metrics(c->http, opt->metrics, "httpc");
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
	osh_httpc_free(c->http); /* answers the lookups under way */
	if (c->buckets != NULL)
		forget_all(c);
	free(c->buckets);
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
