/* reseal.c - the start-up pass over credentials sealed before they were
 * bound to the BMC endpoint (additional data "server:<id>", binding 1).
 *
 * Such credentials open for whatever endpoint their row names, and the
 * binding column lives in the database the sealing is meant to protect:
 * opening them on use would send them wherever a database writer points
 * the row. So they are opened in one place only, this pass, and only
 * until it has run to its end once for the deployment: it re-seals each
 * for the endpoint its row names (audited with that endpoint), then
 * records that it is done as a marker sealed under the credential keys
 * (credentials_state, additional data naming the database: a database
 * writer can remove it, never make one). Every later start finds the
 * marker and only logs the rows still bound to an id as refused; on use
 * they are refused too (server_target). OSH_CREDENTIALS_LEGACY_RESEAL=false
 * turns the pass off altogether (for a deployment whose upgrade is done).
 *
 * A row changes only if it still holds the same sealed text at the same
 * endpoint, so a change made meanwhile always wins. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/log.h>

#include "sm.h"
#include "store.h"

#define RETRY_S 10
#define MARKER "legacy_resealed" /* credentials_state.name */
#define MARKER_TEXT "legacy credentials re-sealed"

/* One run of the pass. */
struct pass {
	struct sm_app *app;
	char database[128]; /* names the deployment in the marker */
	size_t pending; /* re-seals not answered yet */
	size_t resealed, changed, unreadable, failed;
};

struct resealing {
	struct pass *pass;
	int64_t id;
	char endpoint[320]; /* endpoint_text */
};

static void retry_later(struct sm_app *app);

static bool
stopping(struct sm_app *app)
{
	return sm_svc(app)->stopping;
}

static void
marker_ad(char *out, size_t len, const char *database)
{
	snprintf(out, len, "server-mgmt:" MARKER "|%s", database);
}

/* Whether 'sealed' is this deployment's marker, opened under the keys. */
static bool
marker_valid(struct sm_app *app, const char *sealed, const char *database)
{
	char ad[200], *plain;
	bool ok;

	if (sealed == NULL)
		return false;
	marker_ad(ad, sizeof(ad), database);
	if ((plain = osh_open(app->keys, sealed, ad, NULL)) == NULL)
		return false;
	ok = strcmp(plain, MARKER_TEXT) == 0;
	osh_free_secret(plain);
	return ok;
}

/* Rows still bound to an id once the pass has ended (or is off): each is
 * logged as refused; server_target refuses them on use. */
static void
on_refused_rows(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	char name[160];

	(void)arg;
	if (st != OSH_DB_OK)
		return; /* only a log: each use logs them again */
	for (size_t i = 0; i < n; i++)
		osh_log_warn(NULL,
		    "msg=\"credentials bound to the server id only refused: "
		    "set them again\" server=%lld name=\"%s\"",
		    (long long)rows[i].id,
		    osh_log_quote(rows[i].name, name, sizeof(name)));
}

static void
pass_done(struct sm_app *app)
{
	app->legacy_pass_done = true;
	store_server_rows_bound_to_id(sm_svc(app)->db, on_refused_rows, NULL);
}

static void
on_marker_put(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct pass *p = arg;
	struct sm_app *app = p->app;

	(void)json;
	(void)state;
	if (stopping(app)) {
		free(p);
		return;
	}
	if (st != OSH_DB_OK) {
		osh_log_warn(NULL,
		    "msg=\"end of the credentials re-seal not recorded, "
		    "will retry\"");
		free(p);
		retry_later(app);
		return;
	}
	osh_log_info(NULL,
	    "msg=\"credentials bound to server ids re-sealed for their BMC "
	    "endpoints; from now on such credentials are refused\" "
	    "resealed=%zu changed_meanwhile=%zu unreadable=%zu",
	    p->resealed, p->changed, p->unreadable);
	free(p);
	pass_done(app);
}

/* Every re-seal has answered: records the end of the pass, or runs it
 * again later when one failed. */
static void
pass_finish(struct pass *p)
{
	struct sm_app *app = p->app;
	char ad[200], *sealed;

	if (p->failed > 0) {
		osh_log_warn(NULL,
		    "msg=\"credentials not all re-sealed, will retry\" "
		    "failed=%zu",
		    p->failed);
		free(p);
		retry_later(app);
		return;
	}
	marker_ad(ad, sizeof(ad), p->database);
	if ((sealed = osh_seal(
		 app->keys, MARKER_TEXT, strlen(MARKER_TEXT), ad)) == NULL) {
		free(p);
		retry_later(app);
		return;
	}
	store_state_put(sm_svc(app)->db, MARKER, sealed, on_marker_put, p);
	free(sealed);
}

static void
on_resealed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct resealing *r = arg;
	struct pass *p = r->pass;
	struct sm_app *app = p->app;
	struct osh_audit_entry e = {
	    .actor = "system",
	    .action = "server.credentials_reseal",
	    .result = "success",
	};
	char target[32];

	(void)json;
	(void)state;
	if (st == OSH_DB_OK) {
		p->resealed++;
		osh_log_info(NULL,
		    "msg=\"credentials re-sealed for the BMC endpoint\" "
		    "server=%lld endpoint=\"%s\"",
		    (long long)r->id, r->endpoint);
		snprintf(
		    target, sizeof(target), "server:%lld", (long long)r->id);
		e.target = target;
		e.details = json_object_new_object();
		json_object_object_add(
		    e.details, "endpoint", json_object_new_string(r->endpoint));
		json_object_object_add(e.details, "was",
		    json_object_new_string("bound to the server id only"));
		osh_audit_emit(sm_svc(app)->audit, &e);
	} else if (st == OSH_DB_NOT_FOUND) {
		p->changed++; /* changed meanwhile: the change wins */
	} else {
		p->failed++;
	}
	free(r);
	if (--p->pending > 0)
		return;
	if (stopping(app)) {
		free(p);
		return;
	}
	pass_finish(p);
}

/* Re-seals one row's credentials (user, pass opened the old way) for the
 * endpoint the row names; false when nothing was started. */
static bool
reseal_row(struct pass *p, const struct server_row *row, const char *user,
    const char *pass)
{
	struct resealing *r;
	struct bmc_endpoint e;
	char ad[CREDS_AD_MAX], *sealed;

	endpoint_of_row(row, &e);
	creds_ad(ad, sizeof(ad), row->id, &e);
	if ((sealed = creds_seal(p->app->keys, user, pass, ad)) == NULL)
		return false;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		osh_free_secret(sealed);
		return false;
	}
	r->pass = p;
	r->id = row->id;
	endpoint_text(&e, r->endpoint, sizeof(r->endpoint));
	p->pending++;
	store_server_reseal(sm_svc(p->app)->db, row, sealed, on_resealed,
	    r); /* values copied */
	osh_free_secret(sealed);
	return true;
}

static void
on_legacy(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	struct pass *p = arg;
	struct sm_app *app = p->app;
	char user[33], pass[65], ad[32], name[160];

	if (st != OSH_DB_OK || stopping(app)) {
		free(p);
		retry_later(app);
		return;
	}
	if (n > 0)
		osh_log_info(NULL,
		    "msg=\"re-sealing credentials bound to server ids only\" "
		    "rows=%zu",
		    n);
	p->pending = 1; /* held until every row is handed out */
	for (size_t i = 0; i < n; i++) {
		snprintf(ad, sizeof(ad), "server:%lld", (long long)rows[i].id);
		if (!creds_open(app->keys, rows[i].credentials, ad, user,
			sizeof(user), pass, sizeof(pass))) {
			/* Another key, or not sealed for this server: it
			 * stays refused. */
			p->unreadable++;
			osh_log_warn(NULL,
			    "msg=\"credentials bound to the server id only "
			    "cannot be opened to re-seal them: set them "
			    "again\" server=%lld name=\"%s\"",
			    (long long)rows[i].id,
			    osh_log_quote(rows[i].name, name, sizeof(name)));
			continue;
		}
		if (!reseal_row(p, &rows[i], user, pass))
			p->failed++;
		osh_wipe(pass, sizeof(pass));
	}
	if (--p->pending == 0)
		pass_finish(p);
}

static void
on_marker(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct sm_app *app = arg;
	struct json_object *o = NULL, *db, *sealed;
	struct pass *p;

	(void)state;
	if (stopping(app))
		return;
	if (st != OSH_DB_OK || (o = json_tokener_parse(json)) == NULL ||
	    !json_object_object_get_ex(o, "database", &db) ||
	    !json_object_is_type(db, json_type_string) ||
	    !json_object_object_get_ex(o, "sealed", &sealed)) {
		json_object_put(o);
		retry_later(app);
		return;
	}
	if (marker_valid(app, json_object_get_string(sealed),
		json_object_get_string(db))) {
		json_object_put(o);
		pass_done(app);
		return;
	}
	if (sealed != NULL)
		osh_log_warn(NULL,
		    "msg=\"the record of the credentials re-seal does not "
		    "open under the keys: taken as absent\"");
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		json_object_put(o);
		retry_later(app);
		return;
	}
	p->app = app;
	osh_strlcpy(
	    p->database, json_object_get_string(db), sizeof(p->database));
	json_object_put(o);
	store_server_rows_bound_to_id(sm_svc(app)->db, on_legacy, p);
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

	if (stopping(app))
		return;
	/* A one-shot event: the base frees it, fired or not. */
	event_base_once(sm_svc(app)->base, -1, EV_TIMEOUT, on_retry, app, &tv);
}

void
reseal_start(struct sm_app *app)
{
	if (!app->cfg.legacy_reseal) {
		osh_log_info(NULL,
		    "msg=\"credentials bound to server ids only are never "
		    "opened (OSH_CREDENTIALS_LEGACY_RESEAL=false)\"");
		pass_done(app);
		return;
	}
	store_state_get(sm_svc(app)->db, MARKER, on_marker, app);
}
