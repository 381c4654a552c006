/* reseal.c - credentials sealed before they were bound to the BMC
 * endpoint (additional data "server:<id>") are sealed again for their
 * endpoint: all of them once at start, and any met on the way (a row
 * written by an older replica, or one the start pass could not reach).
 * SQL cannot do this (the key is only here), so it is the service's own
 * migration. A row changes only if it still holds the same sealed text at
 * the same endpoint, so a change made meanwhile always wins. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/log.h>

#include "sm.h"
#include "store.h"

#define RETRY_S 10

struct resealing {
	struct sm_app *app;
	int64_t id;
};

static void
on_resealed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct resealing *r = arg;

	(void)json;
	(void)state;
	if (st == OSH_DB_OK)
		osh_log_info(NULL,
		    "msg=\"credentials re-sealed for the BMC endpoint\" "
		    "server=%lld",
		    (long long)r->id);
	else if (st != OSH_DB_NOT_FOUND) /* not found: changed meanwhile */
		osh_log_warn(NULL,
		    "msg=\"credentials not re-sealed, will retry\" "
		    "server=%lld",
		    (long long)r->id);
	free(r);
}

void
reseal_row(struct sm_app *app, const struct server_row *row, const char *user,
    const char *pass)
{
	struct resealing *r;
	struct bmc_endpoint e;
	char ad[CREDS_AD_MAX], *sealed;

	endpoint_of_row(row, &e);
	creds_ad(ad, sizeof(ad), row->id, &e);
	if ((sealed = creds_seal(app->keys, user, pass, ad)) == NULL)
		return;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		osh_free_secret(sealed);
		return;
	}
	r->app = app;
	r->id = row->id;
	store_server_reseal(
	    sm_svc(app)->db, row, sealed, on_resealed, r); /* values copied */
	osh_free_secret(sealed);
}

static void retry_later(struct sm_app *app);

static void
on_legacy(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	struct sm_app *app = arg;
	char user[33], pass[65], ad[32], name[160];
	size_t done = 0;

	if (st != OSH_DB_OK) {
		retry_later(app);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ad, sizeof(ad), "server:%lld", (long long)rows[i].id);
		if (!creds_open(app->keys, rows[i].credentials, ad, user,
			sizeof(user), pass, sizeof(pass))) {
			osh_log_warn(NULL,
			    "msg=\"credentials cannot be opened to re-seal "
			    "them\" server=%lld name=\"%s\"",
			    (long long)rows[i].id,
			    osh_log_quote(rows[i].name, name, sizeof(name)));
			continue;
		}
		reseal_row(app, &rows[i], user, pass);
		osh_wipe(pass, sizeof(pass));
		done++;
	}
	if (n > 0)
		osh_log_info(NULL,
		    "msg=\"re-sealing credentials bound to server ids only\" "
		    "rows=%zu opened=%zu",
		    n, done);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reseal_start(arg);
}

static void
retry_later(struct sm_app *app)
{
	struct timeval tv = {RETRY_S, 0};

	if (sm_svc(app)->stopping)
		return;
	/* A one-shot event: the base frees it, fired or not. */
	event_base_once(sm_svc(app)->base, -1, EV_TIMEOUT, on_retry, app, &tv);
}

void
reseal_start(struct sm_app *app)
{
	store_server_rows_bound_to_id(sm_svc(app)->db, on_legacy, app);
}
