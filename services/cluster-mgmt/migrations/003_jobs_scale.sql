-- Jobs at fleet scale (tests/bench/jobs.sh). The scheduler's tick makes
-- the same decisions as 002's sched_tick, with work that grew with the
-- pending tasks of every tick taken out:
-- - the running-task count (busy) and the stagger window (win) are
--   computed once per tick, not once per candidate task;
-- - leases are looked up only for servers that live jobs share (none
--   while jobs do not overlap), not for every candidate;
-- - leased servers are skipped only for the jobs that skip them
--   (on_conflict skip), not looked up for every pending task;
-- - the live jobs are locked FOR NO KEY UPDATE: results stored during a
--   tick no longer wait for its end (their foreign key check takes KEY
--   SHARE on the job, which FOR UPDATE blocked);
-- - the picks are stored as sent and turned into requests by one
--   statement, not one per task;
-- - whether a job's tasks all ended is looked up in the live tasks
--   (tasks_live), not in every task kept;
-- - candidates are read from an index of pending tasks (tasks_pending),
--   only as many per job as its concurrency has room for when nothing
--   else can pass one over, rather than all of them sorted every tick;
-- - failure budgets are counted only for jobs that have one;
-- - its statements keep one plan (force_generic_plan) instead of being
--   planned again at every tick for the ids they are given: planning the
--   picks cost more than running them.
-- Results are stored with one update of a task that is achieved at once
-- (not accepted, then achieved), with plans kept the same way.
-- And the stagger is kept at the BMCs, not only at sending: a start
-- stays in its window from its sending until an interval after its
-- answer, and the answer says when the next window frees a start
-- (wake_ms), so that the scheduler ticks then rather than at its next
-- round.

-- Each job's pending tasks in order: a tick reads only the first few.
CREATE INDEX tasks_pending ON tasks (job_id, seq) WHERE state = 'pending';

-- One turn of the scheduler, in one transaction over the live jobs it
-- could lock (a second replica takes others, or waits for the next turn):
-- starts and expires scheduled jobs, retries what backed off long enough,
-- counts attempts without a result past their deadline (plus grace_ms) as
-- lost, ends verifies, applies failure budgets and canaries, skips or
-- holds leased servers, picks the tasks concurrency and stagger allow
-- (at most max_picks) and ends jobs whose tasks all ended. Answers
-- {"requests": [...], "jobs": [{id, state, event}], "wake_ms": ms or
-- null}: the requests to write to osh:power-requests, already stored as
-- sent, and in how long a stagger window frees a start.
CREATE OR REPLACE FUNCTION sched_tick(max_picks int, grace_ms int) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_variable
DECLARE
	live bigint[];
	skipping bigint[];
	contested bigint[];
	wake timestamptz;
	changes jsonb := '[]';
	reqs jsonb := '[]';
	r record;
BEGIN
	-- NO KEY UPDATE: replicas still skip each other's jobs, and cancel,
	-- pause and resume (FOR UPDATE) still wait for the tick, but the
	-- foreign key checks of results stored meanwhile (KEY SHARE on the
	-- job) do not.
	SELECT coalesce(array_agg(id), '{}') INTO live FROM (SELECT id
	    FROM jobs WHERE state IN ('queued', 'running', 'paused')
	    ORDER BY id FOR NO KEY UPDATE SKIP LOCKED) x;
	-- Attempts lost: no result long past the deadline (in an ended job
	-- too, whose task then fails: nothing retries it).
	FOR r IN SELECT t.id FROM tasks t WHERE t.state = 'dispatched' AND
	    t.deadline_at + make_interval(secs => grace_ms / 1000.0) < now()
	    ORDER BY t.id LIMIT 1000 FOR UPDATE SKIP LOCKED
	LOOP
		PERFORM task_error(r.id, 'worker_lost',
		    'no result for this attempt within its deadline');
	END LOOP;

	IF cardinality(live) = 0 THEN
		RETURN jsonb_build_object('requests', reqs, 'jobs', changes);
	END IF;

	-- Scheduled jobs: expire, or start.
	FOR r IN UPDATE jobs SET state = move_state('job', state, 'expire'),
	    finished_at = now(), updated_at = now(),
	    reason = 'not_after passed before the start'
	    WHERE id = ANY (live) AND state IN ('queued', 'paused') AND
	    started_at IS NULL AND not_after <= now() RETURNING id, state
	LOOP
		UPDATE tasks SET state = move_state('task', state, 'skip'),
		    error = 'expired', finished_at = now()
		    WHERE job_id = r.id AND can_move('task', state, 'skip');
		changes := changes || jsonb_build_object('id', r.id,
		    'state', r.state, 'event', 'expire');
	END LOOP;
	FOR r IN UPDATE jobs SET state = move_state('job', state, 'start'),
	    started_at = now(), updated_at = now()
	    WHERE id = ANY (live) AND state = 'queued' AND
	    coalesce(not_before <= now(), true) RETURNING id, state
	LOOP
		changes := changes || jsonb_build_object('id', r.id,
		    'state', r.state, 'event', 'start');
	END LOOP;

	-- Backoffs over.
	UPDATE tasks t SET state = move_state('task', t.state, 'retry_due'),
	    next_at = NULL, updated_at = now()
	FROM jobs j WHERE j.id = t.job_id AND t.job_id = ANY (live) AND
	    j.state = 'running' AND t.state = 'retry_wait' AND
	    t.next_at <= now();

	-- Verifies past their deadline.
	UPDATE tasks t SET state = move_state('task', t.state,
	    'not_achieved'), error = 'not_achieved', message =
	    'the server did not report power ' || j.target_state ||
	    ' within verify_timeout_s', finished_at = now(), updated_at = now()
	FROM jobs j WHERE j.id = t.job_id AND t.job_id = ANY (live) AND
	    j.state = 'running' AND t.state = 'verifying' AND
	    t.verify_until <= now();

	-- Failure budgets (of the jobs that have one).
	FOR r IN SELECT j.id FROM jobs j WHERE j.id = ANY (live) AND
	    j.state = 'running' AND (j.spec->'max_failures' <> 'null' OR
	    j.spec->'max_failures_percent' <> 'null') AND (SELECT count(*) FROM tasks t WHERE
	    t.job_id = j.id AND t.state = 'failed') > coalesce(
	    (j.spec->>'max_failures')::int, ceil((SELECT count(*) FROM
	    tasks t WHERE t.job_id = j.id) *
	    (j.spec->>'max_failures_percent')::numeric / 100), 2147483647)
	LOOP
		UPDATE tasks SET state = move_state('task', state, 'skip'),
		    error = 'budget_exceeded', message =
		    'skipped: the job''s max_failures was exceeded',
		    finished_at = now()
		    WHERE job_id = r.id AND can_move('task', state, 'skip');
		UPDATE jobs SET state = move_state('job', state, 'budget'),
		    reason = 'max_failures exceeded', finished_at = now(),
		    updated_at = now() WHERE id = r.id;
		changes := changes || jsonb_build_object('id', r.id,
		    'state', 'failed', 'event', 'budget');
	END LOOP;

	-- Canaries: done once every canary task ended; any failure pauses.
	-- (Each job's tasks through its own index lookup, LATERAL: with the
	-- plans kept generic, a join could scan every task kept.)
	FOR r IN SELECT j.id, c.failed FROM jobs j CROSS JOIN LATERAL
	    (SELECT bool_or(t.state = 'failed') failed,
	    bool_and(task_final(t.state)) ended FROM tasks t
	    WHERE t.job_id = j.id AND t.canary) c
	    WHERE j.id = ANY (live) AND j.state = 'running' AND
	    NOT j.canary_done AND c.ended
	LOOP
		UPDATE jobs SET canary_done = true, updated_at = now(),
		    state = CASE WHEN r.failed THEN move_state('job', state,
		        'canary_failed') ELSE state END,
		    reason = CASE WHEN r.failed THEN
		        'a canary task failed: resume to go on, or cancel' END
		WHERE id = r.id;
		IF r.failed THEN
			changes := changes || jsonb_build_object('id', r.id,
			    'state', 'paused', 'event', 'canary_failed');
		END IF;
	END LOOP;

	-- Leased servers, for jobs that skip them (only those jobs' tasks
	-- are looked up).
	SELECT coalesce(array_agg(id), '{}') INTO skipping FROM jobs
	    WHERE id = ANY (live) AND state = 'running' AND
	    spec->>'on_conflict' = 'skip';
	IF cardinality(skipping) > 0 THEN
		UPDATE tasks t SET state = move_state('task', t.state, 'skip'),
		    error = 'leased',
		    message = 'another running job holds this server',
		    finished_at = now(), updated_at = now()
		WHERE t.job_id = ANY (skipping) AND t.state = 'pending' AND
		    server_leased(t.server_id, t.job_id);
	END IF;

	-- Servers with live tasks in more than one live job: the only ones
	-- a lease can hold back (none while jobs do not overlap).
	contested := '{}';
	IF (SELECT count(*) FROM jobs WHERE state IN ('running', 'paused'))
	    > 1 THEN
		SELECT coalesce(array_agg(server_id), '{}') INTO contested
		FROM (SELECT t.server_id FROM tasks t WHERE t.state IN
		    ('pending', 'dispatched', 'verifying', 'retry_wait') AND
		    t.job_id IN (SELECT id FROM jobs WHERE state IN
		    ('running', 'paused'))
		    GROUP BY t.server_id HAVING count(DISTINCT t.job_id) > 1) x;
	END IF;

	-- Picks: pending tasks of running jobs, canaries first, not leased,
	-- one per server, within each job's stagger (per label value, then
	-- overall) and concurrency; stored as sent and answered as requests
	-- in one statement.
	-- A start counts in its job's stagger window while its command is
	-- under way and for an interval after its answer came back (or
	-- after it was sent, for an attempt without one): the BMC ran it in
	-- between, so no interval at the BMCs sees more starts than asked,
	-- however long each took to get there.
	WITH win AS MATERIALIZED (SELECT j.id AS job_id, w.label_value, w.n
	    FROM jobs j CROSS JOIN LATERAL (SELECT t.label_value, count(*) n
	    FROM tasks t WHERE t.job_id = j.id AND (t.state = 'dispatched' OR
	    greatest(t.last_sent_at, t.accepted_at) > now() - make_interval(
	    secs => (j.spec->'stagger'->>'interval_ms')::int / 1000.0))
	    GROUP BY t.label_value) w
	    WHERE j.id = ANY (live) AND j.spec->'stagger' <> 'null'),
	busy AS MATERIALIZED (SELECT job_id, count(*) n FROM tasks WHERE
	    job_id = ANY (live) AND state IN ('dispatched', 'verifying')
	    GROUP BY 1),
	-- A job's first pending tasks, as many as its concurrency has room
	-- for (tasks_pending), unless a label stagger or a shared server
	-- may pass some over: then all of them.
	c0 AS (SELECT t.id, t.job_id, t.seq, t.server_id, t.label_value,
	    j.spec, row_number() OVER (PARTITION BY t.server_id ORDER BY
	    t.job_id) srv
	    FROM jobs j CROSS JOIN LATERAL (SELECT * FROM tasks t
	    WHERE t.job_id = j.id AND t.state = 'pending' AND
	    (j.canary_done OR t.canary) AND
	    NOT (t.server_id = ANY (contested) AND
	    server_leased(t.server_id, t.job_id))
	    ORDER BY t.seq
	    LIMIT CASE WHEN cardinality(contested) = 0 AND
	    coalesce((j.spec->'stagger'->>'label_count')::int, 0) = 0 THEN
	    greatest((j.spec->>'concurrency')::int - coalesce((SELECT n FROM
	    busy WHERE busy.job_id = j.id), 0), 0) END) t
	    WHERE j.id = ANY (live) AND j.state = 'running'),
	c1 AS (SELECT c0.*, row_number() OVER (PARTITION BY c0.job_id,
	    c0.label_value ORDER BY c0.seq) lr FROM c0 WHERE srv = 1),
	c2 AS (SELECT c1.*, row_number() OVER (PARTITION BY c1.job_id
	    ORDER BY c1.seq) jr FROM c1 WHERE
	    coalesce((c1.spec->'stagger'->>'label_count')::int, 0) = 0 OR
	    c1.label_value IS NULL OR lr + coalesce((SELECT n FROM win
	    WHERE win.job_id = c1.job_id AND win.label_value =
	    c1.label_value), 0) <= (c1.spec->'stagger'->>'label_count')::int),
	picks AS MATERIALIZED (SELECT c2.id, c2.spec FROM c2
	    WHERE jr + coalesce((SELECT n FROM busy WHERE busy.job_id =
	    c2.job_id), 0) <= (c2.spec->>'concurrency')::int AND
	    (c2.spec->'stagger' = 'null' OR jr + coalesce((SELECT sum(n)
	    FROM win WHERE win.job_id = c2.job_id), 0) <=
	    (c2.spec->'stagger'->>'count')::int)
	    ORDER BY c2.job_id, c2.seq LIMIT max_picks),
	u AS (UPDATE tasks t SET state = move_state('task', t.state,
	    'dispatch'), attempt = t.attempt + 1, last_sent_at = now(),
	    started_at = coalesce(t.started_at, now()),
	    deadline_at = now() + make_interval(secs =>
	    (p.spec->>'timeout_s')::int), updated_at = now()
	    FROM picks p WHERE t.id = p.id
	    RETURNING t.id, t.job_id, t.seq, t.attempt, t.server_id,
	    t.deadline_at, p.spec)
	SELECT reqs || coalesce(jsonb_agg(jsonb_build_object(
	    'request_id', u.job_id || '.' || u.id || '.' || u.attempt,
	    'job_id', u.job_id, 'task_id', u.id, 'attempt', u.attempt,
	    'server_id', u.server_id, 'action', j.action,
	    'deadline_ms', (extract(epoch FROM u.deadline_at) * 1000)::bigint,
	    'requested_by', j.creator,
	    'delay_ms', floor(random() * coalesce(
	        (u.spec->'stagger'->>'jitter_ms')::int, 0)))
	    ORDER BY u.job_id, u.seq), '[]')
	INTO reqs FROM u JOIN jobs j ON j.id = u.job_id;

	-- Verify polls due: a status request each.
	FOR r IN UPDATE tasks t SET polls = t.polls + 1,
	    next_at = now() + interval '2 seconds', updated_at = now()
	FROM jobs j WHERE j.id = t.job_id AND t.job_id = ANY (live) AND
	    j.state = 'running' AND t.state = 'verifying' AND
	    t.next_at <= now()
	RETURNING t.*, j.creator, j.spec
	LOOP
		reqs := reqs || jsonb_build_object(
		    'request_id', r.job_id || '.' || r.id || '.' ||
		        r.attempt || '.v' || r.polls,
		    'job_id', r.job_id, 'task_id', r.id, 'attempt', r.attempt,
		    'server_id', r.server_id, 'action', 'status',
		    'deadline_ms', (extract(epoch FROM now() +
		        make_interval(secs => (r.spec->>'timeout_s')::int)) *
		        1000)::bigint,
		    'requested_by', r.creator, 'delay_ms', 0);
	END LOOP;

	-- When the next stagger window frees a start (a job with pending
	-- tasks waits for it): the scheduler ticks then.
	SELECT min(w.at) INTO wake FROM jobs j CROSS JOIN LATERAL
	    (SELECT min(greatest(t.last_sent_at, t.accepted_at) +
	    make_interval(secs => (j.spec->'stagger'->>'interval_ms')::int /
	    1000.0)) at FROM tasks t WHERE t.job_id = j.id AND
	    t.state <> 'dispatched' AND greatest(t.last_sent_at,
	    t.accepted_at) > now() - make_interval(secs =>
	    (j.spec->'stagger'->>'interval_ms')::int / 1000.0)) w
	WHERE j.id = ANY (live) AND j.state = 'running' AND
	    j.spec->'stagger' <> 'null' AND EXISTS (SELECT 1 FROM tasks p
	    WHERE p.job_id = j.id AND p.state = 'pending');

	-- Jobs whose tasks all ended (live states spelled out: the partial
	-- index tasks_live, not a scan of every task ever kept).
	FOR r IN UPDATE jobs j SET state = move_state('job', j.state,
	    CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND
	    t.state = 'failed') THEN 'finish_failed' ELSE 'finish' END),
	    finished_at = now(), updated_at = now()
	WHERE j.id = ANY (live) AND j.state = 'running' AND NOT EXISTS
	    (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state IN
	    ('pending', 'dispatched', 'verifying', 'retry_wait'))
	RETURNING j.id, j.state
	LOOP
		changes := changes || jsonb_build_object('id', r.id,
		    'state', r.state, 'event', 'finish');
	END LOOP;
	RETURN jsonb_build_object('requests', reqs, 'jobs', changes,
	    'wake_ms', ceil(extract(epoch FROM wake - now()) * 1000));
END $$;

-- Stores results read from osh:power-results ([{request_id, task_id,
-- attempt, result, error, message, power_state}]). A result for another
-- attempt than the task's current one, or for a task no longer
-- dispatched, changes nothing (a duplicate). Answers the tasks that
-- changed: [task json].
CREATE OR REPLACE FUNCTION tasks_results(rs jsonb) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_variable
DECLARE
	r jsonb;
	t tasks;
	j jobs;
	changed bigint[] := '{}';
	poll boolean;
	ok boolean;
	now_achieved boolean;
BEGIN
	FOR r IN SELECT * FROM jsonb_array_elements(rs) LOOP
		SELECT * INTO t FROM tasks WHERE id =
		    (r->>'task_id')::bigint FOR UPDATE;
		CONTINUE WHEN NOT FOUND OR t.job_id::text <> r->>'job_id' OR
		    t.attempt::text <> r->>'attempt';
		SELECT * INTO j FROM jobs WHERE id = t.job_id;
		poll := r->>'request_id' LIKE '%.v%';
		ok := r->>'result' = 'ok';
		IF poll THEN
			CONTINUE WHEN t.state <> 'verifying';
			IF ok AND r->>'power_state' = j.target_state THEN
				UPDATE tasks SET state = move_state('task',
				    state, 'achieved'), achieved_at = now(),
				    finished_at = now(), updated_at = now(),
				    power_state = r->>'power_state'
				WHERE id = t.id;
				changed := changed || t.id;
			ELSE
				UPDATE tasks SET power_state =
				    coalesce(r->>'power_state', power_state)
				    WHERE id = t.id;
			END IF;
			CONTINUE;
		END IF;
		CONTINUE WHEN t.state <> 'dispatched';
		changed := changed || t.id;
		IF NOT ok THEN
			PERFORM task_error(t.id, coalesce(nullif(r->>'error',
			    ''), 'internal'), left(r->>'message', 512));
			CONTINUE;
		END IF;
		IF NOT (j.spec->>'verify')::boolean THEN
			UPDATE tasks SET state = move_state('task', state,
			    'done'), accepted_at = now(), finished_at = now(),
			    error = NULL, message = NULL, updated_at = now(),
			    power_state = r->>'power_state'
			WHERE id = t.id;
			CONTINUE;
		END IF;
		-- Accepted, and achieved at once when the answer already
		-- reports the state asked for: one row version, not two.
		now_achieved := coalesce(r->>'power_state' = j.target_state,
		    false) AND j.kind NOT IN ('cycle', 'reset');
		UPDATE tasks SET state = CASE WHEN now_achieved THEN
		    move_state('task', move_state('task', state, 'accepted'),
		    'achieved') ELSE move_state('task', state, 'accepted') END,
		    accepted_at = now(), error = NULL,
		    message = NULL, power_state = r->>'power_state',
		    verify_until = now() + make_interval(secs =>
		        (j.spec->>'verify_timeout_s')::int),
		    next_at = now() + interval '1 second', updated_at = now(),
		    achieved_at = CASE WHEN now_achieved THEN now() END,
		    finished_at = CASE WHEN now_achieved THEN now() END
		WHERE id = t.id;
		IF NOT now_achieved AND j.state = 'cancelled' THEN
			UPDATE tasks SET state = move_state('task', state,
			    'cancel'), finished_at = now() WHERE id = t.id;
		END IF;
	END LOOP;
	RETURN coalesce((SELECT jsonb_agg(task_json(t2) ORDER BY t2.id)
	    FROM tasks t2 WHERE t2.id = ANY (changed)), '[]');
END $$;
