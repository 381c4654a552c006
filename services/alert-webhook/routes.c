/* routes.c - alert-webhook's route table: /api/monitoring (alerts:read to
 * read, alerts:write to acknowledge, silence and set maintenance;
 * monitoring:read for metrics, monitoring:query for raw PromQL), and
 * Alertmanager's webhook. */
#include <osh/router.h>
#include <osh/util.h>

#include "handlers.h"
#include "routes.h"

#define KB 1024

const struct osh_route aw_routes[] = {
    {OSH_GET, "/api/monitoring/alerts", "alerts:read", 0, h_alerts_list, 0},
    /* Before /alerts/{id}: the router takes the first match. The stream
     * itself takes a single-use ticket (osh/sse.h), not a token. */
    {OSH_POST, "/api/monitoring/alerts/events/ticket", "alerts:read", 0,
	h_alerts_events_ticket, 0},
    {OSH_GET, "/api/monitoring/alerts/events", OSH_PERM_PUBLIC, 0,
	h_alerts_events, 0},
    {OSH_GET, "/api/monitoring/alerts/{id}", "alerts:read", 0, h_alerts_get, 0},
    {OSH_POST, "/api/monitoring/alerts/{id}/ack", "alerts:write", 8 * KB,
	h_alerts_ack, 0},
    {OSH_DELETE, "/api/monitoring/alerts/{id}/ack", "alerts:write", 0,
	h_alerts_unack, 0},
    {OSH_GET, "/api/monitoring/silences", "alerts:read", 0, h_silences_list, 0},
    {OSH_POST, "/api/monitoring/silences", "alerts:write", 64 * KB,
	h_silences_create, 0},
    {OSH_GET, "/api/monitoring/silences/{id}", "alerts:read", 0, h_silences_get,
	0},
    {OSH_DELETE, "/api/monitoring/silences/{id}", "alerts:write", 0,
	h_silences_delete, 0},
    {OSH_GET, "/api/monitoring/maintenance", "alerts:read", 0,
	h_maintenance_list, 0},
    {OSH_POST, "/api/monitoring/maintenance", "alerts:write", 64 * KB,
	h_maintenance_create, 0},
    {OSH_GET, "/api/monitoring/maintenance/{id}", "alerts:read", 0,
	h_maintenance_get, 0},
    {OSH_DELETE, "/api/monitoring/maintenance/{id}", "alerts:write", 0,
	h_maintenance_delete, 0},
    /* Metrics through Prometheus (metrics.c): named queries and fleet
     * views for viewers, raw PromQL for admins only. */
    {OSH_GET, "/api/monitoring/servers/{id}/metrics", "monitoring:read", 0,
	h_metrics_server, 0},
    {OSH_GET, "/api/monitoring/fleet/hottest", "monitoring:read", 0,
	h_fleet_hottest, 0},
    {OSH_GET, "/api/monitoring/fleet/power", "monitoring:read", 0,
	h_fleet_power, 0},
    {OSH_POST, "/api/monitoring/query", "monitoring:query", 16 * KB,
	h_metrics_query, 0},
    /* Alertmanager's webhook: its own bearer secret (receiver.c), not an
     * access token; never routed by the gateway. */
    {OSH_POST, "/internal/alertmanager/webhook", OSH_PERM_PUBLIC, 4096 * KB,
	h_webhook, 0},
};

const size_t aw_nroutes = OSH_ARRAY_LEN(aw_routes);
