/* audit.c - audit entries onto the osh:audit stream. An entry that cannot
 * be sent (Redis down or slow) waits in a bounded in-memory spool and is
 * sent after reconnection, in order, one at a time; only when the spool is
 * full is its oldest entry not already on its way dropped (logged, and
 * counted: osh_audit_dropped). An entry whose XADD reached Redis but whose
 * answer was lost with the connection is sent again: at least once. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "osh/audit.h"
#include "osh/http.h"
#include "osh/log.h"
#include "osh/metrics.h"
#include "osh/redis.h"
#include "osh/util.h"

#define NFIELDS 10

struct pending {
	TAILQ_ENTRY(pending) next;
	struct osh_audit *a;
	char *vals[NFIELDS];
};
TAILQ_HEAD(pending_list, pending);

struct osh_audit {
	struct osh_redis *redis;
	char *service;
	struct pending_list backlog;
	size_t nbacklog, max_backlog;
	uint64_t dropped;
	struct osh_metric *m_dropped;
	bool flushing; /* the first entry's XADD is on its way */
};

static const char *const field_names[NFIELDS] = {"ts", "service", "actor_id",
    "actor", "action", "target", "result", "client", "request_id", "details"};

static void flush(struct osh_audit *a);

struct osh_audit *
osh_audit_new(struct osh_redis *redis, const char *service, size_t max_backlog)
{
	struct osh_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->redis = redis;
	a->service = strdup(service);
	a->max_backlog = max_backlog;
	TAILQ_INIT(&a->backlog);
	return a;
}

static void
pending_free(struct pending *p)
{
	for (size_t i = 0; i < NFIELDS; i++)
		free(p->vals[i]);
	free(p);
}

void
osh_audit_free(struct osh_audit *a)
{
	struct pending *p;

	if (a == NULL)
		return;
	if (a->nbacklog > 0)
		osh_log_warn(NULL,
		    "msg=\"audit entries not delivered\" "
		    "count=%zu",
		    a->nbacklog);
	while ((p = TAILQ_FIRST(&a->backlog)) != NULL) {
		TAILQ_REMOVE(&a->backlog, p, next);
		pending_free(p);
	}
	free(a->service);
	free(a);
}

/* Names that suggest a secret never make it into an audit entry. */
static bool
secret_name(const char *k)
{
	static const char *const bad[] = {
	    "password", "secret", "token", "credential", "key", "pass", "hash"};

	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++)
		if (strcasestr(k, bad[i]) != NULL)
			return true;
	return false;
}

static void
scrub(struct json_object *o, int depth)
{
	char *drop[64];
	size_t n = 0;

	if (depth > 8 || !json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v)
	{
		if (secret_name(k) && n < OSH_ARRAY_LEN(drop))
			drop[n++] = strdup(k);
		else
			scrub(v, depth + 1);
	}
	for (size_t i = 0; i < n; i++) {
		if (drop[i] != NULL)
			json_object_object_del(o, drop[i]);
		free(drop[i]);
	}
}

static void
on_sent(redisReply *reply, void *arg)
{
	struct pending *p = arg;
	struct osh_audit *a = p->a;

	a->flushing = false;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		/* Still first in the backlog: retried on reconnection. */
		return;
	}
	TAILQ_REMOVE(&a->backlog, p, next);
	a->nbacklog--;
	pending_free(p);
	flush(a);
}

/* Sends the oldest entry of the backlog; one at a time keeps order. */
static void
flush(struct osh_audit *a)
{
	const char *argv[6 + 2 * NFIELDS];
	struct pending *p = TAILQ_FIRST(&a->backlog);
	int argc = 0;

	if (p == NULL || a->flushing || !osh_redis_connected(a->redis))
		return;
	argv[argc++] = "XADD";
	argv[argc++] = OSH_AUDIT_STREAM;
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = "1000000";
	argv[argc++] = "*";
	for (size_t i = 0; i < NFIELDS; i++) {
		argv[argc++] = field_names[i];
		argv[argc++] = p->vals[i] ? p->vals[i] : "";
	}
	a->flushing = true;
	osh_redis_argv(a->redis, on_sent, p, argc, argv, NULL);
}

void
osh_audit_emit(struct osh_audit *a, const struct osh_audit_entry *e)
{
	struct pending *p;
	char num[32], ts[OSH_TIME_LEN];

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		json_object_put(e->details);
		return;
	}
	p->a = a;
	if (e->details != NULL)
		scrub(e->details, 0);
	snprintf(num, sizeof(num), "%lld", (long long)e->actor_id);
	p->vals[0] = strdup(osh_time_format(osh_wall_ms(), ts, sizeof(ts)));
	p->vals[1] = strdup(a->service);
	p->vals[2] = strdup(num);
	p->vals[3] = strdup(e->actor ? e->actor : "");
	p->vals[4] = strdup(e->action ? e->action : "");
	p->vals[5] = strdup(e->target ? e->target : "");
	p->vals[6] = strdup(e->result ? e->result : "success");
	p->vals[7] = strdup(e->client ? e->client : "");
	p->vals[8] = strdup(e->request_id ? e->request_id : "");
	p->vals[9] = strdup(e->details ? json_object_to_json_string_ext(
					     e->details, JSON_C_TO_STRING_PLAIN)
				       : "{}");
	json_object_put(e->details);
	if (a->nbacklog >= a->max_backlog && a->nbacklog > 0) {
		/* The first entry may be on its way: then the next one. */
		struct pending *old = TAILQ_FIRST(&a->backlog);
		if (a->flushing)
			old = TAILQ_NEXT(old, next);
		if (old != NULL) {
			TAILQ_REMOVE(&a->backlog, old, next);
			a->nbacklog--;
			a->dropped++;
			if (a->m_dropped != NULL)
				osh_metric_add(a->m_dropped, "", 1);
			osh_log_error(NULL,
			    "msg=\"audit backlog full, dropped "
			    "oldest entry\" action=\"%s\"",
			    old->vals[4]);
			pending_free(old);
		}
	}
	TAILQ_INSERT_TAIL(&a->backlog, p, next);
	a->nbacklog++;
	flush(a);
}

void
osh_audit_req(struct osh_audit *a, const struct osh_req *req,
    const char *action, const char *target, const char *result,
    struct json_object *details)
{
	struct osh_audit_entry e = {
	    .actor_id = req->authed ? req->claims.user_id : 0,
	    .actor = req->authed ? req->claims.name : "",
	    .action = action,
	    .target = target,
	    .result = result,
	    .client = req->client_addr,
	    .request_id = req->request_id,
	    .details = details,
	};

	osh_audit_emit(a, &e);
}

size_t
osh_audit_backlog(const struct osh_audit *a)
{
	return a->nbacklog;
}

void
osh_audit_set_metrics(struct osh_audit *a, struct osh_metrics *m)
{
	if (a == NULL || m == NULL)
		return;
	a->m_dropped = osh_metric_new(m, "osh_audit_dropped_total",
	    "Audit entries dropped because the spool (entries waiting while "
	    "Redis is away, osh_audit_backlog) was full",
	    OSH_COUNTER, NULL, 0);
	if (a->m_dropped != NULL)
		osh_metric_add(a->m_dropped, "", 0);
}

uint64_t
osh_audit_dropped(const struct osh_audit *a)
{
	return a->dropped;
}

void
osh_audit_resume(struct osh_audit *a)
{
	a->flushing = false;
	flush(a);
}

struct json_object *
osh_audit_fields(struct json_object *body)
{
	struct json_object *d = json_object_new_object();
	struct json_object *a = json_object_new_array();

	/* A refused body may be anything JSON: only an object has names. */
	if (json_object_is_type(body, json_type_object)) {
		json_object_object_foreach(body, k, v)
		{
			(void)v;
			json_object_array_add(a, json_object_new_string(k));
		}
	}
	json_object_object_add(d, "fields", a);
	return d;
}
