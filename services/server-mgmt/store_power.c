/* store_power.c - server-mgmt's SQL for power request records (table
 * power_requests): what makes a redelivered request harmless
 * (power_worker.c). */
#include <osh/db.h>

#include "power_request.h"
#include "store.h"

void
store_power_begin(struct osh_db *db, const struct power_request *r,
    const char *stream_id, const char *consumer, osh_db_json_cb cb, void *arg)
{
	char job[24], task[24], attempt[24], server[24];
	const char *v[] = {r->request_id,
	    osh_db_num(job, sizeof(job), r->job_id),
	    osh_db_num(task, sizeof(task), r->task_id),
	    osh_db_num(attempt, sizeof(attempt), r->attempt),
	    osh_db_num(server, sizeof(server), r->server_id), r->action,
	    r->requested_by, r->trace, stream_id, consumer};

	/* The conflicting row existed before this statement: the outer
	 * SELECT sees it (only the new row would be invisible). */
	osh_db_json(db,
	    "WITH ins AS (INSERT INTO power_requests (request_id, job_id, "
	    "task_id, attempt, server_id, action, requested_by, trace, "
	    "stream_id, consumer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	    "$10) ON CONFLICT (request_id) DO NOTHING RETURNING 1) "
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN "
	    "jsonb_build_object('new', true) ELSE (SELECT "
	    "jsonb_build_object('new', false, 'state', state, 'result', "
	    "result, 'error', error, 'message', message, 'power_state', "
	    "power_state, 'executed_ms', (extract(epoch FROM executed_at) * "
	    "1000)::bigint) FROM power_requests WHERE request_id = $1) END",
	    10, v, cb, arg);
}

void
store_power_get(struct osh_db *db, const struct power_request *r,
    osh_db_json_cb cb, void *arg)
{
	char job[24], task[24], attempt[24];
	const char *v[] = {r->request_id,
	    osh_db_num(job, sizeof(job), r->job_id),
	    osh_db_num(task, sizeof(task), r->task_id),
	    osh_db_num(attempt, sizeof(attempt), r->attempt), r->action,
	    r->idempotent ? "true" : "false"};

	osh_db_json(db,
	    "SELECT coalesce((SELECT jsonb_build_object('new', false, "
	    "'state', state, 'result', result, 'error', error, 'message', "
	    "message, 'power_state', power_state, 'executed_ms', (extract("
	    "epoch FROM executed_at) * 1000)::bigint) FROM power_requests "
	    "WHERE request_id = $1), "
	    "(SELECT jsonb_build_object('new', false, 'state', 'done', "
	    "'result', CASE WHEN p.result = 'ok' THEN 'ok' ELSE 'error' END, "
	    "'error', CASE WHEN p.result = 'ok' THEN '' ELSE "
	    "'outcome_unknown' END, 'message', CASE WHEN p.result = 'ok' "
	    "THEN 'run by attempt ' || p.attempt || ' of this task (' || "
	    "p.request_id || '): not sent again' WHEN p.state = 'done' THEN "
	    "'attempt ' || p.attempt || ' of this task was sent and not "
	    "answered in time: not sent again, the BMC may or may not have "
	    "run it' ELSE 'attempt ' || "
	    "p.attempt || ' of this task was interrupted while being sent "
	    "to the BMC: not sent again, the BMC may or may not have run it' "
	    "END, 'power_state', p.power_state, 'executed_ms', (extract(epoch "
	    "FROM coalesce(p.executed_at, now())) * 1000)::bigint) "
	    "FROM power_requests p WHERE NOT $6::boolean AND p.job_id = $2 "
	    "AND p.task_id = $3 AND p.attempt < $4 AND p.action = $5 AND "
	    "(p.state = 'sending' OR p.result = 'ok' OR "
	    "p.error = 'outcome_unknown') "
	    "ORDER BY p.attempt DESC LIMIT 1))",
	    6, v, cb, arg);
}

void
store_power_finish(struct osh_db *db, const char *request_id,
    const char *result, const char *error, const char *message,
    const char *power_state, osh_db_json_cb cb, void *arg)
{
	const char *v[] = {request_id, result, error, message, power_state};

	osh_db_json(db,
	    "UPDATE power_requests SET state = 'done', result = $2, error = "
	    "$3, message = $4, power_state = $5, executed_at = now() WHERE "
	    "request_id = $1 RETURNING (extract(epoch FROM executed_at) * "
	    "1000)::bigint",
	    5, v, cb, arg);
}

void
store_power_prune(struct osh_db *db, int days, osh_db_json_cb cb, void *arg)
{
	char d[24];
	const char *v[] = {osh_db_num(d, sizeof(d), days)};

	osh_db_json(db,
	    "WITH gone AS (DELETE FROM power_requests WHERE request_id IN "
	    "(SELECT request_id FROM power_requests WHERE received_at < now() "
	    "- make_interval(days => $1::int) LIMIT 1000) RETURNING 1) "
	    "SELECT count(*) FROM gone",
	    1, v, cb, arg);
}
