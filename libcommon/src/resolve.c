/* resolve.c - host name lookups on the event loop with evdns, deadlines,
 * a cap on lookups at once and a small cache. */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/resolve.h"
#include "osh/util.h"

#define DEFAULT_INFLIGHT 256
#define DEFAULT_CACHE 1024
#define MAX_HOST 254
#define FREE_ROUNDS 100

struct entry {
	LIST_ENTRY(entry) chain;
	TAILQ_ENTRY(entry) lru; /* most recently used first */
	char host[MAX_HOST]; /* lower case */
	int family;
	uint64_t expires_us;
	struct osh_resolved res;
};
LIST_HEAD(chain, entry);
TAILQ_HEAD(entry_list, entry);

struct osh_resolve_req {
	TAILQ_ENTRY(osh_resolve_req) next;
	struct osh_resolver *r;
	struct evdns_getaddrinfo_request *gai; /* NULL once evdns answered */
	struct event *timer;
	char host[MAX_HOST];
	int family;
	osh_resolve_cb cb; /* NULL once answered or cancelled */
	void *arg;
};
TAILQ_HEAD(req_list, osh_resolve_req);

struct osh_resolver {
	struct event_base *base;
	struct evdns_base *dns;
	size_t max_inflight;
	int ttl_s;
	size_t cache_max;
	struct req_list pending; /* until evdns is done with them */
	size_t npending;
	struct chain *buckets;
	size_t nbuckets; /* a power of two */
	struct entry_list lru;
	size_t ncached;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

const char *
osh_resolve_status_str(enum osh_resolve_status st)
{
	switch (st) {
	case OSH_RESOLVE_OK: return "ok";
	case OSH_RESOLVE_NOT_FOUND: return "not_found";
	case OSH_RESOLVE_TIMEOUT: return "timeout";
	case OSH_RESOLVE_BUSY: return "busy";
	case OSH_RESOLVE_INVALID: return "invalid";
	case OSH_RESOLVE_FAILED: return "failed";
	case OSH_RESOLVE_CANCELLED: return "cancelled";
	}
	return "failed";
}

/* "ip[:port],ip[:port]" (IPv6 as [addr]:port). */
static int
add_nameservers(struct evdns_base *dns, const char *list)
{
	char *copy = strdup(list), *p, *save = NULL;
	int rc = copy != NULL ? 0 : -1;

	for (p = copy ? strtok_r(copy, ", ", &save) : NULL; p != NULL;
	     p = strtok_r(NULL, ", ", &save))
		if (evdns_base_nameserver_ip_add(dns, p) != 0)
			rc = -1;
	free(copy);
	return rc;
}

struct osh_resolver *
osh_resolver_new(
    struct event_base *base, const struct osh_resolver_options *opt)
{
	struct osh_resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->base = base;
	r->max_inflight = opt->max_inflight > 0 ? (size_t)opt->max_inflight
						: DEFAULT_INFLIGHT;
	r->ttl_s = opt->cache_ttl_s > 0 ? opt->cache_ttl_s : 0;
	r->cache_max = opt->cache_max > 0 ? opt->cache_max : DEFAULT_CACHE;
	TAILQ_INIT(&r->pending);
	TAILQ_INIT(&r->lru);
	for (r->nbuckets = 16; r->nbuckets < r->cache_max; r->nbuckets <<= 1)
		;
	crypto_shorthash_keygen(r->key);
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	/* The loop may end while the resolver idles. */
	if (opt->nameservers == NULL || opt->nameservers[0] == '\0')
		r->dns = evdns_base_new(base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
			EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	else if ((r->dns = evdns_base_new(
		      base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) != NULL &&
	    (add_nameservers(r->dns, opt->nameservers) != 0 ||
		evdns_base_load_hosts(r->dns, NULL) != 0)) {
		evdns_base_free(r->dns, 0);
		r->dns = NULL;
	}
	if (r->dns == NULL || r->buckets == NULL) {
		osh_resolver_free(r);
		return NULL;
	}
	/* The caller's deadline is what counts; these only keep evdns
	 * from retrying far past any deadline. */
	evdns_base_set_option(r->dns, "timeout:", "2");
	evdns_base_set_option(r->dns, "attempts:", "2");
	return r;
}

static size_t
bucket_of(const struct osh_resolver *r, const char *host, int family)
{
	unsigned char h[crypto_shorthash_BYTES];
	unsigned char buf[MAX_HOST + 1];
	size_t n = strlen(host);
	uint64_t v;

	memcpy(buf, host, n);
	buf[n] = (unsigned char)family;
	crypto_shorthash(h, buf, n + 1, r->key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (r->nbuckets - 1));
}

static void
entry_free(struct osh_resolver *r, struct entry *e)
{
	LIST_REMOVE(e, chain);
	TAILQ_REMOVE(&r->lru, e, lru);
	r->ncached--;
	free(e);
}

static struct entry *
cache_find(struct osh_resolver *r, const char *host, int family)
{
	struct entry *e;
	uint64_t now = osh_now_us();

	LIST_FOREACH(e, &r->buckets[bucket_of(r, host, family)], chain)
	{
		/* cppcheck-suppress uninitvar ; it does not know LIST */
		if (e->family != family || strcmp(e->host, host) != 0)
			continue;
		if (e->expires_us <= now) {
			entry_free(r, e);
			return NULL;
		}
		TAILQ_REMOVE(&r->lru, e, lru);
		TAILQ_INSERT_HEAD(&r->lru, e, lru);
		return e;
	}
	return NULL;
}

static void
cache_put(struct osh_resolver *r, const char *host, int family,
    const struct osh_resolved *res)
{
	struct entry *e;

	if (r->ttl_s == 0)
		return;
	if ((e = cache_find(r, host, family)) != NULL)
		entry_free(r, e);
	while (r->ncached >= r->cache_max)
		entry_free(r, TAILQ_LAST(&r->lru, entry_list));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	osh_strlcpy(e->host, host, sizeof(e->host));
	e->family = family;
	e->expires_us = osh_now_us() + (uint64_t)r->ttl_s * 1000000u;
	e->res = *res;
	LIST_INSERT_HEAD(&r->buckets[bucket_of(r, host, family)], e, chain);
	TAILQ_INSERT_HEAD(&r->lru, e, lru);
	r->ncached++;
}

/* Adds one address unless it is there already or there is no room. */
static void
add_addr(struct osh_resolved *res, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	const void *raw;

	memset(&ss, 0, sizeof(ss));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		memcpy(in, sa, sizeof(*in));
		in->sin_port = 0;
		raw = &in->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		memcpy(in6, sa, sizeof(*in6));
		in6->sin6_port = 0;
		raw = &in6->sin6_addr;
	} else {
		return;
	}
	for (size_t i = 0; i < res->n; i++)
		if (memcmp(&res->addr[i], &ss, sizeof(ss)) == 0)
			return;
	if (res->n == OSH_RESOLVE_MAX_ADDRS)
		return;
	res->addr[res->n] = ss;
	if (inet_ntop(sa->sa_family, raw, res->text[res->n],
		sizeof(res->text[0])) != NULL)
		res->n++;
}

/* An address literal answers itself. */
static bool
literal(const char *host, int family, struct osh_resolved *res,
    enum osh_resolve_status *st)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	memset(res, 0, sizeof(*res));
	if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		if (family != AF_INET6)
			add_addr(res, (struct sockaddr *)&in);
	} else if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		if (family != AF_INET)
			add_addr(res, (struct sockaddr *)&in6);
	} else {
		return false;
	}
	*st = res->n > 0 ? OSH_RESOLVE_OK : OSH_RESOLVE_NOT_FOUND;
	return true;
}

static enum osh_resolve_status
status_of(int gai_err)
{
	switch (gai_err) {
	case 0: return OSH_RESOLVE_OK;
	case EVUTIL_EAI_NONAME:
	case EVUTIL_EAI_NODATA:
	case EVUTIL_EAI_ADDRFAMILY: return OSH_RESOLVE_NOT_FOUND;
	case EVUTIL_EAI_AGAIN: return OSH_RESOLVE_TIMEOUT;
	case EVUTIL_EAI_CANCEL: return OSH_RESOLVE_CANCELLED;
	default: return OSH_RESOLVE_FAILED;
	}
}

static void
req_free(struct osh_resolve_req *q)
{
	TAILQ_REMOVE(&q->r->pending, q, next);
	q->r->npending--;
	if (q->timer != NULL)
		event_free(q->timer);
	free(q);
}

/* Answers the caller once; later answers are dropped. */
static void
req_answer(struct osh_resolve_req *q, enum osh_resolve_status st,
    const struct osh_resolved *res)
{
	osh_resolve_cb cb = q->cb;

	if (cb == NULL)
		return;
	q->cb = NULL;
	if (q->timer != NULL)
		event_del(q->timer);
	cb(st, st == OSH_RESOLVE_OK ? res : NULL, q->arg);
}

/* evdns is done with the lookup: this runs exactly once per request, and
 * the request goes with it. */
static void
on_gai(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct osh_resolve_req *q = arg;
	enum osh_resolve_status st = status_of(err);
	struct osh_resolved res;

	q->gai = NULL;
	memset(&res, 0, sizeof(res));
	for (struct evutil_addrinfo *p = ai; p != NULL; p = p->ai_next)
		if (p->ai_addr != NULL)
			add_addr(&res, p->ai_addr);
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	if (st == OSH_RESOLVE_OK && res.n == 0)
		st = OSH_RESOLVE_NOT_FOUND;
	if (st == OSH_RESOLVE_OK && q->cb != NULL)
		cache_put(q->r, q->host, q->family, &res);
	req_answer(q, st, &res);
	req_free(q);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct osh_resolve_req *q = arg;

	(void)fd;
	(void)what;
	req_answer(q, OSH_RESOLVE_TIMEOUT, NULL);
	/* evdns answers the cancel later (on_gai), which frees q. */
	if (q->gai != NULL)
		evdns_getaddrinfo_cancel(q->gai);
}

struct osh_resolve_req *
osh_resolve(struct osh_resolver *r, const char *host, int family,
    int timeout_ms, osh_resolve_cb cb, void *arg)
{
	struct osh_resolve_req *q;
	struct evdns_getaddrinfo_request *gai;
	struct osh_resolved res;
	struct evutil_addrinfo hints;
	struct timeval tv;
	enum osh_resolve_status st;
	struct entry *e;
	char lower[MAX_HOST];
	size_t n = host != NULL ? strlen(host) : 0;

	if (family != AF_INET && family != AF_INET6)
		family = AF_UNSPEC;
	if (n == 0 || n >= sizeof(lower) || !osh_host_valid(host)) {
		cb(OSH_RESOLVE_INVALID, NULL, arg);
		return NULL;
	}
	if (literal(host, family, &res, &st)) {
		cb(st, st == OSH_RESOLVE_OK ? &res : NULL, arg);
		return NULL;
	}
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)host[i]);
	if ((e = cache_find(r, lower, family)) != NULL) {
		res = e->res;
		cb(OSH_RESOLVE_OK, &res, arg);
		return NULL;
	}
	if (r->npending >= r->max_inflight) {
		cb(OSH_RESOLVE_BUSY, NULL, arg);
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->timer = evtimer_new(r->base, on_deadline, q)) == NULL) {
		free(q);
		cb(OSH_RESOLVE_FAILED, NULL, arg);
		return NULL;
	}
	q->r = r;
	memcpy(q->host, lower, n + 1);
	q->family = family;
	q->cb = cb;
	q->arg = arg;
	TAILQ_INSERT_TAIL(&r->pending, q, next);
	r->npending++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	/* On an /etc/hosts entry or a failure evdns answers at once (on_gai
	 * has then freed q) and returns NULL. */
	if ((gai = evdns_getaddrinfo(r->dns, lower, NULL, &hints, on_gai, q)) ==
	    NULL)
		return NULL;
	q->gai = gai;
	if (timeout_ms < 1)
		timeout_ms = 1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(q->timer, &tv);
	return q;
}

void
osh_resolve_cancel(struct osh_resolve_req *q)
{
	if (q == NULL || q->cb == NULL)
		return;
	q->cb = NULL;
	event_del(q->timer);
	if (q->gai != NULL)
		evdns_getaddrinfo_cancel(q->gai);
}

void
osh_resolver_free(struct osh_resolver *r)
{
	struct osh_resolve_req *q, *tmp;

	if (r == NULL)
		return;
	/* Callers hear first; evdns answers its cancelled lookups later. */
	for (q = TAILQ_FIRST(&r->pending); q != NULL; q = tmp) {
		tmp = TAILQ_NEXT(q, next);
		req_answer(q, OSH_RESOLVE_CANCELLED, NULL);
		if (q->gai != NULL)
			evdns_getaddrinfo_cancel(q->gai);
	}
	/* evdns answers cancelled lookups from the loop, and its own state
	 * must outlive those answers. */
	for (int i = 0; i < FREE_ROUNDS && !TAILQ_EMPTY(&r->pending); i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
	if (r->dns != NULL && TAILQ_EMPTY(&r->pending))
		evdns_base_free(r->dns, 0);
	while (!TAILQ_EMPTY(&r->lru))
		entry_free(r, TAILQ_FIRST(&r->lru));
	free(r->buckets);
	if (TAILQ_EMPTY(&r->pending))
		free(r);
	/* else: evdns still holds requests pointing here; leaving them
	 * (the process is ending) beats a use after free. */
}

size_t
osh_resolver_inflight(const struct osh_resolver *r)
{
	return r->npending;
}

size_t
osh_resolver_cached(const struct osh_resolver *r)
{
	return r->ncached;
}
