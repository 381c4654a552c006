/* routes.h - cluster-mgmt's route table. */
#ifndef CM_ROUTES_H
#define CM_ROUTES_H

#include <stddef.h>

#include <osh/router.h>

extern const struct osh_route cm_routes[];
extern const size_t cm_nroutes;

#endif
