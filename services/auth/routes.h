/* routes.h - the auth service's route table. */
#ifndef AUTH_ROUTES_H
#define AUTH_ROUTES_H

#include <stddef.h>

#include <osh/router.h>

extern const struct osh_route auth_routes[];
extern const size_t auth_nroutes;

#endif
