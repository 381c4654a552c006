-- Jobs: power actions over many servers, one task per server, run by the
-- scheduler (scheduler.c) through the Redis streams of POWER-STREAMS.md.
-- Every change of a job's or a task's state goes through move_state(),
-- which reads the transitions cluster-mgmt's C table (jobstate.c) writes
-- into job_transitions at every start: one state machine, not two.

CREATE TABLE job_transitions (
	kind text NOT NULL CHECK (kind IN ('job', 'task')),
	from_state text NOT NULL,
	event text NOT NULL,
	to_state text NOT NULL,
	PRIMARY KEY (kind, from_state, event)
);

-- Replaces the transitions with rules ([{kind, from, event, to}]).
CREATE FUNCTION load_transitions(rules jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
	DELETE FROM job_transitions;
	INSERT INTO job_transitions
	    SELECT r->>'kind', r->>'from', r->>'event', r->>'to'
	    FROM jsonb_array_elements(rules) r;
	RETURN jsonb_build_object('rules', jsonb_array_length(rules));
END $$;

-- The state after event in state from; raises OSJ01 when the table does
-- not allow it.
CREATE FUNCTION move_state(k text, from_state text, ev text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
	t text;
BEGIN
	SELECT to_state INTO t FROM job_transitions
	    WHERE kind = k AND job_transitions.from_state = move_state.from_state
	    AND event = ev;
	IF t IS NULL THEN
		RAISE EXCEPTION '% % refuses %', k, from_state, ev
		    USING ERRCODE = 'OSJ01';
	END IF;
	RETURN t;
END $$;

CREATE FUNCTION can_move(k text, from_state text, ev text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM job_transitions t WHERE t.kind = k AND
	    t.from_state = can_move.from_state AND t.event = ev)
$$;

CREATE TABLE jobs (
	id bigserial PRIMARY KEY,
	state text NOT NULL,
	kind text NOT NULL, -- on, off, ..., boot, identify
	action text NOT NULL, -- as the request stream spells it
	target_state text, -- on | off | NULL: what verify waits for
	spec jsonb NOT NULL, -- the normalized body (jobinput.c)
	creator text NOT NULL,
	cluster_id bigint, -- when targeted by cluster (no reference: a
	                   -- cluster may go, its jobs stay)
	retry_of bigint REFERENCES jobs (id) ON DELETE SET NULL,
	left_out jsonb NOT NULL DEFAULT '[]',
	reason text, -- why it failed or paused, for people
	canary_done boolean NOT NULL DEFAULT false,
	not_before timestamptz,
	not_after timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_state ON jobs (state) WHERE state IN ('queued', 'running',
    'paused');
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_finished ON jobs (finished_at);

CREATE TABLE tasks (
	id bigserial PRIMARY KEY,
	job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	seq integer NOT NULL, -- order within the job
	server_id bigint NOT NULL,
	server_name text NOT NULL DEFAULT '',
	label_value text, -- the stagger label's value for this server
	canary boolean NOT NULL DEFAULT false,
	state text NOT NULL DEFAULT 'pending',
	attempt integer NOT NULL DEFAULT 0, -- attempts sent so far
	polls integer NOT NULL DEFAULT 0, -- verify polls sent
	error text,
	message text,
	power_state text,
	last_sent_at timestamptz, -- the latest attempt's send (stagger)
	deadline_at timestamptz, -- the latest attempt's deadline
	next_at timestamptz, -- retry_wait: when; verifying: next poll
	verify_until timestamptz,
	started_at timestamptz,
	accepted_at timestamptz,
	achieved_at timestamptz,
	finished_at timestamptz,
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (job_id, server_id)
);
CREATE INDEX tasks_job_seq ON tasks (job_id, seq);
CREATE INDEX tasks_live ON tasks (state, server_id)
    WHERE state IN ('pending', 'dispatched', 'verifying', 'retry_wait');

-- Idempotency-Key: the same key and body from the same creator within
-- 24 h give the same job.
CREATE TABLE idempotency_keys (
	creator text NOT NULL,
	key text NOT NULL,
	spec_hash text NOT NULL,
	job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (creator, key)
);

CREATE FUNCTION task_final(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT s IN ('succeeded', 'failed', 'skipped', 'cancelled')
$$;

CREATE FUNCTION ms_between(a timestamptz, b timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT (extract(epoch FROM b - a) * 1000)::bigint
$$;

CREATE FUNCTION task_json(t tasks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', t.id, 'job_id', t.job_id, 'server_id', t.server_id,
	    'server_name', t.server_name, 'state', t.state,
	    'canary', t.canary, 'attempts', t.attempt, 'error', t.error,
	    'message', t.message, 'power_state', t.power_state,
	    'started_at', ts_json(t.started_at),
	    'accepted_at', ts_json(t.accepted_at),
	    'achieved_at', ts_json(t.achieved_at),
	    'finished_at', ts_json(t.finished_at),
	    'duration_ms', ms_between(t.started_at, t.finished_at))
$$;

CREATE FUNCTION job_counts(jid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('pending', 0, 'dispatched', 0,
	    'verifying', 0, 'retry_wait', 0, 'succeeded', 0, 'failed', 0,
	    'skipped', 0, 'cancelled', 0) || coalesce((SELECT
	    jsonb_object_agg(state, n) FROM (SELECT state, count(*) n FROM
	    tasks WHERE job_id = jid GROUP BY state) x), '{}')
$$;

CREATE FUNCTION job_json(j jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'id', j.id, 'state', j.state, 'action', j.kind,
	    'request_action', j.action, 'target_state', j.target_state,
	    'targets', j.spec->'targets', 'cluster_id', j.cluster_id,
	    'options', j.spec - 'targets' - 'action' - 'kind' -
	        'target_state' - 'dry_run',
	    'creator', j.creator, 'retry_of', j.retry_of,
	    'left_out', j.left_out, 'reason', j.reason,
	    'total', (SELECT count(*) FROM tasks WHERE job_id = j.id),
	    'counts', job_counts(j.id),
	    'created_at', ts_json(j.created_at),
	    'started_at', ts_json(j.started_at),
	    'finished_at', ts_json(j.finished_at),
	    'duration_ms', ms_between(j.started_at, j.finished_at))
$$;

-- The servers a spec targets, each with why it is left out (NULL: it is
-- in): not_found, no_credentials, unreachable (offline at the last poll),
-- leased (a live task of a running or paused job; left out only when
-- on_conflict is skip and only in a plan: a job's task waits or is
-- skipped when its turn comes). Ordered by id.
CREATE FUNCTION job_resolve(spec jsonb)
RETURNS TABLE (server_id bigint, name text, label_value text, reason text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
	t jsonb := spec->'targets';
	lbl text := spec->'stagger'->>'label';
BEGIN
	IF t ? 'server_ids' THEN
		RETURN QUERY
		SELECT i.id, coalesce(s.name, ''), s.labels->>lbl,
		    CASE WHEN s.id IS NULL THEN 'not_found'
		    WHEN NOT s.has_credentials THEN 'no_credentials'
		    WHEN s.status = 'offline' THEN 'unreachable' END
		FROM (SELECT DISTINCT x::bigint id FROM
		    jsonb_array_elements_text(t->'server_ids') x) i
		LEFT JOIN servers s ON s.id = i.id ORDER BY i.id;
	ELSIF t ? 'cluster' THEN
		RETURN QUERY
		SELECT s.id, s.name, s.labels->>lbl,
		    CASE WHEN NOT s.has_credentials THEN 'no_credentials'
		    WHEN s.status = 'offline' THEN 'unreachable' END
		FROM servers s, clusters c
		WHERE c.id = (t->>'cluster')::bigint AND in_cluster(c, s)
		ORDER BY s.id;
	ELSE
		RETURN QUERY
		SELECT s.id, s.name, s.labels->>lbl,
		    CASE WHEN NOT s.has_credentials THEN 'no_credentials'
		    WHEN s.status = 'offline' THEN 'unreachable' END
		FROM servers s WHERE selector_match(t->'terms', s.labels)
		ORDER BY s.id;
	END IF;
END $$;

-- Whether server sid is leased against job jid: a live task for it in
-- another running or paused job that is older, or has started on it.
CREATE FUNCTION server_leased(sid bigint, jid bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM tasks t JOIN jobs j ON j.id = t.job_id
	    WHERE t.server_id = sid AND t.job_id <> jid AND
	    j.state IN ('running', 'paused') AND NOT task_final(t.state) AND
	    (t.job_id < jid OR t.state <> 'pending'))
$$;

-- The waves a job would run in: servers in order, each in the first wave
-- (a stagger interval, or a round of concurrency tasks without stagger)
-- with room overall and for its label value. Answers
-- [[server ids], ...].
CREATE FUNCTION job_waves(spec jsonb, ids bigint[], labels text[])
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
	conc int := (spec->>'concurrency')::int;
	per int := coalesce((spec->'stagger'->>'count')::int, conc);
	lper int := coalesce((spec->'stagger'->>'label_count')::int, 0);
	total int[] := '{}';
	lc jsonb := '{}';
	waves jsonb := '[]';
	w int;
	k text;
BEGIN
	per := least(per, conc);
	FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
		w := 1;
		LOOP
			k := coalesce(labels[i], '') || '|' || w;
			EXIT WHEN coalesce(total[w], 0) < per AND (lper = 0 OR
			    labels[i] IS NULL OR
			    coalesce((lc->>k)::int, 0) < lper);
			w := w + 1;
		END LOOP;
		total[w] := coalesce(total[w], 0) + 1;
		lc := lc || jsonb_build_object(k, coalesce((lc->>k)::int, 0) + 1);
		WHILE jsonb_array_length(waves) < w LOOP
			waves := waves || '[[]]'::jsonb;
		END LOOP;
		waves := jsonb_set(waves, ARRAY[(w - 1)::text],
		    (waves->(w - 1)) || to_jsonb(ids[i]));
	END LOOP;
	RETURN waves;
END $$;

-- A dry run: what POST /api/jobs would do, without doing it.
CREATE FUNCTION job_plan(spec jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
	rs jsonb;
	ids bigint[];
	lbls text[];
	waves jsonb;
	nw int;
	est numeric;
BEGIN
	IF spec->'targets' ? 'cluster' AND NOT EXISTS (SELECT 1 FROM clusters
	    WHERE id = (spec->'targets'->>'cluster')::bigint) THEN
		RAISE EXCEPTION 'no cluster' USING ERRCODE = 'OSJ02';
	END IF;
	SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.server_id,
	    'name', r.name, 'label', r.label_value, 'reason',
	    coalesce(r.reason, CASE WHEN spec->>'on_conflict' = 'skip' AND
	    server_leased(r.server_id, 9223372036854775807) THEN 'leased'
	    END)) ORDER BY r.server_id), '[]') INTO rs
	FROM job_resolve(spec) r;
	SELECT array_agg((x->>'id')::bigint), array_agg(x->>'label')
	    INTO ids, lbls FROM jsonb_array_elements(rs) x
	    WHERE x->'reason' = 'null';
	waves := job_waves(spec, ids, lbls);
	nw := jsonb_array_length(waves);
	-- A wave per stagger interval; without stagger, a wave per round of
	-- concurrency tasks taking about a second each, and the verify.
	IF spec->'stagger' <> 'null' THEN
		est := nw * (spec->'stagger'->>'interval_ms')::numeric / 1000;
	ELSE
		est := nw * 1.0;
	END IF;
	IF (spec->>'verify')::boolean AND nw > 0 THEN
		est := est + 5;
	END IF;
	RETURN jsonb_build_object(
	    'dry_run', true, 'action', spec->>'kind',
	    'servers', coalesce((SELECT jsonb_agg(jsonb_build_object('id',
	        x->'id', 'name', x->'name')) FROM jsonb_array_elements(rs) x
	        WHERE x->'reason' = 'null'), '[]'),
	    'left_out', coalesce((SELECT jsonb_agg(x - 'label') FROM
	        jsonb_array_elements(rs) x WHERE x->'reason' <> 'null'), '[]'),
	    'waves', (SELECT coalesce(jsonb_agg(jsonb_build_object('wave',
	        n, 'server_ids', w) ORDER BY n), '[]') FROM
	        jsonb_array_elements(waves) WITH ORDINALITY AS x(w, n)),
	    'estimated_duration_s', round(est, 1));
END $$;

-- Creates a job of spec for creator, or answers the job an idempotency
-- key already made: {"job": ..., "existing": bool}. A key seen with
-- another body raises OSJ03; a missing cluster OSJ02.
CREATE FUNCTION job_create(spec jsonb, creator text, idem text,
    retry_of bigint, only_servers bigint[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	j jobs;
	k idempotency_keys;
	h text := md5(spec::text);
	cid bigint := (spec->'targets'->>'cluster')::bigint;
	n int;
BEGIN
	IF idem IS NOT NULL THEN
		DELETE FROM idempotency_keys WHERE created_at <
		    now() - interval '24 hours';
		SELECT * INTO k FROM idempotency_keys i WHERE
		    i.creator = job_create.creator AND i.key = idem;
		IF FOUND THEN
			IF k.spec_hash <> h THEN
				RAISE EXCEPTION 'key reused' USING
				    ERRCODE = 'OSJ03';
			END IF;
			SELECT * INTO j FROM jobs WHERE id = k.job_id;
			RETURN jsonb_build_object('job', job_json(j),
			    'existing', true);
		END IF;
	END IF;
	IF cid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clusters
	    WHERE id = cid) THEN
		RAISE EXCEPTION 'no cluster' USING ERRCODE = 'OSJ02';
	END IF;
	INSERT INTO jobs (state, kind, action, target_state, spec, creator,
	    cluster_id, retry_of, not_before, not_after)
	VALUES ('queued', spec->>'kind', spec->>'action',
	    spec->>'target_state', spec, creator, cid, retry_of,
	    (spec->>'not_before')::timestamptz,
	    (spec->>'not_after')::timestamptz)
	RETURNING * INTO j;
	INSERT INTO tasks (job_id, seq, server_id, server_name, label_value)
	SELECT j.id, row_number() OVER (ORDER BY r.server_id), r.server_id,
	    r.name, r.label_value
	FROM job_resolve(spec) r WHERE r.reason IS NULL AND
	    (only_servers IS NULL OR r.server_id = ANY (only_servers));
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE tasks SET canary = true WHERE job_id = j.id AND
	    seq <= (spec->>'canary')::int;
	UPDATE jobs SET left_out = coalesce((SELECT jsonb_agg(
	    jsonb_build_object('id', r.server_id, 'name', r.name,
	    'reason', r.reason) ORDER BY r.server_id) FROM job_resolve(spec) r
	    WHERE r.reason IS NOT NULL AND (only_servers IS NULL OR
	    r.server_id = ANY (only_servers))), '[]'),
	    canary_done = (spec->>'canary')::int = 0
	WHERE id = j.id RETURNING * INTO j;
	IF idem IS NOT NULL THEN
		INSERT INTO idempotency_keys VALUES (creator, idem, h, j.id);
	END IF;
	RETURN jsonb_build_object('job', job_json(j), 'existing', false);
END $$;

-- Cancel, pause or resume: the job's new state is stored before anything
-- else sees it; a cancel also ends every task not dispatched (a
-- dispatched one ends with its result). Raises OSJ01 when the job's state
-- refuses the event.
CREATE FUNCTION job_control(jid bigint, ev text) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	j jobs;
BEGIN
	SELECT * INTO j FROM jobs WHERE id = jid FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE jobs SET state = move_state('job', state, ev),
	    updated_at = now(),
	    finished_at = CASE WHEN ev = 'cancel' THEN now() END,
	    started_at = CASE WHEN ev = 'resume' THEN
	        coalesce(started_at, now()) ELSE started_at END,
	    reason = CASE WHEN ev = 'resume' THEN NULL
	        WHEN ev = 'pause' THEN 'paused by ' || 'an operator'
	        ELSE reason END
	WHERE id = jid RETURNING * INTO j;
	IF ev = 'cancel' THEN
		UPDATE tasks SET state = move_state('task', state, 'cancel'),
		    finished_at = now(), updated_at = now()
		WHERE job_id = jid AND can_move('task', state, 'cancel');
	END IF;
	RETURN job_json(j);
END $$;

-- Backoff before attempt n+1: base * 2^(n-1), times 0.5 to 1.5, at most a
-- minute.
CREATE FUNCTION backoff(base_ms int, n int) RETURNS interval
LANGUAGE sql VOLATILE AS $$
	SELECT make_interval(secs => least(60.0, base_ms / 1000.0 *
	    power(2, greatest(n - 1, 0)) * (0.5 + random())))
$$;

-- An error for the current attempt of task t: transient ones retry while
-- attempts remain and the job is live, the rest fail the task.
CREATE FUNCTION task_error(tid bigint, err text, msg text) RETURNS text
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	t tasks;
	j jobs;
	ev text;
BEGIN
	SELECT * INTO t FROM tasks WHERE id = tid;
	SELECT * INTO j FROM jobs WHERE id = t.job_id;
	IF err IN ('bmc_timeout', 'bmc_unreachable', 'bmc_busy',
	    'worker_lost') AND t.attempt <= (j.spec->>'retries')::int AND
	    j.state IN ('running', 'paused') THEN
		ev := 'transient';
	ELSE
		ev := 'fail';
	END IF;
	UPDATE tasks SET state = move_state('task', state, ev), error = err,
	    message = msg, updated_at = now(),
	    next_at = CASE WHEN ev = 'transient' THEN now() +
	        backoff((j.spec->>'backoff_ms')::int, t.attempt) END,
	    finished_at = CASE WHEN ev = 'fail' THEN now() END
	WHERE id = tid RETURNING * INTO t;
	IF j.state = 'cancelled' AND can_move('task', t.state, 'cancel') THEN
		UPDATE tasks SET state = move_state('task', state, 'cancel'),
		    finished_at = now() WHERE id = tid;
	END IF;
	RETURN ev;
END $$;

-- Stores results read from osh:power-results ([{request_id, task_id,
-- attempt, result, error, message, power_state}]). A result for another
-- attempt than the task's current one, or for a task no longer
-- dispatched, changes nothing (a duplicate). Answers the tasks that
-- changed: [task json].
CREATE FUNCTION tasks_results(rs jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	r jsonb;
	t tasks;
	j jobs;
	changed bigint[] := '{}';
	poll boolean;
	ok boolean;
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
		UPDATE tasks SET state = move_state('task', state,
		    'accepted'), accepted_at = now(), error = NULL,
		    message = NULL, power_state = r->>'power_state',
		    verify_until = now() + make_interval(secs =>
		        (j.spec->>'verify_timeout_s')::int),
		    next_at = now() + interval '1 second', updated_at = now()
		WHERE id = t.id RETURNING * INTO t;
		IF r->>'power_state' = j.target_state AND
		    j.kind NOT IN ('cycle', 'reset') THEN
			UPDATE tasks SET state = move_state('task', state,
			    'achieved'), achieved_at = now(),
			    finished_at = now() WHERE id = t.id;
		ELSIF j.state = 'cancelled' THEN
			UPDATE tasks SET state = move_state('task', state,
			    'cancel'), finished_at = now() WHERE id = t.id;
		END IF;
	END LOOP;
	RETURN coalesce((SELECT jsonb_agg(task_json(t2) ORDER BY t2.id)
	    FROM tasks t2 WHERE t2.id = ANY (changed)), '[]');
END $$;

-- One turn of the scheduler, in one transaction over the live jobs it
-- could lock (a second replica takes others, or waits for the next turn):
-- starts and expires scheduled jobs, retries what backed off long enough,
-- counts attempts without a result past their deadline (plus grace_ms) as
-- lost, ends verifies, applies failure budgets and canaries, skips or
-- holds leased servers, picks the tasks concurrency and stagger allow
-- (at most max_picks) and ends jobs whose tasks all ended. Answers
-- {"requests": [...], "jobs": [{id, state, event}]}: the requests to
-- write to osh:power-requests, already stored as sent.
CREATE FUNCTION sched_tick(max_picks int, grace_ms int) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	live bigint[];
	changes jsonb := '[]';
	reqs jsonb := '[]';
	r record;
BEGIN
	SELECT coalesce(array_agg(id), '{}') INTO live FROM (SELECT id
	    FROM jobs WHERE state IN ('queued', 'running', 'paused')
	    ORDER BY id FOR UPDATE SKIP LOCKED) x;
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

	-- Failure budgets.
	FOR r IN SELECT j.id FROM jobs j WHERE j.id = ANY (live) AND
	    j.state = 'running' AND (SELECT count(*) FROM tasks t WHERE
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
	FOR r IN SELECT j.id, bool_or(t.state = 'failed') failed
	    FROM jobs j JOIN tasks t ON t.job_id = j.id AND t.canary
	    WHERE j.id = ANY (live) AND j.state = 'running' AND
	    NOT j.canary_done GROUP BY j.id HAVING bool_and(task_final(t.state))
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

	-- Leased servers, for jobs that skip them.
	UPDATE tasks t SET state = move_state('task', t.state, 'skip'),
	    error = 'leased', message = 'another running job holds this server',
	    finished_at = now(), updated_at = now()
	FROM jobs j WHERE j.id = t.job_id AND t.job_id = ANY (live) AND
	    j.state = 'running' AND j.spec->>'on_conflict' = 'skip' AND
	    t.state = 'pending' AND server_leased(t.server_id, t.job_id);

	-- Picks: pending tasks of running jobs, canaries first, not leased,
	-- one per server, within each job's stagger (per label value, then
	-- overall) and concurrency.
	FOR r IN
	WITH win AS (SELECT t.job_id, t.label_value, count(*) n FROM tasks t
	    JOIN jobs j ON j.id = t.job_id WHERE t.job_id = ANY (live) AND
	    j.spec->'stagger' <> 'null' AND t.last_sent_at > now() -
	    make_interval(secs => (j.spec->'stagger'->>'interval_ms')::int /
	    1000.0) GROUP BY 1, 2),
	busy AS (SELECT job_id, count(*) n FROM tasks WHERE
	    job_id = ANY (live) AND state IN ('dispatched', 'verifying')
	    GROUP BY 1),
	c0 AS (SELECT t.id, t.job_id, t.seq, t.server_id, t.label_value,
	    j.spec, row_number() OVER (PARTITION BY t.server_id ORDER BY
	    t.job_id) srv
	    FROM tasks t JOIN jobs j ON j.id = t.job_id
	    WHERE t.job_id = ANY (live) AND j.state = 'running' AND
	    t.state = 'pending' AND (j.canary_done OR t.canary) AND
	    NOT server_leased(t.server_id, t.job_id)),
	c1 AS (SELECT c0.*, row_number() OVER (PARTITION BY c0.job_id,
	    c0.label_value ORDER BY c0.seq) lr FROM c0 WHERE srv = 1),
	c2 AS (SELECT c1.*, row_number() OVER (PARTITION BY c1.job_id
	    ORDER BY c1.seq) jr FROM c1 WHERE
	    coalesce((c1.spec->'stagger'->>'label_count')::int, 0) = 0 OR
	    c1.label_value IS NULL OR lr + coalesce((SELECT n FROM win
	    WHERE win.job_id = c1.job_id AND win.label_value =
	    c1.label_value), 0) <= (c1.spec->'stagger'->>'label_count')::int)
	SELECT c2.id, c2.spec FROM c2
	WHERE jr + coalesce((SELECT n FROM busy WHERE busy.job_id =
	    c2.job_id), 0) <= (c2.spec->>'concurrency')::int AND
	    (c2.spec->'stagger' = 'null' OR jr + coalesce((SELECT sum(n)
	    FROM win WHERE win.job_id = c2.job_id), 0) <=
	    (c2.spec->'stagger'->>'count')::int)
	ORDER BY c2.job_id, c2.seq LIMIT max_picks
	LOOP
		WITH u AS (UPDATE tasks t SET state = move_state('task',
		    t.state, 'dispatch'), attempt = t.attempt + 1,
		    last_sent_at = now(), started_at = coalesce(t.started_at,
		    now()), deadline_at = now() + make_interval(secs =>
		    (r.spec->>'timeout_s')::int), updated_at = now()
		    WHERE t.id = r.id RETURNING t.*)
		SELECT reqs || jsonb_build_object(
		    'request_id', u.job_id || '.' || u.id || '.' || u.attempt,
		    'job_id', u.job_id, 'task_id', u.id, 'attempt', u.attempt,
		    'server_id', u.server_id, 'action', j.action,
		    'deadline_ms', (extract(epoch FROM u.deadline_at) *
		        1000)::bigint,
		    'requested_by', j.creator,
		    'delay_ms', floor(random() * coalesce(
		        (r.spec->'stagger'->>'jitter_ms')::int, 0)))
		INTO reqs FROM u JOIN jobs j ON j.id = u.job_id;
	END LOOP;

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

	-- Jobs whose tasks all ended.
	FOR r IN UPDATE jobs j SET state = move_state('job', j.state,
	    CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND
	    t.state = 'failed') THEN 'finish_failed' ELSE 'finish' END),
	    finished_at = now(), updated_at = now()
	WHERE j.id = ANY (live) AND j.state = 'running' AND NOT EXISTS
	    (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND
	    NOT task_final(t.state))
	RETURNING j.id, j.state
	LOOP
		changes := changes || jsonb_build_object('id', r.id,
		    'state', r.state, 'event', 'finish');
	END LOOP;
	RETURN jsonb_build_object('requests', reqs, 'jobs', changes);
END $$;

-- Before a request held back by jitter goes out: whether its job still
-- runs; when not, the attempt is recalled (the task is pending again, and
-- a cancel ends it).
CREATE FUNCTION task_release(tid bigint, att int) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	j jobs;
BEGIN
	SELECT j2.* INTO j FROM jobs j2 JOIN tasks t ON t.job_id = j2.id
	    WHERE t.id = tid AND t.attempt = att AND t.state = 'dispatched'
	    FOR SHARE OF j2;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('send', false);
	END IF;
	IF j.state = 'running' THEN
		RETURN jsonb_build_object('send', true);
	END IF;
	UPDATE tasks SET state = move_state('task', state, 'recall'),
	    attempt = attempt - 1, updated_at = now() WHERE id = tid;
	IF j.state = 'cancelled' THEN
		UPDATE tasks SET state = move_state('task', state, 'cancel'),
		    finished_at = now() WHERE id = tid;
	END IF;
	RETURN jsonb_build_object('send', false);
END $$;

-- Jobs that ended more than days ago go, with their tasks.
CREATE FUNCTION jobs_prune(days int) RETURNS jsonb
LANGUAGE sql AS $$
	WITH d AS (DELETE FROM jobs WHERE finished_at < now() -
	    make_interval(days => days) RETURNING id)
	SELECT jsonb_build_object('pruned', count(*)) FROM d
$$;

-- A new job of the failed tasks of job jid, linked to it (retry_of).
-- Raises OSJ04 when none failed, OSJ05 while the job still runs.
CREATE FUNCTION job_retry(jid bigint, creator text) RETURNS jsonb
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
	j jobs;
	ids bigint[];
BEGIN
	SELECT * INTO j FROM jobs WHERE id = jid;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF j.state IN ('queued', 'running', 'paused') THEN
		RAISE EXCEPTION 'job live' USING ERRCODE = 'OSJ05';
	END IF;
	SELECT array_agg(server_id) INTO ids FROM tasks
	    WHERE job_id = jid AND state = 'failed';
	IF ids IS NULL THEN
		RAISE EXCEPTION 'nothing failed' USING ERRCODE = 'OSJ04';
	END IF;
	RETURN job_create(jsonb_set(j.spec - 'not_before' - 'not_after',
	    '{targets}', jsonb_build_object('server_ids', to_jsonb(ids))) ||
	    '{"not_before": null, "not_after": null}', creator, NULL, jid,
	    ids);
END $$;

CREATE FUNCTION job_list(st text, act text, who text, cid bigint,
    since timestamptz, until timestamptz, lim int, off int) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH f AS (SELECT * FROM jobs j WHERE (st IS NULL OR j.state = st) AND
	    (act IS NULL OR j.kind = act) AND (who IS NULL OR j.creator = who)
	    AND (cid IS NULL OR j.cluster_id = cid) AND
	    (since IS NULL OR j.created_at >= since) AND
	    (until IS NULL OR j.created_at < until))
	SELECT jsonb_build_object('items', coalesce((SELECT jsonb_agg(
	    job_json(p) ORDER BY p.created_at DESC, p.id DESC) FROM (SELECT *
	    FROM f ORDER BY created_at DESC, id DESC LIMIT lim OFFSET off) p),
	    '[]'), 'total', (SELECT count(*) FROM f))
$$;

CREATE FUNCTION job_tasks(jid bigint, st text, lim int, off int) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE id = jid)
	    THEN NULL ELSE jsonb_build_object('job_id', jid,
	    'items', coalesce((SELECT jsonb_agg(task_json(p) ORDER BY p.seq)
	    FROM (SELECT * FROM tasks WHERE job_id = jid AND
	    (st IS NULL OR state = st) ORDER BY seq LIMIT lim OFFSET off) p),
	    '[]'),
	    'total', (SELECT count(*) FROM tasks WHERE job_id = jid AND
	    (st IS NULL OR state = st))) END
$$;
