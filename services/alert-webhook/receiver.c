/* receiver.c - Alertmanager's webhook: the bearer secret checked in
 * constant time, the payload checked (payload.c), every alert stored in
 * one transaction before the answer (store_ingest), then the alert.*
 * events published and SEL evidence fetched, after the answer's store
 * and never delaying it.
 *
 * Alertmanager delivers at least once and retries only on 5xx and
 * network errors: so 2xx only once stored, 503 when the database cannot
 * store (it retries, the dedup makes the retry harmless), 400 for a
 * payload that no retry would fix, 401 for a wrong secret. */
#include <json-c/json.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osh/audit.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>

#include "evidence.h"
#include "handlers.h"
#include "payload.h"
#include "receiver.h"
#include "store.h"

void
receiver_secret_hash(
    const char *secret, size_t len, unsigned char out[AW_SECRET_HASH_LEN])
{
	crypto_generichash(out, AW_SECRET_HASH_LEN,
	    (const unsigned char *)secret, len, NULL, 0);
}

bool
receiver_bearer_ok(
    const char *authz, const unsigned char hash[AW_SECRET_HASH_LEN])
{
	unsigned char got[AW_SECRET_HASH_LEN];
	const char *tok;
	bool ok;

	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
		return false;
	tok = authz + 7;
	while (*tok == ' ')
		tok++;
	if (*tok == '\0')
		return false;
	/* Digests of equal length, compared in constant time: neither the
	 * secret's length nor its bytes show in the timing. */
	receiver_secret_hash(tok, strlen(tok), got);
	ok = sodium_memcmp(got, hash, AW_SECRET_HASH_LEN) == 0;
	sodium_memzero(got, sizeof(got));
	return ok;
}

static void
count(struct osh_metric *m, const char *labels, double v)
{
	if (m != NULL && v > 0)
		osh_metric_add(m, labels, v);
}

/* A webhook being stored. */
struct delivery {
	struct osh_req *req;
	struct aw_app *app;
	size_t nalerts;
};

/* Publishes the events the store answered and counts the outcome. */
static void
after_store(struct aw_app *app, struct json_object *o, bool webhook)
{
	struct json_object *events;

	count(app->m_alerts, "outcome=\"new\"",
	    (double)osh_json_int(o, "new", 0));
	/* A poll shows every alert again: no repeat. */
	if (webhook)
		count(app->m_alerts, "outcome=\"repeat\"",
		    (double)osh_json_int(o, "repeats", 0));
	count(app->m_alerts, "outcome=\"resolved\"",
	    (double)osh_json_int(o, "resolved", 0));
	count(app->m_alerts, "outcome=\"refired\"",
	    (double)osh_json_int(o, "refired", 0));
	if (json_object_object_get_ex(o, "events", &events) &&
	    json_object_is_type(events, json_type_array)) {
		size_t n = json_object_array_length(events);

		for (size_t i = 0; i < n; i++) {
			struct json_object *e =
			    json_object_array_get_idx(events, i);

			events_publish(app->svc->redis,
			    osh_json_str(e, "type", "alert.new"),
			    json_object_get(json_object_object_get(e, "data")));
		}
		json_object_object_del(o, "events");
	}
	if (osh_json_int(o, "evidence", 0) > 0)
		evidence_kick(app->evidence);
}

static void
on_stored(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct delivery *d = arg;
	struct json_object *o;
	char why[64];

	if (st != OSH_DB_OK || (o = json_tokener_parse(json)) == NULL) {
		count(d->app->m_notifications, "result=\"unavailable\"", 1);
		osh_log_error(d->req->request_id,
		    "msg=\"webhook not stored\" alerts=%zu sqlstate=\"%s\"",
		    d->nalerts, osh_log_quote(state, why, sizeof(why)));
		handlers_reply(
		    d->req, st == OSH_DB_BUSY ? AW_BUSY : AW_UNAVAILABLE, NULL);
		free(d);
		return;
	}
	count(d->app->m_notifications, "result=\"stored\"", 1);
	after_store(d->app, o, true);
	osh_reply_json(d->req, 200, o);
	free(d);
}

void
h_webhook(struct osh_req *req)
{
	struct aw_app *app = handlers_app(req);
	struct payload p;
	struct osh_err err;
	struct delivery *d;
	char f[OSH_ERR_FIELD_MAX], m[OSH_ERR_MSG_MAX];

	if (!receiver_bearer_ok(
		osh_req_header(req, "Authorization"), app->secret_hash)) {
		count(app->m_notifications, "result=\"unauthorized\"", 1);
		osh_log_warn(req->request_id,
		    "msg=\"webhook refused: wrong or missing bearer secret\" "
		    "client=\"%s\"",
		    osh_log_quote(req->client_addr, f, sizeof(f)));
		/* Audited: someone who is not our Alertmanager tried to
		 * write alerts (Alertmanager never retries a 401). */
		osh_audit_emit(osh_service_of(req)->audit,
		    &(struct osh_audit_entry){.actor = "alertmanager",
			.action = "alert.webhook",
			.result = "denied",
			.client = req->client_addr,
			.request_id = req->request_id});
		osh_resp_header(
		    req, "WWW-Authenticate", "Bearer realm=\"alertmanager\"");
		osh_reply_error(
		    req, 401, NULL, NULL, "a valid bearer secret is required");
		return;
	}
	if (payload_webhook(req->body, req->body_len, &p, &err) != 0) {
		count(app->m_notifications, "result=\"invalid\"", 1);
		osh_log_warn(req->request_id,
		    "msg=\"webhook payload refused\" field=\"%s\" "
		    "reason=\"%s\"",
		    osh_log_quote(err.field, f, sizeof(f)),
		    osh_log_quote(err.message, m, sizeof(m)));
		payload_release(&p);
		osh_reply_err(req, &err);
		return;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		payload_release(&p);
		osh_reply_error(req, 503, NULL, NULL, "out of memory");
		return;
	}
	d->req = req;
	d->app = app;
	d->nalerts = p.nalerts;
	if (p.truncated > 0) {
		count(app->m_truncated, "", (double)p.truncated);
		osh_log_warn(req->request_id,
		    "msg=\"alertmanager truncated a notification\" "
		    "receiver=\"%s\" truncated_alerts=%lld",
		    osh_log_quote(p.receiver, f, sizeof(f)),
		    (long long)p.truncated);
	}
	store_ingest(handlers_db(req),
	    json_object_to_json_string_ext(p.rows, JSON_C_TO_STRING_PLAIN),
	    STORE_SOURCE_WEBHOOK, p.truncated, on_stored, d);
	payload_release(&p);
}

void
receiver_after_poll(struct aw_app *app, const char *json)
{
	struct json_object *o = json_tokener_parse(json);

	if (o == NULL)
		return;
	after_store(app, o, false);
	json_object_put(o);
}
