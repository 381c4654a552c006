/* alertsse.c - HTTP <-> the alert event stream: a single-use ticket
 * (POST /api/monitoring/alerts/events/ticket, alerts:read), then the
 * stream from now on, or after Last-Event-ID (GET .../alerts/events). */
#include <string.h>

#include <osh/redis.h>
#include <osh/sse.h>

#include "alertsse.h"
#include "handlers.h"

#define SCOPE "alerts"

void
alertsse_add(struct osh_redis *redis, const char *type, const char *data)
{
	if (redis == NULL)
		return;
	if (strncmp(type, "alert.", 6) == 0)
		type += 6;
	osh_redis_cmd(redis, NULL, NULL,
	    "XADD " ALERTSSE_KEY " MAXLEN ~ " ALERTSSE_MAXLEN
	    " * type %s data %s",
	    type, data);
}

void
h_alerts_events_ticket(struct osh_req *req)
{
	osh_sse_ticket(req, SCOPE);
}

void
h_alerts_events(struct osh_req *req)
{
	static const struct osh_sse_stream st = {
	    .scope = SCOPE,
	    .key = ALERTSSE_KEY,
	    .ticket_from = "POST /api/monitoring/alerts/events/ticket",
	    .from_now = true,
	    .final = NULL,
	};

	osh_sse_serve(req, &st);
}
