// The server list: search text (field:value terms, lib/search.js), the
// facets (terms of the same text), sort and group kept in the URL; the
// columns chosen kept in localStorage; the rows in a virtualised table
// (components/servertable.js) that reads the rows in view again every
// 5 s and shows what running jobs do to each; ticked rows or "all N
// matching" go to the action bar (components/bulk.js).
import {useEffect, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {parse, tokenize, withField, withoutTerm, FIELD_NAMES, POWER, STATUS} from '../lib/search.js';
import {readState, writeState, apiQuery, GROUPS} from '../lib/urlstate.js';
import * as selection from '../lib/selection.js';
import * as columns from '../lib/columns.js';
import {useInflight} from '../lib/inflight.js';
import {ServerTable, COLUMNS} from '../components/servertable.js';
import {BulkBar} from '../components/bulk.js';

const PAGE = 500;
const FIELD_OF_GROUP = {power: 'power', status: 'status', cluster: 'cluster', manufacturer: 'manufacturer'};

// fetchPage for GET /api/servers with parsed params and a sort.
function serversFetcher(params, sort) {
	return ({cursor, limit}) => get(`/api/servers?${apiQuery(params, sort, limit, cursor)}`).then(
	    (p) => ({items: p.items, total: p.total, estimated: p.total_estimated, next: p.next_cursor}));
}

function useStats() {
	const [stats, setStats] = useState(null);
	useEffect(() => {
		get('/api/servers/stats').then(setStats, () => setStats(null));
	}, []);
	return stats;
}

// One facet: a select that sets (or clears) a field of the search.
function Facet({field, title, values, counts, q, go}) {
	const cur = (tokenize(q).find((t) => t.field === field) || {}).value || '';
	const opts = values.includes(cur) || !cur ? values : [cur, ...values];
	return html`<label class="facet"><span>${title}</span>
		<select value=${cur} aria-label=${title} onChange=${(e) => go(withField(q, field, e.target.value || null))}>
			<option value="">any</option>
			${opts.map((v) => html`<option value=${v}>${v}${counts && counts[v] !== undefined ? ` (${counts[v]})` : ''}</option>`)}
		</select></label>`;
}

function Facets({q, stats, go}) {
	const [label, setLabel] = useState('');
	const terms = tokenize(q).map((t, i) => ({...t, i})).filter((t) => t.field);
	const keys = (o) => Object.keys(o || {}).filter((k) => k !== '').sort();
	return html`<div class="facets" aria-label="Facets (counts: whole fleet)" role="group">
		<${Facet} field="power" title="Power" values=${POWER} counts=${stats && stats.by_power_state} q=${q} go=${go} />
		<${Facet} field="status" title="BMC" values=${STATUS} counts=${stats && stats.by_status} q=${q} go=${go} />
		<${Facet} field="cluster" title="Cluster" values=${keys(stats && stats.by_cluster)} counts=${stats && stats.by_cluster} q=${q} go=${go} />
		<${Facet} field="manufacturer" title="Manufacturer" values=${keys(stats && stats.by_manufacturer)} counts=${stats && stats.by_manufacturer} q=${q} go=${go} />
		<form class="facet" onSubmit=${(e) => {
			e.preventDefault();
			if (label.trim())
				go(`${q} label:${label.trim()}`.trim());
			setLabel('');
		}}><label for="label-facet">Label</label>
			<input id="label-facet" size="12" placeholder="rack=r12" value=${label} onInput=${(e) => setLabel(e.target.value)} />
			<button type="submit">Add</button></form>
		${terms.length ? html`<ul class="chips" aria-label="Search terms">${terms.map((t) => html`<li>
			<code>${t.field}:${t.value}</code>
			<button type="button" class="linkish" aria-label=${`Remove ${t.field}:${t.value}`}
				onClick=${() => go(withoutTerm(q, t.i))}>×</button></li>`)}</ul>` : null}
	</div>`;
}

function ColumnChooser({shown, setShown}) {
	return html`<details class="chooser"><summary>Columns</summary>
		<fieldset><legend class="sr-only">Columns shown</legend>
		${columns.ALL.map((k) => html`<label class="check"><input type="checkbox" checked=${shown.includes(k)}
			disabled=${k === 'name'} onChange=${() => setShown(columns.toggleColumn(shown, k))} /> ${COLUMNS[k].title}</label>`)}
		</fieldset></details>`;
}

// The list split by the values of a field: one table per value (each
// fetching only its own servers), folded until opened.
function Groups({group, params, parsedQ, sort, stats, cols, inflight, sel, setSel}) {
	const field = FIELD_OF_GROUP[group];
	let values = field === 'power' ? POWER : field === 'status' ? STATUS :
	    Object.keys((stats && stats[`by_${field}`]) || {}).filter((k) => k !== '').sort();
	const [totals, setTotals] = useState({});
	const qOf = (v) => parse(withField(parsedQ, field, v));
	useEffect(() => {
		let live = true;
		setTotals({});
		for (const v of values) {
			const p = qOf(v).params;
			get(`/api/servers?${apiQuery(p, sort, 1, null)}`).then((r) => live &&
			    setTotals((t) => ({...t, [v]: `${r.total_estimated ? 'about ' : ''}${r.total}`})), () => {});
		}
		return () => { live = false; };
	}, [group, JSON.stringify(params), values.join()]);
	if (!values.length)
		return html`<p class="muted">No ${field} is known yet.</p>`;
	return html`<div class="groups">${values.map((v) => {
		const p = qOf(v).params;
		const n = totals[v];
		if (n === '0')
			return null;
		return html`<details class="group" key=${v}><summary><strong>${field}: ${v}</strong>
			<span class="muted"> — ${n === undefined ? '…' : n} server${n === '1' ? '' : 's'}</span></summary>
			<${ServerTable} fetchPage=${serversFetcher(p, sort)} queryKey=${`${apiQuery(p, sort, PAGE)}`}
				columns=${cols} inflight=${inflight} selection=${sel} onSelection=${setSel}
				label=${`Servers, ${field} ${v}`} height="min(50vh, 420px)" />
		</details>`;
	})}
	${field === 'cluster' ? html`<p class="muted small">Servers in no cluster are not in a group: search without grouping.</p>` : null}
	</div>`;
}

export function Servers({search}) {
	const url = readState(search);
	const parsed = parse(url.q);
	const key = `${apiQuery(parsed.params, url.sort, PAGE)}|${parsed.errors.join()}`;
	const [text, setText] = useState(url.q);
	const [shown, setShownRaw] = useState(() => columns.load());
	const [sel, setSel] = useState(selection.empty);
	const [list, setList] = useState({total: null, items: [], loading: true});
	const stats = useStats();
	const inflight = useInflight();
	const input = useRef(null);

	const setShown = (v) => {
		setShownRaw(v);
		columns.save(v);
	};
	const go = (q) => navigate(`/servers${writeState({...url, q})}`);
	// Back/forward change the URL under us: the box follows; another
	// query is another set of servers: the selection goes.
	useEffect(() => setText(url.q), [url.q]);
	useEffect(() => setSel(selection.empty()), [key, url.group]);
	// Grouped, the tables are per group: the total is asked apart.
	useEffect(() => {
		if (!url.group || parsed.errors.length)
			return undefined;
		let live = true;
		setList({total: null, items: [], loading: true});
		get(`/api/servers?${apiQuery(parsed.params, url.sort, 1, null)}`).then(
		    (r) => live && setList({total: r.total, estimated: r.total_estimated, items: [], loading: false}),
		    () => live && setList({total: null, items: [], loading: false}));
		return () => { live = false; };
	}, [key, url.group]);
	useEffect(() => {
		const k = (e) => {
			const t = e.target;
			if (e.key !== '/' || (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' ||
			    t.tagName === 'TEXTAREA')) || e.ctrlKey || e.metaKey || e.altKey)
				return;
			e.preventDefault();
			input.current && input.current.focus();
		};
		document.addEventListener('keydown', k);
		return () => document.removeEventListener('keydown', k);
	}, []);

	const cols = shown.map((k) => ({key: k, ...COLUMNS[k]}));
	const sortBy = (s) => navigate(`/servers${writeState({...url, sort: url.sort === s ? `-${s}` : s})}`);
	const n = selection.count(sel, list.total);
	const grouped = !!url.group;

	return html`<main id="main" class="page servers">
		<h1>Servers</h1>
		<form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); go(text); }}>
			<label for="server-search" class="sr-only">Search servers</label>
			<input id="server-search" ref=${input} type="search" value=${text}
				placeholder="Search: text, or power:on status:offline cluster:c1 label:rack=r12 (press /)"
				onInput=${(e) => setText(e.target.value)} aria-describedby="search-help" />
			<button type="submit" class="primary">Search</button>
		</form>
		<p id="search-help" class="muted small">Fields: ${FIELD_NAMES.map((f) => html`<code>${f}:</code> `)} — other words search names, addresses, serials and labels.
			Keys: <kbd>/</kbd> search, <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>x</kbd> tick (shift: a range), <kbd>Enter</kbd> open.</p>
		${parsed.errors.length ? html`<div class="error" role="alert"><strong>Search not understood:</strong><ul>${parsed.errors.map((m) => html`<li>${m}</li>`)}</ul></div>` : null}
		<${Facets} q=${url.q} stats=${stats} go=${go} />
		<div class="toolbar">
			<p class="summary" aria-live="polite">${list.total === null ? (list.loading ? 'Loading…' : '') :
			    `${list.estimated ? 'about ' : ''}${list.total} server${list.total === 1 ? '' : 's'}${!grouped && list.items.length < list.total ? `, ${list.items.length} loaded` : ''}`}</p>
			<label class="facet"><span>Group by</span>
				<select value=${url.group} aria-label="Group by" onChange=${(e) => navigate(`/servers${writeState({...url, group: e.target.value})}`)}>
					<option value="">nothing</option>
					${GROUPS.map((g) => html`<option value=${g}>${g}</option>`)}
				</select></label>
			<${ColumnChooser} shown=${shown} setShown=${setShown} />
		</div>
		<${BulkBar} sel=${sel} setSel=${setSel} count=${n} total=${list.total} params=${parsed.params}
			disabled=${parsed.errors.length > 0} inflight=${inflight} />
		${parsed.errors.length ? null : grouped ? html`
			<${Groups} group=${url.group} params=${parsed.params} parsedQ=${url.q} sort=${url.sort}
				stats=${stats} cols=${cols} inflight=${inflight} sel=${sel} setSel=${setSel} />` : html`
			<${ServerTable} fetchPage=${serversFetcher(parsed.params, url.sort)} queryKey=${key}
				columns=${cols} sort=${url.sort} onSort=${sortBy} selection=${sel} onSelection=${setSel}
				inflight=${inflight} keyboard=${true} onState=${setList} />`}
	</main>`;
}
