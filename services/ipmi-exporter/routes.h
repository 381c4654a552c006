/* routes.h - the exporter's route table. */
#ifndef EXP_ROUTES_H
#define EXP_ROUTES_H

#include <stddef.h>

#include <osh/router.h>

extern const struct osh_route exp_routes[];
extern const size_t exp_nroutes;

#endif
