/* discovery.c - discovery scans. A scan probes each target without
 * credentials (Get Channel Authentication Capabilities over RMCP), a
 * bounded number at a time; where a BMC answers and the operator gave
 * credentials, it tries those, in order, and reads the device identity.
 * Progress and findings go to the database as they come. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/rmcp.h>

#include "discovery.h"
#include "handlers.h"
#include "sm.h"
#include "store.h"

#define MAX_CREDS 5
#define FINISH_RETRY_S 5
#define FINISH_ATTEMPTS 120 /* ten minutes */
#define RETRY_AFTER_S "30"

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
	if ((t = calloc(nh * np, sizeof(*t))) == NULL)
		goto out;
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

/*
 * The scan.
 */

struct scan {
	struct sm_app *app;
	int64_t id;
	struct scan_target *targets;
	size_t n, next, in_flight;
	int probed, found, reported;
	int timeout_ms;
	unsigned workarounds;
	struct {
		char user[33], pass[65];
	} creds[MAX_CREDS];
	size_t ncreds;
};

struct probe {
	struct scan *scan;
	size_t index;
	struct osh_rmcp_caps caps;
	size_t cred; /* the one being tried */
	struct osh_ipmi_target target;
};

static void scan_launch(struct scan *s);

static void
ignore(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	(void)st;
	(void)json;
	(void)state;
	(void)arg;
}

/* Frees a scan and gives its place back (see h_scan_create). */
static void
scan_free(struct scan *s)
{
	s->app->scans_running--;
	for (size_t i = 0; i < s->n; i++)
		osh_ipmi_forget(
		    s->app->ipmi, s->targets[i].host, s->targets[i].port);
	osh_wipe(s->creds, sizeof(s->creds));
	free(s->targets);
	free(s);
}

static void
probe_done(struct probe *p)
{
	struct scan *s = p->scan;

	osh_ipmi_target_wipe(&p->target);
	free(p);
	s->probed++;
	s->in_flight--;
	if (s->probed - s->reported >= 25) {
		s->reported = s->probed;
		store_scan_progress(sm_svc(s->app)->db, s->id, s->probed,
		    s->found, "running", ignore, NULL);
	}
	scan_launch(s);
}

/* What a scan found is sealed for the address it was found at. */
static void
scan_ad(char *out, size_t len, int64_t scan, const char *host, int port)
{
	snprintf(out, len, "scan:%lld|%s|%d", (long long)scan, host, port);
}

static void
record(struct probe *p, const struct osh_ipmi_result *r, bool creds_ok)
{
	struct scan *s = p->scan;
	struct scan_target *t = &s->targets[p->index];
	struct scan_found f = {0};
	char auth[80] = "{", ad[CREDS_AD_MAX], *sealed = NULL;

	if (p->caps.auth_none)
		strncat(auth, "none,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_md2)
		strncat(auth, "md2,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_md5)
		strncat(auth, "md5,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_straight)
		strncat(auth, "straight,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_oem)
		strncat(auth, "oem,", sizeof(auth) - strlen(auth) - 1);
	if (auth[strlen(auth) - 1] == ',')
		auth[strlen(auth) - 1] = '\0';
	strncat(auth, "}", sizeof(auth) - strlen(auth) - 1);
	f.host = t->host;
	f.port = t->port;
	f.ipmi15 = p->caps.ipmi15;
	f.ipmi20 = p->caps.ipmi20;
	f.auth_types = auth;
	f.credentials_ok = creds_ok;
	f.manufacturer_id = p->caps.oem_id ? (int64_t)p->caps.oem_id : -1;
	if (creds_ok) {
		scan_ad(ad, sizeof(ad), s->id, t->host, t->port);
		sealed = creds_seal(s->app->keys, s->creds[p->cred].user,
		    s->creds[p->cred].pass, ad);
		f.sealed = sealed;
	}
	if (r != NULL && (r->done & OSH_IPMI_WANT_DEVICE_ID)) {
		f.manufacturer_id = r->device.manufacturer_id;
		f.manufacturer = vendor_name(r->device.manufacturer_id);
		f.firmware = r->device.firmware;
	}
	if (r != NULL && (r->done & OSH_IPMI_WANT_FRU)) {
		if (r->fru.product_mfg[0])
			f.manufacturer = r->fru.product_mfg;
		f.product = r->fru.product_name;
		f.serial = r->fru.product_serial;
	}
	if (r != NULL && r->err != OSH_IPMI_OK && !creds_ok)
		f.error = r->message;
	s->found++;
	store_scan_result(sm_svc(s->app)->db, s->id, &f, ignore, NULL);
	osh_free_secret(sealed);
}

static void try_creds(struct probe *p);

static void
on_login(const struct osh_ipmi_result *r, void *arg)
{
	struct probe *p = arg;
	bool ok = (r->done & OSH_IPMI_WANT_DEVICE_ID) != 0;

	if (ok || p->cred + 1 >= p->scan->ncreds ||
	    (r->err != OSH_IPMI_AUTH_FAILED && r->err != OSH_IPMI_PRIVILEGE)) {
		record(p, r, ok);
		probe_done(p);
		return;
	}
	p->cred++;
	try_creds(p);
}

static void
try_creds(struct probe *p)
{
	struct scan *s = p->scan;
	struct scan_target *t = &s->targets[p->index];
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_DEVICE_ID | OSH_IPMI_WANT_FRU};

	memset(&p->target, 0, sizeof(p->target));
	osh_strlcpy(p->target.host, t->host, sizeof(p->target.host));
	p->target.port = t->port;
	osh_strlcpy(
	    p->target.user, s->creds[p->cred].user, sizeof(p->target.user));
	osh_strlcpy(p->target.password, s->creds[p->cred].pass,
	    sizeof(p->target.password));
	p->target.ipmi15 = !p->caps.ipmi20;
	p->target.privilege = OSH_IPMI_PRIV_ADMIN;
	p->target.cipher_suite = 3;
	p->target.workarounds = s->workarounds;
	if (osh_ipmi_submit(s->app->ipmi, &p->target, &rq,
		(int)s->app->cfg.bmc_timeout_ms, on_login, p) != 0) {
		record(p, NULL, false);
		probe_done(p);
	}
}

static void
on_caps(const struct osh_rmcp_caps *caps, void *arg)
{
	struct probe *p = arg;

	p->caps = *caps;
	if (!caps->answered) {
		probe_done(p);
		return;
	}
	if (p->scan->ncreds == 0) {
		record(p, NULL, false);
		probe_done(p);
		return;
	}
	try_creds(p);
}

/* The last word on a scan. It must reach the database: a row left
 * 'running' keeps its user from starting another scan (until the next
 * start of the service), so a failed write is retried for a while. */
struct finish {
	struct sm_app *app;
	int64_t id;
	int probed, found, attempts;
};

static void finish_write(struct finish *f);

static void
on_finish_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_write(arg);
}

static void
on_finished(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct finish *f = arg;
	struct timeval tv = {FINISH_RETRY_S, 0};

	(void)json;
	(void)state;
	if (st == OSH_DB_OK || st == OSH_DB_NOT_FOUND ||
	    ++f->attempts >= FINISH_ATTEMPTS || sm_svc(f->app)->stopping ||
	    event_base_once(sm_svc(f->app)->base, -1, EV_TIMEOUT,
		on_finish_retry, f, &tv) != 0) {
		if (st != OSH_DB_OK && st != OSH_DB_NOT_FOUND)
			osh_log_warn(NULL,
			    "msg=\"scan result not recorded\" scan=%lld",
			    (long long)f->id);
		free(f);
	}
}

static void
finish_write(struct finish *f)
{
	store_scan_progress(sm_svc(f->app)->db, f->id, f->probed, f->found,
	    "done", on_finished, f);
}

static void
scan_finish(struct sm_app *app, int64_t id, int probed, int found)
{
	struct finish *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		store_scan_progress(
		    sm_svc(app)->db, id, probed, found, "done", ignore, NULL);
		return;
	}
	f->app = app;
	f->id = id;
	f->probed = probed;
	f->found = found;
	finish_write(f);
}

static void
scan_launch(struct scan *s)
{
	while (s->next < s->n &&
	    s->in_flight < (size_t)s->app->cfg.scan_concurrency) {
		struct probe *p = calloc(1, sizeof(*p));
		struct scan_target *t = &s->targets[s->next];

		if (p == NULL)
			break;
		p->scan = s;
		p->index = s->next++;
		s->in_flight++;
		if (osh_rmcp_probe(sm_svc(s->app)->base, t->host, t->port,
			s->timeout_ms, on_caps, p) != 0) {
			probe_done(p);
			return; /* probe_done launched the rest */
		}
	}
	if (s->next >= s->n && s->in_flight == 0) {
		osh_log_info(NULL,
		    "msg=\"scan finished\" scan=%lld probed=%d "
		    "found=%d",
		    (long long)s->id, s->probed, s->found);
		scan_finish(s->app, s->id, s->probed, s->found);
		scan_free(s);
	}
}

struct create_scan {
	struct osh_req *req;
	struct scan *scan;
	struct json_object *spec;
};

static void
on_scan_created(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct create_scan *cs = arg;
	struct scan *s = cs->scan;
	struct json_object *o;
	char target[64];

	(void)state;
	if (st != OSH_DB_OK || !osh_parse_int(json, 1, INT64_MAX, &s->id)) {
		if (st == OSH_DB_CONFLICT)
			osh_reply_error(cs->req, 409, "scan_running", NULL,
			    "a scan of yours is running already: wait until "
			    "it is done");
		else
			osh_reply_error(
			    cs->req, 503, NULL, NULL, "database unavailable");
		scan_free(s);
		json_object_put(cs->spec);
		free(cs);
		return;
	}
	snprintf(target, sizeof(target), "scan:%lld", (long long)s->id);
	osh_audit_req(osh_service_of(cs->req)->audit, cs->req, "discovery.scan",
	    target, "success", json_object_get(cs->spec));
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "status", json_object_new_string("running"));
	json_object_object_add(
	    o, "total", json_object_new_int64((int64_t)s->n));
	snprintf(target, sizeof(target), "/api/discovery/scans/%lld",
	    (long long)s->id);
	osh_resp_header(cs->req, "Location", target);
	osh_reply_json(cs->req, 202, o);
	json_object_put(cs->spec);
	free(cs);
	scan_launch(s);
}

void
h_scan_create(struct osh_req *req)
{
	static const struct osh_field f[] = {
	    {"range", OSH_FIELD_STRING, true, false, 1, 4096, NULL},
	    {"port", OSH_FIELD_STRING, false, false, 1, 32, NULL},
	    {"credentials", OSH_FIELD_ARRAY, false, false, 0, MAX_CREDS, NULL},
	    {"workarounds", OSH_FIELD_ARRAY, false, false, 0, 12, NULL},
	    {"timeout_ms", OSH_FIELD_INT, false, false, 100, 10000, NULL},
	};
	struct sm_app *app = osh_service_of(req)->app;
	struct json_object *o, *range, *port = NULL, *creds, *was;
	struct osh_err err;
	struct create_scan *cs;
	struct scan_allow allow;
	struct scan *s;
	char bad[128];
	size_t n;

	if ((o = osh_json_parse(
		 req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)) == NULL) {
		osh_reply_err(req, &err);
		return;
	}
	osh_wipe(req->body, req->body_len);
	/* range and port take several shapes: check them by hand, the rest
	 * by the table. */
	range = json_object_object_get(o, "range");
	if (json_object_object_get_ex(o, "port", &port))
		json_object_get(port);
	json_object_get(range);
	json_object_object_del(o, "port");
	if (range != NULL && !json_object_is_type(range, json_type_string))
		json_object_object_add(o, "range", json_object_new_string("x"));
	if (osh_json_check(o, f, OSH_ARRAY_LEN(f), &err) != 0)
		goto out_err;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	s->app = app;
	s->timeout_ms =
	    (int)osh_json_int(o, "timeout_ms", app->cfg.scan_timeout_ms);
	if (json_object_object_get_ex(o, "workarounds", &was)) {
		for (size_t i = 0; i < json_object_array_length(was); i++) {
			unsigned w;
			struct json_object *v =
			    json_object_array_get_idx(was, i);
			if (!json_object_is_type(v, json_type_string) ||
			    !osh_ipmi_workarounds_parse(
				json_object_get_string(v), &w, bad,
				sizeof(bad))) {
				free(s);
				osh_err_set(&err, 400, "validation_failed",
				    "workarounds", "unknown workaround flag");
				goto out_err;
			}
			s->workarounds |= w;
		}
	}
	if (json_object_object_get_ex(o, "credentials", &creds)) {
		for (size_t i = 0; i < json_object_array_length(creds); i++) {
			if (credentials_parse(
				json_object_array_get_idx(creds, i),
				s->creds[i].user, sizeof(s->creds[i].user),
				s->creds[i].pass, sizeof(s->creds[i].pass),
				&err) != 0) {
				osh_wipe(s->creds, sizeof(s->creds));
				free(s);
				goto out_err;
			}
			s->ncreds++;
		}
	}
	if (!scan_allow_parse(app->cfg.scan_allow, &allow, bad, sizeof(bad))) {
		/* Checked at start; cannot happen. */
		osh_wipe(s->creds, sizeof(s->creds));
		free(s);
		osh_err_set(&err, 503, NULL, NULL, "bad OSH_SCAN_ALLOW");
		goto out_err;
	}
	s->targets = scan_targets(
	    range, port, (size_t)app->cfg.scan_max_targets, &allow, &n, &err);
	if (s->targets == NULL) {
		osh_wipe(s->creds, sizeof(s->creds));
		free(s);
		goto out_err;
	}
	s->n = n;
	/* The service-wide cap, counted here: a place is taken now and
	 * given back by scan_free. One scan per user is the database's
	 * (a unique index over running scans): 409 on insert. */
	if (app->scans_running >= (size_t)app->cfg.scan_max_running) {
		osh_wipe(s->creds, sizeof(s->creds));
		free(s->targets);
		free(s);
		osh_resp_header(req, "Retry-After", RETRY_AFTER_S);
		osh_err_set(&err, 503, "too_many_scans", NULL,
		    "%lld scans are running, the most at once: try again "
		    "later",
		    (long long)app->cfg.scan_max_running);
		goto out_err;
	}
	app->scans_running++;
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		scan_free(s);
		osh_err_set(&err, 503, NULL, NULL, "out of memory");
		goto out_err;
	}
	cs->req = req;
	cs->scan = s;
	/* What is kept of the request: never the credentials. */
	cs->spec = json_object_new_object();
	json_object_object_add(cs->spec, "range", json_object_get(range));
	json_object_object_add(cs->spec, "port",
	    port ? json_object_get(port) : json_object_new_int(623));
	if (json_object_object_get_ex(o, "workarounds", &was))
		json_object_object_add(
		    cs->spec, "workarounds", json_object_get(was));
	json_object_object_add(
	    cs->spec, "credentials_given", json_object_new_int((int)s->ncreds));
	store_scan_create(osh_service_of(req)->db,
	    json_object_to_json_string(cs->spec), (int)n, req->claims.name,
	    req->claims.user_id, on_scan_created, cs);
	json_object_put(range);
	json_object_put(port);
	json_wipe_passwords(o);
	json_object_put(o);
	return;
out_err:
	json_object_put(range);
	json_object_put(port);
	json_wipe_passwords(o);
	json_object_put(o);
	osh_reply_err(req, &err);
}

static void
on_scan(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct osh_req *req = arg;

	(void)state;
	if (st == OSH_DB_NOT_FOUND) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	if (st != OSH_DB_OK) {
		osh_reply_error(req, 503, NULL, NULL, "database unavailable");
		return;
	}
	osh_reply(req, 200, "application/json", json, strlen(json));
}

void
h_scan_get(struct osh_req *req)
{
	int64_t id;

	if (!osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id)) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	store_scan_get(osh_service_of(req)->db, id, on_scan, req);
}

struct scan_import {
	struct osh_req *req;
	int64_t scan;
	int64_t *result_ids; /* by row */
	size_t n;
};

static void
on_row_imported(size_t row, int64_t server, void *arg)
{
	struct scan_import *si = arg;

	if (row == IMPORT_FINISHED) {
		free(si->result_ids);
		free(si);
		return;
	}
	if (row < si->n)
		store_scan_mark_imported(osh_service_of(si->req)->db,
		    si->result_ids[row], server, NULL, NULL);
}

static void
on_importable(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct scan_import *si = arg;
	struct sm_app *app = osh_service_of(si->req)->app;
	struct json_object *list, *rows;
	char ad[CREDS_AD_MAX], prefix[40];
	const char *p = osh_req_query(si->req, "name_prefix");

	(void)state;
	if (st != OSH_DB_OK || (list = json_tokener_parse(json)) == NULL) {
		osh_reply_error(
		    si->req, 503, NULL, NULL, "database unavailable");
		free(si);
		return;
	}
	osh_strlcpy(prefix, p && *p ? p : "bmc", sizeof(prefix));
	rows = json_object_new_array();
	si->n = json_object_array_length(list);
	si->result_ids = calloc(si->n + 1, sizeof(int64_t));
	for (size_t i = 0; i < si->n; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);
		struct json_object *b = json_object_new_object();
		const char *host = osh_json_str(r, "host", "");
		int port =
		    json_object_get_int(json_object_object_get(r, "port"));
		char name[160], addr[300], user[33], pass[65];

		si->result_ids[i] =
		    json_object_get_int64(json_object_object_get(r, "id"));
		snprintf(name, sizeof(name), "%s-%s-%d", prefix, host, port);
		for (char *c = name; *c; c++)
			if (*c == ':' || *c == '/')
				*c = '-';
		snprintf(addr, sizeof(addr),
		    strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
		json_object_object_add(b, "name", json_object_new_string(name));
		json_object_object_add(
		    b, "bmc_address", json_object_new_string(addr));
		if (json_object_object_get(r, "workarounds") != NULL)
			json_object_object_add(b, "workarounds",
			    json_object_get(
				json_object_object_get(r, "workarounds")));
		json_object_object_add(b, "ipmi_version",
		    json_object_new_string(
			json_object_get_boolean(
			    json_object_object_get(r, "ipmi20"))
			    ? "2.0"
			    : "1.5"));
		scan_ad(ad, sizeof(ad), si->scan, host, port);
		if (creds_open(app->keys,
			json_object_get_string(
			    json_object_object_get(r, "credentials")),
			ad, user, sizeof(user), pass, sizeof(pass))) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(
			    c, "username", json_object_new_string(user));
			json_object_object_add(
			    c, "password", json_object_new_string(pass));
			json_object_object_add(b, "credentials", c);
		}
		osh_wipe(pass, sizeof(pass));
		json_object_array_add(rows, b);
	}
	json_object_put(list);
	import_run(si->req, rows, on_row_imported, si);
}

void
h_scan_import(struct osh_req *req)
{
	static const struct osh_field f[] = {
	    {"results", OSH_FIELD_ARRAY, false, false, 1, 4096, NULL},
	};
	struct scan_import *si;
	struct json_object *o;
	struct osh_err err;
	int64_t id;

	if (!osh_parse_int(osh_req_param(req, "id"), 1, INT64_MAX, &id)) {
		osh_reply_error(req, 404, NULL, "id", "scan not found");
		return;
	}
	o = req->body_len
	    ? osh_json_parse(req->body, req->body_len, OSH_JSON_MAX_DEPTH, &err)
	    : json_object_new_object();
	if (o == NULL || osh_json_check(o, f, OSH_ARRAY_LEN(f), &err) != 0) {
		json_object_put(o);
		osh_reply_err(req, &err);
		return;
	}
	if ((si = calloc(1, sizeof(*si))) == NULL) {
		json_object_put(o);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	si->req = req;
	si->scan = id;
	store_scan_importable(osh_service_of(req)->db, id,
	    osh_json_has(o, "results")
		? json_object_to_json_string(
		      json_object_object_get(o, "results"))
		: NULL,
	    on_importable, si);
	json_object_put(o);
}
