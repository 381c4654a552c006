/* fuzz_util.c - libFuzzer target: libcommon's small parsers of outside
 * text, each checked against a plain reference or by a round trip:
 * osh_time_parse, osh_parse_int, osh_utf8_valid/len/clean/copy/complete,
 * osh_host_valid,
 * osh_ipmi_parse_address, osh_ipmi_workarounds_parse/format and
 * osh_log_quote.
 *
 * Input: byte 0 picks the function, byte 1 a size or range where the
 * function takes one, the rest is the text (up to its first NUL for the
 * functions that take a C string). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/ipmi.h"
#include "osh/log.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken invariant; libFuzzer keeps the input. */
static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_util: %s\n", what);
	abort();
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s as a number, or -1. */
static int
num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
month_days(int y, int m)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t
civil_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The reference RFC 3339 parser: a fixed layout read by position. */
static bool
ref_time(const char *s, int64_t *ms)
{
	size_t len = strlen(s), i = 19;
	int y, mo, d, h, mi, sec, frac = 0, off = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    !(s[10] == 'T' || s[10] == 't' || s[10] == ' ') || s[13] != ':' ||
	    s[16] != ':')
		return false;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	h = num(s + 11, 2);
	mi = num(s + 14, 2);
	sec = num(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return false;
	if (s[i] == '.') {
		int scale = 100;
		size_t start = ++i;

		for (; is_digit(s[i]); i++, scale /= 10)
			frac += (s[i] - '0') * scale;
		if (i == start)
			return false;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
		off = 0;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
	    s[i + 3] == ':') {
		int oh = num(s + i + 1, 2), om = num(s + i + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
	} else {
		return false;
	}
	*ms = ((civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
		  (int64_t)off * 60) *
		1000 +
	    frac;
	return true;
}

static void
f_time(const char *s)
{
	int64_t got = 0, want = 0;
	bool ok = osh_time_parse(s, &got), ref = ref_time(s, &want);
	char buf[OSH_TIME_LEN];

	check(ok == ref,
	    "osh_time_parse accepts what the reference refuses "
	    "or the other way round");
	if (!ok)
		return;
	check(got == want, "osh_time_parse gives another instant");
	/* What we format (years 1970 to 9999), we parse back to the same
	 * instant. */
	if (got >= 0 && got < INT64_C(253402300800000)) {
		osh_time_format(got, buf, sizeof(buf));
		check(osh_time_parse(buf, &want) && want == got,
		    "osh_time_format does not parse back");
	}
}

/* The reference integer parser: an optional '-', then digits only. */
static bool
ref_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	s += neg;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!is_digit(*s) || v > (lim - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return *out >= min && *out <= max;
}

static void
f_int(uint8_t sel, const char *s)
{
	static const int64_t ranges[][2] = {
	    {INT64_MIN, INT64_MAX},
	    {0, INT64_MAX},
	    {1, INT64_MAX},
	    {1, 65535},
	    {-100, 100},
	};
	const int64_t *r = ranges[sel % OSH_ARRAY_LEN(ranges)];
	int64_t got = 0, want = 0;
	bool ok = osh_parse_int(s, r[0], r[1], &got);

	check(ok == ref_int(s, r[0], r[1], &want),
	    "osh_parse_int and the reference disagree");
	check(!ok || got == want, "osh_parse_int gives another value");
}

/* Length of the UTF-8 character at s (n bytes left) by decoding it: 0 when
 * it is not one (truncated, overlong, surrogate, beyond U+10FFFF). */
static size_t
ref_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k;
	uint32_t min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		k = 2, min = 0x80, *cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3, min = 0x800, *cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4, min = 0x10000, *cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return k;
}

/* The number of characters of valid UTF-8, or -1. */
static long
ref_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	uint32_t cp;

	for (size_t i = 0, k; i < len; i += k, n++)
		if ((k = ref_char(p + i, len - i, &cp)) == 0)
			return -1;
	return n;
}

/* osh_utf8_copy into a buffer of max bytes, and osh_utf8_complete on
 * every prefix: valid text stays valid and is only cut between
 * characters, at most 3 bytes short of the bound. */
static void
f_utf8_cut(uint8_t max, const char *s, size_t len, bool valid)
{
	char dst[256];
	size_t size = (size_t)max + 1, n = strnlen(s, len), done;
	bool whole;

	memset(dst, 'x', sizeof(dst));
	whole = osh_utf8_copy(dst, s, size);
	done = strlen(dst);
	check(done < size, "osh_utf8_copy writes past its bound");
	check(whole == (n < size), "osh_utf8_copy misreports a cut");
	check(memcmp(dst, s, done) == 0, "osh_utf8_copy is not a prefix");
	check(whole || done + 4 > size - 1 || done == n,
	    "osh_utf8_copy cuts more than one character");
	if (valid)
		check(ref_utf8(dst, done) >= 0,
		    "osh_utf8_copy cuts inside a character");
	for (size_t k = 0; valid && k <= len; k++) {
		size_t c = osh_utf8_complete(s, k);

		check(c <= k && c + 3 >= k,
		    "osh_utf8_complete drops more than a character");
		check(ref_utf8(s, c) >= 0,
		    "osh_utf8_complete leaves a cut character");
	}
}

static void
f_utf8(uint8_t max, const char *s, size_t len)
{
	long chars = ref_utf8(s, len);
	bool clean = chars >= 0 && len <= max;
	char *out;
	size_t olen;

	check(osh_utf8_valid(s, len) == (chars >= 0),
	    "osh_utf8_valid and the reference disagree");
	check(chars < 0 || osh_utf8_len(s, len) == (size_t)chars,
	    "osh_utf8_len miscounts");
	if ((out = osh_utf8_clean(s, len, max)) == NULL)
		return;
	olen = strlen(out);
	check(olen <= max, "osh_utf8_clean goes beyond its bound");
	check(ref_utf8(out, olen) >= 0, "osh_utf8_clean gives invalid UTF-8");
	for (size_t i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)out[i];
		check((c >= 0x20 || c == '\t') && c != 0x7f,
		    "osh_utf8_clean leaves a control character");
	}
	for (size_t i = 0; clean && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		clean = (c >= 0x20 || c == '\t') && c != 0x7f;
	}
	check(!clean || (olen == len && memcmp(out, s, len) == 0),
	    "osh_utf8_clean changes clean text that fits");
	free(out);
	f_utf8_cut(max, s, len, chars >= 0);
}

/* The reference host name check: labels of letters, digits and inner
 * hyphens, 1-63 bytes each, 253 in all, the last not all digits. */
static bool
ref_hostname(const char *h)
{
	size_t n = strlen(h), start = 0;
	bool digits = true;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		size_t len;

		if (h[i] != '.' && h[i] != '\0')
			continue;
		len = i - start;
		if (len == 0 || len > 63 || h[start] == '-' || h[i - 1] == '-')
			return false;
		digits = true;
		for (size_t k = start; k < i; k++) {
			char c = h[k];
			if (!((c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') || is_digit(c) ||
				c == '-'))
				return false;
			digits = digits && is_digit(c);
		}
		start = i + 1;
	}
	return !digits;
}

static bool
is_ip(const char *h, int *family)
{
	unsigned char a[sizeof(struct in6_addr)];

	*family = inet_pton(AF_INET, h, a) == 1 ? AF_INET
	    : inet_pton(AF_INET6, h, a) == 1	? AF_INET6
						: 0;
	return *family != 0;
}

static void
f_host(const char *s)
{
	int family;
	bool ok = osh_host_valid(s);

	check(ok == (is_ip(s, &family) || ref_hostname(s)),
	    "osh_host_valid and the reference disagree");
	check(!ok ||
		strspn(s,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-:") == strlen(s),
	    "osh_host_valid takes a character no host has");
}

static void
f_address(uint8_t hostlen, const char *s)
{
	size_t cap = (size_t)hostlen + 1;
	char *host = malloc(cap), again[256], text[300];
	uint16_t port = 0, port2 = 0;
	int family;
	bool ok;

	if (host == NULL)
		return;
	ok = osh_ipmi_parse_address(s, host, cap, &port);
	if (!ok)
		goto out_free;
	check(memchr(host, '\0', cap) != NULL, "host not terminated");
	check(osh_host_valid(host), "a host osh_host_valid refuses");
	check(port != 0, "port 0");
	check(strchr(s, ':') == NULL ? port == 623 : true,
	    "a port where none was given");
	/* Written back the way a BMC address is, it parses the same. */
	if (is_ip(host, &family) && family == AF_INET6)
		snprintf(text, sizeof(text), "[%s]:%u", host, port);
	else
		snprintf(text, sizeof(text), "%s:%u", host, port);
	check(osh_ipmi_parse_address(text, again, sizeof(again), &port2) &&
		strcmp(again, host) == 0 && port2 == port,
	    "a parsed address does not parse back");
out_free:
	free(host);
}

static void
f_workarounds(uint8_t sel, const char *s)
{
	size_t badlen = sel % 64;
	char *bad = malloc(badlen + 1), text[256];
	unsigned flags = 0, again = 0;

	if (bad == NULL)
		return;
	memset(bad, 'x', badlen + 1);
	if (osh_ipmi_workarounds_parse(s, &flags, bad, badlen)) {
		osh_ipmi_workarounds_format(flags, text, sizeof(text));
		check(osh_ipmi_workarounds_parse(text, &again, bad, badlen) &&
			again == flags,
		    "workaround flags do not parse back");
	} else if (badlen > 0) {
		check(memchr(bad, '\0', badlen) != NULL,
		    "the bad flag is not terminated");
	}
	/* Formatting any flags into any room stays within it. */
	for (size_t len = 1; len < 24; len += 7) {
		memset(text, 'x', sizeof(text));
		osh_ipmi_workarounds_format(
		    (unsigned)sel * 0x01010101u, text, len);
		check(memchr(text, '\0', len) != NULL,
		    "formatted flags overflow");
	}
	free(bad);
}

static void
f_quote(uint8_t len, const char *s)
{
	char *out = malloc((size_t)len + 1), *unq;
	size_t olen, u = 0;

	if (out == NULL)
		return;
	out[len] = 'x';
	osh_log_quote(s, out, len);
	check(out[len] == 'x', "osh_log_quote writes past its bound");
	if (len == 0)
		goto out_free;
	olen = strnlen(out, len);
	check(olen < len, "osh_log_quote output not terminated");
	if ((unq = malloc(olen + 1)) == NULL)
		goto out_free;
	/* The value reads back, unescaped, as the start of the input with
	 * its control bytes replaced. */
	for (size_t i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)out[i];

		check(c >= 0x20 && c != 0x7f, "a control byte in a log value");
		check(c != '"', "an unescaped quote in a log value");
		if (c == '\\') {
			check(i + 1 < olen &&
				(out[i + 1] == '"' || out[i + 1] == '\\'),
			    "a lone backslash in a log value");
			c = (unsigned char)out[++i];
		}
		unq[u++] = (char)c;
	}
	for (size_t i = 0; i < u; i++) {
		unsigned char c = (unsigned char)s[i];
		check(c != '\0' &&
			unq[i] == ((c < 0x20 || c == 0x7f) ? '?' : (char)c),
		    "a log value that does not read back as its input");
	}
	free(unq);
out_free:
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t sel;
	char *s;

	if (size < 2)
		return 0;
	sel = data[1];
	len = size - 2;
	/* An exact-size copy, so that reading past the end is caught. */
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data + 2, len);
	s[len] = '\0';
	switch (data[0] % 7) {
	case 0: f_time(s); break;
	case 1: f_int(sel, s); break;
	case 2: f_utf8(sel, s, len); break;
	case 3: f_host(s); break;
	case 4: f_address(sel, s); break;
	case 5: f_workarounds(sel, s); break;
	case 6: f_quote(sel, s); break;
	}
	free(s);
	return 0;
}
