/* routes.h - server-mgmt's route table. */
#ifndef SM_ROUTES_H
#define SM_ROUTES_H

#include <stddef.h>

#include <osh/router.h>

extern const struct osh_route sm_routes[];
extern const size_t sm_nroutes;

#endif
