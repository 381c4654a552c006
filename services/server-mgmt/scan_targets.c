/* scan_targets.c - what a discovery scan may probe: ranges and ports
 * expanded into targets, the networks refused by default and the allow
 * list (OSH_SCAN_ALLOW) that opens them. Pure: no sockets, no I/O. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/util.h>

#include "scan_targets.h"

static bool
ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

static void
v4_text(uint32_t a, char *out, size_t len)
{
	struct in_addr in = {htonl(a)};

	inet_ntop(AF_INET, &in, out, (socklen_t)len);
}

static bool
in_cidr(const unsigned char *a, int family, const struct scan_cidr *c)
{
	int full = c->bits / 8, rest = c->bits % 8;

	if (family != c->family)
		return false;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ c->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool
allowed(const unsigned char *a, int family, const struct scan_allow *allow)
{
	for (size_t i = 0; allow != NULL && i < allow->n; i++)
		if (in_cidr(a, family, &allow->nets[i]))
			return true;
	return false;
}

/* The refusal of an IPv4 address in host order, before the allow list. */
static const char *
v4_class(uint32_t a)
{
	if (a == 0xffffffffu)
		return "the broadcast address";
	if ((a >> 24) == 0)
		return "an unspecified address (0.0.0.0/8)";
	if ((a >> 24) == 127)
		return "a loopback address";
	if ((a >> 16) == 0xa9fe)
		return "a link-local address";
	if ((a >> 28) == 0xe)
		return "a multicast address";
	if ((a >> 28) == 0xf)
		return "a reserved address (240.0.0.0/4)";
	return NULL;
}

static const char *
v4_refusal(uint32_t a, const struct scan_allow *allow)
{
	const char *why = v4_class(a);
	uint32_t n = htonl(a);

	return why != NULL &&
		!allowed((const unsigned char *)&n, AF_INET, allow)
	    ? why
	    : NULL;
}

static const char *
v6_refusal(const unsigned char *a, const struct scan_allow *allow)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[16] = {0};
	const char *why = NULL;

	if (memcmp(a, mapped, 12) == 0) {
		uint32_t v4;
		memcpy(&v4, a + 12, 4);
		if (allowed(a, AF_INET6, allow))
			return NULL;
		return v4_refusal(ntohl(v4), allow);
	}
	if (memcmp(a, zero, 16) == 0)
		why = "the unspecified address";
	else if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		why = "a loopback address";
	else if (memcmp(a, zero, 12) == 0)
		why = "an IPv4-compatible address (deprecated)";
	else if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		why = "a link-local address";
	else if (a[0] == 0xff)
		why = "a multicast address";
	return why != NULL && !allowed(a, AF_INET6, allow) ? why : NULL;
}

const char *
scan_refusal(const char *addr, const struct scan_allow *allow)
{
	unsigned char a[16];
	uint32_t v4;

	if (ipv4(addr, &v4))
		return v4_refusal(v4, allow);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return v6_refusal(a, allow);
	return "not an address";
}

bool
scan_allow_parse(
    const char *list, struct scan_allow *out, char *err, size_t errlen)
{
	const char *p = list ? list : "";

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		char item[80];
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len, *slash;
		struct scan_cidr *c;
		int64_t bits;

		p = *e == ',' ? e + 1 : e;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (b == e)
			continue;
		if ((size_t)(e - b) >= sizeof(item)) {
			snprintf(err, errlen, "network too long");
			return false;
		}
		if (out->n == SCAN_ALLOW_MAX) {
			snprintf(
			    err, errlen, "at most %d networks", SCAN_ALLOW_MAX);
			return false;
		}
		memcpy(item, b, (size_t)(e - b));
		item[e - b] = '\0';
		c = &out->nets[out->n];
		if ((slash = strchr(item, '/')) != NULL)
			item[slash - item] = '\0';
		if (inet_pton(AF_INET, item, c->addr) == 1)
			c->family = AF_INET;
		else if (inet_pton(AF_INET6, item, c->addr) == 1)
			c->family = AF_INET6;
		else
			goto bad;
		bits = c->family == AF_INET ? 32 : 128;
		if (slash != NULL && !osh_parse_int(slash + 1, 0, bits, &bits))
			goto bad;
		c->bits = (int)bits;
		/* Host bits must be zero, so that "10.0.0.1/8" is not read
		 * as something it does not say. */
		for (int i = c->bits; i < (c->family == AF_INET ? 32 : 128);
		     i++)
			if (c->addr[i / 8] & (0x80 >> (i % 8)))
				goto bad;
		out->n++;
		continue;
	bad:
		snprintf(err, errlen,
		    "\"%.60s\" is not a CIDR (address/bits, host bits zero)",
		    b);
		return false;
	}
	return true;
}

bool
scan_allow_valid(const void *field, char *err, size_t errlen)
{
	struct scan_allow a;

	return scan_allow_parse(*(const char *const *)field, &a, err, errlen);
}

/* Appends the hosts of one range element. */
static int
add_hosts(const char *s, char (*hosts)[64], size_t *nh, size_t max,
    const struct scan_allow *allow, struct osh_err *err)
{
	const char *why;
	char buf[128];
	const char *slash = strchr(s, '/'), *dash = strchr(s, '-');
	uint32_t a, b;
	unsigned char v6[16];

	if (strlen(s) >= sizeof(buf))
		return osh_err_set(err, 400, "validation_failed", "range",
		    "range element too long");
	if (slash != NULL) {
		int64_t bits;
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		if (!ipv4(buf, &a) || !osh_parse_int(slash + 1, 8, 32, &bits))
			return osh_err_set(err, 400, "validation_failed",
			    "range",
			    "\"%s\" is not an IPv4 CIDR (a.b.c.d/8-32)", s);
		uint32_t mask =
		    bits == 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
		a &= mask;
		b = a | ~mask;
		if (bits < 31) { /* leave out network and broadcast */
			a++;
			b--;
		}
	} else if (dash != NULL) {
		memcpy(buf, s, (size_t)(dash - s));
		buf[dash - s] = '\0';
		if (!ipv4(buf, &a) || !ipv4(dash + 1, &b) || b < a)
			return osh_err_set(err, 400, "validation_failed",
			    "range", "\"%s\" is not an IPv4 range (a-b)", s);
	} else if (ipv4(s, &a)) {
		b = a;
	} else if (inet_pton(AF_INET6, s, v6) == 1) {
		if ((why = v6_refusal(v6, allow)) != NULL)
			return osh_err_set(err, 400, "validation_failed",
			    "range",
			    "%s is %s: scans there need OSH_SCAN_ALLOW", s,
			    why);
		if (*nh >= max)
			goto too_many;
		osh_strlcpy(hosts[(*nh)++], s, 64);
		return 0;
	} else {
		return osh_err_set(err, 400, "validation_failed", "range",
		    "\"%s\" is not an address, CIDR or range (addresses "
		    "only: names are not resolved)",
		    s);
	}
	if ((uint64_t)b - a + 1 > max - *nh)
		goto too_many;
	for (uint64_t x = a; x <= b; x++) {
		if ((why = v4_refusal((uint32_t)x, allow)) != NULL) {
			v4_text((uint32_t)x, buf, sizeof(buf));
			return osh_err_set(err, 400, "validation_failed",
			    "range",
			    "%s is %s: scans there need OSH_SCAN_ALLOW", buf,
			    why);
		}
	}
	for (uint64_t x = a; x <= b; x++)
		v4_text((uint32_t)x, hosts[(*nh)++], 64);
	return 0;
too_many:
	return osh_err_set(err, 400, "validation_failed", "range",
	    "the scan would probe more than %zu targets", max);
}

static int
add_ports(
    struct json_object *p, uint16_t *ports, size_t *np, struct osh_err *err)
{
	if (p == NULL) {
		ports[(*np)++] = 623;
		return 0;
	}
	if (json_object_is_type(p, json_type_int)) {
		int64_t v = json_object_get_int64(p);
		if (v < 1 || v > 65535)
			goto bad;
		ports[(*np)++] = (uint16_t)v;
		return 0;
	}
	if (json_object_is_type(p, json_type_string)) {
		const char *s = json_object_get_string(p),
			   *dash = strchr(s, '-');
		int64_t a, b;
		char lo[8];
		if (dash == NULL || dash - s >= (long)sizeof(lo))
			goto bad;
		memcpy(lo, s, (size_t)(dash - s));
		lo[dash - s] = '\0';
		if (!osh_parse_int(lo, 1, 65535, &a) ||
		    !osh_parse_int(dash + 1, 1, 65535, &b) || b < a ||
		    b - a >= 1024)
			goto bad;
		for (int64_t v = a; v <= b; v++)
			ports[(*np)++] = (uint16_t)v;
		return 0;
	}
	if (json_object_is_type(p, json_type_array)) {
		size_t n = json_object_array_length(p);
		if (n == 0 || n > 1024)
			goto bad;
		for (size_t i = 0; i < n; i++) {
			struct json_object *v = json_object_array_get_idx(p, i);
			if (!json_object_is_type(v, json_type_int) ||
			    json_object_get_int64(v) < 1 ||
			    json_object_get_int64(v) > 65535)
				goto bad;
			ports[(*np)++] = (uint16_t)json_object_get_int64(v);
		}
		return 0;
	}
bad:
	return osh_err_set(err, 400, "validation_failed", "port",
	    "port must be a number, \"a-b\" (at most 1024 ports) or an array "
	    "of numbers");
}

struct scan_target *
scan_targets(struct json_object *range, struct json_object *ports, size_t max,
    const struct scan_allow *allow, size_t *n, struct osh_err *err)
{
	char(*hosts)[64] = calloc(max + 1, 64);
	uint16_t *pl = calloc(1025, sizeof(*pl));
	struct scan_target *t = NULL;
	size_t nh = 0, np = 0;

	*n = 0;
	if (hosts == NULL || pl == NULL) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		goto out;
	}
	if (json_object_is_type(range, json_type_string)) {
		char *copy = strdup(json_object_get_string(range)), *tok, *save;
		int rc = 0;
		if (copy == NULL) {
			osh_err_set(err, 503, NULL, NULL, "out of memory");
			goto out;
		}
		for (tok = strtok_r(copy, ", ", &save); tok && rc == 0;
		     tok = strtok_r(NULL, ", ", &save))
			rc = add_hosts(tok, hosts, &nh, max, allow, err);
		free(copy);
		if (rc != 0)
			goto out;
	} else if (json_object_is_type(range, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(range); i++) {
			struct json_object *v =
			    json_object_array_get_idx(range, i);
			if (!json_object_is_type(v, json_type_string)) {
				osh_err_set(err, 400, "validation_failed",
				    "range", "range items must be strings");
				goto out;
			}
			if (add_hosts(json_object_get_string(v), hosts, &nh,
				max, allow, err) != 0)
				goto out;
		}
	} else {
		osh_err_set(err, 400, "validation_failed", "range",
		    "range must be a string or an array of strings");
		goto out;
	}
	if (nh == 0) {
		osh_err_set(err, 400, "validation_failed", "range",
		    "range holds no address");
		goto out;
	}
	if (add_ports(ports, pl, &np, err) != 0)
		goto out;
	if (nh * np > max) {
		osh_err_set(err, 400, "validation_failed", "range",
		    "the scan would probe %zu targets, more than %zu", nh * np,
		    max);
		goto out;
	}
	if ((t = calloc(nh * np, sizeof(*t))) == NULL) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nh; i++)
		for (size_t k = 0; k < np; k++) {
			osh_strlcpy(t[*n].host, hosts[i], sizeof(t[*n].host));
			t[(*n)++].port = pl[k];
		}
out:
	free(hosts);
	free(pl);
	return t;
}
