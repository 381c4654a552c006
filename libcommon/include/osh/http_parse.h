/* http_parse.h - the HTTP/1.1 request parser: request line, header fields,
 * body framing (Content-Length or chunked), path and query decoding. Pure:
 * no sockets, no libevent; it is fed bytes as they arrive, in any split.
 * Strict on purpose (RFC 9112): a request that two parsers would read
 * differently (one behind nginx, say) is a request smuggled past one of
 * them, so anything ambiguous is refused rather than guessed at. */
#ifndef OSH_HTTP_PARSE_H
#define OSH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "util.h"

#define OSH_HTTP_LINE_MAX 8192 /* request line, without its CRLF */
#define OSH_HTTP_FIELDS_SIZE_MAX 16384 /* header section, CRLFs included */
#define OSH_HTTP_FIELDS_MAX 100 /* header fields (and trailer fields) */
#define OSH_HTTP_CHUNK_EXT_MAX 1024 /* one chunk line's extensions */

enum osh_http_framing {
	OSH_HTTP_NO_BODY, /* no body (or Content-Length: 0) */
	OSH_HTTP_LENGTH, /* Content-Length bytes */
	OSH_HTTP_CHUNKED, /* Transfer-Encoding: chunked */
};

/* A parsed request head. Every string points into storage the head owns
 * and stays valid until osh_http_head_free, which wipes it (credentials:
 * Authorization, Cookie); growing it while parsing leaves no copy
 * behind either. */
struct osh_http_head {
	enum osh_method method;
	int version; /* 10 or 11 */
	const char *target; /* the request target as sent */
	const char *path; /* decoded path: starts with '/', valid UTF-8, no
			     control characters */
	const char *query; /* raw query (after '?'), NULL when none */
	enum osh_http_framing framing;
	uint64_t content_length; /* OSH_HTTP_LENGTH only */
	bool keep_alive; /* 1.1 unless "close"; 1.0 only with "keep-alive" */
	bool expect_continue; /* HTTP/1.1 "Expect: 100-continue" */
	size_t nfields;
	/* private */
	char *text;
	size_t len, cap;
	uint32_t field[OSH_HTTP_FIELDS_MAX][2]; /* name, value offsets */
};

/* The value of the first field called 'name' (case-insensitive), with
 * surrounding whitespace removed, or NULL. */
const char *osh_http_head_field(
    const struct osh_http_head *h, const char *name);
/* Field i (0 <= i < nfields) in arrival order. */
void osh_http_head_field_at(const struct osh_http_head *h, size_t i,
    const char **name, const char **value);
void osh_http_head_free(struct osh_http_head *h);

enum osh_http_result {
	OSH_HTTP_MORE, /* every byte given was used: feed more */
	OSH_HTTP_DONE, /* the head (or body) is complete */
	OSH_HTTP_ERROR, /* status and error say why; the connection must
			   close, since its framing is no longer known */
};

/* One request's parsing state. Embedded: init, then parse_head until
 * DONE, take the head, set the body limit, parse_body until DONE, and
 * osh_http_parser_reset before the next request on the same connection. */
struct osh_http_parser {
	int status; /* after OSH_HTTP_ERROR: 400, 413, 414, 417, 431, 501,
		       505 */
	const char *error; /* after OSH_HTTP_ERROR: static text */
	uint64_t body_len; /* body bytes decoded so far */
	/* private */
	int state;
	struct osh_http_head *head;
	size_t target_off, field_start, fields_size, lead;
	int framing;
	uint64_t left; /* of the body (length) or the current chunk */
	uint64_t body_max;
	int bstate;
	unsigned digits;
	size_t ext, trailer_size, ntrailers;
	struct osh_buf trailer;
};

void osh_http_parser_init(struct osh_http_parser *p);
/* Frees what the parser holds (a head not taken, scratch space). */
void osh_http_parser_release(struct osh_http_parser *p);
/* Release and init in one, for the next request. */
void osh_http_parser_reset(struct osh_http_parser *p);

/* Parses head bytes from in[0..len). *used tells how many were consumed:
 * all of them on MORE; on DONE the bytes after the head (a body, or a
 * pipelined request) are left unused. */
enum osh_http_result osh_http_parse_head(
    struct osh_http_parser *p, const char *in, size_t len, size_t *used);
/* True once parse_head has started a request (a byte other than the empty
 * lines allowed before it arrived). */
bool osh_http_parser_started(const struct osh_http_parser *p);
/* After DONE: hands the head to the caller, who frees it. The parser keeps
 * what it needs to read the body. */
struct osh_http_head *osh_http_parser_take_head(struct osh_http_parser *p);

/* The largest body accepted (decoded bytes): a larger one is an error with
 * status 413, found as soon as its length is known. */
void osh_http_parser_body_max(struct osh_http_parser *p, uint64_t max);
/* Decodes body bytes from in[0..len), appending the body to out. DONE at
 * once when the request has no body; bytes after the body are left
 * unused. */
enum osh_http_result osh_http_parse_body(struct osh_http_parser *p,
    const char *in, size_t len, size_t *used, struct osh_buf *out);

/* Decodes a path (the target up to '?'): %XX escapes; '+' stays. Writes
 * at most len bytes and a NUL to out (len + 1 bytes). Returns false when
 * an escape is malformed or the result is not valid UTF-8, holds a control
 * character, or does not start with '/'. */
bool osh_http_path_decode(const char *in, size_t len, char *out);

struct osh_http_kv {
	const char *key, *value;
};

/* A query string split into decoded pairs. Embedded: parse, release. */
struct osh_http_query {
	struct osh_http_kv *kv;
	size_t n;
	char *text; /* storage of the strings, wiped when released */
	size_t size; /* of text */
};

/* Splits the query q[0..len) on '&' into key=value pairs ("key" alone has
 * the value ""), decoding '+' to space and %XX escapes in both; empty
 * pieces and pieces with an empty key are skipped. Returns -1 (and leaves
 * out empty) when an escape is malformed or a decoded string is not valid
 * UTF-8 or holds a NUL. */
int osh_http_query_parse(const char *q, size_t len, struct osh_http_query *out);
/* The first value of key, or NULL. */
const char *osh_http_query_get(const struct osh_http_query *q, const char *key);
void osh_http_query_release(struct osh_http_query *q);

/* Whether a client whose Accept-Encoding header is 'header' (NULL: none)
 * takes a gzip-encoded answer (RFC 9110 12.5.3): "gzip" or "x-gzip" with
 * a weight above 0, or, when neither is named, "*" with one. The first
 * mention of a coding counts; malformed elements are passed over. */
bool osh_http_accepts_gzip(const char *header);

#endif
