// A server's hardware sections: live sensors with their thresholds,
// state badges that differ by shape and text, and small history charts
// (GET /api/monitoring/servers/{id}/metrics); the system event log with
// filters, CSV export and clear (confirmed); inventory (BMC and FRU).
import {useEffect, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, api} from '../lib/api.js';
import {why} from '../lib/perms.js';
import {bySensor, extent, linePath, yOf} from '../lib/chart.js';
import {filterSel, selCsv} from '../lib/sel.js';
import {ErrorBox} from '../components/error.js';
import {Confirm} from '../components/confirm.js';
import {ActionButton} from '../components/action.js';
import {SensorBadge} from '../components/state.js';

const KINDS = ['temperature', 'fans', 'voltage', 'current', 'power'];
const W = 140;
const H = 32;

function fmt(v, unit) {
	if (v === null || v === undefined)
		return '—';
	const n = Math.round(v * 100) / 100;
	return unit ? `${n} ${unit}` : String(n);
}

// {data, error, loading, reload} of an API read.
function useGet(path) {
	const [st, setSt] = useState({data: null, error: null, loading: true});
	const load = () => {
		setSt((x) => ({...x, loading: true}));
		get(path).then((data) => setSt({data, error: null, loading: false}),
		    (error) => setSt({data: null, error, loading: false}));
	};
	useEffect(load, [path]);
	return {...st, reload: load};
}

// An hour of one sensor: the line, and its thresholds dashed (upper
// ones short dashes, lower ones long: told apart without colour).
function Spark({name, h}) {
	if (!h || !h.points.length)
		return html`<span class="muted small">no history</span>`;
	const e = extent(h.points, h.thresholds);
	if (!e)
		return html`<span class="muted small">no readings</span>`;
	const t0 = h.points[0][0];
	const t1 = h.points[h.points.length - 1][0];
	const vs = h.points.map(([, v]) => v).filter((v) => v !== null);
	const label = `${name}, last hour: ${fmt(Math.min(...vs))} to ${fmt(Math.max(...vs))}`;
	return html`<svg class="spark" width=${W} height=${H} viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label}>
		${Object.entries(h.thresholds).filter(([, v]) => v >= e.lo && v <= e.hi).map(([k, v]) => html`<line
			x1="0" x2=${W} y1=${yOf(v, H, e.lo, e.hi)} y2=${yOf(v, H, e.lo, e.hi)}
			class=${`thr ${k.includes('critical') || k.includes('recoverable') ? 'crit' : 'warn'}`}
			stroke-dasharray=${k.startsWith('upper') ? '3 2' : '7 3'}><title>${k.replace(/_/g, ' ')}: ${v}</title></line>`)}
		<path d=${linePath(h.points, W, H, t0, t1, e.lo, e.hi)} class="line" />
	</svg>`;
}

export function Sensors({id}) {
	const live = useGet(`/api/servers/${id}/sensors`);
	const [hist, setHist] = useState({data: {}, error: null});
	useEffect(() => {
		let on = true;
		Promise.allSettled(KINDS.map((k) => get(`/api/monitoring/servers/${id}/metrics?name=${k}&range=1h`))).then((rs) => {
			if (!on)
				return;
			const data = {};
			let error = null;
			for (const r of rs) {
				if (r.status === 'fulfilled')
					Object.assign(data, bySensor(r.value.series));
				else
					error = r.reason;
			}
			setHist({data, error});
		});
		return () => { on = false; };
	}, [id]);
	const items = live.data ? live.data.items : [];
	const th = (x, k) => fmt(x.thresholds ? x.thresholds[k] : null, x.unit);
	return html`<section aria-labelledby="sensors-h">
		<div class="section-head">
			<h2 id="sensors-h">Sensors</h2>
			<button type="button" onClick=${live.reload} disabled=${live.loading}>${live.loading ? 'Reading…' : 'Read again'}</button>
		</div>
		<p class="muted small">State: ✔ nominal, ▲ warning, ✖ critical, ? unknown. History: the last hour from Prometheus;
			dashed lines are thresholds (short dashes upper, long dashes lower).</p>
		<${ErrorBox} error=${live.error} title="Sensors could not be read" />
		<${ErrorBox} error=${hist.error} title="Some history could not be read" />
		${live.data ? html`<div class="table-wrap"><table class="table">
			<caption class="sr-only">Sensor readings, thresholds and the last hour</caption>
			<thead><tr><th scope="col">State</th><th scope="col">Sensor</th><th scope="col">Type</th>
				<th scope="col" class="num">Reading</th><th scope="col" class="num">Lower critical</th>
				<th scope="col" class="num">Lower non-critical</th><th scope="col" class="num">Upper non-critical</th><th scope="col" class="num">Upper critical</th>
				<th scope="col">Last hour</th></tr></thead>
			<tbody>${items.map((x) => html`<tr key=${x.id}>
				<td><${SensorBadge} value=${x.state} /></td>
				<td>${x.name}</td><td>${x.type}</td>
				<td class="num">${fmt(x.value, x.unit)}</td>
				<td class="num">${th(x, 'lower_critical')}</td>
				<td class="num">${th(x, 'lower_non_critical')}</td>
				<td class="num">${th(x, 'upper_non_critical')}</td>
				<td class="num">${th(x, 'upper_critical')}</td>
				<td><${Spark} name=${x.name} h=${hist.data[x.name]} /></td>
			</tr>`)}</tbody>
		</table></div>
		${items.length === 0 ? html`<p class="muted">This BMC reports no sensors.</p>` : null}` : null}
	</section>`;
}

function download(name, text) {
	const a = document.createElement('a');
	a.href = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
	a.download = name;
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function Sel({s, busy}) {
	const [st, setSt] = useState({items: [], total: null, next: null, loading: true, error: null});
	const [f, setF] = useState({severity: '', direction: '', text: '', since: ''});
	const [ask, setAsk] = useState(false);
	const [clear, setClear] = useState({busy: false, error: null, ok: null});

	function load(cursor) {
		setSt((x) => ({...x, loading: true, error: null}));
		get(`/api/servers/${s.id}/sel?limit=200${cursor ? `&cursor=${cursor}` : ''}`).then(
		    (p) => setSt((x) => ({items: (cursor ? x.items : []).concat(p.items), total: p.total,
			next: p.next_cursor, free: p.free_bytes, loading: false, error: null})),
		    (error) => setSt((x) => ({...x, loading: false, error})));
	}
	useEffect(() => load(null), [s.id]);

	async function doClear() {
		setAsk(false);
		setClear({busy: true, error: null, ok: null});
		try {
			await api('DELETE', `/api/servers/${s.id}/sel`);
			setClear({busy: false, error: null, ok: 'Event log cleared.'});
			load(null);
		} catch (error) {
			setClear({busy: false, error, ok: null});
		}
	}

	const shown = filterSel(st.items, {...f, since: f.since ? Date.parse(f.since) : 0});
	const set = (k) => (e) => setF({...f, [k]: e.target.value});
	return html`<section aria-labelledby="sel-h">
		<div class="section-head"><h2 id="sel-h">System event log</h2>
			<span class="muted">${st.total === null ? '' : `${st.total} entries in the log, ${st.items.length} read${st.free !== undefined ? `, ${st.free} bytes free` : ''}`}</span></div>
		<form class="facets" role="search" aria-label="Filter the event log" onSubmit=${(e) => e.preventDefault()}>
			<label class="facet"><span>Severity</span><select aria-label="Severity" value=${f.severity} onChange=${set('severity')}>
				<option value="">any</option>${['critical', 'warning', 'nominal', 'unknown'].map((v) => html`<option value=${v}>${v}</option>`)}</select></label>
			<label class="facet"><span>Direction</span><select aria-label="Direction" value=${f.direction} onChange=${set('direction')}>
				<option value="">any</option><option value="assertion">assertion</option><option value="deassertion">deassertion</option></select></label>
			<label class="facet"><span>Since</span><input type="date" value=${f.since} onInput=${set('since')} /></label>
			<label class="facet"><span>Text</span><input type="search" value=${f.text} onInput=${set('text')} placeholder="sensor or description" /></label>
			<button type="button" onClick=${() => download(`sel-${s.name}.csv`, selCsv(shown))} disabled=${!shown.length}>Export CSV (${shown.length})</button>
			<${ActionButton} id="sel-clear" label="Clear the log" danger=${true} reason=${why('servers:write', s)}
				busy=${clear.busy} onClick=${() => setAsk(true)} />
		</form>
		<${ErrorBox} error=${st.error} title="Event log could not be read" />
		<${ErrorBox} error=${clear.error} title="Event log not cleared" />
		${clear.ok ? html`<p class="ok-note" role="status">${clear.ok}</p>` : null}
		<div class="table-wrap"><table class="table">
			<caption class="sr-only">Event log entries, newest first</caption>
			<thead><tr><th scope="col">Severity</th><th scope="col">Time</th><th scope="col">Sensor</th>
				<th scope="col">Event</th><th scope="col">Direction</th></tr></thead>
			<tbody>${shown.map((e) => html`<tr key=${e.id}>
				<td><${SensorBadge} value=${e.severity} /></td>
				<td class="mono small">${e.timestamp || (e.seconds_since_init !== null && e.seconds_since_init !== undefined ? `${e.seconds_since_init} s after BMC start` : '—')}</td>
				<td>${e.sensor}<div class="muted small">${e.sensor_type}</div></td>
				<td>${e.description}</td><td>${e.direction || '—'}</td></tr>`)}</tbody>
		</table></div>
		${!st.loading && !shown.length ? html`<p class="muted">${st.items.length ? 'No entry matches the filters.' : 'The log is empty.'}</p>` : null}
		${st.next ? html`<button type="button" onClick=${() => load(st.next)} disabled=${st.loading}>${st.loading ? 'Reading…' : 'Read older entries'}</button>` : null}
		<${Confirm} open=${ask} title=${`Clear the event log of ${s.name}?`}
			body=${`Every entry (${st.total || 0}) is deleted from the BMC for good; export it first if you need it.`}
			confirmLabel="Clear the log" onConfirm=${doClear} onCancel=${() => setAsk(false)} />
	</section>`;
}

function Fields({title, o}) {
	const entries = Object.entries(o || {}).filter(([, v]) => v !== null && v !== '' && typeof v !== 'object');
	if (!entries.length)
		return null;
	return html`<div class="subsection"><h3>${title}</h3>
		<dl class="summary-list">${entries.map(([k, v]) => html`<dt>${k.replace(/_/g, ' ')}</dt><dd>${String(v)}</dd>`)}</dl></div>`;
}

export function Inventory({id}) {
	const inv = useGet(`/api/servers/${id}/inventory`);
	const d = inv.data;
	return html`<section aria-labelledby="inv-h">
		<div class="section-head"><h2 id="inv-h">Inventory</h2>
			<button type="button" onClick=${inv.reload} disabled=${inv.loading}>${inv.loading ? 'Reading…' : 'Read again'}</button></div>
		<${ErrorBox} error=${inv.error} title="Inventory could not be read" />
		${d ? html`<div class="cols">
			<${Fields} title="BMC" o=${d.bmc} />
			${d.fru ? html`<${Fields} title="Chassis" o=${d.fru.chassis} /><${Fields} title="Board" o=${d.fru.board} />
				<${Fields} title="Product" o=${d.fru.product} />` : html`<p class="muted">The BMC has no FRU data.</p>`}
		</div>` : null}
	</section>`;
}
