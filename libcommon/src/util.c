/* util.c - clocks, time formatting, number parsing, buffers, UTF-8. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osh/crypto.h"
#include "osh/util.h"

uint64_t
osh_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t
osh_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
osh_wall_s(void)
{
	return osh_wall_ms() / 1000;
}

char *
osh_time_format(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&secs, &tm) == NULL) {
		osh_strlcpy(buf, "", len);
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(ms % 1000));
	return buf;
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool
osh_time_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, frac = 0, off = 0;
	const char *p = s;
	struct tm tm;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		int scale = 100, n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n++ < 3) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (n == 0)
			return false;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return false;
		off = sign * (oh * 60 + om);
	} else {
		return false;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return false;
	if (mo == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false; /* not a leap year; timegm would make it March 1 */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + frac;
	return true;
}

bool
osh_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || !osh_utf8_valid(s, len) || s[0] == ' ' ||
	    s[len - 1] == ' ')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
		/* C1 controls, U+0080 to U+009F: 0xc2 0x80..0x9f. */
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
	}
	return true;
}

int
osh_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
osh_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	/* strtoll would skip any white space and take a sign: only
	 * [-]digits is a number here. */
	if (s == NULL ||
	    !(isdigit((unsigned char)s[0]) ||
		(s[0] == '-' && isdigit((unsigned char)s[1]))))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

void
osh_buf_init(struct osh_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
osh_buf_init_secret(struct osh_buf *b, size_t max)
{
	osh_buf_init(b, max);
	b->secret = true;
}

void
osh_buf_release(struct osh_buf *b)
{
	if (b->secret && b->data != NULL)
		osh_wipe(b->data, b->cap);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Moves a secret buffer's data to a new block of cap bytes, wiping the
 * old one: realloc would leave an unwiped copy in freed memory. */
static char *
secret_grow(struct osh_buf *b, size_t cap)
{
	char *p = malloc(cap);

	if (p == NULL)
		return NULL;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		p[b->len] = '\0';
		osh_wipe(b->data, b->cap);
		free(b->data);
	}
	return p;
}

/* Makes room for n more bytes plus the terminator: exactly that much
 * when 'exact', else doubling. */
static int
reserve(struct osh_buf *b, size_t n, bool exact)
{
	size_t need = b->len + n + 1, cap;
	char *p;

	if ((b->max != 0 && b->len + n > b->max) || need < n) {
		b->overflow = true;
		return -1;
	}
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (exact)
		cap = need;
	p = b->secret ? secret_grow(b, cap) : realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
osh_buf_reserve(struct osh_buf *b, size_t n)
{
	return reserve(b, n, true);
}

int
osh_buf_append(struct osh_buf *b, const void *p, size_t n)
{
	if (reserve(b, n, false) != 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
osh_buf_puts(struct osh_buf *b, const char *s)
{
	return osh_buf_append(b, s, strlen(s));
}

int
osh_buf_vprintf(struct osh_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || reserve(b, (size_t)n, false) != 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
osh_buf_printf(struct osh_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = osh_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *
osh_buf_steal(struct osh_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] > 0x9f)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

bool
osh_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

size_t
osh_utf8_len(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

bool
osh_host_valid(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t n = strlen(host), label = 0;
	bool digits_only = true;

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return true;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = host[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || host[i - 1] == '-')
				return false;
			if (c == '\0')
				break;
			label = 0;
			digits_only = true;
			continue;
		}
		if (c == '-'
			? label == 0
			: !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9')))
			return false;
		if (c < '0' || c > '9')
			digits_only = false;
		if (++label > 63)
			return false;
	}
	return !digits_only;
}

bool
osh_client_key(const char *addr, char *key, size_t len)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, addr, a) == 1) {
		inet_ntop(AF_INET, a, text, sizeof(text));
		osh_strlcpy(key, text, len);
		return true;
	}
	if (inet_pton(AF_INET6, addr, a) != 1) {
		osh_utf8_copy(key, addr, len);
		return false;
	}
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		inet_ntop(AF_INET, a + sizeof(mapped), text, sizeof(text));
		osh_strlcpy(key, text, len);
		return true;
	}
	memset(a + 8, 0, 8);
	inet_ntop(AF_INET6, a, text, sizeof(text));
	snprintf(key, len, "%s/64", text);
	return true;
}

char *
osh_utf8_clean(const char *s, size_t len, size_t max_bytes)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(max_bytes + 1);
	size_t i = 0, o = 0, k;

	if (out == NULL)
		return NULL;
	while (i < len) {
		const char *src;
		char tmp[4];

		k = utf8_seq(p + i, len - i);
		if (k == 0) {
			memcpy(tmp, "\xef\xbf\xbd", 3);
			src = tmp;
			k = 3;
			i++;
		} else if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			tmp[0] = p[i] == '\t' ? '\t' : ' ';
			if (p[i] == '\0')
				break;
			src = tmp;
			i++;
		} else {
			src = (const char *)p + i;
			i += k;
		}
		if (o + k > max_bytes)
			break;
		memcpy(out + o, src, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}

bool
osh_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len == 0)
		return false;
	if (n >= len) {
		memcpy(dst, src, len - 1);
		dst[len - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

size_t
osh_utf8_complete(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = len, cont = 0, need;

	while (i > 0 && cont < 3 && (p[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0 || p[i - 1] < 0xc0)
		return len; /* ends on ASCII or on bytes that lead nowhere */
	need = p[i - 1] >= 0xf0 ? 4 : p[i - 1] >= 0xe0 ? 3 : 2;
	return cont + 1 < need ? i - 1 : len;
}

bool
osh_utf8_copy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len == 0)
		return false;
	if (n < len) {
		memcpy(dst, src, n + 1);
		return true;
	}
	n = len - 1;
	/* The byte after the cut continues a character: cut before it. */
	for (int k = 0;
	     k < 3 && n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80; k++)
		n--;
	if (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
		n = osh_utf8_complete(src, len - 1); /* not UTF-8 at all */
	memcpy(dst, src, n);
	dst[n] = '\0';
	return false;
}

char *
osh_read_file(const char *path, size_t max, bool trim)
{
	struct osh_buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	/* Files read this way are mostly secrets: no copy left behind. */
	osh_buf_init_secret(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (osh_buf_append(&b, chunk, (size_t)n) != 0) {
			close(fd);
			osh_wipe(chunk, sizeof(chunk));
			osh_buf_release(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	osh_wipe(chunk, sizeof(chunk));
	if (n < 0) {
		osh_buf_release(&b);
		return NULL;
	}
	while (trim && b.len > 0 &&
	    (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return osh_buf_steal(&b);
}
