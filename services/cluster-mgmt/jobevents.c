/* jobevents.c - writes each job's stream of changes. */
#include <stdio.h>

#include <osh/json.h>
#include <osh/redis.h>

#include "jobevents.h"

static int64_t ttl_s = 86400;

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
	osh_redis_cmd(r, NULL, NULL, "EXPIRE %s %lld", key, (long long)ttl_s);
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
