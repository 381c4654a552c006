/* routes.c - the exporter's route table. No route takes a request body.
 * The router sees them as public: the web configuration's basic
 * authentication (webauth.c) guards every one of them, and the built-in
 * /metrics, before routing; /health and /ready stay open for probes. */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "routes.h"

const struct osh_route exp_routes[] = {
    {OSH_GET, "/", OSH_PERM_PUBLIC, 0, h_index, 0},
    {OSH_GET, "/ipmi", OSH_PERM_PUBLIC, 0, h_ipmi, 0},
    {OSH_POST, "/-/reload", OSH_PERM_PUBLIC, 0, h_reload, 0},
};

const size_t exp_nroutes = OSH_ARRAY_LEN(exp_routes);
