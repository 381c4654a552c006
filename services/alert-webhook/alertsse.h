/* alertsse.h - the alert event stream: every alert.* event also goes to
 * the Redis stream ALERTSSE_KEY (trimmed near ALERTSSE_MAXLEN entries),
 * which GET /api/monitoring/alerts/events serves as Server-Sent Events
 * (osh/sse.h): event new, resolved, acknowledged or unacknowledged, data
 * the event's JSON, id the stream entry's (Last-Event-ID resumes after
 * it). */
#ifndef AW_ALERTSSE_H
#define AW_ALERTSSE_H

struct osh_redis;

#define ALERTSSE_KEY "osh:alerts:events"
#define ALERTSSE_MAXLEN "10000"

/* Appends event type ("alert.new": the SSE event is "new") with data
 * (JSON text, one line). Best effort: the alert list stays the truth. */
void alertsse_add(struct osh_redis *redis, const char *type, const char *data);

#endif
