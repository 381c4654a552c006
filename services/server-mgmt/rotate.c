/* rotate.c - credential key rotation: POST
 * /internal/credentials/reseal?after=<id>&limit=<n> (a service token;
 * osh-admin rotate-credentials calls it in a loop).
 *
 * One batch: up to 'limit' servers after id 'after' whose credentials are
 * bound to their endpoint but not sealed under the current key (the first
 * line of OSH_CREDENTIAL_KEYS_FILE) are opened under whichever key sealed
 * them and sealed again under the current one, each audited
 * (server.credentials_rekey, details was_sealed_under and sealed_under).
 * A row changes only if it still holds the same sealed text at the same
 * endpoint, so a change made meanwhile wins (counted as changed). Rows no key opens are counted as unreadable and
 * left alone: their credentials must be set again.
 *
 * The answer: {"key", "examined", "resealed", "changed", "unreadable",
 * "failed", "next_after"}; next_after is the last id examined (0 when
 * none was: the pass is over). Each batch stands alone, so the rotation
 * can stop anywhere and run again: only rows not yet under the current
 * key are selected. Credentials bound to the id only (binding 1) are the
 * start-up pass's (reseal.c), never touched here. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/log.h>

#include "handlers.h"
#include "sm.h"
#include "store.h"

#define BATCH_MAX 1000

struct batch {
	struct osh_req *req;
	size_t pending; /* re-seals not answered yet, +1 while handing out */
	size_t examined, resealed, changed, unreadable, failed;
	int64_t last;
};

struct rekeying {
	struct batch *b;
	int64_t id;
	char from[32]; /* the key id it was sealed under */
};

static void
batch_reply(struct batch *b)
{
	struct sm_app *app = handlers_app(b->req);
	struct json_object *o = json_object_new_object();

	json_object_object_add(
	    o, "key", json_object_new_string(osh_keyring_current(app->keys)));
	json_object_object_add(
	    o, "examined", json_object_new_int64((int64_t)b->examined));
	json_object_object_add(
	    o, "resealed", json_object_new_int64((int64_t)b->resealed));
	json_object_object_add(
	    o, "changed", json_object_new_int64((int64_t)b->changed));
	json_object_object_add(
	    o, "unreadable", json_object_new_int64((int64_t)b->unreadable));
	json_object_object_add(
	    o, "failed", json_object_new_int64((int64_t)b->failed));
	json_object_object_add(o, "next_after", json_object_new_int64(b->last));
	osh_reply_json(b->req, 200, o);
	free(b);
}

static void
on_rekeyed(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct rekeying *r = arg;
	struct batch *b = r->b;
	struct json_object *details;
	char target[32];

	(void)json;
	(void)state;
	if (st == OSH_DB_OK) {
		b->resealed++;
		snprintf(
		    target, sizeof(target), "server:%lld", (long long)r->id);
		details = json_object_new_object();
		json_object_object_add(details, "was_sealed_under",
		    json_object_new_string(r->from));
		json_object_object_add(details, "sealed_under",
		    json_object_new_string(
			osh_keyring_current(handlers_app(b->req)->keys)));
		osh_audit_req(osh_service_of(b->req)->audit, b->req,
		    "server.credentials_rekey", target, "success", details);
	} else if (st == OSH_DB_NOT_FOUND) {
		b->changed++;
	} else {
		b->failed++;
	}
	free(r);
	if (--b->pending == 0)
		batch_reply(b);
}

/* Opens one row under the key that sealed it and stores it sealed under
 * the current key; false when nothing was started (counted by caller). */
static bool
rekey_row(struct batch *b, const struct server_row *row)
{
	struct sm_app *app = handlers_app(b->req);
	struct rekeying *r;
	struct bmc_endpoint e;
	char ad[CREDS_AD_MAX], user[33], pass[65], name[160], *sealed;
	const char *colon;

	endpoint_of_row(row, &e);
	creds_ad(ad, sizeof(ad), row->id, &e);
	if (!creds_open(app->keys, row->credentials, ad, user, sizeof(user),
		pass, sizeof(pass))) {
		b->unreadable++;
		osh_log_warn(NULL,
		    "msg=\"credentials open under no key: set them again\" "
		    "server=%lld name=\"%s\"",
		    (long long)row->id,
		    osh_log_quote(row->name, name, sizeof(name)));
		return true;
	}
	sealed = creds_seal(app->keys, user, pass, ad);
	osh_wipe(pass, sizeof(pass));
	if (sealed == NULL)
		return false;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		osh_free_secret(sealed);
		return false;
	}
	r->b = b;
	r->id = row->id;
	colon = strchr(row->credentials, ':');
	snprintf(r->from, sizeof(r->from), "%.*s",
	    colon != NULL ? (int)(colon - row->credentials) : 0,
	    row->credentials);
	b->pending++;
	store_server_rekey(handlers_db(b->req), row, sealed, on_rekeyed,
	    r); /* values copied */
	osh_free_secret(sealed);
	return true;
}

static void
on_rows(
    enum osh_db_status st, const struct server_row *rows, size_t n, void *arg)
{
	struct batch *b = arg;

	if (st != OSH_DB_OK) {
		osh_reply_error(
		    b->req, 503, NULL, NULL, "database unavailable");
		free(b);
		return;
	}
	b->pending = 1; /* held until every row is handed out */
	for (size_t i = 0; i < n; i++) {
		b->examined++;
		b->last = rows[i].id;
		if (!rekey_row(b, &rows[i]))
			b->failed++;
	}
	if (--b->pending == 0)
		batch_reply(b);
}

void
h_credentials_reseal(struct osh_req *req)
{
	const char *a = osh_req_query(req, "after");
	const char *l = osh_req_query(req, "limit");
	int64_t after = 0, limit = 100;
	struct batch *b;

	if (a != NULL && !osh_parse_int(a, 0, INT64_MAX, &after)) {
		osh_reply_error(req, 400, "validation_failed", "after",
		    "after must be a server id (0 or more)");
		return;
	}
	if (l != NULL && !osh_parse_int(l, 1, BATCH_MAX, &limit)) {
		osh_reply_error(req, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to 1000");
		return;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	b->req = req;
	store_server_rows_not_under(handlers_db(req),
	    osh_keyring_current(handlers_app(req)->keys), after, limit, on_rows,
	    b);
}
