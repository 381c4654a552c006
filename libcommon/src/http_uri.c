/* http_uri.c - decoding what a request target carries: the path
 * (%XX escapes) and the query string (key=value pairs, '+' and %XX).
 * Strict: a malformed escape, a NUL or invalid UTF-8 is refused, never
 * passed on. */
#include <stdlib.h>
#include <string.h>

#include "osh/crypto.h"
#include "osh/http_parse.h"
#include "osh/util.h"

/* Percent-decodes in[0..len) into out (len + 1 bytes), '+' to space when
 * 'plus'. Returns the decoded length, or -1 on a malformed escape or a
 * decoded NUL. */
static long
pct_decode(const char *in, size_t len, char *out, bool plus)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = osh_hex_digit((unsigned char)in[i + 1]);
			lo = osh_hex_digit((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

bool
osh_http_path_decode(const char *in, size_t len, char *out)
{
	long n = pct_decode(in, len, out, false);

	if (n <= 0 || out[0] != '/')
		return false;
	for (long i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return osh_utf8_valid(out, (size_t)n);
}

int
osh_http_query_parse(const char *q, size_t len, struct osh_http_query *out)
{
	size_t pieces = 1, i, o = 0;
	const char *p = q, *end = q + len;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len; i++)
		if (q[i] == '&')
			pieces++;
	out->size = len + 2 * pieces + 1;
	if ((out->text = malloc(out->size)) == NULL ||
	    (out->kv = calloc(pieces, sizeof(*out->kv))) == NULL)
		goto out_fail;
	while (p <= end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq != NULL ? eq : stop;
		long kn, vn;

		if (kend > p) {
			kn = pct_decode(
			    p, (size_t)(kend - p), out->text + o, true);
			if (kn < 0 ||
			    !osh_utf8_valid(out->text + o, (size_t)kn))
				goto out_fail;
			out->kv[out->n].key = out->text + o;
			o += (size_t)kn + 1;
			vn = 0;
			if (eq != NULL)
				vn = pct_decode(eq + 1, (size_t)(stop - eq - 1),
				    out->text + o, true);
			else
				out->text[o] = '\0';
			if (vn < 0 ||
			    !osh_utf8_valid(out->text + o, (size_t)vn))
				goto out_fail;
			out->kv[out->n].value = out->text + o;
			o += (size_t)vn + 1;
			out->n++;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
out_fail:
	osh_http_query_release(out);
	return -1;
}

const char *
osh_http_query_get(const struct osh_http_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->kv[i].key, key) == 0)
			return q->kv[i].value;
	return NULL;
}

void
osh_http_query_release(struct osh_http_query *q)
{
	free(q->kv);
	if (q->text != NULL)
		osh_wipe(q->text, q->size);
	free(q->text);
	memset(q, 0, sizeof(*q));
}
