// Alerts: what fires now and the history (GET /api/monitoring/alerts),
// refreshed live from the alert event stream (ticketed SSE); ack with a
// comment (POST .../ack), silence for a duration (POST
// /api/monitoring/silences), the silences, and maintenance windows
// (/api/monitoring/maintenance).
import {useEffect, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {post, api} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why} from '../lib/perms.js';
import {openStream} from '../lib/sse.js';
import {ErrorBox} from '../components/error.js';
import {ActionButton} from '../components/action.js';
import {useGet, useEvery, Time, Field, bind, Modal, LiveNote, TabLinks, StateBadge} from '../components/ops.js';

const TABS = [['/alerts', 'Firing', 'firing'], ['/alerts?tab=history', 'History', 'history'],
    ['/alerts?tab=silences', 'Silences', 'silences'], ['/alerts?tab=maintenance', 'Maintenance windows', 'maintenance']];
const DURATIONS = [['1h', 3600], ['4h', 14400], ['12h', 43200], ['1 day', 86400], ['1 week', 604800]];
const HFILTERS = ['state', 'severity', 'alertname', 'server_id', 'q'];

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The alert stream as a trigger: any event reloads what the tab shows
// (at most every second).
function useAlertStream(onChange, on) {
	const [state, setState] = useState(null);
	const fn = useRef(onChange);
	fn.current = onChange;
	useEffect(() => {
		if (!on)
			return undefined;
		let t = null;
		const close = openStream({ticketPath: '/api/monitoring/alerts/events/ticket',
		    streamPath: '/api/monitoring/alerts/events',
		    types: ['new', 'resolved', 'acknowledged', 'unacknowledged'],
		    onEvent: () => {
			if (!t)
				t = setTimeout(() => { t = null; fn.current(); }, 1000);
		    }, onState: setState});
		return () => {
			clearTimeout(t);
			close();
		};
	}, []);
	return state;
}

function AckDialog({alert, onClose, onDone, idp}) {
	const [comment, setComment] = useState('');
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	async function submit(e) {
		e.preventDefault();
		setBusy(true);
		try {
			await post(`/api/monitoring/alerts/${alert.id}/ack`, {comment: comment.trim()});
			onDone(`Alert ${alert.alertname} acknowledged.`);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	return html`<${Modal} open=${!!alert} id=${`${idp}-ack`} title=${alert ? `Acknowledge ${alert.alertname}` : ''} onClose=${onClose}>
		${alert ? html`<form onSubmit=${submit}>
			<p class="small muted">${alert.server_name || 'no server'} · ${alert.summary || ''}. An ack silences exactly this alert until it resolves; others see who and why.</p>
			<${Field} id="ack-comment" label="Comment" error=${err && err.field === 'comment' ? err.message : null}>
				<textarea required maxlength="1024" rows="3" ...${bind('ack-comment', comment, setComment)}></textarea><//>
			${err && err.field !== 'comment' ? html`<${ErrorBox} error=${err} title="Not acknowledged" />` : null}
			<div class="actions"><button type="button" onClick=${onClose}>Cancel</button>
				<button type="submit" class="primary" disabled=${busy || !comment.trim()}>${busy ? 'Acknowledging…' : 'Acknowledge'}</button></div>
		</form>` : null}
	<//>`;
}

function SilenceDialog({alert, onClose, onDone, idp}) {
	const [secs, setSecs] = useState('14400');
	const [comment, setComment] = useState('');
	const [scope, setScope] = useState('server');
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const matchers = (a) => {
		const m = [{name: 'alertname', value: a.alertname}];
		if (scope === 'server' && a.labels && a.labels.server_id)
			m.push({name: 'server_id', value: a.labels.server_id});
		return m;
	};
	async function submit(e) {
		e.preventDefault();
		setBusy(true);
		try {
			await post('/api/monitoring/silences', {matchers: matchers(alert),
			    ends_at: iso(Date.now() + Number(secs) * 1000), comment: comment.trim()});
			onDone(`Silenced ${alert.alertname} for ${DURATIONS.find((d) => String(d[1]) === secs)[0]}.`);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	return html`<${Modal} open=${!!alert} id=${`${idp}-silence`} title=${alert ? `Silence ${alert.alertname}` : ''} onClose=${onClose}>
		${alert ? html`<form onSubmit=${submit}>
			<div class="form-grid">
				<${Field} id="sil-for" label="For"><select id="sil-for" value=${secs} onChange=${(e) => setSecs(e.currentTarget.value)}>
					${DURATIONS.map(([t, s]) => html`<option value=${String(s)}>${t}</option>`)}</select><//>
				<${Field} id="sil-scope" label="Which"><select id="sil-scope" value=${scope} onChange=${(e) => setScope(e.currentTarget.value)}>
					<option value="server" disabled=${!(alert.labels && alert.labels.server_id)}>this alert on ${alert.server_name || 'this server'}</option>
					<option value="all">${alert.alertname} on every server</option></select><//>
			</div>
			<${Field} id="sil-comment" label="Comment" error=${err && err.field === 'comment' ? err.message : null}>
				<textarea required maxlength="1024" rows="2" ...${bind('sil-comment', comment, setComment)}></textarea><//>
			<p class="small muted">Matchers: <code>${matchers(alert).map((m) => `${m.name}="${m.value}"`).join(', ')}</code></p>
			${err && err.field !== 'comment' ? html`<${ErrorBox} error=${err} title="Not silenced" />` : null}
			<div class="actions"><button type="button" onClick=${onClose}>Cancel</button>
				<button type="submit" class="primary" disabled=${busy || !comment.trim()}>${busy ? 'Silencing…' : 'Silence'}</button></div>
		</form>` : null}
	<//>`;
}

function AlertTable({items, onAck, onSilence, idp}) {
	const role = why('alerts:write');
	return html`<div class="table-wrap"><table class="table"><caption class="sr-only">Alerts</caption>
		<thead><tr><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col">Server</th><th scope="col">State</th>
			<th scope="col">Since</th><th scope="col">Ended</th><th scope="col">Actions</th></tr></thead>
		<tbody>${items.map((a) => {
			const firing = a.state === 'firing' || a.state === 'silenced';
			const ackWhy = role || (a.acknowledged ? 'acknowledged already' : !firing ? `the alert is ${a.state}` : null);
			const silWhy = role || (a.state === 'resolved' ? 'the alert is resolved' : null);
			return html`<tr key=${a.id} data-alert=${a.alertname}>
				<td><${StateBadge} value=${a.severity} /></td>
				<td class="wrap"><strong>${a.alertname}</strong><br /><span class="small">${a.summary || ''}</span>
					${a.maintenance ? html`<br /><span class="badge unk">maintenance: ${a.maintenance.reason}</span>` : null}
					${a.fires > 1 ? html` <span class="muted small">fired ${a.fires}×</span>` : null}</td>
				<td>${a.server_id ? html`<a href=${`/servers/${a.server_id}`}>${a.server_name || `server ${a.server_id}`}</a>` : a.cluster || '—'}</td>
				<td><${StateBadge} value=${a.state} />${a.acknowledged ? html` <${StateBadge} value="acknowledged" />` : null}</td>
				<td><${Time} ts=${a.starts_at} /></td>
				<td><${Time} ts=${a.ends_at} /></td>
				<td><div class="row-actions">
					<${ActionButton} id=${`${idp}-ack-${a.id}`} label="Ack" reason=${ackWhy} onClick=${() => onAck(a)} />
					<${ActionButton} id=${`${idp}-sil-${a.id}`} label="Silence" reason=${silWhy} onClick=${() => onSilence(a)} />
				</div></td>
			</tr>`;
		})}</tbody></table></div>`;
}

function AlertList({query, title, empty, extra, idp = 'al', live = true, hideAcked = false}) {
	const [pages, setPages] = useState([null]);
	const cursor = pages[pages.length - 1];
	const list = useGet(`/api/monitoring/alerts?${query}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
	const [ack, setAck] = useState(null);
	const [sil, setSil] = useState(null);
	const [note, setNote] = useState(null);
	const stream = useAlertStream(list.reload, live);
	useEvery(30000, list.reload);
	const done = (text) => {
		setAck(null);
		setSil(null);
		setNote(text);
		list.reload();
	};
	const d = list.data;
	// Acknowledged alerts that still fire are listed under their own
	// heading, not twice.
	const items = d ? d.items.filter((a) => !hideAcked || !a.acknowledged) : [];
	const hidden = d ? d.items.length - items.length : 0;
	return html`<section aria-labelledby=${`${idp}-h`}>
		<div class="section-head"><h2 id=${`${idp}-h`}>${title}</h2><${LiveNote} state=${stream} /></div>
		${extra}
		${note ? html`<p class="ok-note" role="status">${note}</p>` : null}
		<${ErrorBox} error=${list.error} title="Alerts could not be listed" />
		${d ? html`<p class="summary">${d.total - hidden}${d.total_capped ? '+' : ''} alert${d.total - hidden === 1 ? '' : 's'}${hidden ? ` (and ${hidden} acknowledged, below)` : ''}</p>
			${items.length ? html`<${AlertTable} idp=${idp} items=${items} onAck=${setAck} onSilence=${setSil} />` : html`<p class="empty">${empty}</p>`}
			${pages.length > 1 || d.next_cursor ? html`<div class="pager">
				<button type="button" disabled=${pages.length < 2} onClick=${() => setPages(pages.slice(0, -1))}>Newer</button>
				<button type="button" disabled=${!d.next_cursor} onClick=${() => setPages([...pages, d.next_cursor])}>Older</button>
			</div>` : null}` : list.error ? null : html`<p>Loading…</p>`}
		<${AckDialog} idp=${idp} alert=${ack} onClose=${() => setAck(null)} onDone=${done} />
		<${SilenceDialog} idp=${idp} alert=${sil} onClose=${() => setSil(null)} onDone=${done} />
	</section>`;
}

function History({search}) {
	const q = new URLSearchParams(search || '');
	const f = Object.fromEntries(HFILTERS.map((k) => [k, q.get(k) || '']));
	const [form, setForm] = useState(f);
	const apiq = new URLSearchParams();
	for (const k of HFILTERS)
		if (f[k])
			apiq.set(k, f[k]);
	const go = (next) => {
		const p = new URLSearchParams({tab: 'history'});
		for (const k of HFILTERS)
			if (next[k])
				p.set(k, next[k]);
		navigate(`/alerts?${p}`);
	};
	const set = (k) => (e) => setForm({...form, [k]: e.currentTarget.value});
	const filters = html`<form class="filters" role="search" aria-label="Filter alerts" onSubmit=${(e) => { e.preventDefault(); go(form); }}>
		<${Field} id="af-state" label="State"><select id="af-state" value=${form.state} onChange=${set('state')}><option value="">any</option>
			${['firing', 'resolved', 'silenced', 'inhibited', 'acknowledged'].map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
		<${Field} id="af-sev" label="Severity"><select id="af-sev" value=${form.severity} onChange=${set('severity')}><option value="">any</option>
			${['critical', 'warning', 'info'].map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
		<${Field} id="af-name" label="Alert name"><input id="af-name" value=${form.alertname} onInput=${set('alertname')} /><//>
		<${Field} id="af-server" label="Server id"><input id="af-server" inputmode="numeric" class="num-in" value=${form.server_id} onInput=${set('server_id')} /><//>
		<${Field} id="af-q" label="Text"><input id="af-q" type="search" value=${form.q} onInput=${set('q')} /><//>
		<button type="submit" class="primary">Filter</button>
	</form>`;
	return html`<${AlertList} key=${apiq.toString()} query=${apiq.toString()} title="History" empty="No alert matches." extra=${filters} />`;
}

function Silences() {
	const list = useGet('/api/monitoring/silences?state=active');
	const [err, setErr] = useState(null);
	const role = why('alerts:write');
	useEvery(15000, list.reload);
	async function expire(s) {
		try {
			await api('DELETE', `/api/monitoring/silences/${encodeURIComponent(s.id)}`);
			list.reload();
		} catch (ex) {
			setErr(ex);
		}
	}
	const items = list.data ? list.data.items : [];
	return html`<section aria-labelledby="sil-h"><h2 id="sil-h">Active silences</h2>
		<${ErrorBox} error=${list.error || err} title="Request failed" />
		${list.data ? (items.length ? html`<div class="table-wrap"><table class="table"><caption class="sr-only">Silences</caption>
			<thead><tr><th scope="col">Matchers</th><th scope="col">Comment</th><th scope="col">By</th><th scope="col">Ends</th><th scope="col">Actions</th></tr></thead>
			<tbody>${items.map((s) => html`<tr key=${s.id}>
				<td><code>${s.matchers.map((m) => `${m.name}${m.is_equal === false ? '!' : ''}${m.is_regex ? '=~' : '='}"${m.value}"`).join(', ')}</code></td>
				<td class="wrap">${s.comment}</td><td>${s.created_by}</td><td><${Time} ts=${s.ends_at} /></td>
				<td><${ActionButton} id=${`exp-${s.id}`} label="Expire" reason=${role} onClick=${() => expire(s)} /></td></tr>`)}</tbody></table></div>` :
		    html`<p class="empty">No active silence.</p>`) : list.error ? null : html`<p>Loading…</p>`}
	</section>`;
}

function Maintenance() {
	const list = useGet('/api/monitoring/maintenance?limit=100');
	const [form, setForm] = useState({target: 'cluster', cluster: '', servers: '', hours: '2', reason: ''});
	const [err, setErr] = useState(null);
	const [note, setNote] = useState(null);
	const role = why('alerts:write');
	useEvery(15000, list.reload);
	async function create(e) {
		e.preventDefault();
		setErr(null);
		const body = {ends_at: iso(Date.now() + Number(form.hours) * 3600 * 1000), reason: form.reason.trim()};
		if (form.target === 'cluster')
			body.cluster = form.cluster.trim();
		else
			body.server_ids = form.servers.split(/[\s,]+/).filter(Boolean).map(Number);
		try {
			const m = await post('/api/monitoring/maintenance', body);
			setNote(`Maintenance window ${m.id} set until ${m.ends_at}.`);
			list.reload();
		} catch (ex) {
			setErr(ex);
		}
	}
	async function cancel(m) {
		try {
			await api('DELETE', `/api/monitoring/maintenance/${m.id}`);
			list.reload();
		} catch (ex) {
			setErr(ex);
		}
	}
	const fe = (f) => (err && err.field === f ? err.message : null);
	const set = (k) => (v) => setForm({...form, [k]: v});
	const items = list.data ? list.data.items : [];
	return html`<section aria-labelledby="mw-h"><h2 id="mw-h">Maintenance windows</h2>
		<p class="muted small">Alerts of the servers in a window are silenced for its length and marked with it.</p>
		<${ErrorBox} error=${list.error || (err && !err.field ? err : null)} title="Request failed" />
		${note ? html`<p class="ok-note" role="status">${note}</p>` : null}
		${list.data ? (items.length ? html`<div class="table-wrap"><table class="table"><caption class="sr-only">Maintenance windows</caption>
			<thead><tr><th scope="col">For</th><th scope="col">Reason</th><th scope="col">State</th><th scope="col">Starts</th><th scope="col">Ends</th><th scope="col">By</th><th scope="col">Actions</th></tr></thead>
			<tbody>${items.map((m) => html`<tr key=${m.id}>
				<td>${m.cluster ? `cluster ${m.cluster}` : `servers ${(m.server_ids || []).join(', ')}`}</td>
				<td class="wrap">${m.reason}</td><td><${StateBadge} value=${m.state} /></td>
				<td><${Time} ts=${m.starts_at} /></td><td><${Time} ts=${m.ends_at} /></td><td>${m.created_by}</td>
				<td><${ActionButton} id=${`mw-${m.id}`} label="Cancel window"
					reason=${role || (m.state === 'ended' || m.state === 'cancelled' ? `the window is ${m.state}` : null)} onClick=${() => cancel(m)} /></td></tr>`)}</tbody></table></div>` :
		    html`<p class="empty">No maintenance window.</p>`) : list.error ? null : html`<p>Loading…</p>`}
		<form class="panel" onSubmit=${create} aria-labelledby="mw-new-h"><h3 id="mw-new-h">New window, starting now</h3>
			<div class="form-grid">
				<${Field} id="mw-target" label="For"><select id="mw-target" value=${form.target} onChange=${(e) => set('target')(e.currentTarget.value)}>
					<option value="cluster">a cluster</option><option value="servers">servers by id</option></select><//>
				${form.target === 'cluster' ?
				    html`<${Field} id="mw-cluster" label="Cluster name" error=${fe('cluster')}><input required ...${bind('mw-cluster', form.cluster, set('cluster'), fe('cluster'))} /><//>` :
				    html`<${Field} id="mw-servers" label="Server ids" error=${fe('server_ids')} help="e.g. 3, 4, 9"><input required ...${bind('mw-servers', form.servers, set('servers'), fe('server_ids'), 'x')} /><//>`}
				<${Field} id="mw-hours" label="Hours" error=${fe('ends_at')}><input inputmode="numeric" ...${bind('mw-hours', form.hours, set('hours'), fe('ends_at'))} /><//>
				<${Field} id="mw-reason" label="Reason" error=${fe('reason')}><input required maxlength="1024" ...${bind('mw-reason', form.reason, set('reason'), fe('reason'))} /><//>
			</div>
			<div class="form-row"><span class="action"><button type="submit" class="primary" disabled=${!!role}
				aria-describedby=${role ? 'why-mw' : undefined}>Set window</button>
				${role ? html`<span class="reason muted small" id="why-mw">${role}</span>` : null}</span></div>
		</form>
	</section>`;
}

export function Alerts({search}) {
	const tab = new URLSearchParams(search || '').get('tab') || 'firing';
	return html`<main id="main" class="page">
		<h1>Alerts</h1>
		<${TabLinks} tabs=${TABS} current=${tab} label="Alert views" />
		${tab === 'history' ? html`<${History} search=${search} />` :
		    tab === 'silences' ? html`<${Silences} />` :
		    tab === 'maintenance' ? html`<${Maintenance} />` :
		    html`<${AlertList} query="state=firing" title="Firing now" empty="Nothing unacknowledged fires now." idp="firing" hideAcked />
			<${AlertList} query="state=acknowledged" title="Acknowledged" empty="No acknowledged alert." idp="acked" />`}
	</main>`;
}
