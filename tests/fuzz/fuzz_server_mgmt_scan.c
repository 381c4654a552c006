/* fuzz_server_mgmt_scan.c - libFuzzer target: what a discovery scan may
 * probe (services/server-mgmt/scan_targets.c): the allow list
 * (OSH_SCAN_ALLOW), the refusal of an address, and a scan request's range
 * and ports expanded into targets. Each is checked against a plain
 * reference written here: the same targets in the same order, at most as
 * many as the scan's limit (OSH_SCAN_MAX_TARGETS), every one inside the
 * range and allowed by the allow list, and a refusal only where the allow
 * list does not open the address.
 *
 * Input: byte 0 picks the function (bits 0-1: 0 allow list, 1 refusal,
 * 2 and 3 targets) and, for targets, how the range and ports are given
 * (bit 4: the range as JSON, else as a string; bit 5: ports as JSON, else
 * as a string); byte 1 the scan's limit (a table below). The rest is text,
 * in parts separated by newlines: "allow", "allow\naddress" or
 * "allow\nrange\nports" (ports empty: none given, 623). */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/error.h>
#include <osh/util.h>

#include "server-mgmt/scan_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* OSH_SCAN_MAX_TARGETS's largest value (services/server-mgmt/main.c). */
#define MAX_TARGETS_LIMIT 65536
#define MAX_PORTS 1024

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_server_mgmt_scan: %s\n", what);
	abort();
}

/* A copy of n bytes as a C string, in a buffer of exactly n + 1 bytes. */
static char *
text(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	check(s != NULL, "out of memory");
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * The reference.
 */

struct ref_net {
	int family;
	unsigned char addr[16];
	int bits;
};

struct ref_allow {
	struct ref_net nets[SCAN_ALLOW_MAX];
	size_t n;
};

static bool
bit(const unsigned char *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool
ref_in(const unsigned char *a, int family, const struct ref_net *net)
{
	if (family != net->family)
		return false;
	for (int i = 0; i < net->bits; i++)
		if (bit(a, i) != bit(net->addr, i))
			return false;
	return true;
}

static bool
ref_allowed(const unsigned char *a, int family, const struct ref_allow *al)
{
	for (size_t i = 0; al != NULL && i < al->n; i++)
		if (ref_in(a, family, &al->nets[i]))
			return true;
	return false;
}

/* One allow-list item, spaces and tabs trimmed; false when it is not
 * address[/bits] with the host bits zero. */
static bool
ref_net_parse(const char *item, struct ref_net *out)
{
	char addr[80];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	int64_t bits;
	int width;

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(addr))
		return false;
	memcpy(addr, item, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return false;
	width = out->family == AF_INET ? 32 : 128;
	bits = width;
	if (slash != NULL && !osh_parse_int(slash + 1, 0, width, &bits))
		return false;
	out->bits = (int)bits;
	for (int i = out->bits; i < width; i++)
		if (bit(out->addr, i))
			return false;
	return true;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
ref_allow_parse(const char *list, struct ref_allow *out)
{
	const char *p = list;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		const char *b = p, *e = strchr(p, ',');
		char item[80];

		if (e == NULL)
			e = p + strlen(p);
		p = *e == ',' ? e + 1 : e;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		if (b == e)
			continue;
		if ((size_t)(e - b) >= sizeof(item) || out->n == SCAN_ALLOW_MAX)
			return false;
		memcpy(item, b, (size_t)(e - b));
		item[e - b] = '\0';
		if (!ref_net_parse(item, &out->nets[out->n++]))
			return false;
	}
	return true;
}

static bool
v4_refused(uint32_t a)
{
	return a == 0xffffffffu || a >> 24 == 0 || a >> 24 == 127 ||
	    a >> 16 == 0xa9fe || a >> 28 >= 0xe;
}

static bool
ref_v4_refused(uint32_t a, const struct ref_allow *al)
{
	unsigned char b[16] = {(unsigned char)(a >> 24),
	    (unsigned char)(a >> 16), (unsigned char)(a >> 8),
	    (unsigned char)a};

	return v4_refused(a) && !ref_allowed(b, AF_INET, al);
}

static bool
ref_v6_refused(const unsigned char *a, const struct ref_allow *al)
{
	static const unsigned char zero[16];
	bool why;

	if (memcmp(a, zero, 10) == 0 && a[10] == 0xff && a[11] == 0xff) {
		uint32_t v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
		    (uint32_t)a[14] << 8 | a[15];
		return !ref_allowed(a, AF_INET6, al) && ref_v4_refused(v4, al);
	}
	why = memcmp(a, zero, 12) == 0 || /* ::, ::1, IPv4-compatible */
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
	return why && !ref_allowed(a, AF_INET6, al);
}

/* -1: not an address; 1: refused; 0: may be scanned. */
static int
ref_refused(const char *s, const struct ref_allow *al)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return ref_v4_refused((uint32_t)a[0] << 24 |
			(uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3],
		    al);
	if (inet_pton(AF_INET6, s, a) == 1)
		return ref_v6_refused(a, al);
	return -1;
}

struct ref_targets {
	char (*hosts)[64];
	size_t nh, max;
	uint16_t ports[MAX_PORTS];
	size_t np;
};

static bool
ref_v4(const char *s, uint32_t *out)
{
	unsigned char a[4];

	if (inet_pton(AF_INET, s, a) != 1)
		return false;
	*out = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
	return true;
}

/* The hosts of one range element appended; false when the element is
 * not an address, CIDR or range, holds a refused address, or brings the
 * hosts over the limit. */
static bool
ref_element(const char *s, struct ref_targets *r, const struct ref_allow *al)
{
	const char *slash = strchr(s, '/'), *dash = strchr(s, '-');
	char left[128];
	uint64_t lo, hi;
	uint32_t a, b;

	if (strlen(s) >= sizeof(left))
		return false;
	if (slash != NULL || dash != NULL) {
		const char *sep = slash != NULL ? slash : dash;
		memcpy(left, s, (size_t)(sep - s));
		left[sep - s] = '\0';
	}
	if (slash != NULL) {
		int64_t bits;
		uint64_t mask;
		if (!ref_v4(left, &a) ||
		    !osh_parse_int(slash + 1, 8, 32, &bits))
			return false;
		mask = (0xffffffffull << (32 - bits)) & 0xffffffffull;
		lo = a & mask;
		hi = lo | (~mask & 0xffffffffull);
		if (bits <= 30) {
			lo++;
			hi--;
		}
	} else if (dash != NULL) {
		if (!ref_v4(left, &a) || !ref_v4(dash + 1, &b) || b < a)
			return false;
		lo = a;
		hi = b;
	} else if (ref_v4(s, &a)) {
		lo = hi = a;
	} else {
		if (ref_refused(s, al) != 0 || r->nh >= r->max)
			return false;
		osh_strlcpy(r->hosts[r->nh++], s, 64);
		return true;
	}
	if (hi - lo + 1 > r->max - r->nh)
		return false;
	for (uint64_t x = lo; x <= hi; x++)
		if (ref_v4_refused((uint32_t)x, al))
			return false;
	for (uint64_t x = lo; x <= hi; x++)
		snprintf(r->hosts[r->nh++], 64, "%u.%u.%u.%u",
		    (unsigned)(x >> 24), (unsigned)(x >> 16) & 0xff,
		    (unsigned)(x >> 8) & 0xff, (unsigned)x & 0xff);
	return true;
}

static bool
ref_range(struct json_object *range, struct ref_targets *r,
    const struct ref_allow *al)
{
	if (json_object_is_type(range, json_type_string)) {
		const char *s = json_object_get_string(range);
		while (*s != '\0') {
			size_t skip = strspn(s, ", "), len;
			char tok[4096];
			s += skip;
			if ((len = strcspn(s, ", ")) == 0)
				break;
			if (len >= sizeof(tok))
				return false;
			memcpy(tok, s, len);
			tok[len] = '\0';
			if (!ref_element(tok, r, al))
				return false;
			s += len;
		}
		return r->nh > 0;
	}
	if (!json_object_is_type(range, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(range); i++) {
		struct json_object *v = json_object_array_get_idx(range, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !ref_element(json_object_get_string(v), r, al))
			return false;
	}
	return r->nh > 0;
}

static bool
port_ok(int64_t v)
{
	return v >= 1 && v <= 65535;
}

static bool
ref_ports(struct json_object *p, struct ref_targets *r)
{
	if (p == NULL) {
		r->ports[r->np++] = 623;
		return true;
	}
	if (json_object_is_type(p, json_type_int)) {
		if (!port_ok(json_object_get_int64(p)))
			return false;
		r->ports[r->np++] = (uint16_t)json_object_get_int64(p);
		return true;
	}
	if (json_object_is_type(p, json_type_string)) {
		const char *s = json_object_get_string(p);
		const char *dash = strchr(s, '-');
		char lo[8];
		int64_t a, b;
		if (dash == NULL || (size_t)(dash - s) >= sizeof(lo))
			return false;
		memcpy(lo, s, (size_t)(dash - s));
		lo[dash - s] = '\0';
		if (!osh_parse_int(lo, 1, 65535, &a) ||
		    !osh_parse_int(dash + 1, 1, 65535, &b) || b < a ||
		    b - a + 1 > MAX_PORTS)
			return false;
		for (int64_t v = a; v <= b; v++)
			r->ports[r->np++] = (uint16_t)v;
		return true;
	}
	if (json_object_is_type(p, json_type_array)) {
		size_t n = json_object_array_length(p);
		if (n == 0 || n > MAX_PORTS)
			return false;
		for (size_t i = 0; i < n; i++) {
			struct json_object *v = json_object_array_get_idx(p, i);
			if (!json_object_is_type(v, json_type_int) ||
			    !port_ok(json_object_get_int64(v)))
				return false;
			r->ports[r->np++] = (uint16_t)json_object_get_int64(v);
		}
		return true;
	}
	return false;
}

/*
 * The checks.
 */

static void
same_allow(const struct scan_allow *a, const struct ref_allow *r)
{
	check(a->n == r->n, "allow list: another number of networks");
	for (size_t i = 0; i < a->n; i++) {
		const struct scan_cidr *c = &a->nets[i];
		check(c->family == r->nets[i].family &&
			c->bits == r->nets[i].bits &&
			memcmp(c->addr, r->nets[i].addr, 16) == 0,
		    "allow list: another network than the reference");
	}
}

/* Parses the allow list, checks it against the reference and by a round
 * trip; false (with the reference's agreement) when it is refused. */
static bool
allow_parse(const char *list, struct scan_allow *a, struct ref_allow *r)
{
	char err[128], back[SCAN_ALLOW_MAX * 56 + 1] = "";
	struct scan_allow again;
	bool ok = scan_allow_parse(list, a, err, sizeof(err));

	check(ok == ref_allow_parse(list, r),
	    ok ? "allow list: accepted what the reference refuses"
	       : "allow list: refused what the reference accepts");
	if (!ok) {
		check(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
		    "allow list: no reason");
		return false;
	}
	check(a->n <= SCAN_ALLOW_MAX, "allow list: too many networks");
	same_allow(a, r);
	for (size_t i = 0; i < a->n; i++) {
		char addr[INET6_ADDRSTRLEN], item[64];
		check(inet_ntop(a->nets[i].family, a->nets[i].addr, addr,
			  sizeof(addr)) != NULL,
		    "allow list: a network inet_ntop cannot write");
		snprintf(item, sizeof(item), "%s%s/%d", i ? ", " : "", addr,
		    a->nets[i].bits);
		check(strlen(back) + strlen(item) < sizeof(back),
		    "allow list: round trip too long");
		memcpy(back + strlen(back), item, strlen(item) + 1);
	}
	check(scan_allow_parse(back, &again, err, sizeof(err)) &&
		memcmp(&again, a, sizeof(again)) == 0,
	    "allow list: another list when written back and parsed again");
	return true;
}

static void
refusal(const char *addr, const struct scan_allow *a, const struct ref_allow *r)
{
	const char *why = scan_refusal(addr, a),
		   *plain = scan_refusal(addr, NULL);
	int want = ref_refused(addr, r);

	if (want < 0) {
		check(why != NULL && strcmp(why, "not an address") == 0,
		    "refusal: a non-address not refused as such");
		return;
	}
	check((why != NULL) == (want == 1),
	    why != NULL ? "refusal: refused what the allow list opens"
			: "refusal: let through what is refused");
	/* The allow list only opens: a refusal is the one without it. */
	check(why == NULL || (plain != NULL && strcmp(why, plain) == 0),
	    "refusal: another reason with the allow list");
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

static struct json_object *
json_or_string(const char *s, bool as_json)
{
	struct json_object *o = as_json ? json_tokener_parse(s) : NULL;

	return o != NULL ? o : json_object_new_string(s);
}

static void
targets(const char *range_text, const char *ports_text, bool range_json,
    bool ports_json, size_t max, const struct scan_allow *a,
    const struct ref_allow *r)
{
	struct json_object *range = json_or_string(range_text, range_json);
	struct json_object *ports =
	    *ports_text ? json_or_string(ports_text, ports_json) : NULL;
	struct ref_targets *ref = calloc(1, sizeof(*ref));
	struct osh_err err;
	struct scan_target *t;
	const char *field = "range";
	bool want;
	size_t n = 12345;

	check(ref != NULL, "out of memory");
	ref->max = max;
	ref->hosts = calloc(max, 64);
	check(ref->hosts != NULL, "out of memory");
	want = ref_range(range, ref, r);
	if (want) {
		field = "port";
		want = ref_ports(ports, ref);
		if (want && ref->nh * ref->np > max) {
			field = "range";
			want = false;
		}
	}
	memset(&err, 0, sizeof(err));
	t = scan_targets(range, ports, max, a, &n, &err);
	if (t == NULL) {
		check(!want, "targets: refused what the reference accepts");
		check(n == 0, "targets: a count with no targets");
		check(err.status == 400, "targets: not a 400");
		check(strcmp(err.field, field) == 0,
		    "targets: another field named than the reference's");
		check(memchr(err.message, '\0', sizeof(err.message)) != NULL &&
			err.message[0] != '\0',
		    "targets: no message");
		/* "<addr> is <why>: scans there need OSH_SCAN_ALLOW" names
		 * an address the allow list does not open (other messages
		 * quote what they refuse: "\"<element>\" is not ..."). */
		if (err.message[0] != '"' &&
		    ends_with(
			err.message, ": scans there need OSH_SCAN_ALLOW")) {
			char addr[128];
			size_t len = strcspn(err.message, " ");
			check(len < sizeof(addr), "targets: refusal too long");
			memcpy(addr, err.message, len);
			addr[len] = '\0';
			check(scan_refusal(addr, a) != NULL &&
				ref_refused(addr, r) == 1,
			    "targets: refused an address the allow list "
			    "opens");
		}
	} else {
		check(want, "targets: accepted what the reference refuses");
		check(n >= 1 && n <= max && n <= MAX_TARGETS_LIMIT,
		    "targets: more than the limit");
		check(n == ref->nh * ref->np,
		    "targets: another count than the reference's");
		for (size_t i = 0; i < n; i++) {
			check(
			    memchr(t[i].host, '\0', sizeof(t[i].host)) != NULL,
			    "targets: a host not terminated");
			check(strcmp(t[i].host, ref->hosts[i / ref->np]) == 0 &&
				t[i].port == ref->ports[i % ref->np],
			    "targets: another target than the reference's");
			check(scan_refusal(t[i].host, a) == NULL,
			    "targets: a target the allow list refuses");
		}
		free(t);
	}
	free(ref->hosts);
	free(ref);
	json_object_put(range);
	json_object_put(ports);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = {
	    1, 2, 3, 16, 256, 1024, 4096, MAX_TARGETS_LIMIT};
	struct scan_allow allow;
	struct ref_allow ref;
	char *parts[3] = {NULL, NULL, NULL};
	const uint8_t *p, *end;
	unsigned mode;
	bool allow_ok;

	if (size < 2)
		return 0;
	mode = data[0] & 3;
	/* The parts: up to two newlines split; the last takes the rest. */
	p = data + 2;
	end = data + size;
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *nl = i < (mode == 0	    ? 0u
						: mode == 1 ? 1u
							    : 2u)
		    ? memchr(p, '\n', (size_t)(end - p))
		    : NULL;
		const uint8_t *stop = nl != NULL ? nl : end;
		parts[i] = text(p, (size_t)(stop - p));
		p = nl != NULL ? nl + 1 : end;
	}
	allow_ok = allow_parse(parts[0], &allow, &ref);
	if (mode == 1) {
		refusal(
		    parts[1], allow_ok ? &allow : NULL, allow_ok ? &ref : NULL);
	} else if (mode >= 2) {
		targets(parts[1], parts[2], data[0] & 0x10, data[0] & 0x20,
		    limits[data[1] & 7], allow_ok ? &allow : NULL,
		    allow_ok ? &ref : NULL);
	}
	for (size_t i = 0; i < 3; i++)
		free(parts[i]);
	return 0;
}
