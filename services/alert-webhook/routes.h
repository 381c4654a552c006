/* routes.h - alert-webhook's route table. */
#ifndef AW_ROUTES_H
#define AW_ROUTES_H

#include <stddef.h>

#include <osh/router.h>

extern const struct osh_route aw_routes[];
extern const size_t aw_nroutes;

#endif
