/* routes.c - the exporter's route table: all public, as the reference's
 * are (it listens where Prometheus can reach it, nowhere else). */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "routes.h"

const struct osh_route exp_routes[] = {
    {OSH_GET, "/", OSH_PERM_PUBLIC, 0, h_index, 0},
    {OSH_GET, "/ipmi", OSH_PERM_PUBLIC, 0, h_ipmi, 0},
    {OSH_POST, "/-/reload", OSH_PERM_PUBLIC, 0, h_reload,
	OSH_ROUTE_OPTIONAL_BODY},
};

const size_t exp_nroutes = OSH_ARRAY_LEN(exp_routes);
