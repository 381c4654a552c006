/* routes.c - the auth service's route table. */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "routes.h"

#define KB 1024

const struct osh_route auth_routes[] = {
    {OSH_POST, "/api/auth/login", OSH_PERM_PUBLIC, 4 * KB, h_login, 0},
    {OSH_POST, "/api/auth/refresh", OSH_PERM_PUBLIC, 4 * KB, h_refresh,
	OSH_ROUTE_OPTIONAL_BODY},
    {OSH_POST, "/api/auth/logout", OSH_PERM_ANY, 4 * KB, h_logout,
	OSH_ROUTE_OPTIONAL_BODY},
    {OSH_GET, "/api/auth/profile", OSH_PERM_ANY, 0, h_profile_get, 0},
    {OSH_PATCH, "/api/auth/profile", OSH_PERM_ANY, 4 * KB, h_profile_patch, 0},
    {OSH_POST, "/api/auth/password", OSH_PERM_ANY, 4 * KB, h_password, 0},
    {OSH_GET, "/api/auth/jwks", OSH_PERM_PUBLIC, 0, h_jwks, 0},
    {OSH_GET, "/api/users", "users:read", 0, h_users_list, 0},
    {OSH_POST, "/api/users", "users:write", 8 * KB, h_users_create, 0},
    {OSH_GET, "/api/users/{id}", "users:read", 0, h_users_get, 0},
    {OSH_PATCH, "/api/users/{id}", "users:write", 8 * KB, h_users_patch, 0},
    {OSH_DELETE, "/api/users/{id}", "users:delete", 0, h_users_delete, 0},
    {OSH_GET, "/api/audit", "audit:read", 0, h_audit_list, 0},
    {OSH_GET, "/api/audit/export.csv", "audit:read", 0, h_audit_export, 0},
    {OSH_POST, "/internal/auth/service-token", OSH_PERM_PUBLIC, 4 * KB,
	h_service_token, 0},
};

const size_t auth_nroutes = OSH_ARRAY_LEN(auth_routes);
