/* http_encoding.c - content coding of shared reply bodies: reading a
 * client's Accept-Encoding (RFC 9110 section 12.5.3) and gzip-compressing
 * a body once for every client that takes it (osh_reply_body). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "http_int.h"

/* An element's weight (its q= parameter) in thousandths: 1000 when it has
 * none, -1 when its parameters are malformed. p..end is what follows the
 * coding's name. */
static int
element_weight(const char *p, const char *end)
{
	int q = 0, digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return 1000;
	if (*p++ != ';')
		return -1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return -1;
	p += 2;
	if (*p != '0' && *p != '1')
		return -1;
	q = (*p++ - '0') * 1000;
	if (p < end && *p == '.') {
		for (p++; p < end && digits < 3 && *p >= '0' && *p <= '9';
		     p++, digits++) {
			if (q == 1000 && *p != '0')
				return -1; /* above 1 */
			q += (*p - '0') *
			    (digits == 0	  ? 100
				    : digits == 1 ? 10
						  : 1);
		}
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p == end ? q : -1;
}

static bool
coding_is(const char *tok, size_t len, const char *name)
{
	return len == strlen(name) && strncasecmp(tok, name, len) == 0;
}

bool
osh_http_accepts_gzip(const char *header)
{
	int gzip = -1, any = -1; /* weights; -1: not named */
	const char *p = header;

	if (header == NULL)
		return false;
	while (*p != '\0') {
		const char *tok, *end;
		size_t len;
		int q;

		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		tok = p;
		len = strcspn(p, " \t;,");
		end = p + strcspn(p, ",");
		q = element_weight(p + len, end);
		p = end;
		if (q < 0)
			continue; /* a malformed element says nothing */
		/* The first mention of a coding is the one that counts. */
		if (gzip < 0 &&
		    (coding_is(tok, len, "gzip") ||
			coding_is(tok, len, "x-gzip")))
			gzip = q;
		else if (any < 0 && coding_is(tok, len, "*"))
			any = q;
	}
	return gzip >= 0 ? gzip > 0 : any > 0;
}

struct osh_body *
http_gzip(const void *data, size_t len)
{
	z_stream zs = {0};
	struct osh_body *out = NULL;
	unsigned char *buf = NULL;
	uLong bound;

	if (len > UINT32_MAX)
		return NULL;
	/* Level 1: a page is compressed on the event loop each time it is
	 * made again, and JSON's repeated keys shrink about as well. 15 + 16:
	 * a 32 KB window with a gzip header and trailer. */
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	bound = deflateBound(&zs, (uLong)len);
	if ((buf = malloc(bound)) == NULL)
		goto out;
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto out;
	out = osh_body_new(buf, zs.total_out);
out:
	deflateEnd(&zs);
	free(buf);
	return out;
}
