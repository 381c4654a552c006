/* tls.h - the server's TLS context (OpenSSL) from a web configuration's
 * tls_server_config, with exporter-toolkit's meaning for each setting:
 * certificate and key (files or PEM text), client certificates asked for,
 * required and verified as client_auth_type says against the client CA,
 * client_allowed_sans, TLS versions, TLS 1.2 cipher suites and curves. */
#ifndef EXP_TLS_H
#define EXP_TLS_H

#include <stddef.h>

#include "webcfg.h"

struct ssl_ctx_st;

/* Reads the files now. Returns a new context (the caller frees it with
 * SSL_CTX_free) or NULL with the reason in err. */
struct ssl_ctx_st *tls_ctx_new(
    const struct web_tls *t, char *err, size_t errlen);

#endif
