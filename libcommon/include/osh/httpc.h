/* httpc.h - outgoing HTTP on the event loop (libcurl multi): many requests
 * at once, each with a deadline, never blocking the loop. */
#ifndef OSH_HTTPC_H
#define OSH_HTTPC_H

#include <stddef.h>

struct event_base;
struct osh_httpc;

/* status is the HTTP status, or 0 when there was no answer (error says
 * why). body (NUL terminated) is valid only during the callback, and
 * wiped afterwards: a callback that copies a secret out of it wipes its
 * copy itself. */
typedef void (*osh_httpc_cb)(
    int status, const char *body, size_t len, const char *error, void *arg);

struct osh_httpc *osh_httpc_new(struct event_base *base);
/* Pending requests get their callbacks (status 0) before this returns. */
void osh_httpc_free(struct osh_httpc *c);

/* headers: NULL-terminated "Name: value" strings (copied); body may be
 * NULL. Both copies are wiped when the transfer ends, and so is what
 * libcurl held of them (the caller's own strings are the caller's to
 * wipe). The callback always runs later, exactly once. Answers larger
 * than 8 MiB fail. */
int osh_httpc_request(struct osh_httpc *c, const char *method, const char *url,
    const char *const *headers, const char *body, size_t len, int timeout_ms,
    osh_httpc_cb cb, void *arg);

#endif
