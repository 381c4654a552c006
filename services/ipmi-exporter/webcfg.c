/* webcfg.c - the exporter-toolkit web configuration file (libyaml). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include <osh/crypto.h>
#include <osh/util.h>

#include "webcfg.h"
#include "yamlerr.h"
#include "yamlwipe.h"

#define TLS10 0x0301
#define TLS13 0x0304

/* Go's names of the TLS 1.2 cipher suites (crypto/tls CipherSuites())
 * and OpenSSL's. The TLS 1.3 ones are accepted and, as in Go, change
 * nothing: TLS 1.3 suites are not configurable. */
static const struct {
	const char *go, *openssl;
} ciphers[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", NULL},
    {"TLS_AES_256_GCM_SHA384", NULL},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL},
};

static const struct {
	const char *go, *openssl;
} curves[] = {
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
};

static const struct {
	const char *name;
	int version;
} versions[] = {
    {"TLS10", 0x0301},
    {"TLS11", 0x0302},
    {"TLS12", 0x0303},
    {"TLS13", 0x0304},
};

static const struct {
	const char *name;
	enum web_client_auth v;
} auth_types[] = {
    {"", WEB_NO_CLIENT_CERT},
    {"NoClientCert", WEB_NO_CLIENT_CERT},
    {"RequestClientCert", WEB_REQUEST_CLIENT_CERT},
    {"RequireAnyClientCert", WEB_REQUIRE_ANY_CLIENT_CERT},
    {"RequireClientCert", WEB_REQUIRE_ANY_CLIENT_CERT}, /* an old name */
    {"VerifyClientCertIfGiven", WEB_VERIFY_CLIENT_CERT_IF_GIVEN},
    {"RequireAndVerifyClientCert", WEB_REQUIRE_AND_VERIFY_CLIENT_CERT},
};

/* The response headers exporter-toolkit lets a file set, with the values
 * it accepts (NULL: any). */
static const struct {
	const char *name;
	const char *allowed[3];
} header_names[WEB_NHEADERS] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

struct wparse {
	yaml_document_t *doc;
	const char *dir;
	struct web_config *w;
	char *err;
	size_t errlen;
};

/* Fails the parse of p at node n (NULL: no line), for `return wfail(...)`. */
#define wfail(p, n, ...) yamlerr((p)->err, (p)->errlen, (n), __VA_ARGS__)

static void wwarn(struct wparse *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Notes a weakness the file is loaded with ("line N: ..."). */
static void
wwarn(struct wparse *p, size_t line, const char *fmt, ...)
{
	struct web_config *w = p->w;
	char msg[340];
	va_list ap;

	if (w->nwarnings >= WEB_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(w->warnings[w->nwarnings], sizeof(w->warnings[0]),
	    "line %zu: %s", line, msg);
	w->nwarnings++;
}

static size_t
line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static bool
is_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *
scalar_of(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

/* Shortens what is quoted back in an error message. */
static const char *
shown(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; s[n] != '\0' && n + 1 < len && n < 60; n++)
		buf[n] =
		    (s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"') ? s[n] : '?';
	buf[n] = '\0';
	return buf;
}

/* Calls fn for each key and value of a mapping (null counts as empty),
 * refusing duplicate keys and non-scalar keys. */
static int
each_pair(struct wparse *p, const yaml_node_t *n, const char *what, size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *,
	const yaml_node_t *, void *),
    void *arg)
{
	yaml_node_pair_t *first, *top;
	char b[64];

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return wfail(p, n, "%s must be a mapping", what);
	first = n->data.mapping.pairs.start;
	top = n->data.mapping.pairs.top;
	if ((size_t)(top - first) > max)
		return wfail(p, n, "%s: more than %zu entries", what, max);
	for (yaml_node_pair_t *pr = first; pr < top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v =
		    yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar_of(k);

		if (key == NULL)
			return wfail(
			    p, k, "%s: keys must be plain names", what);
		for (yaml_node_pair_t *q = first; q < pr; q++) {
			const char *other =
			    scalar_of(yaml_document_get_node(p->doc, q->key));
			if (other != NULL && strcmp(other, key) == 0)
				return wfail(p, k, "%s: \"%s\" given twice",
				    what, shown(key, b, sizeof(b)));
		}
		if (fn(p, k, key, v, arg) != 0)
			return -1;
	}
	return 0;
}

/* A string value; null and "" leave it unset (NULL), as in Go. */
static int
get_string(struct wparse *p, const yaml_node_t *v, const char *key, char **out)
{
	const char *s = scalar_of(v);

	free(*out);
	*out = NULL;
	if (is_null(v))
		return 0;
	if (s == NULL)
		return wfail(p, v, "%s must be a string", key);
	if (strlen(s) > 65536)
		return wfail(p, v, "%s is too long", key);
	if (s[0] != '\0' && (*out = strdup(s)) == NULL)
		return wfail(p, v, "out of memory");
	return 0;
}

/* A file name, taken relative to the web config file's directory. */
static int
get_path(struct wparse *p, const yaml_node_t *v, const char *key, char **out)
{
	char *s = NULL;
	size_t n;

	if (get_string(p, v, key, &s) != 0)
		return -1;
	free(*out);
	*out = s;
	if (s == NULL || s[0] == '/' || p->dir == NULL || p->dir[0] == '\0')
		return 0;
	n = strlen(p->dir) + strlen(s) + 2;
	if ((*out = malloc(n)) == NULL) {
		free(s);
		return wfail(p, v, "out of memory");
	}
	snprintf(*out, n, "%s/%s", p->dir, s);
	free(s);
	return 0;
}

/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
static int
get_bool(struct wparse *p, const yaml_node_t *v, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "y"};
	static const char *const no[] = {"false", "no", "off", "n"};
	const char *s = scalar_of(v);

	if (is_null(v)) {
		*out = false;
		return 0;
	}
	for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return wfail(p, v, "%s must be true or false", key);
}

/* A list of strings, one at a time; null is an empty list. */
static int
each_string(struct wparse *p, const yaml_node_t *v, const char *key, size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *, void *),
    void *arg)
{
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return wfail(p, v, "%s must be a list", key);
	if ((size_t)(v->data.sequence.items.top -
		v->data.sequence.items.start) > max)
		return wfail(p, v, "%s: more than %zu items", key, max);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		const yaml_node_t *n = yaml_document_get_node(p->doc, *it);
		const char *s = scalar_of(n);

		if (s == NULL || is_null(n))
			return wfail(p, n, "%s: items must be strings", key);
		if (fn(p, n, s, arg) != 0)
			return -1;
	}
	return 0;
}

/* Appends ":item" to a colon list. */
static int
list_add(struct wparse *p, const yaml_node_t *n, char **list, const char *item)
{
	size_t old = *list ? strlen(*list) : 0, add = strlen(item);
	char *grown = realloc(*list, old + add + 2);

	if (grown == NULL)
		return wfail(p, n, "out of memory");
	if (old > 0)
		grown[old++] = ':';
	memcpy(grown + old, item, add + 1);
	*list = grown;
	return 0;
}

static int
add_cipher(struct wparse *p, const yaml_node_t *n, const char *s, void *arg)
{
	char b[64];

	(void)arg;
	for (size_t i = 0; i < OSH_ARRAY_LEN(ciphers); i++) {
		if (strcmp(ciphers[i].go, s) != 0)
			continue;
		if (ciphers[i].openssl == NULL)
			return 0;
		return list_add(p, n, &p->w->tls.ciphers, ciphers[i].openssl);
	}
	return wfail(p, n, "unknown cipher: %s", shown(s, b, sizeof(b)));
}

static int
add_curve(struct wparse *p, const yaml_node_t *n, const char *s, void *arg)
{
	char b[64];

	(void)arg;
	for (size_t i = 0; i < OSH_ARRAY_LEN(curves); i++)
		if (strcmp(curves[i].go, s) == 0)
			return list_add(
			    p, n, &p->w->tls.groups, curves[i].openssl);
	return wfail(p, n,
	    "unknown curve: %s (valid: CurveP256, CurveP384, CurveP521, "
	    "X25519)",
	    shown(s, b, sizeof(b)));
}

static int
add_san(struct wparse *p, const yaml_node_t *n, const char *s, void *arg)
{
	struct web_tls *t = &p->w->tls;
	char **grown;

	(void)arg;
	grown = realloc(t->allowed_sans, (t->nsans + 1) * sizeof(*grown));
	if (grown == NULL)
		return wfail(p, n, "out of memory");
	t->allowed_sans = grown;
	if ((t->allowed_sans[t->nsans] = strdup(s)) == NULL)
		return wfail(p, n, "out of memory");
	t->nsans++;
	return 0;
}

static int
get_version(struct wparse *p, const yaml_node_t *v, const char *key, int *out)
{
	const char *s = scalar_of(v);
	char b[64];

	if (is_null(v))
		return 0;
	for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(versions); i++) {
		if (strcmp(versions[i].name, s) == 0) {
			*out = versions[i].version;
			return 0;
		}
	}
	return wfail(p, v,
	    "%s: unknown TLS version: %s (valid: TLS10, TLS11, TLS12, TLS13)",
	    key, s ? shown(s, b, sizeof(b)) : "?");
}

static int
tls_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_tls *t = &p->w->tls;
	bool *auth_given = arg;
	char b[64];

	if (strcmp(key, "cert") == 0)
		return get_string(p, v, key, &t->cert);
	if (strcmp(key, "key") == 0)
		return get_string(p, v, key, &t->key);
	if (strcmp(key, "client_ca") == 0) {
		t->ca_line = line_of(k);
		return get_string(p, v, key, &t->client_ca);
	}
	if (strcmp(key, "cert_file") == 0)
		return get_path(p, v, key, &t->cert_file);
	if (strcmp(key, "key_file") == 0)
		return get_path(p, v, key, &t->key_file);
	if (strcmp(key, "client_ca_file") == 0) {
		t->ca_line = line_of(k);
		return get_path(p, v, key, &t->client_ca_file);
	}
	if (strcmp(key, "client_auth_type") == 0) {
		const char *s = is_null(v) ? "" : scalar_of(v);
		for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(auth_types);
		     i++) {
			if (strcmp(auth_types[i].name, s) == 0) {
				t->client_auth = auth_types[i].v;
				t->auth_line = line_of(k);
				osh_strlcpy(
				    t->auth_name, s, sizeof(t->auth_name));
				*auth_given = s[0] != '\0';
				return 0;
			}
		}
		return wfail(p, v,
		    "invalid client_auth_type: %s (valid: NoClientCert, "
		    "RequestClientCert, RequireAnyClientCert, "
		    "VerifyClientCertIfGiven, RequireAndVerifyClientCert)",
		    s ? shown(s, b, sizeof(b)) : "?");
	}
	if (strcmp(key, "cipher_suites") == 0)
		return each_string(p, v, key, 64, add_cipher, NULL);
	if (strcmp(key, "curve_preferences") == 0)
		return each_string(p, v, key, 16, add_curve, NULL);
	if (strcmp(key, "min_version") == 0)
		return get_version(p, v, key, &t->min_version);
	if (strcmp(key, "max_version") == 0)
		return get_version(p, v, key, &t->max_version);
	if (strcmp(key, "prefer_server_cipher_suites") == 0)
		return get_bool(p, v, key, &t->prefer_server_ciphers);
	if (strcmp(key, "client_allowed_sans") == 0) {
		t->sans_line = line_of(k);
		return each_string(p, v, key, WEB_MAX_SANS, add_san, NULL);
	}
	return wfail(p, k,
	    "unknown key \"%s\" in tls_server_config (valid: cert, key, "
	    "client_ca, cert_file, key_file, client_auth_type, client_ca_file, "
	    "cipher_suites, curve_preferences, min_version, max_version, "
	    "prefer_server_cipher_suites, client_allowed_sans)",
	    shown(key, b, sizeof(b)));
}

/* What exporter-toolkit refuses about TLS settings, and a little more. */
static int
tls_check(struct wparse *p, const yaml_node_t *n, bool auth_given)
{
	struct web_tls *t = &p->w->tls;
	bool ca = t->client_ca_file != NULL || t->client_ca != NULL;

	t->enabled = t->cert_file || t->cert || t->key_file || t->key || ca ||
	    auth_given;
	if (t->min_version > t->max_version)
		return wfail(p, n, "min_version is above max_version");
	if (!t->enabled)
		return 0;
	if (t->cert_file == NULL && t->cert == NULL)
		return wfail(p, n, "missing one of cert or cert_file");
	if (t->key_file == NULL && t->key == NULL)
		return wfail(p, n, "missing one of key or key_file");
	if (t->cert_file != NULL && t->cert != NULL)
		return wfail(p, n, "cert and cert_file are both set");
	if (t->key_file != NULL && t->key != NULL)
		return wfail(p, n, "key and key_file are both set");
	if (t->client_ca_file != NULL && t->client_ca != NULL)
		return wfail(p, n, "client_ca and client_ca_file are both set");
	if (ca && t->client_auth == WEB_NO_CLIENT_CERT)
		return wfail(p, n,
		    "a client CA is configured without a client_auth_type");
	if (!ca &&
	    (t->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
		t->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT))
		return wfail(p, n,
		    "client_auth_type %s needs client_ca_file or client_ca",
		    t->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN
			? "VerifyClientCertIfGiven"
			: "RequireAndVerifyClientCert");
	if (t->nsans > 0 && t->client_auth != WEB_REQUIRE_ANY_CLIENT_CERT &&
	    t->client_auth != WEB_REQUIRE_AND_VERIFY_CLIENT_CERT)
		return wfail(p, n,
		    "client_allowed_sans needs client_auth_type "
		    "RequireAnyClientCert or RequireAndVerifyClientCert");
	/* exporter-toolkit takes these, so files written for it load; but
	 * nothing checks who signed the certificate then. */
	if (t->nsans > 0 && t->client_auth == WEB_REQUIRE_ANY_CLIENT_CERT)
		wwarn(p, t->sans_line,
		    "client_allowed_sans with client_auth_type %s (line %zu) "
		    "checks names in certificates nobody verified: anyone "
		    "can make a self-signed certificate that carries an "
		    "allowed name; use RequireAndVerifyClientCert with "
		    "client_ca_file",
		    t->auth_name, t->auth_line);
	else if (ca &&
	    (t->client_auth == WEB_REQUEST_CLIENT_CERT ||
		t->client_auth == WEB_REQUIRE_ANY_CLIENT_CERT))
		wwarn(p, t->ca_line,
		    "%s is not used to verify client certificates with "
		    "client_auth_type %s (line %zu): any certificate is "
		    "accepted; use RequireAndVerifyClientCert or "
		    "VerifyClientCertIfGiven",
		    t->client_ca_file != NULL ? "client_ca_file" : "client_ca",
		    t->auth_name, t->auth_line);
	return 0;
}

static int
header_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_config *w = p->w;
	const char *s = is_null(v) ? "" : scalar_of(v);
	size_t i;
	char b[64], c[64];

	(void)arg;
	for (i = 0; i < WEB_NHEADERS; i++)
		if (strcmp(header_names[i].name, key) == 0)
			break;
	if (i == WEB_NHEADERS)
		return wfail(p, k, "HTTP header \"%s\" can not be configured",
		    shown(key, b, sizeof(b)));
	if (s == NULL)
		return wfail(p, v, "%s must be a string", key);
	if (strlen(s) > 4096 || strpbrk(s, "\r\n") != NULL)
		return wfail(p, v, "invalid value for %s", key);
	if (s[0] == '\0')
		return 0; /* unset */
	if (header_names[i].allowed[0] != NULL) {
		size_t a;
		for (a = 0; header_names[i].allowed[a] != NULL; a++)
			if (strcmp(header_names[i].allowed[a], s) == 0)
				break;
		if (header_names[i].allowed[a] == NULL)
			return wfail(p, v,
			    "invalid value for %s: \"%s\" (valid: %s%s%s)", key,
			    shown(s, c, sizeof(c)), header_names[i].allowed[0],
			    header_names[i].allowed[1] ? ", " : "",
			    header_names[i].allowed[1]
				? header_names[i].allowed[1]
				: "");
	}
	w->headers[w->nheaders].name = header_names[i].name;
	if ((w->headers[w->nheaders].value = strdup(s)) == NULL)
		return wfail(p, v, "out of memory");
	w->nheaders++;
	return 0;
}

static int
http_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	char b[64];

	(void)arg;
	if (strcmp(key, "http2") == 0)
		return get_bool(p, v, key, &p->w->http2);
	if (strcmp(key, "headers") == 0)
		return each_pair(
		    p, v, "headers", WEB_NHEADERS, header_pair, NULL);
	return wfail(p, k,
	    "unknown key \"%s\" in http_server_config (valid: http2, headers)",
	    shown(key, b, sizeof(b)));
}

/* A Go duration ("1s", "1m30s", "250ms", "1.5h") or whole nanoseconds. */
static bool
parse_duration(const char *s, int64_t *us)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1e3},
	    {"\xc2\xb5s", 1e3},
	    {"\xce\xbcs", 1e3},
	    {"ms", 1e6},
	    {"s", 1e9},
	    {"m", 60e9},
	    {"h", 3600e9},
	};
	double total = 0;
	int64_t ns;

	if (osh_parse_int(s, 0, INT64_MAX, &ns)) {
		*us = ns / 1000;
		return true;
	}
	if (strcmp(s, "0") == 0) {
		*us = 0;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0') {
		char *end;
		double d;
		size_t best = 0, bestlen = 0;

		if (*s < '0' || *s > '9') {
			if (*s != '.')
				return false;
		}
		errno = 0;
		d = strtod(s, &end);
		if (end == s || errno != 0 || d < 0)
			return false;
		s = end;
		for (size_t i = 0; i < OSH_ARRAY_LEN(units); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, n) == 0 && n > bestlen) {
				best = i;
				bestlen = n;
			}
		}
		if (bestlen == 0)
			return false;
		s += bestlen;
		total += d * units[best].ns;
		if (total > 9.2e18)
			return false;
	}
	*us = (int64_t)(total / 1000);
	return true;
}

static int
rate_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	const char *s = scalar_of(v);
	char b[64];

	(void)arg;
	if (strcmp(key, "interval") == 0) {
		if (is_null(v)) {
			p->w->rate_interval_us = 0;
			return 0;
		}
		if (s == NULL || !parse_duration(s, &p->w->rate_interval_us))
			return wfail(p, v,
			    "interval must be a duration like 1s or 100ms");
		return 0;
	}
	if (strcmp(key, "burst") == 0) {
		if (is_null(v)) {
			p->w->rate_burst = 0;
			return 0;
		}
		if (s == NULL ||
		    !osh_parse_int(s, 0, 1000000000, &p->w->rate_burst))
			return wfail(p, v, "burst must be a whole number");
		return 0;
	}
	return wfail(p, k,
	    "unknown key \"%s\" in rate_limit (valid: interval, burst)",
	    shown(key, b, sizeof(b)));
}

int
webcfg_bcrypt_cost(const char *s)
{
	return webcfg_bcrypt_hash_valid(s) ? (s[4] - '0') * 10 + (s[5] - '0')
					   : -1;
}

bool
webcfg_bcrypt_hash_valid(const char *s)
{
	static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(s) != 60 || s[0] != '$' || s[1] != '2' ||
	    (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' ||
	    s[4] < '0' || s[4] > '3' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return false;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	for (size_t i = 7; i < 60; i++)
		if (strchr(b64, s[i]) == NULL)
			return false;
	return true;
}

static int
user_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_config *w = p->w;
	const char *s = scalar_of(v);
	struct web_user *u;
	char b[64];

	(void)arg;
	if (strlen(key) > 255 || strchr(key, ':') != NULL)
		return wfail(p, k,
		    "user name \"%s\" is too long or holds a colon",
		    shown(key, b, sizeof(b)));
	if (s == NULL || !webcfg_bcrypt_hash_valid(s))
		return wfail(p, v,
		    "the password of user \"%s\" must be a bcrypt hash "
		    "($2y$, $2b$ or $2a$, cost 04 to 31)",
		    shown(key, b, sizeof(b)));
	u = &w->users[w->nusers];
	u->name = strdup(key);
	u->hash = strdup(s);
	w->nusers++; /* freed with w even when half made */
	if (u->name == NULL || u->hash == NULL)
		return wfail(p, v, "out of memory");
	return 0;
}

/* An unknown user's password is checked at the largest cost configured
 * (webauth.c), so that it takes as long as the slowest user's: a user
 * with a lower cost answers sooner, and so can be told from an unknown
 * one. */
static void
users_check(struct wparse *p, size_t line)
{
	const struct web_config *w = p->w;
	int lo = 99, hi = -1;

	for (size_t i = 0; i < w->nusers; i++) {
		int c = webcfg_bcrypt_cost(w->users[i].hash);
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	if (hi > lo)
		wwarn(p, line,
		    "basic_auth_users have bcrypt costs from %02d to %02d: "
		    "unknown users are checked at cost %02d, so a user with a "
		    "lower cost can be told from an unknown user by how soon "
		    "the answer comes; give every user the same cost",
		    lo, hi, hi);
}

static int
root_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	char b[64];

	(void)arg;
	if (strcmp(key, "tls_server_config") == 0) {
		bool auth_given = false;
		if (each_pair(p, v, key, 64, tls_pair, &auth_given) != 0)
			return -1;
		return tls_check(p, k, auth_given);
	}
	if (strcmp(key, "http_server_config") == 0)
		return each_pair(p, v, key, 64, http_pair, NULL);
	if (strcmp(key, "rate_limit") == 0)
		return each_pair(p, v, key, 64, rate_pair, NULL);
	if (strcmp(key, "basic_auth_users") == 0) {
		size_t n = is_null(v) || v->type != YAML_MAPPING_NODE
		    ? 0
		    : (size_t)(v->data.mapping.pairs.top -
			  v->data.mapping.pairs.start);
		if (n > WEB_MAX_USERS)
			return wfail(p, v, "basic_auth_users: more than %d",
			    WEB_MAX_USERS);
		if (n > 0 &&
		    (p->w->users = calloc(n, sizeof(*p->w->users))) == NULL)
			return wfail(p, v, "out of memory");
		if (each_pair(p, v, key, WEB_MAX_USERS, user_pair, NULL) != 0)
			return -1;
		users_check(p, line_of(k));
		return 0;
	}
	return wfail(p, k,
	    "unknown key \"%s\" (valid: tls_server_config, "
	    "http_server_config, rate_limit, basic_auth_users)",
	    shown(key, b, sizeof(b)));
}

void
webcfg_free(struct web_config *w)
{
	struct web_tls *t;

	if (w == NULL)
		return;
	t = &w->tls;
	free(t->cert_file);
	free(t->key_file);
	free(t->client_ca_file);
	free(t->cert);
	osh_free_secret(t->key);
	free(t->client_ca);
	free(t->ciphers);
	free(t->groups);
	for (size_t i = 0; i < t->nsans; i++)
		free(t->allowed_sans[i]);
	free(t->allowed_sans);
	for (size_t i = 0; i < w->nheaders; i++)
		free(w->headers[i].value);
	for (size_t i = 0; i < w->nusers; i++) {
		free(w->users[i].name);
		osh_free_secret(w->users[i].hash);
	}
	free(w->users);
	free(w);
}

struct web_config *
webcfg_parse(
    const char *text, size_t len, const char *dir, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct web_config *w = calloc(1, sizeof(*w));
	struct wparse p = {&doc, dir, w, err, errlen};
	yaml_node_t *root;
	int rc = -1;

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->tls.min_version = 0x0303;
	w->tls.max_version = TLS13;
	w->tls.prefer_server_ciphers = true;
	w->http2 = true;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %zu: %s",
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		yamlwipe_parser(&parser);
		yaml_parser_delete(&parser);
		webcfg_free(w);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !is_null(root) && root->type != YAML_MAPPING_NODE) {
		wfail(&p, root, "the web configuration must be a mapping");
		goto out;
	}
	if (root != NULL &&
	    each_pair(&p, root, "the web configuration", 16, root_pair, NULL) !=
		0)
		goto out;
	rc = 0;
out:
	/* The file may hold a private key (key:) and password hashes. */
	yamlwipe_document(&doc);
	yaml_document_delete(&doc);
	yamlwipe_parser(&parser);
	yaml_parser_delete(&parser);
	if (rc != 0) {
		webcfg_free(w);
		return NULL;
	}
	return w;
}

struct web_config *
webcfg_load(const char *path, char *err, size_t errlen)
{
	struct web_config *w;
	char *text, *dir;
	const char *slash;

	if (path == NULL || path[0] == '\0')
		return webcfg_parse("", 0, NULL, err, errlen);
	if ((text = osh_read_file(path, 1 << 20, false)) == NULL) {
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	slash = strrchr(path, '/');
	dir = slash == NULL ? strdup(".")
	    : slash == path ? strdup("/")
			    : strndup(path, (size_t)(slash - path));
	w = webcfg_parse(text, strlen(text), dir ? dir : ".", err, errlen);
	free(dir);
	osh_free_secret(text); /* it may hold a private key */
	return w;
}
