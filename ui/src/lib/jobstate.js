// A job's live view as a reducer: the page loads the job and its tasks
// (GET /api/jobs/{id}, /tasks), then folds the job's Server-Sent Events
// ("task", "request", "job") into that state. Pure: no DOM, no fetch,
// so node --test checks it.
//
// Events may be replayed (the stream starts from the job's first entry
// when no Last-Event-ID is known, and a reconnect may overlap), so every
// fold is idempotent and never moves a task or the job backwards:
//  - an event id at or below the last one seen is dropped;
//  - a final task (succeeded, failed, skipped, cancelled) stays final;
//  - an older attempt never overwrites a newer one, and within one
//    attempt the state only moves forward (pending, dispatched,
//    verifying, retry_wait);
//  - a final job stays final.

export const TASK_STATES = ['pending', 'dispatched', 'verifying',
    'retry_wait', 'succeeded', 'failed', 'skipped', 'cancelled'];
export const TASK_FINAL = ['succeeded', 'failed', 'skipped', 'cancelled'];
export const JOB_FINAL = ['succeeded', 'failed', 'cancelled'];
export const JOB_LIVE = ['queued', 'running', 'paused'];

const RANK = {pending: 0, dispatched: 1, verifying: 2, retry_wait: 3};
const RECENT_MAX = 50;

export function initial() {
	return {job: null, tasks: {}, complete: false, lastEventId: null,
	    counts: {}, countsStale: false, recent: []};
}

// Compares two Redis stream ids ("ms-seq"): <0, 0 or >0.
export function compareIds(a, b) {
	const [am, as] = String(a).split('-').map((x) => Number(x) || 0);
	const [bm, bs] = String(b).split('-').map((x) => Number(x) || 0);
	return am !== bm ? am - bm : as - bs;
}

// Whether next may replace prev (both task objects, prev maybe null).
export function taskAdvances(prev, next) {
	if (!prev)
		return true;
	if (TASK_FINAL.includes(prev.state))
		return false;
	if (TASK_FINAL.includes(next.state))
		return true;
	const pa = prev.attempts || 0;
	const na = next.attempts === undefined || next.attempts === null ? pa : next.attempts;
	if (na !== pa)
		return na > pa;
	// retry_wait -> pending is the same attempt's next step (the retry
	// comes due; the attempt count rises with the next dispatch).
	if (prev.state === 'retry_wait' && next.state === 'pending')
		return true;
	return (RANK[next.state] ?? 0) >= (RANK[prev.state] ?? 0);
}

// Tally of tasks by state.
export function tally(tasks) {
	const c = {};
	for (const t of Object.values(tasks))
		c[t.state] = (c[t.state] || 0) + 1;
	return c;
}

function withCounts(st) {
	if (st.complete)
		return {...st, counts: tally(st.tasks), countsStale: false};
	return st;
}

function remember(st, entry) {
	const recent = [entry, ...st.recent];
	if (recent.length > RECENT_MAX)
		recent.length = RECENT_MAX;
	return recent;
}

function foldTask(st, data) {
	if (!data || data.id === undefined)
		return st;
	const prev = st.tasks[data.id] || null;
	if (!taskAdvances(prev, data))
		return st;
	const task = {...(prev || {}), ...data};
	const next = {...st, tasks: {...st.tasks, [data.id]: task},
	    recent: remember(st, {kind: 'task', id: task.id,
		server: task.server_name, state: task.state,
		error: task.error || null})};
	if (!st.complete) {
		// Only part of the tasks is loaded: adjust the job's counts
		// when the previous state is known, else ask for new ones.
		const counts = {...st.counts};
		if (prev && prev.state !== task.state) {
			counts[prev.state] = Math.max(0, (counts[prev.state] || 0) - 1);
			counts[task.state] = (counts[task.state] || 0) + 1;
			next.counts = counts;
		} else if (!prev) {
			next.countsStale = true;
		}
		return next;
	}
	return withCounts(next);
}

function foldRequest(st, data) {
	if (!data || data.task_id === undefined)
		return st;
	const id = Number(data.task_id);
	const prev = st.tasks[id];
	const attempt = Number(data.attempt) || 0;
	if (!prev) {
		if (!st.complete)
			return {...st, countsStale: true};
		return st;
	}
	return foldTask(st, {id, state: 'dispatched',
	    attempts: Math.max(prev.attempts || 0, attempt)});
}

function foldJob(st, data) {
	if (!data)
		return st;
	const job = st.job || {};
	if (JOB_FINAL.includes(job.state) && data.state !== job.state)
		return st;
	const next = {...job};
	for (const k of ['state', 'reason', 'counts', 'started_at',
	    'finished_at', 'duration_ms'])
		if (data[k] !== undefined)
			next[k] = data[k];
	const out = {...st, job: next, recent: remember(st, {kind: 'job',
	    state: next.state, event: data.event || null})};
	if (!st.complete && data.counts)
		out.counts = {...data.counts};
	return out;
}

// The reducer. Actions:
//  {type: 'load', job, tasks, total}  the REST snapshot (tasks may be a
//      first page: complete when tasks.length >= total)
//  {type: 'job', job}                 a fresh GET /api/jobs/{id}
//  {type: 'event', event, id, data}   one SSE message (data parsed)
export function reduce(st, a) {
	switch (a.type) {
	case 'load': {
		const tasks = {};
		for (const t of a.tasks || [])
			tasks[t.id] = mergeKeep(st.tasks[t.id], t);
		const complete = (a.tasks || []).length >= (a.total ?? 0);
		const next = {...st, job: a.job, tasks, complete,
		    counts: {...((a.job && a.job.counts) || {})}, countsStale: false};
		return withCounts(next);
	}
	case 'job': {
		const cur = st.job;
		if (cur && JOB_FINAL.includes(cur.state) &&
		    !JOB_FINAL.includes(a.job.state))
			return st;
		const next = {...st, job: {...(cur || {}), ...a.job}};
		if (!st.complete)
			return {...next, counts: {...(a.job.counts || {})}, countsStale: false};
		return next;
	}
	case 'event': {
		if (a.id && st.lastEventId && compareIds(a.id, st.lastEventId) <= 0)
			return st;
		const base = a.id ? {...st, lastEventId: a.id} : st;
		if (a.event === 'task')
			return foldTask(base, a.data);
		if (a.event === 'request')
			return foldRequest(base, a.data);
		if (a.event === 'job')
			return foldJob(base, a.data);
		return base;
	}
	default:
		return st;
	}
}

// A snapshot task against what events already brought: the one further
// along wins (a snapshot may be older than the events seen).
function mergeKeep(prev, snap) {
	if (!prev)
		return snap;
	return taskAdvances(prev, snap) ? {...prev, ...snap} : prev;
}

// Progress figures for the bar and the summary.
export function progress(st) {
	const total = st.job ? st.job.total || 0 : 0;
	const c = st.counts || {};
	const done = TASK_FINAL.reduce((n, s) => n + (c[s] || 0), 0);
	const active = (c.dispatched || 0) + (c.verifying || 0) + (c.retry_wait || 0);
	return {total, done, active, succeeded: c.succeeded || 0,
	    failed: c.failed || 0, skipped: c.skipped || 0,
	    cancelled: c.cancelled || 0, pending: c.pending || 0,
	    percent: total ? Math.round((done * 100) / total) : 0};
}

// Which controls the job's state allows, each false or the reason it is
// not available (the role is checked apart).
export function controls(st) {
	const s = st.job ? st.job.state : null;
	const live = JOB_LIVE.includes(s);
	const failed = (st.counts && st.counts.failed) || 0;
	return {
		cancel: live ? null : `the job is ${s}`,
		pause: s === 'queued' || s === 'running' ? null :
		    s === 'paused' ? 'the job is paused already' : `the job is ${s}`,
		resume: s === 'paused' ? null : `the job is ${s}, not paused`,
		retry: live ? 'the job is still running' :
		    failed === 0 ? 'no task failed' : null,
	};
}

// Tasks in their order (by id), optionally of one state.
export function taskList(st, state) {
	const out = Object.values(st.tasks);
	out.sort((a, b) => a.id - b.id);
	return state ? out.filter((t) => t.state === state) : out;
}
