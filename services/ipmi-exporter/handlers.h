/* handlers.h - the exporter's HTTP endpoints (see routes.c). */
#ifndef EXP_HANDLERS_H
#define EXP_HANDLERS_H

#include <osh/http.h>

void h_ipmi(struct osh_req *req);
void h_reload(struct osh_req *req);
void h_index(struct osh_req *req);

#endif
