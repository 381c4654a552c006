/* http_tls.c - the HTTP server's TLS glue: a connection's bufferevent
 * over OpenSSL, and the server's TLS context. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "http_int.h"

struct bufferevent *
http_new_bev(struct osh_http *h, evutil_socket_t fd, bool tls)
{
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent *bev;
	SSL *ssl;

	if (!tls) {
		/* libevent writes 16 KB a turn by default: a 50 KB answer
		 * would take four turns of the loop and as many syscalls. */
		if ((bev = bufferevent_socket_new(h->base, fd, opts)) != NULL)
			bufferevent_set_max_single_write(bev, HTTP_MAX_WRITE);
		return bev;
	}
	if ((ssl = SSL_new(h->tls)) == NULL)
		return NULL;
	/* Renegotiation is a cheap way for a client to make us work hard,
	 * and no client of ours needs it. Decrypted requests are wiped from
	 * OpenSSL's buffers once read. */
	SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	SSL_set_options(ssl, SSL_OP_CLEANSE_PLAINTEXT);
#endif
	bev = bufferevent_openssl_socket_new(
	    h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients often close without close_notify: not an error here. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void
osh_http_set_tls(struct osh_http *h, struct ssl_ctx_st *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	if (h->tls != NULL)
		SSL_CTX_free(h->tls);
	h->tls = ctx;
}
