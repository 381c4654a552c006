/* Unit tests for the exporter's TLS context (tls.c): certificates made by
 * the openssl tool in a temporary directory, contexts built from web
 * configurations, and real handshakes against an OpenSSL client over a
 * socket pair: each client_auth_type with and without a client
 * certificate, a certificate from another CA, client_allowed_sans, TLS
 * versions, inline PEM, and the errors for files that do not fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <osh/crypto.h>
#include <osh/util.h>

#include "ipmi-exporter/tls.h"
#include "ipmi-exporter/webcfg.h"

static char dir[256];

static void
path_of(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int
run(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd %s && %s >/dev/null 2>&1", dir, cmd);
	return system(full);
}

/* A CA, a server certificate for 127.0.0.1, two client certificates of
 * the CA (one with a DNS SAN, one without), and one of another CA. */
static int
make_certs(void **state)
{
	static const char *const cmds[] = {
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca",
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout other.key -out other.crt -days 2 -subj /CN=other",
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout server.key -out server.csr -subj /CN=127.0.0.1",
	    "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext && "
	    "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out server.crt -days 2 -extfile server.ext",
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout client.key -out client.csr -subj /CN=prometheus",
	    "printf 'subjectAltName=DNS:prometheus.example,IP:10.9.8.7\\n' > "
	    "client.ext && openssl x509 -req -in client.csr -CA ca.crt "
	    "-CAkey ca.key -CAcreateserial -out client.crt -days 2 "
	    "-extfile client.ext",
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout nosan.key -out nosan.csr -subj /CN=nosan",
	    "openssl x509 -req -in nosan.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out nosan.crt -days 2",
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout stranger.key -out stranger.csr -subj /CN=stranger",
	    "printf 'subjectAltName=DNS:prometheus.example\\n' > s.ext && "
	    "openssl x509 -req -in stranger.csr -CA other.crt -CAkey other.key "
	    "-CAcreateserial -out stranger.crt -days 2 -extfile s.ext",
	    "printf 'not a certificate\\n' > junk.pem",
	};

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osh-tls-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cmds); i++)
		if (run(cmds[i]) != 0) {
			fprintf(stderr, "failed: %s\n", cmds[i]);
			return -1;
		}
	return 0;
}

static int
remove_certs(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A web configuration from YAML whose relative names are in dir. */
static struct web_config *
web(const char *yaml)
{
	char err[300] = "";
	struct web_config *w =
	    webcfg_parse(yaml, strlen(yaml), dir, err, sizeof(err));

	if (w == NULL)
		fail_msg("web config: %s", err);
	return w;
}

static SSL_CTX *
server_ctx(const char *yaml, char *err, size_t errlen)
{
	struct web_config *w = web(yaml);
	SSL_CTX *ctx;

	assert_true(w->tls.enabled);
	ctx = tls_ctx_new(&w->tls, err, errlen);
	webcfg_free(w);
	return ctx;
}

struct client_opts {
	const char *cert, *key; /* names in dir, or NULL */
	int max_version;
};

/* Runs a handshake between ctx and a client; true when it succeeds on
 * both sides. */
static bool
handshake(SSL_CTX *sctx, const struct client_opts *co)
{
	int sv[2];
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s, *c;
	char p[300];
	int sdone = 0, cdone = 0;
	bool ok;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	path_of("ca.crt", p, sizeof(p));
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, p, NULL), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	if (co->max_version)
		SSL_CTX_set_max_proto_version(cctx, co->max_version);
	if (co->cert != NULL) {
		path_of(co->cert, p, sizeof(p));
		assert_int_equal(
		    SSL_CTX_use_certificate_file(cctx, p, SSL_FILETYPE_PEM), 1);
		path_of(co->key, p, sizeof(p));
		assert_int_equal(
		    SSL_CTX_use_PrivateKey_file(cctx, p, SSL_FILETYPE_PEM), 1);
	}
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set1_host(c, "127.0.0.1");
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 200 && (sdone == 0 || cdone == 0); i++) {
		if (sdone == 0) {
			int r = SSL_do_handshake(s);
			int e = SSL_get_error(s, r);
			if (r == 1)
				sdone = 1;
			else if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				sdone = -1;
		}
		if (cdone == 0) {
			int r = SSL_do_handshake(c);
			int e = SSL_get_error(c, r);
			if (r == 1)
				cdone = 1;
			else if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				cdone = -1;
		}
		if (sdone < 0 || cdone < 0)
			break;
	}
	/* In TLS 1.3 the server judges the client's certificate after the
	 * client has finished: a byte through shows that it was taken. */
	ok = sdone == 1 && cdone == 1;
	if (ok) {
		char b = 'x', got = 0;
		int r = -1;
		SSL_write(c, &b, 1);
		for (int i = 0; i < 50 && r <= 0; i++) {
			r = SSL_read(s, &got, 1);
			if (r <= 0 &&
			    SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
				break;
			if (r <= 0)
				poll(NULL, 0, 2);
		}
		ok = r == 1 && got == 'x';
	}
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
	close(sv[0]);
	close(sv[1]);
	return ok;
}

static const struct client_opts no_cert = {NULL, NULL, 0};
static const struct client_opts good_cert = {"client.crt", "client.key", 0};
static const struct client_opts nosan_cert = {"nosan.crt", "nosan.key", 0};
static const struct client_opts stranger = {"stranger.crt", "stranger.key", 0};

static void
client_auth_types(void **state)
{
	static const struct {
		const char *auth;
		bool none, good, strange;
	} cases[] = {
	    {"NoClientCert", true, true, true},
	    {"RequestClientCert", true, true, true},
	    {"RequireAnyClientCert", false, true, true},
	    {"RequireClientCert", false, true, true},
	    {"VerifyClientCertIfGiven", true, true, false},
	    {"RequireAndVerifyClientCert", false, true, false},
	};
	char yaml[600], err[300];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		SSL_CTX *ctx;
		bool ca = strcmp(cases[i].auth, "NoClientCert") != 0;

		snprintf(yaml, sizeof(yaml),
		    "tls_server_config:\n"
		    "  cert_file: server.crt\n"
		    "  key_file: server.key\n"
		    "  client_auth_type: %s\n%s",
		    cases[i].auth, ca ? "  client_ca_file: ca.crt\n" : "");
		ctx = server_ctx(yaml, err, sizeof(err));
		if (ctx == NULL)
			fail_msg("%s: %s", cases[i].auth, err);
		assert_int_equal(handshake(ctx, &no_cert), cases[i].none);
		assert_int_equal(handshake(ctx, &good_cert), cases[i].good);
		assert_int_equal(handshake(ctx, &stranger), cases[i].strange);
		SSL_CTX_free(ctx);
	}
}

static void
allowed_sans(void **state)
{
	char err[300];
	SSL_CTX *ctx;

	(void)state;
	ctx = server_ctx("tls_server_config:\n"
			 "  cert_file: server.crt\n"
			 "  key_file: server.key\n"
			 "  client_auth_type: RequireAndVerifyClientCert\n"
			 "  client_ca_file: ca.crt\n"
			 "  client_allowed_sans: [other.example, "
			 "prometheus.example]\n",
	    err, sizeof(err));
	assert_non_null(ctx);
	assert_true(handshake(ctx, &good_cert));
	assert_false(handshake(ctx, &nosan_cert));
	assert_false(handshake(ctx, &stranger)); /* right SAN, wrong CA */
	SSL_CTX_free(ctx);

	/* An IP SAN, printed as Go prints it. */
	ctx = server_ctx("tls_server_config:\n"
			 "  cert_file: server.crt\n"
			 "  key_file: server.key\n"
			 "  client_auth_type: RequireAnyClientCert\n"
			 "  client_ca_file: ca.crt\n"
			 "  client_allowed_sans: ['10.9.8.7']\n",
	    err, sizeof(err));
	assert_non_null(ctx);
	assert_true(handshake(ctx, &good_cert));
	assert_false(handshake(ctx, &nosan_cert));
	SSL_CTX_free(ctx);
}

static void
versions_ciphers_curves(void **state)
{
	char err[300];
	SSL_CTX *ctx;
	struct client_opts tls12 = {NULL, NULL, TLS1_2_VERSION};

	(void)state;
	ctx = server_ctx("tls_server_config:\n"
			 "  cert_file: server.crt\n"
			 "  key_file: server.key\n"
			 "  min_version: TLS13\n",
	    err, sizeof(err));
	assert_non_null(ctx);
	assert_true(handshake(ctx, &no_cert));
	assert_false(handshake(ctx, &tls12));
	SSL_CTX_free(ctx);

	ctx = server_ctx("tls_server_config:\n"
			 "  cert_file: server.crt\n"
			 "  key_file: server.key\n"
			 "  max_version: TLS12\n"
			 "  cipher_suites:\n"
			 "    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
			 "    - TLS_AES_128_GCM_SHA256\n"
			 "  curve_preferences: [X25519, CurveP256]\n"
			 "  prefer_server_cipher_suites: false\n",
	    err, sizeof(err));
	assert_non_null(ctx);
	assert_true(handshake(ctx, &tls12));
	assert_true(handshake(ctx, &no_cert));
	SSL_CTX_free(ctx);

	/* An RSA-only suite with an EC key: no handshake can work. */
	ctx = server_ctx(
	    "tls_server_config:\n"
	    "  cert_file: server.crt\n"
	    "  key_file: server.key\n"
	    "  max_version: TLS12\n"
	    "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n",
	    err, sizeof(err));
	assert_non_null(ctx);
	assert_false(handshake(ctx, &tls12));
	SSL_CTX_free(ctx);
}

/* The PEM text itself in the file, as cert/key/client_ca. */
static void
inline_pem(void **state)
{
	char p[300], err[300], *cert, *key, *ca, *yaml;
	struct osh_buf b;
	SSL_CTX *ctx;

	(void)state;
	path_of("server.crt", p, sizeof(p));
	cert = osh_read_file(p, 65536, true);
	path_of("server.key", p, sizeof(p));
	key = osh_read_file(p, 65536, true);
	path_of("ca.crt", p, sizeof(p));
	ca = osh_read_file(p, 65536, true);
	assert_non_null(cert);
	assert_non_null(key);
	assert_non_null(ca);
	osh_buf_init(&b, 0);
	osh_buf_puts(&b, "tls_server_config:\n  cert: |\n");
	for (char *line = cert; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		osh_buf_printf(&b, "    %.*s\n",
		    (int)(nl ? nl - line : (long)strlen(line)), line);
		line = nl ? nl + 1 : NULL;
	}
	osh_buf_puts(&b, "  key: |\n");
	for (char *line = key; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		osh_buf_printf(&b, "    %.*s\n",
		    (int)(nl ? nl - line : (long)strlen(line)), line);
		line = nl ? nl + 1 : NULL;
	}
	osh_buf_puts(&b,
	    "  client_auth_type: RequireAndVerifyClientCert\n"
	    "  client_ca: |\n");
	for (char *line = ca; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		osh_buf_printf(&b, "    %.*s\n",
		    (int)(nl ? nl - line : (long)strlen(line)), line);
		line = nl ? nl + 1 : NULL;
	}
	yaml = osh_buf_steal(&b);
	ctx = server_ctx(yaml, err, sizeof(err));
	if (ctx == NULL)
		fail_msg("%s", err);
	assert_true(handshake(ctx, &good_cert));
	assert_false(handshake(ctx, &no_cert));
	SSL_CTX_free(ctx);
	free(yaml);
	free(cert);
	osh_free_secret(key);
	free(ca);
}

static void
files_that_do_not_fit(void **state)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
	    {"tls_server_config:\n  cert_file: nope.crt\n"
	     "  key_file: server.key\n",
		"cannot load the certificate"},
	    {"tls_server_config:\n  cert_file: junk.pem\n"
	     "  key_file: server.key\n",
		"cannot load the certificate"},
	    {"tls_server_config:\n  cert_file: server.crt\n"
	     "  key_file: nope.key\n",
		"cannot load the private key"},
	    {"tls_server_config:\n  cert_file: server.crt\n"
	     "  key_file: client.key\n",
		"mismatch"},
	    {"tls_server_config:\n  cert_file: server.crt\n"
	     "  key_file: server.key\n"
	     "  client_auth_type: RequireAndVerifyClientCert\n"
	     "  client_ca_file: junk.pem\n",
		"holds no certificate"},
	    {"tls_server_config:\n  cert_file: server.crt\n"
	     "  key_file: server.key\n"
	     "  client_auth_type: RequireAndVerifyClientCert\n"
	     "  client_ca_file: nope.crt\n",
		"cannot read client_ca_file"},
	};
	char err[300];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		err[0] = '\0';
		assert_null(server_ctx(cases[i].yaml, err, sizeof(err)));
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(client_auth_types),
	    cmocka_unit_test(allowed_sans),
	    cmocka_unit_test(versions_ciphers_curves),
	    cmocka_unit_test(inline_pem),
	    cmocka_unit_test(files_that_do_not_fit),
	};

	return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
