/* tls.c - the exporter's TLS context from tls_server_config. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/util.h>

#include "tls.h"

/* What the verify callback needs, kept with the context (ex_data). */
struct policy {
	bool verify_chain; /* false: any certificate will do */
	char **sans; /* client_allowed_sans */
	size_t nsans;
};

static int policy_index = -1;
static pthread_once_t policy_once = PTHREAD_ONCE_INIT;

static void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nsans; i++)
		free(p->sans[i]);
	free(p->sans);
	free(p);
}

static void
policy_ex_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	policy_free(ptr);
}

static void
policy_init(void)
{
	policy_index =
	    SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, policy_ex_free);
}

static void tls_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The reason, with OpenSSL's own last error when there is one. */
static void
tls_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256], ossl[256] = "";
	unsigned long e, last = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, ossl, sizeof(ossl));
	snprintf(err, errlen, "%s%s%s", msg, ossl[0] ? ": " : "", ossl);
}

/* Never ask a terminal for a key's passphrase: encrypted keys fail. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Whether one of the certificate's subject alternative names (DNS, email,
 * IP, URI) is exactly one of the allowed ones. */
static bool
san_allowed(X509 *cert, const struct policy *p)
{
	GENERAL_NAMES *names =
	    X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	bool ok = false;

	for (int i = 0; names != NULL && !ok && i < sk_GENERAL_NAME_num(names);
	     i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char buf[INET6_ADDRSTRLEN];
		const char *v = NULL;
		int len = 0;

		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			v = (const char *)ASN1_STRING_get0_data(g->d.ia5);
			len = ASN1_STRING_length(g->d.ia5);
			break;
		case GEN_IPADD:
			len = ASN1_STRING_length(g->d.ip);
			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6,
				ASN1_STRING_get0_data(g->d.ip), buf,
				sizeof(buf)) != NULL) {
				v = buf;
				len = (int)strlen(buf);
			}
			break;
		default: break;
		}
		for (size_t k = 0; v != NULL && !ok && k < p->nsans; k++)
			ok = strlen(p->sans[k]) == (size_t)len &&
			    memcmp(p->sans[k], v, (size_t)len) == 0;
	}
	GENERAL_NAMES_free(names);
	return ok;
}

static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl =
	    X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct policy *p = ssl != NULL
	    ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), policy_index)
	    : NULL;

	if (p == NULL)
		return ok;
	if (!p->verify_chain)
		ok = 1;
	if (ok && p->nsans > 0 && X509_STORE_CTX_get_error_depth(x) == 0 &&
	    !san_allowed(X509_STORE_CTX_get_current_cert(x), p)) {
		X509_STORE_CTX_set_error(
		    x, X509_V_ERR_APPLICATION_VERIFICATION);
		ok = 0;
	}
	return ok;
}

/* The certificate and its chain from PEM text. */
static int
use_cert_text(SSL_CTX *ctx, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int rc = -1;

	if (b == NULL)
		return -1;
	if ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1)
		goto out;
	X509_free(x);
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto out;
		}
	}
	x = NULL;
	ERR_clear_error(); /* the end of the text */
	rc = 0;
out:
	X509_free(x);
	BIO_free(b);
	return rc;
}

static int
use_key_text(SSL_CTX *ctx, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k =
	    b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	int rc = k != NULL && SSL_CTX_use_PrivateKey(ctx, k) == 1 ? 0 : -1;

	EVP_PKEY_free(k);
	BIO_free(b);
	return rc;
}

/* Client CA certificates from a file or PEM text: trusted for verifying
 * client certificates, and named in the certificate request. */
static int
use_client_ca(SSL_CTX *ctx, const struct web_tls *t, char *err, size_t errlen)
{
	BIO *b = t->client_ca_file ? BIO_new_file(t->client_ca_file, "r")
				   : BIO_new_mem_buf(t->client_ca, -1);
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509 *x;
	int n = 0;

	if (b == NULL) {
		tls_fail(err, errlen, "cannot read client_ca_file %s",
		    t->client_ca_file ? t->client_ca_file : "");
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) != 1 ||
		    SSL_CTX_add_client_CA(ctx, x) != 1) {
			X509_free(x);
			BIO_free(b);
			tls_fail(err, errlen, "cannot use the client CA");
			return -1;
		}
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n == 0) {
		snprintf(err, errlen, "%s holds no certificate",
		    t->client_ca_file ? t->client_ca_file : "client_ca");
		return -1;
	}
	return 0;
}

static struct policy *
policy_new(const struct web_tls *t)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->verify_chain = t->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
	    t->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT;
	if (t->nsans > 0 &&
	    (p->sans = calloc(t->nsans, sizeof(*p->sans))) == NULL) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < t->nsans; i++) {
		if ((p->sans[i] = strdup(t->allowed_sans[i])) == NULL) {
			policy_free(p);
			return NULL;
		}
		p->nsans++;
	}
	return p;
}

struct ssl_ctx_st *
tls_ctx_new(const struct web_tls *t, char *err, size_t errlen)
{
	static const unsigned char sid[] = "osh-ipmi-exporter";
	SSL_CTX *ctx;
	struct policy *p = NULL;
	int mode = SSL_VERIFY_NONE;

	pthread_once(&policy_once, policy_init);
	ERR_clear_error();
	if (policy_index < 0 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
		(t->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE
					  : 0));
	if (SSL_CTX_set_min_proto_version(ctx, t->min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, t->max_version) != 1) {
		tls_fail(err, errlen, "cannot set the TLS versions");
		goto out_free;
	}
	if (t->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1) {
		tls_fail(err, errlen, "cipher_suites not available");
		goto out_free;
	}
	if (t->groups != NULL &&
	    SSL_CTX_set1_groups_list(ctx, t->groups) != 1) {
		tls_fail(err, errlen, "curve_preferences not available");
		goto out_free;
	}
	if (t->cert_file != NULL
		? SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1
		: use_cert_text(ctx, t->cert ? t->cert : "") != 0) {
		tls_fail(err, errlen, "cannot load the certificate%s%s",
		    t->cert_file ? " " : "", t->cert_file ? t->cert_file : "");
		goto out_free;
	}
	if (t->key_file != NULL
		? SSL_CTX_use_PrivateKey_file(
		      ctx, t->key_file, SSL_FILETYPE_PEM) != 1
		: use_key_text(ctx, t->key ? t->key : "") != 0) {
		tls_fail(err, errlen, "cannot load the private key%s%s",
		    t->key_file ? " " : "", t->key_file ? t->key_file : "");
		goto out_free;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_fail(err, errlen, "the key does not match the certificate");
		goto out_free;
	}
	if ((t->client_ca_file != NULL || t->client_ca != NULL) &&
	    use_client_ca(ctx, t, err, errlen) != 0)
		goto out_free;
	switch (t->client_auth) {
	case WEB_NO_CLIENT_CERT: mode = SSL_VERIFY_NONE; break;
	case WEB_REQUEST_CLIENT_CERT:
	case WEB_VERIFY_CLIENT_CERT_IF_GIVEN: mode = SSL_VERIFY_PEER; break;
	case WEB_REQUIRE_ANY_CLIENT_CERT:
	case WEB_REQUIRE_AND_VERIFY_CLIENT_CERT:
		mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		break;
	}
	if ((p = policy_new(t)) == NULL ||
	    SSL_CTX_set_ex_data(ctx, policy_index, p) != 1) {
		policy_free(p);
		tls_fail(err, errlen, "out of memory");
		goto out_free;
	}
	SSL_CTX_set_verify(
	    ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_cb);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	return ctx;
out_free:
	SSL_CTX_free(ctx);
	return NULL;
}
