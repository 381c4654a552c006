/* sse.h - Server-Sent Events that replay and follow a Redis stream,
 * opened with a single-use ticket.
 *
 * EventSource cannot send an Authorization header, and a long-lived token
 * must not go in a URL. So a client first asks for a ticket with its
 * token (osh_sse_ticket, behind the route's permission), then opens the
 * stream with ?ticket= (osh_sse_serve, on a public route) within
 * OSH_SSE_TICKET_TTL_S seconds. The ticket lives in Redis
 * (osh:sse-ticket:<ticket> -> "<scope> <user>") and is taken with GETDEL,
 * so it opens one stream once, whichever replica gets it, and only for
 * the scope it was issued for (a job id, "alerts").
 *
 * A stream's entries hold the fields "type" (the SSE event name) and
 * "data" (one line of JSON); the entry id is the SSE id, so that a client
 * resumes after the Last-Event-ID it sends. A browser's EventSource sends
 * that header only on its own reconnections, which a spent ticket fails:
 * a page opens a new EventSource with a new ticket and
 * ?last_event_id=<the last id it saw> instead (the header wins when both
 * come). Neither is a secret. The stream is followed by
 * polling (XREAD every 250 ms), with a comment line as heartbeat every
 * 15 s; it ends after an entry the caller calls final, after an hour
 * (so that proxies and clients reconnect), or when the service stops
 * (within a poll, so that the drain of requests in flight is not held
 * up). At most OSH_SSE_MAX_STREAMS streams are open in a process; more
 * are answered 503. */
#ifndef OSH_SSE_H
#define OSH_SSE_H

#include <stdbool.h>

struct osh_req;

#define OSH_SSE_TICKET_TTL_S 30
#define OSH_SSE_MAX_STREAMS 256
#define OSH_SSE_SCOPE_MAX 64

/* Issues a ticket for scope (no space, shorter than OSH_SSE_SCOPE_MAX) to
 * req's user and answers req: 201 {"ticket", "expires_in"} (the ticket
 * wiped once sent), or 503 when Redis cannot store it. */
void osh_sse_ticket(struct osh_req *req, const char *scope);

/* What osh_sse_serve streams. The strings are copied. */
struct osh_sse_stream {
	const char *scope; /* the scope the ticket must be for */
	const char *key; /* the Redis stream */
	/* Named in the 401 a missing ticket gets: "POST /api/jobs/42/events/
	 * ticket". */
	const char *ticket_from;
	/* Without Last-Event-ID: only entries added from now on (true), or
	 * the whole stream from its start (false). */
	bool from_now;
	/* An entry after which the stream ends (a job's final state), or
	 * NULL: none. */
	bool (*final)(const char *type, const char *data);
};

/* Serves GET <events>?ticket=[&last_event_id=]: checks the ticket's form
 * and the Last-Event-ID header or parameter (400 when it is no stream id), takes the ticket
 * (401 when unknown, used, expired or for another scope; 503 when Redis
 * fails or too many streams are open), then answers 200
 * text/event-stream (no-cache, X-Accel-Buffering: no) and streams until
 * the end described above or the client goes away. req is answered. */
void osh_sse_serve(struct osh_req *req, const struct osh_sse_stream *st);

/* Whether v is a stream id as Redis writes them ("<ms>-<seq>" or
 * "<ms>"), so it can be a Last-Event-ID. */
bool osh_sse_id_ok(const char *v);

#endif
