// One server: a summary with power actions (graceful and forced, the
// destructive ones confirmed), boot device and identify, and sections
// (?tab=) for sensors, the event log, inventory, credentials and
// history (audit, alerts). Every action is disabled with its reason for
// a role that may not run it, without credentials, with the BMC
// unreachable, or while a running job holds the server.
import {useEffect, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, api} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why} from '../lib/perms.js';
import {useInflight} from '../lib/inflight.js';
import {ErrorBox} from '../components/error.js';
import {Confirm} from '../components/confirm.js';
import {ActionButton} from '../components/action.js';
import {PowerBadge, StatusBadge} from '../components/state.js';
import {ago} from '../components/servertable.js';
import {Sensors, Sel, Inventory} from './serverhw.js';
import {Credentials, History} from './serverinfo.js';

// action -> label, the state it makes sense in, its confirmation.
const ACTIONS = [
	{action: 'on', label: 'Power on', when: 'off'},
	{action: 'soft', label: 'Shut down (graceful)', when: 'on',
	    confirm: 'asks the operating system to shut down (ACPI).'},
	{action: 'off', label: 'Power off (forced)', when: 'on', danger: true,
	    confirm: 'cuts power at once: unsaved work on the server is lost.'},
	{action: 'cycle', label: 'Power cycle', when: 'on', danger: true,
	    confirm: 'cuts power, then turns it on again.'},
	{action: 'reset', label: 'Reset', when: 'on', danger: true,
	    confirm: 'restarts the server at once, without shutting down.'},
];

const TABS = [
	['summary', 'Summary'],
	['sensors', 'Sensors'],
	['sel', 'Event log'],
	['inventory', 'Inventory'],
	['credentials', 'Credentials'],
	['history', 'History'],
];

// Why action a cannot run on s now, or null.
function blocked(a, s, busy) {
	const r = why('servers:power', s, busy);
	if (r)
		return r;
	if (a.when && s.power_state !== 'unknown' && s.power_state !== a.when)
		return `the server is already ${s.power_state === 'on' ? 'on' : 'off'}`;
	return null;
}

function Boot({s, busy}) {
	const [o, setO] = useState({device: 'pxe', persistent: false, efi: false});
	const [st, setSt] = useState({busy: false, error: null, ok: null});
	const r = why('servers:power', s, busy);
	async function go() {
		setSt({busy: true, error: null, ok: null});
		try {
			const x = await api('PUT', `/api/servers/${s.id}/boot-device`, o);
			setSt({busy: false, error: null, ok: `Boot device set: ${x.device}${x.persistent ? ', every boot' : ', next boot only'}${x.efi ? ', EFI' : ''}.`});
		} catch (error) {
			setSt({busy: false, error, ok: null});
		}
	}
	const set = (k) => (e) => setO({...o, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value});
	return html`<div class="subsection"><h3>Boot device</h3>
		<div class="actions">
			<label class="facet"><span>Device</span><select value=${o.device} onChange=${set('device')}>
				${['pxe', 'disk', 'cdrom', 'bios', 'none'].map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
			<label class="check"><input type="checkbox" checked=${o.persistent} onChange=${set('persistent')} /> every boot (persistent)</label>
			<label class="check"><input type="checkbox" checked=${o.efi} onChange=${set('efi')} /> EFI</label>
			<${ActionButton} id="boot" label="Set boot device" reason=${r} busy=${st.busy} onClick=${go} />
		</div>
		${st.ok ? html`<p class="ok-note" role="status">${st.ok}</p>` : null}
		<${ErrorBox} error=${st.error} title="Boot device not set" />
	</div>`;
}

function Identify({s, busy}) {
	const [sec, setSec] = useState(15);
	const [st, setSt] = useState({busy: false, error: null, ok: null});
	const r = why('servers:power', s, busy);
	async function go(body, what) {
		setSt({busy: true, error: null, ok: null});
		try {
			await api('POST', `/api/servers/${s.id}/identify`, body);
			setSt({busy: false, error: null, ok: what});
		} catch (error) {
			setSt({busy: false, error, ok: null});
		}
	}
	return html`<div class="subsection"><h3>Identify LED</h3>
		<div class="actions">
			<label class="facet"><span>Seconds</span><input type="number" min="1" max="255" class="num-in" value=${sec}
				onInput=${(e) => setSec(e.target.value)} /></label>
			<${ActionButton} id="identify-on" label="Blink" reason=${r} busy=${st.busy}
				onClick=${() => go({seconds: Number(sec)}, `Identify LED on for ${sec} s.`)} />
			<${ActionButton} id="identify-force" label="On until turned off" reason=${r} shared=${r ? 'why-identify-on' : undefined}
				onClick=${() => go({force: true}, 'Identify LED on until turned off.')} />
			<${ActionButton} id="identify-off" label="Off" reason=${r} shared=${r ? 'why-identify-on' : undefined}
				onClick=${() => go({off: true}, 'Identify LED off.')} />
		</div>
		${st.ok ? html`<p class="ok-note" role="status">${st.ok}</p>` : null}
		<${ErrorBox} error=${st.error} title="Identify failed" />
	</div>`;
}

function Summary({s, setServer, busy}) {
	const [pending, setPending] = useState(null);
	const [ask, setAsk] = useState(null);
	const [result, setResult] = useState(null);

	// The BMC's answer says the state asked for; the stored state follows
	// at the poller's next reading: read it again (once a second, 20 s
	// at most) until it agrees.
	async function confirm(want) {
		for (let i = 0; i < 20; i++) {
			const server = await get(`/api/servers/${s.id}`);
			setServer(server);
			if (server.power_state === want)
				return true;
			await new Promise((r) => setTimeout(r, 1000));
		}
		return false;
	}

	async function run(a) {
		setAsk(null);
		setPending(a.action);
		setResult(null);
		try {
			const r = await api('POST', `/api/servers/${s.id}/power`, {action: a.action});
			setResult({ok: true, text: `${a.label}: accepted by the BMC${r.power_state ? `; waiting for the reading (${r.power_state})…` : '.'}`});
			if (r.power_state) {
				const seen = await confirm(r.power_state);
				setResult({ok: true, text: seen ? `${a.label}: done, the server is ${r.power_state}.` :
				    `${a.label}: accepted by the BMC; the reading does not show ${r.power_state} yet.`});
			} else {
				setServer(await get(`/api/servers/${s.id}`));
			}
		} catch (error) {
			setResult({ok: false, error});
		}
		setPending(null);
	}

	const rows = [
		['Power', html`<${PowerBadge} value=${s.power_state} />${busy ? html` <a class="badge cmd" href=${`/jobs/${busy.job_id}`}>job ${busy.job_id}: ${busy.action}, ${busy.state}</a>` : null}`],
		['BMC', html`<${StatusBadge} value=${s.status} />${s.last_error ? html` <span class="muted">${s.last_error}</span>` : null}`],
		['BMC address', html`<span class="mono">${s.bmc_address}</span> (IPMI ${s.ipmi_version}, ${s.privilege}, cipher suite ${s.cipher_suite})`],
		['Cluster', s.cluster || '—'],
		['Model', [s.manufacturer, s.product].filter(Boolean).join(' ') || '—'],
		['Serial', s.serial || '—'],
		['Firmware', s.firmware || '—'],
		['Labels', Object.keys(s.labels).length ? Object.entries(s.labels).map(([k, v]) => html`<code class="label">${k}=${v}</code> `) : '—'],
		['Last reading', s.last_polled ? html`<span title=${s.last_polled}>${ago(s.last_polled, Date.now())}</span>` : 'never'],
		['Last seen', s.last_seen ? html`<span title=${s.last_seen}>${ago(s.last_seen, Date.now())}</span>` : 'never'],
		['Credentials', s.has_credentials ? 'stored (write-only)' : 'none'],
	];
	return html`<section aria-labelledby="summary-h">
		<h2 id="summary-h">Summary</h2>
		<dl class="summary-list">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
		<h2 id="power-h">Power</h2>
		<p class="muted small">Graceful asks the operating system to shut down; forced cuts power.</p>
		<div class="actions">${ACTIONS.map((a) => html`<${ActionButton} id=${`power-${a.action}`} label=${a.label}
			danger=${a.danger} reason=${blocked(a, s, busy)} busy=${pending === a.action} disabled=${!!pending}
			onClick=${() => (a.confirm ? setAsk(a) : run(a))} />`)}</div>
		${result && result.ok ? html`<p class="ok-note" role="status">${result.text}</p>` : null}
		${result && !result.ok ? html`<${ErrorBox} error=${result.error} title="Power action failed" />` : null}
		<${Confirm} open=${!!ask} title=${ask ? `${ask.label}: ${s.name}?` : ''}
			body=${ask ? `This ${ask.confirm}` : ''} confirmLabel=${ask ? ask.label : ''}
			onConfirm=${() => run(ask)} onCancel=${() => setAsk(null)} />
		<${Boot} s=${s} busy=${busy} />
		<${Identify} s=${s} busy=${busy} />
	</section>`;
}

export function Server({params, search}) {
	const id = Number(params[0]);
	const tab = new URLSearchParams(search || '').get('tab') || 'summary';
	const [st, setSt] = useState({server: null, error: null});
	const inflight = useInflight();
	const setServer = (server) => setSt({server, error: null});

	useEffect(() => {
		get(`/api/servers/${id}`).then(setServer, (error) => setSt({server: null, error}));
	}, [id]);

	const s = st.server;
	if (!s)
		return html`<main id="main" class="page"><h1>Server ${id}</h1>
			${st.error ? html`<${ErrorBox} error=${st.error} title="Server could not be loaded" />` : html`<p>Loading…</p>`}
			<p><a href="/servers">All servers</a></p></main>`;
	const busy = inflight.get(id) || null;
	const grafana = `/grafana/d/osh-server-detail/?var-server=${encodeURIComponent(s.name)}`;
	return html`<main id="main" class="page">
		<p class="crumbs"><a href="/servers">Servers</a> / ${s.name}</p>
		<div class="title-row"><h1>${s.name}</h1>
			<${PowerBadge} value=${s.power_state} /> <${StatusBadge} value=${s.status} />
			<a class="grafana" href=${grafana} target="_blank" rel="noopener">Grafana dashboard ↗</a></div>
		${s.description ? html`<p class="muted">${s.description}</p>` : null}
		<nav class="tabs" aria-label="Server sections"><ul>${TABS.map(([k, label]) => html`<li>
			<a href=${`/servers/${id}${k === 'summary' ? '' : `?tab=${k}`}`} aria-current=${tab === k ? 'page' : undefined}
				onClick=${(e) => { e.preventDefault(); navigate(`/servers/${id}${k === 'summary' ? '' : `?tab=${k}`}`); }}>${label}</a></li>`)}</ul></nav>
		${tab === 'summary' ? html`<${Summary} s=${s} setServer=${setServer} busy=${busy} />` : null}
		${tab === 'sensors' ? html`<${Sensors} id=${id} />` : null}
		${tab === 'sel' ? html`<${Sel} s=${s} busy=${busy} />` : null}
		${tab === 'inventory' ? html`<${Inventory} id=${id} />` : null}
		${tab === 'credentials' ? html`<${Credentials} s=${s} setServer=${setServer} />` : null}
		${tab === 'history' ? html`<${History} s=${s} />` : null}
	</main>`;
}
