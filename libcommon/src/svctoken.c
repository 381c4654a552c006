/* svctoken.c - a service token from auth, cached and shared. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "osh/crypto.h"
#include "osh/httpc.h"
#include "osh/json.h"
#include "osh/log.h"
#include "osh/svctoken.h"
#include "osh/util.h"

#define TOKEN_MAX 2048
#define MAX_WAITERS 4096
#define AUTH_TIMEOUT_MS 5000

struct waiter {
	TAILQ_ENTRY(waiter) next;
	osh_svctoken_cb cb;
	void *arg;
};
TAILQ_HEAD(waiter_list, waiter);

struct osh_svctoken {
	struct osh_httpc *http;
	char *auth_url, *service, *secret;
	char token[TOKEN_MAX];
	int64_t expires_s;
	bool pending;
	struct waiter_list waiters;
	size_t nwaiters;
};

struct osh_svctoken *
osh_svctoken_new(struct osh_httpc *http, const char *auth_url,
    const char *service, const char *secret)
{
	struct osh_svctoken *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->http = http;
	TAILQ_INIT(&t->waiters);
	t->auth_url = strdup(auth_url);
	t->service = strdup(service);
	t->secret = strdup(secret);
	if (t->auth_url == NULL || t->service == NULL || t->secret == NULL) {
		osh_svctoken_free(t);
		return NULL;
	}
	return t;
}

/* Answers every waiter with token (may be NULL). The waiters are taken
 * off t first, and the token copied, so that a callback may free t. */
static void
answer_all(struct osh_svctoken *t, const char *token)
{
	struct waiter_list list = TAILQ_HEAD_INITIALIZER(list);
	struct waiter *w;
	char copy[TOKEN_MAX];

	if (token != NULL)
		osh_strlcpy(copy, token, sizeof(copy));
	TAILQ_CONCAT(&list, &t->waiters, next);
	t->nwaiters = 0;
	while ((w = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, w, next);
		w->cb(token != NULL ? copy : NULL, w->arg);
		free(w);
	}
	osh_wipe(copy, sizeof(copy));
}

void
osh_svctoken_free(struct osh_svctoken *t)
{
	struct waiter *w;

	if (t == NULL)
		return;
	while ((w = TAILQ_FIRST(&t->waiters)) != NULL) {
		TAILQ_REMOVE(&t->waiters, w, next);
		w->cb(NULL, w->arg);
		free(w);
	}
	free(t->auth_url);
	free(t->service);
	osh_free_secret(t->secret);
	osh_wipe(t->token, sizeof(t->token));
	free(t);
}

static void
on_token(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct osh_svctoken *t = arg;
	struct json_object *o = NULL;
	const char *tok;
	char qe[200];

	(void)len;
	t->pending = false;
	if (status == 200 && (o = json_tokener_parse(body)) != NULL &&
	    (tok = osh_json_str(o, "access_token", NULL)) != NULL &&
	    osh_strlcpy(t->token, tok, sizeof(t->token))) {
		t->expires_s =
		    osh_wall_s() + osh_json_int(o, "expires_in", 120) - 60;
	} else {
		osh_wipe(t->token, sizeof(t->token));
		t->expires_s = 0;
		osh_log_warn(NULL,
		    "msg=\"service token refused\" status=%d error=\"%s\"",
		    status, osh_log_quote(error ? error : "", qe, sizeof(qe)));
	}
	osh_json_wipe_all(o); /* the token */
	json_object_put(o);
	answer_all(t, t->token[0] != '\0' ? t->token : NULL);
}

static void
fetch(struct osh_svctoken *t)
{
	struct json_object *body = json_object_new_object();
	const char *headers[] = {"Content-Type: application/json", NULL};
	const char *text;
	char url[600];

	json_object_object_add(
	    body, "service", json_object_new_string(t->service));
	json_object_object_add(
	    body, "secret", json_object_new_string(t->secret));
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	snprintf(
	    url, sizeof(url), "%s/internal/auth/service-token", t->auth_url);
	t->pending = true;
	if (osh_httpc_request(t->http, "POST", url, headers, text, strlen(text),
		AUTH_TIMEOUT_MS, on_token, t) != 0)
		on_token(0, NULL, 0, "cannot reach auth", t);
	osh_wipe((void *)(uintptr_t)text, strlen(text));
	osh_json_wipe_all(body); /* the secret */
	json_object_put(body);
}

void
osh_svctoken_get(struct osh_svctoken *t, osh_svctoken_cb cb, void *arg)
{
	struct waiter *w;

	if (t->token[0] != '\0' && osh_wall_s() < t->expires_s) {
		cb(t->token, arg);
		return;
	}
	if (t->nwaiters >= MAX_WAITERS || (w = calloc(1, sizeof(*w))) == NULL) {
		cb(NULL, arg);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&t->waiters, w, next);
	t->nwaiters++;
	if (!t->pending)
		fetch(t);
}

void
osh_svctoken_invalidate(struct osh_svctoken *t)
{
	osh_wipe(t->token, sizeof(t->token));
	t->expires_s = 0;
}
