/* handlers.h - HTTP handlers of server-mgmt (see routes.c). */
#ifndef SM_HANDLERS_H
#define SM_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include <osh/http.h>

void h_servers_list(struct osh_req *req);
void h_servers_create(struct osh_req *req);
void h_servers_get(struct osh_req *req);
void h_servers_patch(struct osh_req *req);
void h_servers_delete(struct osh_req *req);
void h_credentials(struct osh_req *req);
void h_stats(struct osh_req *req);
void h_import(struct osh_req *req);
void h_import_template(struct osh_req *req);
void h_sd_targets(struct osh_req *req);
void h_internal_credentials(struct osh_req *req);
void h_internal_lookup(struct osh_req *req);

void h_power_action(struct osh_req *req);
void h_power_status(struct osh_req *req);
void h_boot_device(struct osh_req *req);
void h_identify(struct osh_req *req);
void h_sensors(struct osh_req *req);
void h_inventory(struct osh_req *req);
void h_sel_list(struct osh_req *req);
void h_sel_clear(struct osh_req *req);
void h_refresh(struct osh_req *req);

/* Creates servers from row bodies one by one and answers with a result
 * per row; on_created (may be NULL) hears of each server made, and once
 * more with row IMPORT_FINISHED after the answer. rows is taken. */
#define IMPORT_FINISHED ((size_t)-1)
struct json_object;
void import_run(struct osh_req *req, struct json_object *rows,
    void (*on_created)(size_t row, int64_t id, void *arg), void *arg);

void h_scan_create(struct osh_req *req);
void h_scan_get(struct osh_req *req);
void h_scan_import(struct osh_req *req);

#endif
