/* util.h - small helpers: clocks, RFC 3339 times, checked number parsing,
 * bounded growable buffers and UTF-8 cleaning. */
#ifndef OSH_UTIL_H
#define OSH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OSH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic clock in microseconds, for durations and deadlines. */
uint64_t osh_now_us(void);

/* Wall clock in seconds and milliseconds since the epoch. */
int64_t osh_wall_s(void);
int64_t osh_wall_ms(void);

/* Formats 'ms' (epoch milliseconds) as RFC 3339 UTC with millisecond
 * precision ("2026-11-21T19:34:14.123Z") into buf, which must hold at least
 * OSH_TIME_LEN bytes. Returns buf. */
#define OSH_TIME_LEN 32
char *osh_time_format(int64_t ms, char *buf, size_t len);

/* Parses an RFC 3339 timestamp ("2026-11-21T19:34:14Z", optional fraction,
 * "Z" or "+hh:mm" offset) into epoch milliseconds. Returns false when the
 * text is not exactly such a timestamp. */
bool osh_time_parse(const char *s, int64_t *ms);

/* Parses the whole of 's' as a base-10 integer within [min, max]. Leading
 * or trailing garbage, overflow and empty input fail. */
bool osh_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* The value of one hexadecimal digit (either case), or -1. */
int osh_hex_digit(unsigned char c);

/* Growable byte buffer that refuses to grow past 'max' bytes. data is
 * always NUL terminated when non-NULL. Embedded: osh_buf_init/release. */
struct osh_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool overflow; /* an append was refused because of max */
	bool secret; /* set by osh_buf_init_secret */
};

void osh_buf_init(struct osh_buf *b, size_t max);
/* osh_buf_init for a buffer that may hold secrets (a request body, an
 * answer with a password): growing it leaves no copy behind (a new block
 * is allocated, the data copied, the old block wiped and freed, where
 * realloc would free an unwiped copy), and osh_buf_release wipes it. What
 * osh_buf_steal hands over is the new owner's to wipe. */
void osh_buf_init_secret(struct osh_buf *b, size_t max);
/* Frees the data (wiped first when the buffer is secret) and empties the
 * buffer; init it again before reusing it. */
void osh_buf_release(struct osh_buf *b);
/* Makes room for n more bytes at once (one allocation for a size known
 * up front). -1 past max or out of memory. */
int osh_buf_reserve(struct osh_buf *b, size_t n);
int osh_buf_append(struct osh_buf *b, const void *p, size_t n);
int osh_buf_puts(struct osh_buf *b, const char *s);
int osh_buf_printf(struct osh_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int osh_buf_vprintf(struct osh_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (free() it) and empties the buffer. */
char *osh_buf_steal(struct osh_buf *b);

/* True when [s, s+len) is valid UTF-8 (no overlongs, no surrogates). */
bool osh_utf8_valid(const char *s, size_t len);

/* Copies 's' into a new NUL-terminated string that is valid UTF-8: invalid
 * sequences become U+FFFD, control characters other than tab become
 * spaces, and the result holds at most max_bytes bytes (cut on a character
 * boundary). Caller frees. Never NULL unless out of memory. */
char *osh_utf8_clean(const char *s, size_t len, size_t max_bytes);

/* Number of code points in valid UTF-8 text. */
size_t osh_utf8_len(const char *s, size_t len);

/* True when 'host' is an IPv4 or IPv6 address (inet_pton, no brackets)
 * or a host name: dot-separated labels of 1-63 letters, digits and inner
 * hyphens, 253 bytes at most, its last label not all digits (so that
 * "10.0.0.300" is refused rather than looked up). Nothing else. */
bool osh_host_valid(const char *host);

/* Whether s may name something operators name (a server, a cluster):
 * valid UTF-8, not empty, no control characters (C0, DEL, C1), no '/',
 * no leading or trailing space. */
bool osh_name_ok(const char *s);

/* The key a per-address limit counts a client under, so that every such
 * limit in the project (the auth service's login throttle and in-flight
 * cap, nginx's limit_req) draws the same line: an IPv4 address as itself
 * ("192.0.2.7"); an IPv4-mapped IPv6 address as its IPv4 address
 * ("::ffff:192.0.2.7" -> "192.0.2.7"); any other IPv6 address as its /64
 * ("2001:db8:1:2::/64"), because one subscriber usually holds a whole /64
 * and cycles through it at will. Addresses are written canonically
 * (inet_ntop), whatever their spelling. Text that is not an address
 * (inet_pton, no brackets or zone) is copied as it is, cut to fit between
 * characters (osh_utf8_copy).
 * Writes at most len bytes with the terminator into key
 * (OSH_CLIENT_KEY_LEN always suffice for an address); returns true when
 * addr was an address. */
#define OSH_CLIENT_KEY_LEN 48
bool osh_client_key(const char *addr, char *key, size_t len);

/* Copies at most len-1 bytes of src into dst and terminates it. Returns
 * false when src was cut. Bytes, not characters: text from outside goes
 * through osh_utf8_copy instead. */
bool osh_strlcpy(char *dst, const char *src, size_t len);

/* Copies src into dst (len bytes with the terminator) like osh_strlcpy,
 * but when src does not fit it is cut before a character, never inside
 * one, so that valid UTF-8 stays valid. Returns false when src was cut. */
bool osh_utf8_copy(char *dst, const char *src, size_t len);

/* The length of s[0..len) without a multi-byte character cut short at its
 * end (at most 3 bytes less): what a buffer filled to the brim by
 * snprintf or a byte copy keeps to remain valid UTF-8. */
size_t osh_utf8_complete(const char *s, size_t len);

/* Reads a whole small file (at most max bytes) into a new NUL-terminated
 * string, trailing newlines removed when 'trim' is set. Returns NULL and
 * sets errno on failure. Caller frees (and wipes, for secrets). */
char *osh_read_file(const char *path, size_t max, bool trim);

#endif
