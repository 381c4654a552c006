/* routes.c - cluster-mgmt's route table. */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "jobs.h"
#include "routes.h"

#define KB 1024

const struct osh_route cm_routes[] = {
    {OSH_GET, "/api/clusters", "clusters:read", 0, h_clusters_list, 0},
    {OSH_POST, "/api/clusters", "clusters:write", 16 * KB, h_clusters_create,
	0},
    {OSH_GET, "/api/clusters/{id}", "clusters:read", 0, h_clusters_get, 0},
    {OSH_PATCH, "/api/clusters/{id}", "clusters:write", 16 * KB,
	h_clusters_patch, 0},
    {OSH_DELETE, "/api/clusters/{id}", "clusters:delete", 0, h_clusters_delete,
	0},
    {OSH_GET, "/api/clusters/{id}/servers", "clusters:read", 0,
	h_cluster_servers, 0},
    {OSH_POST, "/api/clusters/{id}/servers", "clusters:write", 32 * KB,
	h_members_add, 0},
    {OSH_DELETE, "/api/clusters/{id}/servers", "clusters:write", 32 * KB,
	h_members_remove, 0},
    {OSH_GET, "/api/jobs", "jobs:read", 0, h_jobs_list, 0},
    {OSH_POST, "/api/jobs", "jobs:write", 128 * KB, h_jobs_create, 0},
    {OSH_GET, "/api/jobs/{id}", "jobs:read", 0, h_jobs_get, 0},
    {OSH_GET, "/api/jobs/{id}/tasks", "jobs:read", 0, h_jobs_tasks, 0},
    {OSH_POST, "/api/jobs/{id}/cancel", "jobs:write", 0, h_jobs_cancel, 0},
    {OSH_POST, "/api/jobs/{id}/pause", "jobs:write", 0, h_jobs_pause, 0},
    {OSH_POST, "/api/jobs/{id}/resume", "jobs:write", 0, h_jobs_resume, 0},
    {OSH_POST, "/api/jobs/{id}/retry", "jobs:write", 0, h_jobs_retry, 0},
    {OSH_POST, "/api/jobs/{id}/events/ticket", "jobs:read", 0,
	h_jobs_events_ticket, 0},
    /* Public: the single-use ticket (?ticket=) is its credential. */
    {OSH_GET, "/api/jobs/{id}/events", OSH_PERM_PUBLIC, 0, h_jobs_events, 0},
    {OSH_GET, "/internal/clusters/membership", OSH_PERM_SERVICE, 0,
	h_internal_membership, 0},
};

const size_t cm_nroutes = OSH_ARRAY_LEN(cm_routes);
