/* jobevents.c - writes each job's stream of changes. */
#include <stdio.h>

#include <osh/json.h>
#include <osh/redis.h>
#include <osh/util.h>

#include "jobevents.h"

/* A job's stream lives ttl_s after its last event: its EXPIRE is renewed
 * when an event comes and the last renewal is older than a tenth of the
 * TTL (at most a minute), remembered for a few jobs at once. One EXPIRE
 * per event doubled the commands a task costs. */
#define RENEW_MAX_MS 60000
#define RENEW_SLOTS 64

static int64_t ttl_s = 86400;
static struct {
	int64_t job;
	uint64_t at_ms;
} renewed[RENEW_SLOTS];

static bool
renew_due(int64_t job)
{
	uint64_t now = osh_now_us() / 1000, every = (uint64_t)ttl_s * 100;
	size_t i = (size_t)((uint64_t)job % RENEW_SLOTS);

	if (every > RENEW_MAX_MS)
		every = RENEW_MAX_MS;
	if (renewed[i].job == job && now - renewed[i].at_ms < every)
		return false;
	renewed[i].job = job;
	renewed[i].at_ms = now;
	return true;
}

void
jobevents_set_ttl(int64_t seconds)
{
	ttl_s = seconds;
}

void
jobevents_key(int64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "osh:job:%lld:events", (long long)id);
}

static void
add(struct osh_redis *r, int64_t job, const char *type, struct json_object *d)
{
	char key[64];

	if (r == NULL || job <= 0)
		return;
	jobevents_key(job, key, sizeof(key));
	osh_redis_cmd(r, NULL, NULL,
	    "XADD %s MAXLEN ~ " JOBEVENTS_MAXLEN " * type %s data %s", key,
	    type, json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	if (renew_due(job))
		osh_redis_cmd(
		    r, NULL, NULL, "EXPIRE %s %lld", key, (long long)ttl_s);
}

void
jobevents_task(struct osh_redis *r, struct json_object *task)
{
	add(r, osh_json_int(task, "job_id", 0), "task", task);
}

void
jobevents_request(struct osh_redis *r, struct json_object *req)
{
	add(r, osh_json_int(req, "job_id", 0), "request", req);
}

void
jobevents_job(struct osh_redis *r, struct json_object *job)
{
	add(r, osh_json_int(job, "id", 0), "job", job);
}
