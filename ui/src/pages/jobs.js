// Jobs: the list (GET /api/jobs, filters in the URL, refreshed while
// jobs run) and one job (GET /api/jobs/{id} and /tasks, then its
// Server-Sent Events folded by lib/jobstate.js): per-server progress,
// cancel, pause, resume, retry of the failed tasks.
import {useEffect, useReducer, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, post} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why} from '../lib/perms.js';
import {openStream} from '../lib/sse.js';
import {initial, reduce, progress, controls, taskList, TASK_STATES,
    JOB_FINAL} from '../lib/jobstate.js';
import {LEFT_OUT, optionsText} from '../lib/jobform.js';
import {ErrorBox} from '../components/error.js';
import {ActionButton} from '../components/action.js';
import {Confirm} from '../components/confirm.js';
import {useGet, useEvery, Time, duration, Field, LiveNote, StateBadge} from '../components/ops.js';

const JOB_STATES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const FILTERS = ['state', 'action', 'creator', 'cluster', 'since'];
const PAGE = 50;

// A bar of the job's tasks: succeeded, failed, other final, in flight.
export function ProgressBar({p, label}) {
	const w = (n) => `${p.total ? (n * 100) / p.total : 0}%`;
	const other = p.skipped + p.cancelled;
	return html`<div class="progress" role="progressbar" aria-label=${label || 'Progress'}
		aria-valuemin="0" aria-valuemax=${p.total} aria-valuenow=${p.done}
		aria-valuetext=${`${p.done} of ${p.total} done: ${p.succeeded} succeeded, ${p.failed} failed`}>
		<span class="p-ok" style=${{width: w(p.succeeded)}}></span>
		<span class="p-fail" style=${{width: w(p.failed)}}></span>
		<span class="p-other" style=${{width: w(other)}}></span>
		<span class="p-run" style=${{width: w(p.active)}}></span>
	</div>`;
}

function jobProgress(j) {
	return progress({job: j, counts: j.counts || {}});
}

export function JobRows({items}) {
	return html`<div class="table-wrap"><table class="table">
		<caption class="sr-only">Jobs</caption>
		<thead><tr><th scope="col">Job</th><th scope="col">Action</th><th scope="col">State</th>
			<th scope="col">Progress</th><th scope="col">Creator</th><th scope="col">Created</th><th scope="col">Took</th></tr></thead>
		<tbody>${items.map((j) => {
			const p = jobProgress(j);
			return html`<tr key=${j.id}>
				<td><a href=${`/jobs/${j.id}`}>Job ${j.id}</a>${j.retry_of ? html` <span class="muted small">retry of ${j.retry_of}</span>` : null}</td>
				<td>${j.action}${j.cluster_id ? html` <span class="muted small">cluster ${j.cluster_id}</span>` : null}</td>
				<td><${StateBadge} value=${j.state} /></td>
				<td style="min-width: 150px"><${ProgressBar} p=${p} label=${`Job ${j.id} progress`} />
					<span class="small muted">${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}</span></td>
				<td>${j.creator}</td>
				<td><${Time} ts=${j.created_at} /></td>
				<td>${duration(j.duration_ms)}</td>
			</tr>`;
		})}</tbody></table></div>`;
}

export function Jobs({search}) {
	const q = new URLSearchParams(search || '');
	const f = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || '']));
	const offset = Math.max(0, Number(q.get('offset')) || 0);
	const [form, setForm] = useState(f);
	const api = new URLSearchParams();
	for (const k of FILTERS)
		if (f[k])
			api.set(k, k === 'since' ? new Date(f[k]).toISOString() : f[k]);
	api.set('limit', String(PAGE));
	api.set('offset', String(offset));
	const list = useGet(`/api/jobs?${api}`);
	const live = list.data && list.data.items.some((j) => !JOB_FINAL.includes(j.state));
	useEvery(live ? 3000 : 15000, list.reload);

	const go = (next, off) => {
		const p = new URLSearchParams();
		for (const k of FILTERS)
			if (next[k])
				p.set(k, next[k]);
		if (off)
			p.set('offset', String(off));
		const s = p.toString();
		navigate(`/jobs${s ? `?${s}` : ''}`);
	};
	const set = (k) => (e) => setForm({...form, [k]: e.currentTarget.value});
	const total = list.data ? list.data.total : 0;
	return html`<main id="main" class="page">
		<h1>Jobs</h1>
		<form class="filters" role="search" aria-label="Filter jobs" onSubmit=${(e) => { e.preventDefault(); go(form, 0); }}>
			<${Field} id="jf-state" label="State"><select id="jf-state" value=${form.state} onChange=${set('state')}>
				<option value="">any</option>${JOB_STATES.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
			<${Field} id="jf-action" label="Action"><select id="jf-action" value=${form.action} onChange=${set('action')}>
				<option value="">any</option>${['on', 'off', 'soft', 'cycle', 'reset', 'diag', 'boot', 'identify', 'status'].map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
			<${Field} id="jf-creator" label="Creator"><input id="jf-creator" value=${form.creator} onInput=${set('creator')} /><//>
			<${Field} id="jf-cluster" label="Cluster id"><input id="jf-cluster" inputmode="numeric" class="num-in" value=${form.cluster} onInput=${set('cluster')} /><//>
			<${Field} id="jf-since" label="Created since"><input id="jf-since" type="datetime-local" value=${form.since} onInput=${set('since')} /><//>
			<button type="submit" class="primary">Filter</button>
			<button type="button" onClick=${() => { setForm(Object.fromEntries(FILTERS.map((k) => [k, '']))); go({}, 0); }}>Clear</button>
		</form>
		<${ErrorBox} error=${list.error} title="Jobs could not be listed" />
		${list.data ? html`<p class="summary" role="status">${total} job${total === 1 ? '' : 's'}${live ? ' (refreshing while jobs run)' : ''}</p>
			${list.data.items.length ? html`<${JobRows} items=${list.data.items} />` : html`<p class="empty">No job matches.</p>`}
			<div class="pager">
				<button type="button" disabled=${offset === 0} onClick=${() => go(f, Math.max(0, offset - PAGE))}>Newer</button>
				<span class="muted">${total ? `${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}` : ''}</span>
				<button type="button" disabled=${offset + PAGE >= total} onClick=${() => go(f, offset + PAGE)}>Older</button>
			</div>` : list.error ? null : html`<p>Loading…</p>`}
	</main>`;
}

const CONTROL = {
	pause: {label: 'Pause', path: 'pause'},
	resume: {label: 'Resume', path: 'resume'},
	cancel: {label: 'Cancel job', path: 'cancel', danger: true},
	retry: {label: 'Retry failed', path: 'retry'},
};

export function Job({params}) {
	const id = params[0];
	const [st, dispatch] = useReducer(reduce, undefined, initial);
	const [error, setError] = useState(null);
	const [stream, setStream] = useState(null);
	const [filter, setFilter] = useState('');
	const [busy, setBusy] = useState(null);
	const [confirm, setConfirm] = useState(false);
	const [note, setNote] = useState(null);
	const final = useRef(false);
	final.current = !!(st.job && JOB_FINAL.includes(st.job.state));

	const refetchJob = () => get(`/api/jobs/${id}`).then((job) => dispatch({type: 'job', job}), () => {});
	useEffect(() => {
		let close = null;
		let alive = true;
		Promise.all([get(`/api/jobs/${id}`), get(`/api/jobs/${id}/tasks?limit=1000`)]).then(([job, tasks]) => {
			if (!alive)
				return;
			dispatch({type: 'load', job, tasks: tasks.items, total: tasks.total});
			close = openStream({ticketPath: `/api/jobs/${id}/events/ticket`,
			    streamPath: `/api/jobs/${id}/events`, types: ['task', 'request', 'job'],
			    onEvent: (event, data, eid) => {
				dispatch({type: 'event', event, data, id: eid});
				if (event === 'job')
					refetchJob();
			    },
			    onState: setStream, done: () => final.current});
		}, (e) => alive && setError(e));
		return () => {
			alive = false;
			if (close)
				close();
		};
	}, [id]);
	// Counts of a job too big to hold every task: asked again now and
	// then while events arrive.
	useEvery(st.countsStale ? 2000 : 0, refetchJob);

	async function act(name) {
		setConfirm(false);
		setBusy(name);
		setNote(null);
		try {
			const j = await post(`/api/jobs/${id}/${CONTROL[name].path}`);
			if (name === 'retry') {
				navigate(`/jobs/${j.id}`);
				return;
			}
			dispatch({type: 'job', job: j});
			setNote(`${CONTROL[name].label}: done, the job is ${j.state}.`);
		} catch (e) {
			setError(e);
		} finally {
			setBusy(null);
		}
	}

	if (!st.job)
		return html`<main id="main" class="page"><h1>Job ${id}</h1>
			<${ErrorBox} error=${error} title="The job could not be read" />${error ? null : html`<p>Loading…</p>`}</main>`;
	const j = st.job;
	const p = progress(st);
	const ctl = controls(st);
	const role = why('jobs:write');
	const tasks = taskList(st, filter || undefined);
	const shown = tasks.slice(0, 2000);
	return html`<main id="main" class="page">
		<p class="crumbs"><a href="/jobs">Jobs</a> /</p>
		<div class="section-head"><h1>Job ${j.id}: ${j.action}</h1><${StateBadge} value=${j.state} /><${LiveNote} state=${stream} /></div>
		<${ErrorBox} error=${error} title="Request failed" />
		${note ? html`<p class="ok-note" role="status">${note}</p>` : null}
		${j.reason ? html`<p class="note">Reason: ${j.reason}</p>` : null}
		<div class="panel">
			<${ProgressBar} p=${p} label="Job progress" />
			<div class="cards">
				<div class="card-n"><strong>${p.done}/${p.total}</strong> done (${p.percent}%)</div>
				<div class="card-n"><strong>${p.succeeded}</strong> succeeded</div>
				<div class="card-n"><strong>${p.failed}</strong> failed</div>
				<div class="card-n"><strong>${p.active}</strong> in flight</div>
				<div class="card-n"><strong>${p.pending}</strong> pending</div>
				<div class="card-n"><strong>${p.skipped + p.cancelled}</strong> skipped or cancelled</div>
			</div>
			<div class="row-actions">
				${['pause', 'resume', 'cancel', 'retry'].map((k) => html`<${ActionButton} key=${k} id=${`job-${k}`}
					label=${CONTROL[k].label} danger=${CONTROL[k].danger} busy=${busy === k}
					reason=${role || ctl[k]} onClick=${() => (k === 'cancel' ? setConfirm(true) : act(k))} />`)}
			</div>
		</div>
		<dl class="kv">
			<dt>Targets</dt><dd>${j.cluster_id ? html`<a href=${`/clusters/${j.cluster_id}`}>cluster ${j.cluster_id}</a>` :
			    j.targets && j.targets.selector ? html`selector <code>${j.targets.selector}</code>` : `${j.total} servers`}</dd>
			<dt>Creator</dt><dd>${j.creator}</dd>
			${j.retry_of ? html`<dt>Retry of</dt><dd><a href=${`/jobs/${j.retry_of}`}>job ${j.retry_of}</a></dd>` : null}
			<dt>Created</dt><dd><${Time} ts=${j.created_at} /></dd>
			<dt>Started</dt><dd><${Time} ts=${j.started_at} /></dd>
			<dt>Finished</dt><dd><${Time} ts=${j.finished_at} /></dd>
			<dt>Took</dt><dd>${duration(j.duration_ms)}</dd>
			<dt>Options</dt><dd>${optionsText(j.options) || '—'}</dd>
		</dl>
		${j.left_out && j.left_out.length ? html`<h2>Left out (${j.left_out.length})</h2>
			<ul>${j.left_out.map((s) => html`<li><a href=${`/servers/${s.id}`}>${s.name || `server ${s.id}`}</a>: ${LEFT_OUT[s.reason] || s.reason}</li>`)}</ul>` : null}
		<div class="section-head"><h2 id="tasks-h">Servers</h2>
			<${Field} id="task-filter" label="Show"><select id="task-filter" value=${filter} onChange=${(e) => setFilter(e.currentTarget.value)}>
				<option value="">all (${Object.keys(st.tasks).length})</option>
				${TASK_STATES.map((s) => html`<option value=${s}>${s.replace('_', ' ')} (${(st.counts && st.counts[s]) || 0})</option>`)}
			</select><//></div>
		${!st.complete ? html`<p class="muted">The first ${Object.keys(st.tasks).length} of ${j.total} servers are listed; counts cover all.</p>` : null}
		<div class="table-wrap"><table class="table" aria-labelledby="tasks-h">
			<thead><tr><th scope="col">Server</th><th scope="col">State</th><th scope="col">Attempts</th>
				<th scope="col">Power</th><th scope="col">Error</th><th scope="col">Took</th></tr></thead>
			<tbody>${shown.map((t) => html`<tr key=${t.id} data-task=${t.server_name}>
				<td><a href=${`/servers/${t.server_id}`}>${t.server_name || `server ${t.server_id}`}</a>${t.canary ? html` <span class="badge unk">canary</span>` : null}</td>
				<td><${StateBadge} value=${t.state} /></td>
				<td class="num">${t.attempts || 0}</td>
				<td>${t.power_state || '—'}</td>
				<td class="wrap">${t.error ? html`<code>${t.error}</code> ${t.message || ''}` : '—'}</td>
				<td>${duration(t.duration_ms)}</td>
			</tr>`)}</tbody></table></div>
		${tasks.length > shown.length ? html`<p class="muted">${tasks.length - shown.length} more not shown; filter by state.</p>` : null}
		<${Confirm} open=${confirm} title=${`Cancel job ${j.id}?`}
			body="Tasks not started are cancelled; a command already sent to a BMC finishes and its result is kept."
			confirmLabel="Cancel job" onConfirm=${() => act('cancel')} onCancel=${() => setConfirm(false)} />
	</main>`;
}
