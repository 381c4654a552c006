/* webauth.c - response headers, rate limit and basic authentication before
 * routing. */
#include <arpa/inet.h>
#include <crypt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osh/crypto.h>
#include <osh/log.h>
#include <osh/service.h>
#include <osh/util.h>
#include <osh/work.h>

#include "webauth.h"

/* Checked when the user is unknown and no user is configured (the
 * password behind it is random and forgotten). With users, their hash of
 * the largest cost is checked instead (webauth_dummy_hash). */
static const char builtin_dummy[] =
    "$2b$10$NImmrAFqR1CLIfuLu/8/BOVPfcWOmmCoX1y5SYh8ddeWRQpSfhXMm";

struct slot {
	unsigned char key[32];
	uint64_t expires_us; /* 0: empty */
};

struct webauth_cache {
	unsigned char secret[crypto_generichash_KEYBYTES];
	uint64_t ttl_us;
	struct slot slots[WEBAUTH_CACHE_SLOTS];
};

struct webauth {
	struct osh_work_pool *work;
	struct web_config *config;
	char dummy[61]; /* what unknown users are checked against */
	struct webauth_cache *cache; /* successes, any client */
	struct webauth_cache *failures; /* refusals, per client */
	struct webauth_clients clients; /* checks pending per client */
	double tokens; /* rate limit: a token bucket */
	uint64_t tokens_at_us;
	struct webauth_stats stats;
	size_t pending; /* checks on the workers */
	bool freed; /* webauth_free ran; the last check frees */
};

/* One bcrypt check on a worker. */
struct check {
	struct webauth *a;
	struct osh_req *req;
	char user[256];
	char password[WEBAUTH_MAX_PASSWORD + 1];
	char hash[61];
	char client[WEBAUTH_CLIENT_MAX];
	bool known; /* the user exists (else hash is the dummy) */
	bool ok;
	unsigned char key[32]; /* in the successes */
	unsigned char fkey[32]; /* in the refusals */
};

struct webauth_cache *
webauth_cache_new(unsigned ttl_s)
{
	struct webauth_cache *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		crypto_generichash_keygen(c->secret);
		c->ttl_us = (uint64_t)ttl_s * 1000000u;
	}
	return c;
}

void
webauth_cache_free(struct webauth_cache *c)
{
	if (c != NULL) {
		sodium_memzero(c, sizeof(*c));
		free(c);
	}
}

static void
hash_str(crypto_generichash_state *st, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	crypto_generichash_update(st, (const unsigned char *)&n, sizeof(n));
	crypto_generichash_update(st, (const unsigned char *)s, n);
}

void
webauth_cache_key(const struct webauth_cache *c, const char *client,
    const char *user, const char *hash, const char *password,
    unsigned char key[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, c->secret, sizeof(c->secret), 32);
	hash_str(&st, client != NULL ? client : "");
	hash_str(&st, user);
	hash_str(&st, hash);
	hash_str(&st, password);
	crypto_generichash_final(&st, key, 32);
	sodium_memzero(&st, sizeof(st));
}

/* Each key may sit in two slots; the key is a keyed hash, so nobody
 * outside can aim at a slot. */
static size_t
slot_of(const unsigned char key[32])
{
	return ((size_t)key[0] | (size_t)key[1] << 8) % WEBAUTH_CACHE_SLOTS &
	    ~(size_t)1;
}

bool
webauth_cache_hit(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us)
{
	size_t i = slot_of(key);
	bool hit = false;

	for (size_t k = i; k < i + 2; k++) {
		struct slot *s = &c->slots[k];
		bool same = sodium_memcmp(s->key, key, 32) == 0;

		if (s->expires_us != 0 && s->expires_us <= now_us) {
			sodium_memzero(s, sizeof(*s));
			continue;
		}
		hit |= same && s->expires_us != 0;
	}
	return hit;
}

void
webauth_cache_put(
    struct webauth_cache *c, const unsigned char key[32], uint64_t now_us)
{
	size_t i = slot_of(key);
	struct slot *s = &c->slots[i];

	/* The same key, an empty slot, or else the one expiring first. */
	for (size_t k = i; k < i + 2; k++) {
		if (sodium_memcmp(c->slots[k].key, key, 32) == 0 ||
		    c->slots[k].expires_us <= now_us) {
			s = &c->slots[k];
			break;
		}
		if (c->slots[k].expires_us < s->expires_us)
			s = &c->slots[k];
	}
	memcpy(s->key, key, 32);
	s->expires_us = now_us + c->ttl_us;
}

size_t
webauth_cache_count(const struct webauth_cache *c, uint64_t now_us)
{
	size_t n = 0;

	for (size_t i = 0; i < WEBAUTH_CACHE_SLOTS; i++)
		n += c->slots[i].expires_us > now_us;
	return n;
}

void
webauth_client_key(const char *addr, char *out, size_t len)
{
	unsigned char a[16];
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, a) == 1) {
		static const unsigned char mapped[12] = {
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			if (inet_ntop(AF_INET, a + 12, buf, sizeof(buf)) !=
			    NULL) {
				osh_strlcpy(out, buf, len);
				return;
			}
		} else {
			memset(a + 8, 0, 8);
			if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) != NULL) {
				snprintf(out, len, "%s/64", buf);
				return;
			}
		}
	}
	osh_strlcpy(out, addr, len);
}

bool
webauth_clients_enter(struct webauth_clients *t, const char *key)
{
	size_t free_slot = OSH_ARRAY_LEN(t->slot);

	for (size_t i = 0; i < OSH_ARRAY_LEN(t->slot); i++) {
		if (t->slot[i].n == 0) {
			if (free_slot == OSH_ARRAY_LEN(t->slot))
				free_slot = i;
			continue;
		}
		if (strcmp(t->slot[i].key, key) != 0)
			continue;
		if (t->slot[i].n >= WEBAUTH_MAX_PENDING_PER_CLIENT)
			return false;
		t->slot[i].n++;
		return true;
	}
	if (free_slot == OSH_ARRAY_LEN(t->slot))
		return false;
	osh_strlcpy(t->slot[free_slot].key, key, sizeof(t->slot[0].key));
	t->slot[free_slot].n = 1;
	return true;
}

void
webauth_clients_leave(struct webauth_clients *t, const char *key)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(t->slot); i++) {
		if (t->slot[i].n > 0 && strcmp(t->slot[i].key, key) == 0) {
			t->slot[i].n--;
			return;
		}
	}
}

unsigned
webauth_clients_count(const struct webauth_clients *t, const char *key)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(t->slot); i++)
		if (t->slot[i].n > 0 && strcmp(t->slot[i].key, key) == 0)
			return t->slot[i].n;
	return 0;
}

bool
webauth_bcrypt_verify(const char *hash, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	size_t n = strlen(hash);
	bool ok = false;

	if (cd == NULL)
		return false;
	out = crypt_r(password, hash, cd);
	/* A failure gives NULL or a string starting with '*'. */
	if (out != NULL && out[0] != '*' && strlen(out) == n)
		ok = osh_const_eq(out, hash, n);
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
webauth_bcrypt_hash(const char *password, int cost, char *out, size_t len)
{
	struct crypt_data *cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char rnd[16];
	const char *h;
	int rc = -1;

	if (strlen(password) > WEBAUTH_MAX_PASSWORD || cost < 4 || cost > 31 ||
	    (cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	randombytes_buf(rnd, sizeof(rnd));
	if (crypt_gensalt_rn("$2y$", (unsigned long)cost, (const char *)rnd,
		sizeof(rnd), salt, sizeof(salt)) != NULL &&
	    (h = crypt_r(password, salt, cd)) != NULL && h[0] == '$' &&
	    osh_strlcpy(out, h, len))
		rc = 0;
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

bool
webauth_parse_basic(const char *header, char *user, size_t userlen,
    char *password, size_t passlen)
{
	unsigned char raw[512];
	size_t n, len;
	const char *b64, *colon;
	bool ok = false;

	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return false;
	for (b64 = header + 6; *b64 == ' '; b64++)
		;
	len = strlen(b64);
	while (len > 0 && b64[len - 1] == ' ')
		len--;
	if (len == 0 ||
	    sodium_base642bin(raw, sizeof(raw) - 1, b64, len, NULL, &n, NULL,
		sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	raw[n] = '\0';
	if (memchr(raw, '\0', n) != NULL ||
	    (colon = memchr(raw, ':', n)) == NULL)
		goto out;
	if ((size_t)(colon - (char *)raw) >= userlen ||
	    n - (size_t)(colon - (char *)raw) - 1 >= passlen)
		goto out;
	memcpy(user, raw, (size_t)(colon - (char *)raw));
	user[colon - (char *)raw] = '\0';
	osh_strlcpy(password, colon + 1, passlen);
	ok = true;
out:
	sodium_memzero(raw, sizeof(raw));
	return ok;
}

struct webauth *
webauth_new(struct osh_work_pool *work)
{
	struct webauth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->work = work;
	osh_strlcpy(a->dummy, builtin_dummy, sizeof(a->dummy));
	if ((a->cache = webauth_cache_new(WEBAUTH_CACHE_TTL_S)) == NULL ||
	    (a->failures = webauth_cache_new(WEBAUTH_FAILURE_TTL_S)) == NULL) {
		webauth_cache_free(a->cache);
		free(a);
		return NULL;
	}
	return a;
}

static void
destroy(struct webauth *a)
{
	webcfg_free(a->config);
	webauth_cache_free(a->cache);
	webauth_cache_free(a->failures);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

void
webauth_free(struct webauth *a)
{
	if (a == NULL)
		return;
	a->freed = true;
	if (a->pending == 0)
		destroy(a);
}

void
webauth_set_config(struct webauth *a, struct web_config *w)
{
	int cost = -1;

	webcfg_free(a->config);
	a->config = w;
	a->tokens = w != NULL ? (double)w->rate_burst : 0;
	a->tokens_at_us = osh_now_us();
	/* Unknown users cost as much as the slowest known one: checking a
	 * user's own hash (with a result that is never believed) costs
	 * exactly what checking that user's password does. */
	osh_strlcpy(a->dummy, builtin_dummy, sizeof(a->dummy));
	for (size_t i = 0; w != NULL && i < w->nusers; i++) {
		int c = webcfg_bcrypt_cost(w->users[i].hash);
		if (c > cost) {
			cost = c;
			osh_strlcpy(
			    a->dummy, w->users[i].hash, sizeof(a->dummy));
		}
	}
}

const struct web_config *
webauth_config(const struct webauth *a)
{
	return a->config;
}

const char *
webauth_dummy_hash(const struct webauth *a)
{
	return a->dummy;
}

void
webauth_stats(const struct webauth *a, struct webauth_stats *out)
{
	*out = a->stats;
	out->pending = a->pending;
}

static void
text(struct osh_req *req, int status, const char *msg)
{
	osh_reply(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static void
unauthorized(struct webauth *a, struct osh_req *req, const char *user)
{
	char q[128];

	a->stats.failures++;
	if (user != NULL)
		osh_log_info(req->request_id,
		    "msg=\"authentication failed\" user=\"%s\" client=\"%s\"",
		    osh_log_quote(user, q, sizeof(q)), req->client_addr);
	osh_resp_header(req, "WWW-Authenticate", "Basic");
	text(req, 401, "Unauthorized\n");
}

/* Liveness and readiness probes need no credentials. */
static bool
is_probe(const struct osh_req *req)
{
	return (req->method == OSH_GET || req->method == OSH_HEAD) &&
	    (strcmp(req->path, "/health") == 0 ||
		strcmp(req->path, "/health/") == 0 ||
		strcmp(req->path, "/ready") == 0 ||
		strcmp(req->path, "/ready/") == 0);
}

/* A token bucket, as Go's rate.Limiter: burst tokens at most, one more
 * every interval. */
static bool
rate_allow(struct webauth *a)
{
	const struct web_config *w = a->config;
	uint64_t now = osh_now_us();

	a->tokens +=
	    (double)(now - a->tokens_at_us) / (double)w->rate_interval_us;
	a->tokens_at_us = now;
	if (a->tokens > (double)w->rate_burst)
		a->tokens = (double)w->rate_burst;
	if (a->tokens < 1)
		return false;
	a->tokens -= 1;
	return true;
}

static void
check_run(void *arg)
{
	struct check *c = arg;

	c->ok = webauth_bcrypt_verify(c->hash, c->password) && c->known;
}

static void
check_done(void *arg)
{
	struct check *c = arg;
	struct webauth *a = c->a;

	a->pending--;
	webauth_clients_leave(&a->clients, c->client);
	a->stats.verified++;
	if (a->freed) {
		text(c->req, 503, "Service Unavailable: stopping\n");
	} else if (c->ok) {
		webauth_cache_put(a->cache, c->key, osh_now_us());
		osh_service_route(c->req);
	} else {
		webauth_cache_put(a->failures, c->fkey, osh_now_us());
		unauthorized(a, c->req, c->user);
	}
	sodium_memzero(c, sizeof(*c));
	free(c);
	if (a->freed && a->pending == 0)
		destroy(a);
}

static void
busy(struct webauth *a, struct osh_req *req)
{
	a->stats.busy++;
	osh_resp_header(req, "Retry-After", "1");
	text(req, 503, "Service Unavailable: too many logins at once\n");
}

bool
webauth_admit(struct webauth *a, struct osh_req *req)
{
	const struct web_config *w = a->config;
	struct check *c = NULL;
	const struct web_user *u = NULL;
	char user[256], password[WEBAUTH_MAX_PASSWORD + 1];
	char client[WEBAUTH_CLIENT_MAX];
	unsigned char key[32], fkey[32];
	bool routed = false;

	if (w == NULL)
		return true;
	for (size_t i = 0; i < w->nheaders; i++)
		osh_resp_header(req, w->headers[i].name, w->headers[i].value);
	if (is_probe(req))
		return true;
	if (w->rate_interval_us > 0 && !rate_allow(a)) {
		a->stats.rate_limited++;
		text(req, 429, "Too Many Requests\n");
		return false;
	}
	if (w->nusers == 0)
		return true;
	if (!webauth_parse_basic(osh_req_header(req, "Authorization"), user,
		sizeof(user), password, sizeof(password))) {
		unauthorized(a, req, NULL);
		return false;
	}
	for (size_t i = 0; i < w->nusers; i++)
		if (osh_const_streq(w->users[i].name, user))
			u = &w->users[i];
	webauth_cache_key(
	    a->cache, NULL, user, u != NULL ? u->hash : "", password, key);
	if (u != NULL && webauth_cache_hit(a->cache, key, osh_now_us())) {
		a->stats.cache_hits++;
		routed = true;
		goto out_wipe;
	}
	/* A refusal this client had for the same user, hash and password
	 * (an unknown user under "": a user added later is checked anew). */
	webauth_client_key(req->client_addr, client, sizeof(client));
	webauth_cache_key(a->failures, client, user, u != NULL ? u->hash : "",
	    password, fkey);
	if (webauth_cache_hit(a->failures, fkey, osh_now_us())) {
		a->stats.failure_hits++;
		unauthorized(a, req, user);
		goto out_wipe;
	}
	if (!webauth_clients_enter(&a->clients, client)) {
		a->stats.client_limited++;
		osh_resp_header(req, "Retry-After", "1");
		text(req, 429,
		    "Too Many Requests: too many logins at once from this "
		    "address\n");
		goto out_wipe;
	}
	if (a->pending >= WEBAUTH_MAX_PENDING ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		goto out_leave;
	c->a = a;
	c->req = req;
	c->known = u != NULL;
	osh_strlcpy(c->user, user, sizeof(c->user));
	osh_strlcpy(c->password, password, sizeof(c->password));
	osh_strlcpy(c->hash, u != NULL ? u->hash : a->dummy, sizeof(c->hash));
	osh_strlcpy(c->client, client, sizeof(c->client));
	memcpy(c->key, key, sizeof(key));
	memcpy(c->fkey, fkey, sizeof(fkey));
	if (osh_work_submit(a->work, check_run, check_done, c) != 0)
		goto out_leave;
	a->pending++;
	goto out_wipe;
out_leave:
	webauth_clients_leave(&a->clients, client);
	if (c != NULL) {
		sodium_memzero(c, sizeof(*c));
		free(c);
	}
	busy(a, req);
out_wipe:
	sodium_memzero(password, sizeof(password));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(fkey, sizeof(fkey));
	return routed;
}
