/* Fuzz target: the HTTP/1.1 request parser (http_parse.c), its path and
 * query decoding. The input is a connection's bytes: requests are parsed
 * one after another, once fed whole and once in pseudo-random splits
 * chosen by the input itself; both must agree, and every result must keep
 * the parser's promises (decoded paths are valid UTF-8 without control
 * characters, bodies within their limit, no byte used twice). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/http_parse.h"
#include "osh/util.h"

#define MAX_REQUESTS 4

struct result {
	int status[MAX_REQUESTS];
	uint64_t hash[MAX_REQUESTS]; /* of head and body */
	size_t used;
	int n;
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http_request: %s\n", what);
		abort();
	}
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211u;
	return h;
}

static bool
clean_text(const char *s)
{
	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return osh_utf8_valid(s, strlen(s));
}

/* Checks a parsed head and folds it into a hash. */
static uint64_t
head_hash(const struct osh_http_head *h)
{
	uint64_t x = 1469598103934665603u;
	struct osh_http_query q;

	check(h->path[0] == '/' && clean_text(h->path), "path");
	check(h->version == 10 || h->version == 11, "version");
	check(h->nfields <= OSH_HTTP_FIELDS_MAX, "nfields");
	x = fnv(x, h->path, strlen(h->path));
	x = fnv(x, &h->method, sizeof(h->method));
	x = fnv(x, &h->framing, sizeof(h->framing));
	x = fnv(x, &h->keep_alive, sizeof(h->keep_alive));
	x = fnv(x, &h->expect_continue, sizeof(h->expect_continue));
	for (size_t i = 0; i < h->nfields; i++) {
		const char *name, *value;

		osh_http_head_field_at(h, i, &name, &value);
		check(name[0] != '\0', "empty name");
		check(osh_http_head_field(h, name) != NULL, "field lookup");
		for (const char *c = value; *c != '\0'; c++)
			check(*c == '\t' || (unsigned char)*c >= 0x20, "value");
		x = fnv(x, name, strlen(name) + 1);
		x = fnv(x, value, strlen(value) + 1);
	}
	if (h->query != NULL &&
	    osh_http_query_parse(h->query, strlen(h->query), &q) == 0) {
		for (size_t i = 0; i < q.n; i++) {
			check(q.kv[i].key[0] != '\0', "empty key");
			check(
			    osh_utf8_valid(q.kv[i].key, strlen(q.kv[i].key)) &&
				osh_utf8_valid(
				    q.kv[i].value, strlen(q.kv[i].value)),
			    "query utf-8");
			check(osh_http_query_get(&q, q.kv[i].key) != NULL,
			    "query lookup");
		}
		x = fnv(x, &q.n, sizeof(q.n));
		osh_http_query_release(&q);
	}
	return x;
}

/* Feeds data to the parser in pieces of 1..32 bytes drawn from 'seed', or
 * all at once when seed is 0. */
static size_t
piece(uint32_t *seed, size_t left)
{
	size_t n;

	if (*seed == 0)
		return left;
	*seed = *seed * 1664525u + 1013904223u;
	n = 1 + (*seed >> 24) % 32;
	return n < left ? n : left;
}

static void
run(const uint8_t *data, size_t size, uint32_t seed, uint64_t max,
    struct result *r)
{
	const char *in = (const char *)data;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	while (r->n < MAX_REQUESTS && off < size) {
		struct osh_http_parser p;
		struct osh_http_head *h;
		enum osh_http_result res = OSH_HTTP_MORE;
		struct osh_buf body;
		size_t used;
		int i = r->n++;

		osh_http_parser_init(&p);
		osh_buf_init(&body, 0);
		while (res == OSH_HTTP_MORE && off < size) {
			size_t n = piece(&seed, size - off);

			res = osh_http_parse_head(&p, in + off, n, &used);
			check(used <= n, "head used");
			check(res != OSH_HTTP_MORE || used == n, "head more");
			off += used;
		}
		if (res != OSH_HTTP_DONE) {
			r->status[i] = res == OSH_HTTP_ERROR ? p.status : -1;
			if (res == OSH_HTTP_ERROR)
				check(p.status >= 400 && p.status < 600 &&
					p.error != NULL,
				    "error status");
			osh_http_parser_release(&p);
			break;
		}
		h = osh_http_parser_take_head(&p);
		check(h != NULL, "head");
		r->hash[i] = head_hash(h);
		osh_http_parser_body_max(&p, max);
		do {
			size_t n = piece(&seed, size - off);

			res =
			    osh_http_parse_body(&p, in + off, n, &used, &body);
			check(used <= n, "body used");
			off += used;
		} while (res == OSH_HTTP_MORE && off < size);
		check(body.len == p.body_len && body.len <= max, "body length");
		check(h->framing != OSH_HTTP_LENGTH || res != OSH_HTTP_DONE ||
			body.len == h->content_length,
		    "content length");
		r->hash[i] =
		    fnv(r->hash[i], body.data ? body.data : "", body.len);
		r->status[i] = res == OSH_HTTP_DONE
		    ? 0
		    : (res == OSH_HTTP_ERROR ? p.status : -1);
		osh_http_head_free(h);
		osh_buf_release(&body);
		osh_http_parser_release(&p);
		if (res != OSH_HTTP_DONE)
			break;
	}
	r->used = off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, split;
	struct osh_http_query q;
	uint32_t seed;
	uint64_t max;
	char *out;

	if (size < 2)
		return 0;
	/* Two bytes of settings: the split seed and the body limit. */
	seed = 0x9e3779b9u ^ ((uint32_t)data[0] << 8) ^ data[1];
	max = (uint64_t)1 << (data[1] % 24);
	data += 2;
	size -= 2;
	run(data, size, 0, max, &whole);
	run(data, size, seed, max, &split);
	/* Where an error was found depends on the split: not compared. */
	check(whole.n == split.n &&
		(whole.n == 0 || whole.used == split.used ||
		    whole.status[whole.n - 1] > 0),
	    "requests differ between splits");
	for (int i = 0; i < whole.n; i++) {
		check(whole.status[i] == split.status[i],
		    "status differs between splits");
		check(whole.hash[i] == split.hash[i],
		    "request differs between splits");
	}
	/* The decoders on their own, on the raw bytes. */
	if (osh_http_query_parse((const char *)data, size, &q) == 0)
		osh_http_query_release(&q);
	if ((out = malloc(size + 1)) != NULL) {
		if (osh_http_path_decode((const char *)data, size, out))
			check(clean_text(out) && out[0] == '/', "decoded path");
		free(out);
	}
	return 0;
}
