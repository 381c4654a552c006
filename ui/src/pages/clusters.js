// Clusters: the list (GET /api/clusters) with a form to create one, and
// a cluster's page (GET /api/clusters/{id}): its summary, its members in
// the shared server table (GET /api/clusters/{id}/servers, live), its
// jobs, and a cluster-wide job with stagger options that is always
// planned first (POST /api/jobs with dry_run) and run from the plan.
import {useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, post, api} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why} from '../lib/perms.js';
import {useInflight} from '../lib/inflight.js';
import {ACTIONS, DESTRUCTIVE, FORM_DEFAULTS, buildJob, planSummary,
    LEFT_OUT} from '../lib/jobform.js';
import {ErrorBox} from '../components/error.js';
import {ActionButton} from '../components/action.js';
import {Confirm} from '../components/confirm.js';
import {PowerBadge, StatusBadge} from '../components/state.js';
import {ServerTable} from '../components/servertable.js';
import {useGet, useEvery, Time, Field, bind, Modal} from '../components/ops.js';
import {JobRows} from './jobs.js';

export function Clusters({search}) {
	const q = new URLSearchParams(search || '').get('name') || '';
	const [name, setName] = useState(q);
	const list = useGet(`/api/clusters?limit=1000${q ? `&name=${encodeURIComponent(q)}` : ''}`);
	const [form, setForm] = useState({name: '', description: '', selector: ''});
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const role = why('clusters:write');

	async function create(e) {
		e.preventDefault();
		setBusy(true);
		setErr(null);
		const body = {name: form.name.trim()};
		if (form.description.trim())
			body.description = form.description.trim();
		if (form.selector.trim())
			body.selector = form.selector.trim();
		try {
			const c = await post('/api/clusters', body);
			navigate(`/clusters/${c.id}`);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	const fe = (f) => (err && err.field === f ? err.message : null);
	const items = list.data ? list.data.items : [];
	return html`<main id="main" class="page">
		<h1>Clusters</h1>
		<form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); navigate(`/clusters${name.trim() ? `?name=${encodeURIComponent(name.trim())}` : ''}`); }}>
			<label class="sr-only" for="cluster-search">Search clusters by name</label>
			<input id="cluster-search" type="search" placeholder="Name contains…" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
			<button type="submit">Search</button>
		</form>
		<${ErrorBox} error=${list.error} title="Clusters could not be listed" />
		${list.data ? html`<p class="summary" role="status">${list.data.total} cluster${list.data.total === 1 ? '' : 's'}</p>
		<div class="table-wrap"><table class="table"><caption class="sr-only">Clusters</caption>
			<thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Selector</th>
				<th scope="col" class="num">Explicit members</th><th scope="col">Created</th></tr></thead>
			<tbody>${items.map((c) => html`<tr key=${c.id}>
				<td><a href=${`/clusters/${c.id}`}>${c.name}</a></td>
				<td class="wrap">${c.description || '—'}</td>
				<td>${c.selector ? html`<code>${c.selector}</code>` : '—'}</td>
				<td class="num">${c.explicit_count}</td>
				<td><${Time} ts=${c.created_at} /></td></tr>`)}</tbody></table></div>
		${items.length === 0 ? html`<p class="empty">No cluster${q ? ' matches' : ' yet'}.</p>` : null}` : list.error ? null : html`<p>Loading…</p>`}
		<form class="panel" onSubmit=${create} aria-labelledby="new-cluster-h">
			<h2 id="new-cluster-h">New cluster</h2>
			<p class="muted small">Members are servers added by id (from the Servers page: Add to cluster) and those the label selector matches, e.g. <code>rack=r12,env!=lab</code>.</p>
			<div class="form-grid">
				<${Field} id="nc-name" label="Name" error=${fe('name')}><input required maxlength="64" ...${bind('nc-name', form.name, (v) => setForm({...form, name: v}), fe('name'))} /><//>
				<${Field} id="nc-desc" label="Description" error=${fe('description')}><input ...${bind('nc-desc', form.description, (v) => setForm({...form, description: v}), fe('description'))} /><//>
				<${Field} id="nc-sel" label="Label selector (optional)" error=${fe('selector')}><input ...${bind('nc-sel', form.selector, (v) => setForm({...form, selector: v}), fe('selector'))} /><//>
			</div>
			${err && !err.field ? html`<${ErrorBox} error=${err} title="The cluster was not created" />` : null}
			${err && err.field ? html`<p class="muted small">Request id: <code>${err.requestId}</code></p>` : null}
			<div class="form-row"><span class="action"><button type="submit" class="primary" disabled=${!!role || busy}
				aria-describedby=${role ? 'why-nc' : undefined}>${busy ? 'Creating…' : 'Create cluster'}</button>
				${role ? html`<span class="reason muted small" id="why-nc">${role}</span>` : null}</span></div>
		</form>
	</main>`;
}

const MEMBER_COLUMNS = ['name', 'power_state', 'status', 'command', 'bmc_address', 'labels',
	{key: 'membership', title: 'Member by', width: '130px',
	    render: (s) => [s.explicit ? 'id' : null, s.selected ? 'selector' : null].filter(Boolean).join(' + ') || '—'},
	{key: 'creds', title: 'Credentials', width: '110px', render: (s) => (s.has_credentials ? 'stored' : html`<span class="badge warn"><span aria-hidden="true" class="icon">⚿</span> none</span>`)}];

function membersFetcher(id) {
	return ({cursor, limit}) => {
		const off = cursor ? Number(cursor) : 0;
		const lim = Math.min(limit, 1000);
		return get(`/api/clusters/${id}/servers?limit=${lim}&offset=${off}`).then((r) => ({
			items: r.items, total: r.total, estimated: false,
			next: off + r.items.length < r.total && r.items.length ? String(off + r.items.length) : null}));
	};
}

// The names of a wave's servers (the first few) from a plan.
function names(plan, ids) {
	const by = new Map(plan.servers.map((x) => [x.id, x.name]));
	const shown = ids.slice(0, 8).map((i) => by.get(i) || `server ${i}`).join(', ');
	return ids.length > 8 ? `${shown} and ${ids.length - 8} more` : shown;
}

// The cluster-wide job: options, then the plan, then the run.
function JobPanel({cluster}) {
	const [form, setForm] = useState({...FORM_DEFAULTS});
	const [errors, setErrors] = useState([]);
	const [plan, setPlan] = useState(null);
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(null);
	const role = why('jobs:write');
	const set = (k) => (v) => setForm({...form, [k]: v});
	const fe = (k) => (errors.find((e) => e.field === k) || {}).message;
	const targets = {cluster: cluster.id};

	async function preview(e) {
		e.preventDefault();
		setErr(null);
		const {body, errors: errs} = buildJob(form, targets, true);
		setErrors(errs);
		if (!body)
			return;
		setBusy('plan');
		try {
			setPlan({...(await post('/api/jobs', body)), form: {...form}});
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(null);
		}
	}
	async function run() {
		const {body} = buildJob(plan.form, targets, false);
		setBusy('run');
		try {
			const j = await api('POST', '/api/jobs', body);
			navigate(`/jobs/${j.id}`);
		} catch (ex) {
			setErr(ex);
			setPlan(null);
		} finally {
			setBusy(null);
		}
	}
	const label = (a) => (ACTIONS.find((x) => x[0] === a) || [a, a])[1];
	const danger = plan && DESTRUCTIVE.includes(plan.form.action);
	const num = (k, id, text, help, extra) => html`<${Field} id=${id} label=${text} error=${fe(k)} help=${help}>
		<input inputmode="numeric" ...${bind(id, form[k], set(k), fe(k), help)} ...${extra || {}} /><//>`;
	return html`<form class="panel" onSubmit=${preview} aria-labelledby="cjob-h">
		<h2 id="cjob-h">Run a job on this cluster</h2>
		<div class="form-grid">
			<${Field} id="cj-action" label="Action"><select id="cj-action" value=${form.action} onChange=${(e) => set('action')(e.currentTarget.value)}>
				${ACTIONS.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select><//>
			${form.action === 'boot' ? html`<${Field} id="cj-boot" label="Boot device"><select id="cj-boot" value=${form.bootDevice} onChange=${(e) => set('bootDevice')(e.currentTarget.value)}>
				${['pxe', 'disk', 'cdrom', 'bios'].map((d) => html`<option value=${d}>${d}</option>`)}</select><//>` : null}
			${form.action === 'identify' ? num('identifySeconds', 'cj-ident', 'Identify for (s)', '0 turns it off') : null}
			${num('concurrency', 'cj-conc', 'Concurrency', 'servers at a time (1–256)')}
			${num('canary', 'cj-canary', 'Canary servers', 'run first; a failure pauses the job')}
			<${Field} id="cj-maxf" label="Max failures" error=${fe('maxFailures')} help="count or %, then the rest is skipped">
				<input placeholder="e.g. 5 or 10%" ...${bind('cj-maxf', form.maxFailures, set('maxFailures'), fe('maxFailures'), 'x')} /><//>
		</div>
		<fieldset class="box"><legend>Stagger (optional)</legend>
			<div class="form-grid">
				${num('staggerCount', 'cj-sc', 'Starts per interval', 'overall')}
				${num('staggerInterval', 'cj-si', 'Interval (s)')}
				<${Field} id="cj-sl" label="Per value of label" error=${fe('staggerLabel')} help="e.g. rack">
					<input ...${bind('cj-sl', form.staggerLabel, set('staggerLabel'), fe('staggerLabel'), 'x')} /><//>
				${num('staggerLabelCount', 'cj-slc', 'Starts per label value')}
			</div>
		</fieldset>
		<${ErrorBox} error=${err} title="The job was not planned" />
		<div class="form-row"><span class="action"><button type="submit" class="primary" disabled=${!!role || !!busy}
			aria-describedby=${role ? 'why-cj' : undefined}>${busy === 'plan' ? 'Planning…' : 'Preview (dry run)'}</button>
			${role ? html`<span class="reason muted small" id="why-cj">${role}</span>` : null}</span></div>
		<${Modal} open=${!!plan} id="plan" title=${plan ? `${label(plan.form.action)}: the plan` : ''} wide onClose=${() => setPlan(null)}>
			${plan ? html`<p role="status"><strong>${planSummary(plan)}</strong>. Nothing has run yet.</p>
				${danger ? html`<p class="error">This interrupts what runs on ${plan.servers.length} server${plan.servers.length === 1 ? '' : 's'}.</p>` : null}
				${plan.left_out.length ? html`<h3>Left out</h3><div class="scrollbox"><ul>${plan.left_out.map((s) => html`<li>${s.name || `server ${s.id}`}: ${LEFT_OUT[s.reason] || s.reason}</li>`)}</ul></div>` : null}
				<h3>Waves</h3><div class="scrollbox"><ol>${plan.waves.slice(0, 50).map((w) => html`<li>${w.server_ids.length} server${w.server_ids.length === 1 ? '' : 's'}: ${names(plan, w.server_ids)}</li>`)}</ol></div>
				<div class="actions">
					<button type="button" onClick=${() => setPlan(null)}>Back</button>
					<button type="button" class=${danger ? 'danger' : 'primary'} disabled=${!!busy || plan.servers.length === 0} onClick=${run}>
						${busy === 'run' ? 'Starting…' : `${label(plan.form.action)} on ${plan.servers.length} server${plan.servers.length === 1 ? '' : 's'}`}</button>
				</div>` : null}
		<//>
	</form>`;
}

export function Cluster({params}) {
	const id = params[0];
	const c = useGet(`/api/clusters/${id}`);
	const jobs = useGet(`/api/jobs?cluster=${id}&limit=10`);
	const inflight = useInflight(5000);
	const [del, setDel] = useState(false);
	const [err, setErr] = useState(null);
	useEvery(5000, () => { c.reload(); jobs.reload(); });
	if (!c.data)
		return html`<main id="main" class="page"><h1>Cluster ${id}</h1>
			<${ErrorBox} error=${c.error} title="The cluster could not be read" />${c.error ? null : html`<p>Loading…</p>`}</main>`;
	const cl = c.data;
	const s = cl.summary || {total: 0, by_power_state: {}, by_status: {}};
	async function remove() {
		setDel(false);
		try {
			await api('DELETE', `/api/clusters/${id}`);
			navigate('/clusters');
		} catch (ex) {
			setErr(ex);
		}
	}
	return html`<main id="main" class="page">
		<p class="crumbs"><a href="/clusters">Clusters</a> /</p>
		<h1>${cl.name}</h1>
		<${ErrorBox} error=${err} title="Request failed" />
		${cl.description ? html`<p>${cl.description}</p>` : null}
		<div class="cards" aria-label="Summary">
			<div class="card-n"><strong>${s.total}</strong> servers</div>
			${Object.entries(s.by_power_state).map(([k, n]) => html`<a class="card-n" href=${`/servers?q=${encodeURIComponent(`cluster:${cl.name} power:${k}`)}`}><strong>${n}</strong> <${PowerBadge} value=${k} /></a>`)}
			${Object.entries(s.by_status).map(([k, n]) => html`<div class="card-n"><strong>${n}</strong> <${StatusBadge} value=${k} /></div>`)}
		</div>
		<dl class="kv">
			<dt>Selector</dt><dd>${cl.selector ? html`<code>${cl.selector}</code>` : 'none (explicit members only)'}</dd>
			<dt>Explicit members</dt><dd>${cl.explicit_count}</dd>
			<dt>Labels</dt><dd>${Object.entries(cl.labels || {}).map(([k, v]) => `${k}=${v}`).join(' ') || '—'}</dd>
			<dt>Created</dt><dd><${Time} ts=${cl.created_at} /></dd>
		</dl>
		<h2>Members</h2>
		<${ServerTable} fetchPage=${membersFetcher(id)} queryKey=${`cluster-${id}`} columns=${MEMBER_COLUMNS}
			inflight=${inflight} live=${5000} pageSize=${1000} label=${`Servers of ${cl.name}`} height=${`min(60vh, ${Math.max(3, s.total) * 40 + 4}px)`}
			empty="This cluster has no server yet." />
		<${JobPanel} cluster=${cl} />
		<h2>Recent jobs on this cluster</h2>
		<${ErrorBox} error=${jobs.error} title="Jobs could not be listed" />
		${jobs.data ? (jobs.data.items.length ? html`<${JobRows} items=${jobs.data.items} />
			<p><a href=${`/jobs?cluster=${id}`}>All ${jobs.data.total} jobs of this cluster</a></p>` : html`<p class="muted">No job yet.</p>`) : null}
		<h2>Delete</h2>
		<${ActionButton} id="cluster-delete" label="Delete cluster" danger reason=${why('clusters:delete')} onClick=${() => setDel(true)} />
		<${Confirm} open=${del} title=${`Delete cluster ${cl.name}?`} body="The cluster goes; its servers stay as they are."
			confirmLabel="Delete cluster" onConfirm=${remove} onCancel=${() => setDel(false)} />
	</main>`;
}
