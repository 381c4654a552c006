/* clustermap.c - the clusters of each server, from cluster-mgmt, cached. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/svctoken.h>
#include <osh/util.h>

#include "clustermap.h"

#define HTTP_TIMEOUT_MS 3000
#define MAX_WAITERS 256

struct waiter {
	TAILQ_ENTRY(waiter) next;
	clustermap_cb cb;
	void *arg;
};
TAILQ_HEAD(waiter_list, waiter);

struct clustermap {
	struct osh_httpc *http;
	struct osh_svctoken *token;
	char *url; /* NULL: disabled */
	char *map; /* the last map known, or NULL */
	int64_t fresh_until_s;
	bool pending;
	struct waiter_list waiters;
	size_t nwaiters;
};

struct clustermap *
clustermap_new(struct event_base *base, const char *cluster_mgmt_url,
    const char *auth_url, const char *secret)
{
	struct clustermap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	TAILQ_INIT(&m->waiters);
	if (cluster_mgmt_url[0] == '\0' || secret == NULL || secret[0] == '\0')
		return m;
	m->http = osh_httpc_new(base);
	m->token = m->http
	    ? osh_svctoken_new(m->http, auth_url, "server-mgmt", secret)
	    : NULL;
	m->url = strdup(cluster_mgmt_url);
	if (m->token == NULL || m->url == NULL) {
		clustermap_free(m);
		return NULL;
	}
	return m;
}

static void
answer_all(struct clustermap *m)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(&m->waiters)) != NULL) {
		TAILQ_REMOVE(&m->waiters, w, next);
		m->nwaiters--;
		w->cb(m->map, w->arg);
		free(w);
	}
}

void
clustermap_free(struct clustermap *m)
{
	if (m == NULL)
		return;
	free(m->map);
	m->map = NULL;
	osh_svctoken_free(m->token);
	osh_httpc_free(m->http); /* answers the lookup under way */
	answer_all(m);
	free(m->url);
	free(m);
}

static void
on_map(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct clustermap *m = arg;
	struct json_object *o = NULL, *servers;
	struct osh_err err;
	char q[200];

	m->pending = false;
	m->fresh_until_s = osh_wall_s() + CLUSTERMAP_TTL_S;
	if (status == 200 &&
	    (o = osh_json_parse(body, len, OSH_JSON_MAX_DEPTH, &err)) != NULL &&
	    json_object_object_get_ex(o, "servers", &servers) &&
	    json_object_is_type(servers, json_type_object)) {
		free(m->map);
		m->map = strdup(json_object_to_json_string_ext(
		    servers, JSON_C_TO_STRING_PLAIN));
	} else {
		if (status == 401 && m->token != NULL)
			osh_svctoken_invalidate(m->token);
		osh_log_warn(NULL,
		    "msg=\"clusters of servers unknown\" status=%d "
		    "error=\"%s\"",
		    status, osh_log_quote(error ? error : "", q, sizeof(q)));
	}
	json_object_put(o);
	answer_all(m);
}

static void
on_token(const char *token, void *arg)
{
	struct clustermap *m = arg;
	char url[600], auth[2100];
	const char *headers[] = {auth, NULL};

	if (token == NULL) {
		on_map(0, NULL, 0, "no service token from auth", m);
		return;
	}
	snprintf(url, sizeof(url), "%s/internal/clusters/membership", m->url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	if (osh_httpc_request(m->http, "GET", url, headers, NULL, 0,
		HTTP_TIMEOUT_MS, on_map, m) != 0)
		on_map(0, NULL, 0, "cannot reach cluster-mgmt", m);
	osh_wipe(auth, sizeof(auth));
}

void
clustermap_get(struct clustermap *m, clustermap_cb cb, void *arg)
{
	struct waiter *w;

	if (m->url == NULL || osh_wall_s() < m->fresh_until_s) {
		cb(m->map, arg);
		return;
	}
	if (m->nwaiters >= MAX_WAITERS || (w = calloc(1, sizeof(*w))) == NULL) {
		cb(m->map, arg); /* what is known, rather than nothing */
		return;
	}
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&m->waiters, w, next);
	m->nwaiters++;
	if (!m->pending) {
		m->pending = true;
		osh_svctoken_get(m->token, on_token, m);
	}
}
