/* handlers.h - HTTP handlers of alert-webhook (see routes.c), by file:
 * receiver.c (Alertmanager's webhook) and handlers.c (the alert API, and
 * what every handler shares). */
#ifndef AW_HANDLERS_H
#define AW_HANDLERS_H

#include <json-c/json.h>

#include <osh/db.h>
#include <osh/http.h>
#include <osh/service.h>

#include "aw.h"
#include "silence.h"

/* POST /internal/alertmanager/webhook (bearer secret, not a token). */
void h_webhook(struct osh_req *req);

void h_alerts_list(struct osh_req *req);
void h_alerts_get(struct osh_req *req);

/* Acknowledgements (acks.c). */
void h_alerts_ack(struct osh_req *req);
void h_alerts_unack(struct osh_req *req);

/* Silences through Alertmanager (silences.c). */
void h_silences_list(struct osh_req *req);
void h_silences_get(struct osh_req *req);
void h_silences_create(struct osh_req *req);
void h_silences_delete(struct osh_req *req);

/* Maintenance windows (maintenance.c). */
void h_maintenance_list(struct osh_req *req);
void h_maintenance_get(struct osh_req *req);
void h_maintenance_create(struct osh_req *req);
void h_maintenance_delete(struct osh_req *req);

/* The metrics API through Prometheus (metrics.c). */
void h_metrics_server(struct osh_req *req);
void h_fleet_hottest(struct osh_req *req);
void h_fleet_power(struct osh_req *req);
void h_metrics_query(struct osh_req *req);

/* The alert event stream (alertsse.c). */
void h_alerts_events_ticket(struct osh_req *req);
void h_alerts_events(struct osh_req *req);

static inline struct aw_app *
handlers_app(struct osh_req *req)
{
	return osh_service_of(req)->app;
}

static inline struct osh_db *
handlers_db(struct osh_req *req)
{
	return osh_service_of(req)->db;
}

/* The result a store status means. */
enum aw_result handlers_result_of(enum osh_db_status st);

/* Answers a domain result, the one place results become HTTP: AW_OK 200
 * and AW_CREATED 201 with json (JSON text; NULL: {}), AW_NOT_FOUND 404
 * naming the path's alert (silence, window), AW_BUSY and AW_UNAVAILABLE
 * 503 (Retry-After), and the rest as handlers_fail. */
void handlers_reply(struct osh_req *req, enum aw_result r, const char *json);

/* Answers a failure with why as its message (NULL: the result's own):
 * AW_INVALID 400, AW_NOT_FOUND 404, AW_CONFLICT 409, AW_AM_UNAVAILABLE
 * 503, AW_AM_TIMEOUT 504, the database's 503. */
void handlers_fail(struct osh_req *req, enum aw_result r, const char *why);

/* What every change through Alertmanager (ack, silence, window) keeps
 * while it runs; the handlers' own op structs begin with it. */
struct aw_op {
	struct osh_req *req;
	struct aw_app *app;
	char silence[SILENCE_ID_MAX]; /* the silence made or changed */
};

/* A zeroed op of size bytes (at least sizeof(struct aw_op)) for req, the
 * caller's to free; NULL (req answered 503) when out of memory. */
void *handlers_op_new(struct osh_req *req, size_t size);

/* Ends an op's request: audits action on target (when action is not
 * NULL; the silence's id in the details), then answers json (AW_OK,
 * AW_CREATED) or the failure with why. The op itself is the caller's to
 * free. */
void handlers_op_end(struct aw_op *op, const char *action, const char *target,
    enum aw_result r, const char *json, const char *why);

/* Appends the request's action to the audit stream: target "<kind>:<id>",
 * result success or failure; details taken (may be NULL). */
void handlers_audit(struct osh_req *req, const char *action, const char *target,
    enum aw_result r, struct json_object *details);

/* An osh_db_json_cb answering the request (arg) with the store's JSON as
 * it is (200), or the error its status means. */
void handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg);

#endif
