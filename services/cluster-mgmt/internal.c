/* internal.c - HTTP <-> what other services read: the clusters each
 * server belongs to (server-mgmt's Prometheus service discovery). Internal
 * routes, never through the gateway. */
#include "handlers.h"
#include "store.h"

void
h_internal_membership(struct osh_req *req)
{
	store_membership(handlers_db(req), handlers_on_json, req);
}
