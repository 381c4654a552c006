/* webcfg_tls.c - the web configuration's tls_server_config: certificate,
 * key and client CA, client authentication, versions, cipher suites and
 * curves by Go's names turned into OpenSSL's, allowed client SANs, and
 * the checks exporter-toolkit makes of them. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <osh/util.h>

#include "webcfg.h"
#include "webcfg_int.h"

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
	return wfail(p, n, "unknown cipher: %s", webcfg_shown(s, b, sizeof(b)));
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
	    webcfg_shown(s, b, sizeof(b)));
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
	const char *s = webcfg_scalar_of(v);
	char b[64];

	if (webcfg_is_null(v))
		return 0;
	for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(versions); i++) {
		if (strcmp(versions[i].name, s) == 0) {
			*out = versions[i].version;
			return 0;
		}
	}
	return wfail(p, v,
	    "%s: unknown TLS version: %s (valid: TLS10, TLS11, TLS12, TLS13)",
	    key, s ? webcfg_shown(s, b, sizeof(b)) : "?");
}

int
webcfg_tls_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_tls *t = &p->w->tls;
	bool *auth_given = arg;
	char b[64];

	if (strcmp(key, "cert") == 0)
		return webcfg_get_string(p, v, key, &t->cert);
	if (strcmp(key, "key") == 0)
		return webcfg_get_string(p, v, key, &t->key);
	if (strcmp(key, "client_ca") == 0) {
		t->ca_line = webcfg_line_of(k);
		return webcfg_get_string(p, v, key, &t->client_ca);
	}
	if (strcmp(key, "cert_file") == 0)
		return webcfg_get_path(p, v, key, &t->cert_file);
	if (strcmp(key, "key_file") == 0)
		return webcfg_get_path(p, v, key, &t->key_file);
	if (strcmp(key, "client_ca_file") == 0) {
		t->ca_line = webcfg_line_of(k);
		return webcfg_get_path(p, v, key, &t->client_ca_file);
	}
	if (strcmp(key, "client_auth_type") == 0) {
		const char *s = webcfg_is_null(v) ? "" : webcfg_scalar_of(v);
		for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(auth_types);
		     i++) {
			if (strcmp(auth_types[i].name, s) == 0) {
				t->client_auth = auth_types[i].v;
				t->auth_line = webcfg_line_of(k);
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
		    s ? webcfg_shown(s, b, sizeof(b)) : "?");
	}
	if (strcmp(key, "cipher_suites") == 0)
		return webcfg_each_string(p, v, key, 64, add_cipher, NULL);
	if (strcmp(key, "curve_preferences") == 0)
		return webcfg_each_string(p, v, key, 16, add_curve, NULL);
	if (strcmp(key, "min_version") == 0)
		return get_version(p, v, key, &t->min_version);
	if (strcmp(key, "max_version") == 0)
		return get_version(p, v, key, &t->max_version);
	if (strcmp(key, "prefer_server_cipher_suites") == 0)
		return webcfg_get_bool(p, v, key, &t->prefer_server_ciphers);
	if (strcmp(key, "client_allowed_sans") == 0) {
		t->sans_line = webcfg_line_of(k);
		return webcfg_each_string(
		    p, v, key, WEB_MAX_SANS, add_san, NULL);
	}
	return wfail(p, k,
	    "unknown key \"%s\" in tls_server_config (valid: cert, key, "
	    "client_ca, cert_file, key_file, client_auth_type, client_ca_file, "
	    "cipher_suites, curve_preferences, min_version, max_version, "
	    "prefer_server_cipher_suites, client_allowed_sans)",
	    webcfg_shown(key, b, sizeof(b)));
}

/* What exporter-toolkit refuses about TLS settings, and a little more. */
int
webcfg_tls_check(struct wparse *p, const yaml_node_t *n, bool auth_given)
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
		webcfg_warn(p, t->sans_line,
		    "client_allowed_sans with client_auth_type %s (line %zu) "
		    "checks names in certificates nobody verified: anyone "
		    "can make a self-signed certificate that carries an "
		    "allowed name; use RequireAndVerifyClientCert with "
		    "client_ca_file",
		    t->auth_name, t->auth_line);
	else if (ca &&
	    (t->client_auth == WEB_REQUEST_CLIENT_CERT ||
		t->client_auth == WEB_REQUIRE_ANY_CLIENT_CERT))
		webcfg_warn(p, t->ca_line,
		    "%s is not used to verify client certificates with "
		    "client_auth_type %s (line %zu): any certificate is "
		    "accepted; use RequireAndVerifyClientCert or "
		    "VerifyClientCertIfGiven",
		    t->client_ca_file != NULL ? "client_ca_file" : "client_ca",
		    t->auth_name, t->auth_line);
	return 0;
}
