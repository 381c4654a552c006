/* routes.c - server-mgmt's route table. */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "routes.h"

#define KB 1024

const struct osh_route sm_routes[] = {
    {OSH_GET, "/api/servers", "servers:read", 0, h_servers_list, 0},
    {OSH_POST, "/api/servers", "servers:write", 16 * KB, h_servers_create, 0},
    {OSH_GET, "/api/servers/stats", "servers:read", 0, h_stats, 0},
    {OSH_POST, "/api/servers/import", "servers:write", 4096 * KB, h_import,
	OSH_ROUTE_CSV},
    {OSH_GET, "/api/servers/import/template.csv", "servers:read", 0,
	h_import_template, 0},
    {OSH_GET, "/api/servers/{id}", "servers:read", 0, h_servers_get, 0},
    {OSH_PATCH, "/api/servers/{id}", "servers:write", 16 * KB, h_servers_patch,
	0},
    {OSH_DELETE, "/api/servers/{id}", "servers:delete", 0, h_servers_delete, 0},
    {OSH_PUT, "/api/servers/{id}/credentials", "servers:write", 2 * KB,
	h_credentials, 0},
    {OSH_POST, "/api/servers/{id}/power", "servers:power", 1 * KB,
	h_power_action, 0},
    {OSH_GET, "/api/servers/{id}/power", "servers:read", 0, h_power_status, 0},
    {OSH_PUT, "/api/servers/{id}/boot-device", "servers:power", 1 * KB,
	h_boot_device, 0},
    {OSH_POST, "/api/servers/{id}/identify", "servers:power", 1 * KB,
	h_identify, 0},
    {OSH_GET, "/api/servers/{id}/sensors", "servers:read", 0, h_sensors, 0},
    {OSH_GET, "/api/servers/{id}/inventory", "servers:read", 0, h_inventory, 0},
    {OSH_GET, "/api/servers/{id}/sel", "servers:read", 0, h_sel_list, 0},
    {OSH_DELETE, "/api/servers/{id}/sel", "servers:write", 0, h_sel_clear, 0},
    {OSH_POST, "/api/servers/{id}/refresh", "servers:read", 0, h_refresh,
	OSH_ROUTE_OPTIONAL_BODY},
    {OSH_POST, "/api/discovery/scans", "discovery:write", 8 * KB, h_scan_create,
	0},
    {OSH_GET, "/api/discovery/scans/{id}", "discovery:read", 0, h_scan_get, 0},
    {OSH_POST, "/api/discovery/scans/{id}/import", "servers:write", 64 * KB,
	h_scan_import, OSH_ROUTE_OPTIONAL_BODY},
    {OSH_GET, "/internal/prometheus/targets", OSH_PERM_PUBLIC, 0, h_sd_targets,
	0},
    {OSH_GET, "/internal/servers", OSH_PERM_SERVICE, 0, h_internal_servers, 0},
    {OSH_GET, "/internal/servers/credentials", OSH_PERM_SERVICE, 0,
	h_internal_lookup, 0},
    {OSH_GET, "/internal/servers/{id}/credentials", OSH_PERM_SERVICE, 0,
	h_internal_credentials, 0},
    {OSH_GET, "/internal/servers/{id}/sel", OSH_PERM_SERVICE, 0, h_internal_sel,
	0},
    {OSH_POST, "/internal/credentials/reseal", OSH_PERM_SERVICE, 0,
	h_credentials_reseal, OSH_ROUTE_OPTIONAL_BODY},
};

const size_t sm_nroutes = OSH_ARRAY_LEN(sm_routes);
