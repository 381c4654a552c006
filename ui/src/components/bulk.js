// The server list's action bar: power actions, identify, boot device
// (each a job of cluster-mgmt, POST /api/jobs) and add to cluster (POST
// /api/clusters/{id}/servers), on the ticked servers or on all servers
// the search matches (lib/targets.js). Every job is planned first
// (dry_run): the preview says how many servers it acts on, which are
// left out and why; the job runs only from the preview's button, which
// for a destructive action says so. Disabled with the reason for a role
// that may not (lib/perms.js).
import {useEffect, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, api} from '../lib/api.js';
import {why} from '../lib/perms.js';
import * as selection from '../lib/selection.js';
import {planTargets, resolveIds, jobBody, LEFT_OUT} from '../lib/targets.js';
import {ErrorBox} from './error.js';
import {ActionButton} from './action.js';

export const BULK = [
	{action: 'on', label: 'Power on'},
	{action: 'soft', label: 'Shut down (graceful)', warn: 'asks each operating system to shut down (ACPI)'},
	{action: 'off', label: 'Power off (forced)', danger: true, warn: 'cuts power at once: unsaved work is lost'},
	{action: 'cycle', label: 'Power cycle', danger: true, warn: 'cuts power, then turns it on again'},
	{action: 'reset', label: 'Reset', danger: true, warn: 'restarts each server at once, without shutting down'},
	{action: 'identify', label: 'Identify'},
	{action: 'boot', label: 'Set boot device'},
];

const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;

function Dialog({open, title, children, onClose}) {
	const ref = useRef(null);
	useEffect(() => {
		const d = ref.current;
		if (d && open && !d.open)
			d.showModal();
		else if (d && !open && d.open)
			d.close();
	}, [open]);
	return html`<dialog ref=${ref} class="confirm preview" aria-labelledby="preview-title"
		onCancel=${(e) => { e.preventDefault(); onClose(); }}>
		<h2 id="preview-title">${title}</h2>${open ? children : null}</dialog>`;
}

function Plan({plan, a}) {
	const left = plan.left_out || [];
	return html`<div>
		<p><strong>${plural(plan.servers.length, 'server')}</strong> ${a.warn ? html`— this ${a.warn}.` : 'will be acted on.'}
			${plan.waves && plan.waves.length > 1 ? ` In ${plan.waves.length} waves,` : ''}
			${plan.estimated_duration_s !== undefined ? ` About ${Math.ceil(plan.estimated_duration_s)} s.` : ''}</p>
		${left.length ? html`<p>${plural(left.length, 'server')} not eligible, left out:</p>
			<div class="scrollbox"><table class="table"><caption class="sr-only">Servers left out and why</caption>
			<thead><tr><th scope="col">Server</th><th scope="col">Why</th></tr></thead>
			<tbody>${left.slice(0, 200).map((x) => html`<tr><td>${x.name || `#${x.id}`}</td>
				<td><span aria-hidden="true">⚠ </span>${LEFT_OUT[x.reason] || x.reason}</td></tr>`)}</tbody></table>
			${left.length > 200 ? html`<p class="muted">and ${left.length - 200} more</p>` : null}</div>` :
		    html`<p class="muted">Every server is eligible.</p>`}
	</div>`;
}

export function BulkBar({sel, setSel, count, total, params, disabled}) {
	const [opts, setOpts] = useState({seconds: 15, device: 'pxe', persistent: false, efi: false, cluster: ''});
	const [clusters, setClusters] = useState([]);
	const [busy, setBusy] = useState(null);
	const [preview, setPreview] = useState(null);
	const [error, setError] = useState(null);
	const [done, setDone] = useState(null);

	useEffect(() => {
		get('/api/clusters?limit=1000').then((r) => setClusters(r.items), () => setClusters([]));
	}, []);

	// A reason every button shares is said once, at the bar.
	// (With nothing selected the buttons are not shown: the bar says so.)
	const common = why('jobs:write') || (count === 0 ? 'tick servers first (or select all matching)' : null) ||
	    (disabled ? 'the search is not understood' : null);
	const jobWhy = common;
	const clusterWhy = why('clusters:write') || common || (!opts.cluster ? 'choose a cluster' : null);
	const sh = (r) => (r && r === common ? 'bulk-why' : undefined);

	// The targets the job takes: a selector, or ids read now.
	async function targetsNow() {
		const t = planTargets(params, sel);
		if (t.kind !== 'resolve')
			return t;
		const ids = await resolveIds(params, sel.except);
		if (!ids.length)
			throw Object.assign(new Error('no server matches the search now'), {code: 'empty'});
		return {...t, targets: {server_ids: ids}};
	}

	async function plan(a) {
		setBusy(a.action);
		setError(null);
		setDone(null);
		try {
			const t = await targetsNow();
			const p = await api('POST', '/api/jobs', jobBody(a.action, t.targets, opts, true));
			setPreview({a, t, plan: p});
		} catch (e) {
			setError(e);
		}
		setBusy(null);
	}

	async function run() {
		const {a, t} = preview;
		setPreview(null);
		setBusy(a.action);
		try {
			const job = await api('POST', '/api/jobs', jobBody(a.action, t.targets, opts, false));
			setDone(html`${a.label}: <a href=${`/jobs/${job.id}`}>job ${job.id}</a> ${job.state}, ${plural(job.total, 'server')}${job.left_out && job.left_out.length ? `, ${job.left_out.length} left out` : ''}.`);
			setSel(selection.empty());
		} catch (e) {
			setError(e);
		}
		setBusy(null);
	}

	async function addToCluster() {
		const c = clusters.find((x) => String(x.id) === opts.cluster);
		setBusy('cluster');
		setError(null);
		setDone(null);
		try {
			const t = planTargets(params, sel);
			const ids = t.kind === 'ids' ? t.targets.server_ids : await resolveIds(params, sel.except);
			setPreview({cluster: c, ids, t});
		} catch (e) {
			setError(e);
		}
		setBusy(null);
	}

	async function runCluster() {
		const {cluster, ids} = preview;
		setPreview(null);
		setBusy('cluster');
		let added = 0;
		try {
			for (let i = 0; i < ids.length; i += 1000) {
				const r = await api('POST', `/api/clusters/${cluster.id}/servers`, {server_ids: ids.slice(i, i + 1000)});
				added += r.added.length;
			}
			setDone(html`Added ${plural(added, 'server')} to <a href=${`/clusters/${cluster.id}`}>${cluster.name}</a>${added < ids.length ? ` (${ids.length - added} were members already)` : ''}.`);
			setSel(selection.empty());
		} catch (e) {
			setError(e);
		}
		setBusy(null);
	}

	const set = (k) => (e) => setOpts({...opts, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value});
	const p = preview;
	return html`<section class="bulk" aria-label="Actions on selected servers">
		<div class="bulk-sel">
			<strong>${count ? `${sel.all ? 'All ' : ''}${plural(count, 'server')} selected` : 'None selected'}</strong>
			${!sel.all && total ? html`<button type="button" onClick=${() => setSel(selection.allMatching())}>Select all ${total} matching</button>` : null}
			${count ? html`<button type="button" onClick=${() => setSel(selection.empty())}>Clear</button>` : null}
			${sel.all ? html`<span class="muted small">${planTargets(params, sel).note}</span>` : null}
			${common ? html`<span class="reason muted small" id="bulk-why">${count ? 'Actions: ' : 'Power, identify, boot device, add to cluster: '}${common}</span>` : null}
		</div>
		${count === 0 ? null : html`<div class="actions">
			${BULK.filter((a) => a.action !== 'identify' && a.action !== 'boot').map((a) => html`<${ActionButton} id=${`bulk-${a.action}`}
				label=${a.label} danger=${a.danger} reason=${jobWhy} shared=${sh(jobWhy)} busy=${busy === a.action} onClick=${() => plan(a)} />`)}
			<span class="opt-group">
				<label>Seconds <input type="number" aria-label="Identify seconds" min="0" max="255" value=${opts.seconds} onInput=${set('seconds')} class="num-in" /></label>
				<${ActionButton} id="bulk-identify" label="Identify" reason=${jobWhy} shared=${sh(jobWhy)} busy=${busy === 'identify'} onClick=${() => plan(BULK[5])} />
			</span>
			<span class="opt-group">
				<label>Boot <select aria-label="Boot device" value=${opts.device} onChange=${set('device')}>${['pxe', 'disk', 'cdrom', 'bios'].map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
				<label class="check"><input type="checkbox" checked=${opts.persistent} onChange=${set('persistent')} /> persistent</label>
				<label class="check"><input type="checkbox" checked=${opts.efi} onChange=${set('efi')} /> EFI</label>
				<${ActionButton} id="bulk-boot" label="Set boot device" reason=${jobWhy} shared=${sh(jobWhy)} busy=${busy === 'boot'} onClick=${() => plan(BULK[6])} />
			</span>
			<span class="opt-group">
				<label>Cluster <select aria-label="Cluster to add to" value=${opts.cluster} onChange=${set('cluster')}><option value="">choose…</option>
					${clusters.map((c) => html`<option value=${String(c.id)}>${c.name}</option>`)}</select></label>
				<${ActionButton} id="bulk-cluster" label="Add to cluster" reason=${clusterWhy} shared=${sh(clusterWhy)} busy=${busy === 'cluster'} onClick=${addToCluster} />
			</span>
		</div>`}
		<${ErrorBox} error=${error} title="Action not started" />
		${done ? html`<p class="ok-note" role="status">${done}</p>` : null}
		<${Dialog} open=${!!p} title=${p ? (p.cluster ? `Add to cluster ${p.cluster.name}?` : `${p.a.label}: preview`) : ''} onClose=${() => setPreview(null)}>
			${p ? html`<p class="muted small">Acting on ${p.t.note}.</p>` : null}
			${p && p.plan ? html`<${Plan} plan=${p.plan} a=${p.a} />` : null}
			${p && p.cluster ? html`<p>${plural(p.ids.length, 'server')} become explicit members of ${p.cluster.name}.</p>` : null}
			<div class="actions">
				<button type="button" onClick=${() => setPreview(null)}>Cancel</button>
				${p && p.plan ? html`<button type="button" class=${p.a.danger ? 'danger' : 'primary'} disabled=${!p.plan.servers.length}
					onClick=${run}>${p.a.label}: ${plural(p.plan.servers.length, 'server')}</button>` : null}
				${p && p.cluster ? html`<button type="button" class="primary" onClick=${runCluster}>Add ${plural(p.ids.length, 'server')}</button>` : null}
			</div>
		<//>
	</section>`;
}
