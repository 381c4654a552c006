/* serverknown.c - asks server-mgmt whether a server exists. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include <osh/crypto.h>
#include <osh/httpc.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/svctoken.h>

#include "serverknown.h"

struct ask {
	struct aw_app *app;
	int64_t id;
	server_known_cb cb;
	void *arg;
};

static void
answer(struct ask *a, enum server_known k)
{
	a->cb(k, a->arg);
	free(a);
}

/* items[0].id is the first server at or past the id asked for. */
static enum server_known
read_page(const char *body, size_t len, int64_t id)
{
	struct json_object *o, *items, *first;
	struct osh_err err;
	enum server_known k = SERVER_UNSURE;

	if ((o = osh_json_parse(body, len, OSH_JSON_MAX_DEPTH, &err)) == NULL)
		return SERVER_UNSURE;
	if (json_object_object_get_ex(o, "items", &items) &&
	    json_object_is_type(items, json_type_array)) {
		first = json_object_array_length(items) > 0
		    ? json_object_array_get_idx(items, 0)
		    : NULL;
		k = first != NULL && osh_json_int(first, "id", 0) == id
		    ? SERVER_KNOWN
		    : SERVER_UNKNOWN;
	}
	json_object_put(o);
	return k;
}

static void
on_page(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct ask *a = arg;

	if (status == 401)
		osh_svctoken_invalidate(a->app->token);
	if (status != 200) {
		osh_log_warn(NULL,
		    "msg=\"server-mgmt could not say whether a server "
		    "exists\" server_id=%lld status=%d error=\"%s\"",
		    (long long)a->id, status, error ? error : "");
		answer(a, SERVER_UNSURE);
		return;
	}
	answer(a, read_page(body, len, a->id));
}

static void
on_token(const char *token, void *arg)
{
	struct ask *a = arg;
	char url[512], auth[2048];
	const char *headers[] = {auth, NULL};

	if (token == NULL) {
		answer(a, SERVER_UNSURE);
		return;
	}
	snprintf(url, sizeof(url), "%s/internal/servers?after=%lld&limit=1",
	    a->app->cfg.server_mgmt_url, (long long)(a->id - 1));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	if (osh_httpc_request(a->app->http, "GET", url, headers, NULL, 0,
		SERVER_KNOWN_TIMEOUT_MS, on_page, a) != 0)
		answer(a, SERVER_UNSURE);
	osh_wipe(auth, sizeof(auth));
}

void
server_known(struct aw_app *app, int64_t id, server_known_cb cb, void *arg)
{
	struct ask *a;

	if (id < 1) {
		cb(SERVER_UNKNOWN, arg);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		cb(SERVER_UNSURE, arg);
		return;
	}
	a->app = app;
	a->id = id;
	a->cb = cb;
	a->arg = arg;
	osh_svctoken_get(app->token, on_token, a);
}
