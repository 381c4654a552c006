/* http_limit.c - what each client holds of the server: its open
 * connections, its idle keep-alive connections and its requests still
 * running after it went away, by client address (an IPv6 client by its
 * /64, the smallest network a host is usually given), so that one client
 * cannot take every connection slot. A hash table keyed with SipHash
 * under a random key (clients choose their addresses); an entry lives
 * while it counts anything. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

struct http_client {
	struct http_client *next;
	unsigned char key[HTTP_CLIENT_KEY_LEN];
	unsigned conns; /* open connections */
	unsigned idle; /* of which idle keep-alive ones */
	unsigned detached; /* requests running after the client went away */
};

bool
http_client_key(
    const struct sockaddr *sa, unsigned char key[HTTP_CLIENT_KEY_LEN])
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a;

	memset(key, 0, HTTP_CLIENT_KEY_LEN);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		/* An IPv4 client of a dual-stack listener. */
		key[0] = 4;
		memcpy(key + 1, a + 12, 4);
		return true;
	}
	key[0] = 6;
	memcpy(key + 1, a, 8);
	return true;
}

int
http_clients_init(struct http_clients *t, unsigned max_conns)
{
	size_t n = 64;

	while (n < max_conns && n < (1u << 16))
		n *= 2;
	memset(t, 0, sizeof(*t));
	if ((t->bucket = calloc(n, sizeof(*t->bucket))) == NULL)
		return -1;
	t->nbuckets = n;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return 0;
}

void
http_clients_release(struct http_clients *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct http_client *cl, *next;

		for (cl = t->bucket[i]; cl != NULL; cl = next) {
			next = cl->next;
			free(cl);
		}
	}
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

static struct http_client **
slot(struct http_clients *t, const unsigned char *key)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, HTTP_CLIENT_KEY_LEN, t->hash_key);
	memcpy(&v, h, sizeof(v));
	return &t->bucket[v & (t->nbuckets - 1)];
}

struct http_client *
http_client_get(struct http_clients *t, const unsigned char *key)
{
	struct http_client **head = slot(t, key), *cl;

	for (cl = *head; cl != NULL; cl = cl->next)
		if (memcmp(cl->key, key, HTTP_CLIENT_KEY_LEN) == 0)
			return cl;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	memcpy(cl->key, key, HTTP_CLIENT_KEY_LEN);
	cl->next = *head;
	*head = cl;
	t->n++;
	return cl;
}

/* Frees cl once it counts nothing. */
static void
release(struct http_clients *t, struct http_client *cl)
{
	struct http_client **p;

	if (cl->conns > 0 || cl->detached > 0)
		return;
	for (p = slot(t, cl->key); *p != NULL; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			t->n--;
			free(cl);
			return;
		}
	}
}

unsigned
http_client_load(const struct http_client *cl)
{
	return cl->conns + cl->detached;
}

unsigned
http_client_idle(const struct http_client *cl)
{
	return cl->idle;
}

void
http_client_add(struct http_clients *t, struct http_client *cl,
    enum http_client_count what, int delta)
{
	unsigned *n = what == HTTP_CLIENT_CONNS ? &cl->conns
	    : what == HTTP_CLIENT_IDLE		? &cl->idle
						: &cl->detached;

	*n = (unsigned)((int)*n + delta);
	if (delta <= 0)
		release(t, cl);
}
