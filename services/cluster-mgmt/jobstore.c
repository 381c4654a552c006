/* jobstore.c - cluster-mgmt's SQL for jobs and tasks. */
#include <json-c/json.h>
#include <stdio.h>

#include <osh/util.h>

#include "jobstate.h"
#include "jobstore.h"

static const char *
num(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

static void
add_rules(struct json_object *arr, const char *kind,
    const struct jobstate_rule *r, size_t n, bool job)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "kind", json_object_new_string(kind));
		json_object_object_add(o, "from",
		    json_object_new_string(job
			    ? jobstate_job_name(r[i].from)
			    : jobstate_task_name(r[i].from)));
		json_object_object_add(o, "event",
		    json_object_new_string(job
			    ? jobstate_job_event_name(r[i].event)
			    : jobstate_task_event_name(r[i].event)));
		json_object_object_add(o, "to",
		    json_object_new_string(job ? jobstate_job_name(r[i].to)
					       : jobstate_task_name(r[i].to)));
		json_object_array_add(arr, o);
	}
}

void
jobstore_load_transitions(struct osh_db *db, osh_db_json_cb cb, void *arg)
{
	struct json_object *arr = json_object_new_array();
	const struct jobstate_rule *r;
	size_t n;
	const char *v[1];

	r = jobstate_job_rules(&n);
	add_rules(arr, "job", r, n, true);
	r = jobstate_task_rules(&n);
	add_rules(arr, "task", r, n, false);
	v[0] = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	osh_db_json(db, "SELECT load_transitions($1::jsonb)", 1, v, cb, arg);
	json_object_put(arr);
}

void
jobstore_plan(struct osh_db *db, const char *spec, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {spec};

	osh_db_json(db, "SELECT job_plan($1::jsonb)", 1, v, cb, arg);
}

void
jobstore_create(struct osh_db *db, const char *spec, const char *creator,
    const char *key, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {spec, creator, key};

	osh_db_json(db, "SELECT job_create($1::jsonb, $2, $3, NULL, NULL)", 3,
	    v, cb, arg);
}

void
jobstore_retry(struct osh_db *db, int64_t id, const char *creator,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {num(sid, sizeof(sid), id), creator};

	osh_db_json(db, "SELECT job_retry($1, $2)", 2, v, cb, arg);
}

void
jobstore_control(struct osh_db *db, int64_t id, const char *event,
    osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {num(sid, sizeof(sid), id), event};

	osh_db_json(db, "SELECT job_control($1, $2)", 2, v, cb, arg);
}

void
jobstore_list(struct osh_db *db, const struct jobstore_filter *f,
    osh_db_json_cb cb, void *arg)
{
	char lim[24], off[24];
	const char *v[] = {f->state, f->action, f->creator, f->cluster,
	    f->since, f->until, num(lim, sizeof(lim), f->limit),
	    num(off, sizeof(off), f->offset)};

	osh_db_json(db,
	    "SELECT job_list($1, $2, $3, $4::bigint, $5::timestamptz, "
	    "$6::timestamptz, $7, $8)",
	    8, v, cb, arg);
}

void
jobstore_get(struct osh_db *db, int64_t id, osh_db_json_cb cb, void *arg)
{
	char sid[24];
	const char *v[] = {num(sid, sizeof(sid), id)};

	osh_db_json(
	    db, "SELECT job_json(j) FROM jobs j WHERE id = $1", 1, v, cb, arg);
}

void
jobstore_tasks(struct osh_db *db, int64_t id, const char *state, int64_t limit,
    int64_t offset, osh_db_json_cb cb, void *arg)
{
	char sid[24], lim[24], off[24];
	const char *v[] = {num(sid, sizeof(sid), id), state,
	    num(lim, sizeof(lim), limit), num(off, sizeof(off), offset)};

	osh_db_json(db, "SELECT job_tasks($1, $2, $3, $4)", 4, v, cb, arg);
}

void
jobstore_tick(struct osh_db *db, int max_picks, int grace_ms, osh_db_json_cb cb,
    void *arg)
{
	char a[24], b[24];
	const char *v[] = {
	    num(a, sizeof(a), max_picks), num(b, sizeof(b), grace_ms)};

	osh_db_json(db, "SELECT sched_tick($1, $2)", 2, v, cb, arg);
}

void
jobstore_results(
    struct osh_db *db, const char *results, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {results};

	osh_db_json(db, "SELECT tasks_results($1::jsonb)", 1, v, cb, arg);
}

void
jobstore_release(struct osh_db *db, int64_t task, int64_t attempt,
    osh_db_json_cb cb, void *arg)
{
	char a[24], b[24];
	const char *v[] = {num(a, sizeof(a), task), num(b, sizeof(b), attempt)};

	osh_db_json(db, "SELECT task_release($1, $2)", 2, v, cb, arg);
}

void
jobstore_prune(struct osh_db *db, int64_t days, osh_db_json_cb cb, void *arg)
{
	char a[24];
	const char *v[] = {num(a, sizeof(a), days)};

	osh_db_json(db, "SELECT jobs_prune($1)", 1, v, cb, arg);
}
