/* http_parse.c - the HTTP/1.1 request parser (RFC 9112), incremental and
 * strict. Lines end in CRLF only; obs-fold, bare CR or LF, control bytes in
 * values, duplicate or conflicting Content-Length, Transfer-Encoding with
 * Content-Length and transfer codings other than chunked are refused. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "osh/crypto.h"
#include "osh/http_parse.h"
#include "osh/util.h"

/* Head storage: the request line, the fields and the decoded path. */
#define TEXT_MAX                                                               \
	(2 * OSH_HTTP_LINE_MAX + OSH_HTTP_FIELDS_SIZE_MAX +                    \
	    2 * OSH_HTTP_FIELDS_MAX + 16)
#define LEAD_MAX 16 /* empty lines tolerated before a request line */

enum head_state {
	H_START, /* before the request line: empty lines are skipped */
	H_START_LF,
	H_LINE, /* in the request line */
	H_LINE_LF,
	H_FIELD_START, /* at the start of a field line or the final CRLF */
	H_FIELD,
	H_FIELD_LF,
	H_END_LF,
	H_DONE,
	H_ERROR,
};

enum body_state {
	B_SIZE, /* chunk size digits */
	B_EXT, /* chunk extensions, up to CR */
	B_SIZE_LF,
	B_DATA,
	B_DATA_CR,
	B_DATA_LF,
	B_TRAILER_START,
	B_TRAILER,
	B_TRAILER_LF,
	B_END_LF,
	B_DONE,
	B_ERROR,
};

static const struct {
	const char *name;
	enum osh_method m;
} methods[] = {
    {"GET", OSH_GET},
    {"POST", OSH_POST},
    {"PUT", OSH_PUT},
    {"PATCH", OSH_PATCH},
    {"DELETE", OSH_DELETE},
    {"HEAD", OSH_HEAD},
    {"OPTIONS", OSH_OPTIONS},
};

/* tchar (RFC 9110 5.6.2). */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a field value: VCHAR, obs-text, SP or HTAB. */
static bool
is_value_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Where the first LF in s[0..n) is, or n when there is none. */
static size_t
first_lf(const char *s, size_t n)
{
	const char *lf = memchr(s, '\n', n);

	return lf != NULL ? (size_t)(lf - s) : n;
}

/*
 * The head.
 */

const char *
osh_http_head_field(const struct osh_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (strcasecmp(h->text + h->field[i][0], name) == 0)
			return h->text + h->field[i][1];
	return NULL;
}

void
osh_http_head_field_at(const struct osh_http_head *h, size_t i,
    const char **name, const char **value)
{
	*name = h->text + h->field[i][0];
	*value = h->text + h->field[i][1];
}

void
osh_http_head_free(struct osh_http_head *h)
{
	if (h == NULL)
		return;
	/* The head holds Authorization and Cookie fields. */
	if (h->text != NULL)
		osh_wipe(h->text, h->cap);
	free(h->text);
	free(h);
}

static enum osh_http_result
fail(struct osh_http_parser *p, int status, const char *error)
{
	p->status = status;
	p->error = error;
	p->state = H_ERROR;
	p->bstate = B_ERROR;
	return OSH_HTTP_ERROR;
}

void
osh_http_parser_init(struct osh_http_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = H_START;
	osh_buf_init_secret(&p->trailer, OSH_HTTP_FIELDS_SIZE_MAX);
}

void
osh_http_parser_release(struct osh_http_parser *p)
{
	osh_http_head_free(p->head);
	p->head = NULL;
	osh_buf_release(&p->trailer);
}

void
osh_http_parser_reset(struct osh_http_parser *p)
{
	osh_http_parser_release(p);
	osh_http_parser_init(p);
}

bool
osh_http_parser_started(const struct osh_http_parser *p)
{
	return p->state != H_START && p->state != H_START_LF;
}

/* Makes room for n more bytes (and a terminator) in the head's text. */
static bool
text_reserve(struct osh_http_head *h, size_t n)
{
	size_t need = h->len + n + 1, cap;
	char *t;

	if (need <= h->cap)
		return true;
	if (need > TEXT_MAX)
		return false;
	cap = h->cap ? h->cap : 512;
	while (cap < need)
		cap *= 2;
	if (cap > TEXT_MAX)
		cap = TEXT_MAX;
	/* Not realloc: the old block is wiped before it is freed, since the
	 * head may hold credentials. */
	if ((t = malloc(cap)) == NULL)
		return false;
	if (h->text != NULL) {
		memcpy(t, h->text, h->len);
		osh_wipe(h->text, h->cap);
		free(h->text);
	}
	h->text = t;
	h->cap = cap;
	return true;
}

/* Splits the request line at text[0..len) in place. */
static enum osh_http_result
request_line(struct osh_http_parser *p)
{
	struct osh_http_head *h = p->head;
	char *t = h->text, *sp1, *sp2, *v;
	size_t n = h->len, mlen;

	t[n] = '\0';
	if ((sp1 = memchr(t, ' ', n)) == NULL)
		return fail(p, 400, "malformed request line");
	if ((sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - t))) == NULL)
		return fail(p, 400, "malformed request line");
	if (memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - t)) != NULL)
		return fail(p, 400, "malformed request line");
	mlen = (size_t)(sp1 - t);
	if (mlen == 0 || sp2 == sp1 + 1 || sp2[1] == '\0')
		return fail(p, 400, "malformed request line");
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)t[i]))
			return fail(p, 400, "malformed request line");
	for (char *c = sp1 + 1; c < sp2; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return fail(p, 400, "malformed request target");
	*sp1 = '\0';
	*sp2 = '\0';
	v = sp2 + 1;
	if (strlen(v) != 8 || strncmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return fail(p, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(p, 505, "HTTP version not supported");
	h->version = v[7] == '1' ? 11 : 10;
	for (size_t i = 0; i < OSH_ARRAY_LEN(methods); i++)
		if (strcmp(t, methods[i].name) == 0)
			h->method = methods[i].m;
	if (h->method == 0)
		return fail(p, 501, "method not implemented");
	p->target_off = (size_t)(sp1 + 1 - t);
	h->len = n + 1;
	return OSH_HTTP_MORE;
}

/* Turns the field line at text[start..len) into "name\0value\0". */
static enum osh_http_result
field_line(struct osh_http_parser *p, size_t start)
{
	struct osh_http_head *h = p->head;
	char *line = h->text + start;
	size_t n = h->len - start, c, vs, ve;

	for (c = 0; c < n && line[c] != ':'; c++)
		if (!is_tchar((unsigned char)line[c]))
			return fail(p, 400, "malformed header field");
	if (c == 0 || c == n)
		return fail(p, 400, "malformed header field");
	for (vs = c + 1; vs < n && (line[vs] == ' ' || line[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t');
	     ve--)
		;
	for (size_t i = vs; i < ve; i++)
		if (!is_value_byte((unsigned char)line[i]))
			return fail(p, 400, "malformed header value");
	if (h->nfields == OSH_HTTP_FIELDS_MAX)
		return fail(p, 431, "too many header fields");
	line[c] = '\0';
	memmove(line + c + 1, line + vs, ve - vs);
	line[c + 1 + (ve - vs)] = '\0';
	h->field[h->nfields][0] = (uint32_t)start;
	h->field[h->nfields][1] = (uint32_t)(start + c + 1);
	h->nfields++;
	h->len = start + c + 1 + (ve - vs) + 1;
	return OSH_HTTP_MORE;
}

/* True when the comma-separated list 'v' holds the token 'tok'. */
static bool
list_has(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v != '\0') {
		const char *end;
		size_t len;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		end = v;
		while (*end != '\0' && *end != ',')
			end++;
		len = (size_t)(end - v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(v, tok, n) == 0)
			return true;
		v = end;
	}
	return false;
}

/* Content-Length: 1*DIGIT, nothing else (no sign, no list). */
static bool
parse_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++) {
		uint64_t d = (uint64_t)(*v - '0');

		if (*v < '0' || *v > '9' || n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

/* Finds the path and query in the target (origin-form, or absolute-form
 * whose authority is dropped), decodes the path into the head's text and
 * sets the head's pointers: the text is final afterwards. */
static enum osh_http_result
split_target(struct osh_http_parser *p)
{
	struct osh_http_head *h = p->head;
	const char *target, *path, *q;
	size_t plen, off, qoff = 0;

	if (!text_reserve(h, strlen(h->text + p->target_off) + 2))
		return fail(p, 431, "request head too large");
	target = path = h->text + p->target_off;
	if (strchr(target, '#') != NULL)
		return fail(p, 400, "fragment in request target");
	if (strncasecmp(target, "http://", 7) == 0 ||
	    strncasecmp(target, "https://", 8) == 0) {
		const char *auth = strstr(target, "://") + 3;

		path = auth + strcspn(auth, "/?");
		if (path == auth)
			return fail(p, 400, "malformed request target");
	} else if (target[0] != '/') {
		return fail(p, 400, "malformed request target");
	}
	q = strchr(path, '?');
	plen = q != NULL ? (size_t)(q - path) : strlen(path);
	if (q != NULL)
		qoff = (size_t)(q + 1 - h->text);
	off = h->len;
	/* An absolute-form target may have an empty path: that is "/". */
	if (plen == 0) {
		h->text[off] = '/';
		h->text[off + 1] = '\0';
	} else if (!osh_http_path_decode(path, plen, h->text + off)) {
		return fail(p, 400, "request path is not valid");
	}
	h->len = off + strlen(h->text + off) + 1;
	h->target = h->text + p->target_off;
	h->path = h->text + off;
	h->query = q != NULL ? h->text + qoff : NULL;
	return OSH_HTTP_MORE;
}

/* Checks the head as a whole and works out the body's framing. */
static enum osh_http_result
head_done(struct osh_http_parser *p)
{
	struct osh_http_head *h = p->head;
	size_t nlen = 0, nte = 0, nhost = 0;
	bool close = false, keep = false;
	const char *te = NULL;

	for (size_t i = 0; i < h->nfields; i++) {
		const char *name = h->text + h->field[i][0];
		const char *v = h->text + h->field[i][1];

		if (strcasecmp(name, "Content-Length") == 0) {
			if (++nlen > 1)
				return fail(p, 400, "duplicate Content-Length");
			if (!parse_length(v, &h->content_length))
				return fail(p, 400, "malformed Content-Length");
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (++nte > 1)
				return fail(
				    p, 400, "duplicate Transfer-Encoding");
			te = v;
		} else if (strcasecmp(name, "Host") == 0) {
			nhost++;
		} else if (strcasecmp(name, "Connection") == 0) {
			close |= list_has(v, "close");
			keep |= list_has(v, "keep-alive");
		} else if (strcasecmp(name, "Expect") == 0 &&
		    h->version == 11) {
			if (strcasecmp(v, "100-continue") != 0)
				return fail(
				    p, 417, "expectation not supported");
			h->expect_continue = true;
		}
	}
	if (nhost > 1 || (nhost == 0 && h->version == 11))
		return fail(p, 400, "exactly one Host header is required");
	if (te != NULL) {
		if (nlen > 0)
			return fail(p, 400,
			    "Transfer-Encoding and Content-Length together");
		if (h->version == 10)
			return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
		if (strcasecmp(te, "chunked") != 0)
			return fail(p, 501, "transfer coding not implemented");
		h->framing = OSH_HTTP_CHUNKED;
	} else if (nlen > 0 && h->content_length > 0) {
		h->framing = OSH_HTTP_LENGTH;
	}
	h->keep_alive = h->version == 11 ? !close : keep && !close;
	if (h->framing == OSH_HTTP_NO_BODY)
		h->expect_continue = false;
	if (split_target(p) != OSH_HTTP_MORE)
		return OSH_HTTP_ERROR;
	p->framing = (int)h->framing;
	p->left = h->content_length;
	p->body_max = UINT64_MAX;
	p->bstate = h->framing == OSH_HTTP_NO_BODY ? B_DONE : B_SIZE;
	p->state = H_DONE;
	return OSH_HTTP_DONE;
}

/* Appends in[0..n) to the line being read. */
static bool
take(struct osh_http_parser *p, const char *in, size_t n)
{
	struct osh_http_head *h = p->head;

	/* One spare byte: a field line "a:b" grows by one when split. */
	if (!text_reserve(h, n + 1))
		return false;
	memcpy(h->text + h->len, in, n);
	h->len += n;
	return true;
}

enum osh_http_result
osh_http_parse_head(
    struct osh_http_parser *p, const char *in, size_t len, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (p->state == H_ERROR)
		return OSH_HTTP_ERROR;
	if (p->state == H_DONE)
		return OSH_HTTP_DONE;
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		const char *stop;
		size_t n, room, lf;

		switch (p->state) {
		case H_START:
			if (c == '\r') {
				if (++p->lead > LEAD_MAX)
					return fail(
					    p, 400, "too many empty lines");
				p->state = H_START_LF;
				i++;
				continue;
			}
			if (p->head == NULL &&
			    (p->head = calloc(1, sizeof(*p->head))) == NULL)
				return fail(p, 503, "out of memory");
			p->lead = 0;
			p->state = H_LINE;
			continue;
		case H_START_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			p->state = H_START;
			i++;
			continue;
		case H_LINE:
		case H_FIELD:
			stop = memchr(in + i, '\r', len - i);
			n = stop != NULL ? (size_t)(stop - (in + i)) : len - i;
			/* The first offending byte decides, however the input
			 * was split: one past the limit, or a bare LF. */
			room = p->state == H_LINE
			    ? OSH_HTTP_LINE_MAX - p->head->len
			    : OSH_HTTP_FIELDS_SIZE_MAX - p->fields_size;
			lf = first_lf(in + i, n);
			if (room < lf)
				return p->state == H_LINE
				    ? fail(p, 414, "request line too long")
				    : fail(p, 431, "request head too large");
			if (lf < n)
				return fail(p, 400, "bare LF");
			if (p->state == H_FIELD)
				p->fields_size += n;
			if (!take(p, in + i, n))
				return fail(p, 431, "request head too large");
			i += n;
			if (stop != NULL) {
				p->state =
				    p->state == H_LINE ? H_LINE_LF : H_FIELD_LF;
				i++;
			}
			continue;
		case H_LINE_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			i++;
			if (request_line(p) != OSH_HTTP_MORE)
				return OSH_HTTP_ERROR;
			p->state = H_FIELD_START;
			continue;
		case H_FIELD_START:
			if (c == '\r') {
				p->state = H_END_LF;
				i++;
				continue;
			}
			if (c == ' ' || c == '\t')
				return fail(p, 400, "obsolete line folding");
			p->field_start = p->head->len;
			p->state = H_FIELD;
			continue;
		case H_FIELD_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			i++;
			if ((p->fields_size += 2) > OSH_HTTP_FIELDS_SIZE_MAX)
				return fail(p, 431, "request head too large");
			if (field_line(p, p->field_start) != OSH_HTTP_MORE)
				return OSH_HTTP_ERROR;
			p->state = H_FIELD_START;
			continue;
		case H_END_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			i++;
			*used = i;
			return head_done(p);
		default: return fail(p, 400, "parser state");
		}
	}
	*used = i;
	return OSH_HTTP_MORE;
}

struct osh_http_head *
osh_http_parser_take_head(struct osh_http_parser *p)
{
	struct osh_http_head *h = p->state == H_DONE ? p->head : NULL;

	if (h != NULL)
		p->head = NULL;
	return h;
}

/*
 * The body.
 */

void
osh_http_parser_body_max(struct osh_http_parser *p, uint64_t max)
{
	p->body_max = max;
}

/* Checks a complete trailer line held in p->trailer. */
static bool
trailer_ok(const struct osh_buf *b)
{
	size_t c;

	for (c = 0; c < b->len && b->data[c] != ':'; c++)
		if (!is_tchar((unsigned char)b->data[c]))
			return false;
	if (c == 0 || c == b->len)
		return false;
	for (c++; c < b->len; c++)
		if (!is_value_byte((unsigned char)b->data[c]))
			return false;
	return true;
}

/* Appends n decoded bytes, within the limit. */
static bool
body_add(
    struct osh_http_parser *p, const char *in, size_t n, struct osh_buf *out)
{
	if (n == 0)
		return true;
	if (osh_buf_append(out, in, n) != 0)
		return false;
	p->body_len += n;
	return true;
}

static enum osh_http_result
body_length(struct osh_http_parser *p, const char *in, size_t len, size_t *used,
    struct osh_buf *out)
{
	size_t n = p->left < len ? (size_t)p->left : len;

	if (p->left > p->body_max || p->body_len + p->left > p->body_max)
		return fail(p, 413, "request body too large");
	/* No allocation of the announced length up front: memory follows
	 * the bytes that did arrive, not what a client claims. */
	if (!body_add(p, in, n, out))
		return fail(p, 503, "out of memory");
	p->left -= n;
	*used = n;
	if (p->left == 0) {
		p->bstate = B_DONE;
		return OSH_HTTP_DONE;
	}
	return OSH_HTTP_MORE;
}

enum osh_http_result
osh_http_parse_body(struct osh_http_parser *p, const char *in, size_t len,
    size_t *used, struct osh_buf *out)
{
	size_t i = 0;
	int h;

	*used = 0;
	if (p->bstate == B_ERROR || p->state != H_DONE)
		return OSH_HTTP_ERROR;
	if (p->bstate == B_DONE)
		return OSH_HTTP_DONE;
	if (p->framing == OSH_HTTP_LENGTH)
		return body_length(p, in, len, used, out);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		switch (p->bstate) {
		case B_SIZE:
			if ((h = osh_hex_digit(c)) >= 0) {
				if (++p->digits > 16)
					return fail(
					    p, 400, "chunk size too long");
				p->left = p->left * 16 + (uint64_t)h;
				if (p->left > p->body_max ||
				    p->body_len + p->left > p->body_max)
					return fail(
					    p, 413, "request body too large");
				i++;
				continue;
			}
			if (p->digits == 0 || (c != ';' && c != '\r'))
				return fail(p, 400, "malformed chunk size");
			p->ext = 0;
			p->bstate = c == ';' ? B_EXT : B_SIZE_LF;
			i++;
			continue;
		case B_EXT:
			if (c == '\r') {
				p->bstate = B_SIZE_LF;
			} else if (!is_value_byte(c) ||
			    ++p->ext > OSH_HTTP_CHUNK_EXT_MAX) {
				return fail(
				    p, 400, "malformed chunk extension");
			}
			i++;
			continue;
		case B_SIZE_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			p->digits = 0;
			p->bstate = p->left == 0 ? B_TRAILER_START : B_DATA;
			i++;
			continue;
		case B_DATA: {
			size_t n =
			    p->left < len - i ? (size_t)p->left : len - i;
			if (!body_add(p, in + i, n, out))
				return fail(p, 503, "out of memory");
			p->left -= n;
			i += n;
			if (p->left == 0)
				p->bstate = B_DATA_CR;
			continue;
		}
		case B_DATA_CR:
			if (c != '\r')
				return fail(p, 400, "malformed chunk");
			p->bstate = B_DATA_LF;
			i++;
			continue;
		case B_DATA_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			p->bstate = B_SIZE;
			i++;
			continue;
		case B_TRAILER_START:
			if (c == '\r') {
				p->bstate = B_END_LF;
				i++;
				continue;
			}
			if (c == ' ' || c == '\t')
				return fail(p, 400, "obsolete line folding");
			if (++p->ntrailers > OSH_HTTP_FIELDS_MAX)
				return fail(p, 431, "too many trailers");
			p->trailer.len = 0;
			p->bstate = B_TRAILER;
			continue;
		case B_TRAILER: {
			const char *stop = memchr(in + i, '\r', len - i);
			size_t n =
			    stop != NULL ? (size_t)(stop - (in + i)) : len - i;
			/* As in the head: the first offending byte decides. */
			size_t room =
			    OSH_HTTP_FIELDS_SIZE_MAX - p->trailer_size;
			size_t lf = first_lf(in + i, n);
			if (room < lf)
				return fail(p, 431, "trailers too large");
			if (lf < n)
				return fail(p, 400, "bare LF");
			p->trailer_size += n;
			if (osh_buf_append(&p->trailer, in + i, n) != 0)
				return fail(p, 431, "trailers too large");
			i += n;
			if (stop != NULL) {
				p->bstate = B_TRAILER_LF;
				i++;
			}
			continue;
		}
		case B_TRAILER_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			if ((p->trailer_size += 2) > OSH_HTTP_FIELDS_SIZE_MAX)
				return fail(p, 431, "trailers too large");
			if (!trailer_ok(&p->trailer))
				return fail(p, 400, "malformed trailer");
			p->bstate = B_TRAILER_START;
			i++;
			continue;
		case B_END_LF:
			if (c != '\n')
				return fail(p, 400, "bare CR");
			p->bstate = B_DONE;
			*used = i + 1;
			return OSH_HTTP_DONE;
		default: return fail(p, 400, "parser state");
		}
	}
	*used = i;
	return OSH_HTTP_MORE;
}
