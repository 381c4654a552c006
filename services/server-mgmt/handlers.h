/* handlers.h - HTTP handlers of server-mgmt (see routes.c), by file:
 * handlers.c (records read, and what every handler shares), create.c,
 * change.c, internal.c, hardware.c (through the BMC) and discovery.c. */
#ifndef SM_HANDLERS_H
#define SM_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/db.h>
#include <osh/http.h>
#include <osh/service.h>

struct json_object;
struct sm_app;

void h_servers_list(struct osh_req *req);
void h_servers_get(struct osh_req *req);
void h_stats(struct osh_req *req);

void h_servers_create(struct osh_req *req);
void h_import(struct osh_req *req);
void h_import_template(struct osh_req *req);

void h_servers_patch(struct osh_req *req);
void h_credentials(struct osh_req *req);
void h_servers_delete(struct osh_req *req);

void h_sd_targets(struct osh_req *req);
void h_internal_credentials(struct osh_req *req);
void h_internal_lookup(struct osh_req *req);
void h_internal_servers(struct osh_req *req);
void h_internal_sel(struct osh_req *req);
/* rotate.c: one batch of the credential key rotation. */
void h_credentials_reseal(struct osh_req *req);

void h_power_action(struct osh_req *req);
void h_power_status(struct osh_req *req);
void h_boot_device(struct osh_req *req);
void h_identify(struct osh_req *req);
void h_sensors(struct osh_req *req);
void h_inventory(struct osh_req *req);
void h_sel_list(struct osh_req *req);
void h_sel_clear(struct osh_req *req);
void h_refresh(struct osh_req *req);

void h_scan_create(struct osh_req *req);
void h_scan_get(struct osh_req *req);
void h_scan_import(struct osh_req *req);

/*
 * What the handlers share (handlers.c).
 */

/* The service's context and database, as a request sees them. */
static inline struct sm_app *
handlers_app(struct osh_req *req)
{
	return osh_service_of(req)->app;
}

static inline struct osh_db *
handlers_db(struct osh_req *req)
{
	return osh_service_of(req)->db;
}

/* The request's body parsed as JSON (the caller puts it), or NULL when it
 * is not JSON: answered with 400 then. */
struct json_object *handlers_body(struct osh_req *req);
/* Answers a failed store call: 404 naming server 'id' (0: the path's {id}),
 * 400 for a value the database refused, else 503. */
void handlers_reply_db(struct osh_req *req, enum osh_db_status st, int64_t id);
/* The body parsed as JSON, {} when there is none; as handlers_body. */
struct json_object *handlers_body_or_empty(struct osh_req *req);
/* The query parameters, in order, at most max of them (the checks in
 * input.c refuse more than INPUT_MAX_PARAMS: pass one more); strings
 * owned by the request. Returns how many. */
struct input_param;
size_t handlers_params(struct osh_req *req, struct input_param *p, size_t max);
/* An osh_db_json_cb answering the request (arg) with the store's JSON
 * text as it is, or an error as handlers_reply_db does. */
void handlers_on_json(
    enum osh_db_status st, const char *json, const char *state, void *arg);
/* Audits 'action' on server 'id' for the request's user; details (may be
 * NULL) is taken. */
void handlers_audit(struct osh_req *req, const char *action, int64_t id,
    const char *result, struct json_object *details);
/* Publishes event 'type' (server.created, ...) with the server's JSON as
 * its data; the caller keeps its reference to server. */
void handlers_publish(
    struct osh_req *req, const char *type, struct json_object *server);

/*
 * Creating servers (create.c).
 */

/* What a caller of create_rows hears, row by row (each may be NULL). */
struct create_rows_hooks {
	/* Asked before row 'row' is created: true (err filled) answers
	 * the row with err instead, and nothing is created for it. */
	bool (*refuse)(size_t row, struct osh_err *err, void *arg);
	/* Hears of each server made, and once more with row
	 * CREATE_ROWS_FINISHED after the answer. */
	void (*created)(size_t row, int64_t id, void *arg);
	void *arg;
};

/* Creates servers from row bodies, by batches of up to 500 rows each
 * inserted in one transaction, and answers with a result per row. rows is taken; hooks (may be NULL) is copied. */
#define CREATE_ROWS_FINISHED ((size_t)-1)
void create_rows(struct osh_req *req, struct json_object *rows,
    const struct create_rows_hooks *hooks);

#endif
