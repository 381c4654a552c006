/* svctoken.h - a service's access token from auth (POST
 * /internal/auth/service-token with the shared service secret), fetched
 * on demand, kept until a minute before it expires, and shared by every
 * caller: one request to auth at a time, the others wait for it. */
#ifndef OSH_SVCTOKEN_H
#define OSH_SVCTOKEN_H

struct osh_httpc;
struct osh_svctoken;

/* http is borrowed (it must outlive the token holder); auth_url ("http://
 * host:port"), service (the name the token is for) and secret are copied;
 * the copy of the secret is wiped when freed. NULL when out of memory. */
struct osh_svctoken *osh_svctoken_new(struct osh_httpc *http,
    const char *auth_url, const char *service, const char *secret);
/* Waiting callers get NULL first. */
void osh_svctoken_free(struct osh_svctoken *t);

/* token is NULL when auth did not give one (unreachable, refused, too many
 * waiting); it is valid only during the callback. The callback runs at
 * once when a token is held, else when auth answers. */
typedef void (*osh_svctoken_cb)(const char *token, void *arg);
void osh_svctoken_get(struct osh_svctoken *t, osh_svctoken_cb cb, void *arg);

/* Forgets the token held (a service answered 401 to it): the next get
 * asks auth again. */
void osh_svctoken_invalidate(struct osh_svctoken *t);

#endif
