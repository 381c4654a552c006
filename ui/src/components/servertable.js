// A virtualised table of servers, for any source of servers: the
// servers list (GET /api/servers by cursor), a cluster's members (GET
// /api/clusters/{id}/servers by offset), a group of the list. Only the
// rows in view are in the page (lib/window.js), pages are fetched as it
// scrolls, and the rows in view are read again every `live` ms (power
// state, reachability, age of the reading), with what running jobs do to
// each (`inflight`, lib/inflight.js).
//
// Props (the interface other pages rely on; keep it stable):
//   fetchPage({cursor, limit}) -> Promise<{items, total, estimated, next}>
//       cursor is null for the first page, then the `next` of the page
//       before (opaque: an API cursor, an offset...); next null at the end.
//   queryKey    string; a change starts again from the first page
//   columns     keys of COLUMNS, or column objects {key, title, width,
//               sort, render(server, ctx)} (ctx: {now, busy})
//   sort, onSort(sortKey)   optional: the sort in effect, and a header click
//   selection, onSelection  optional (lib/selection.js): checkboxes shown
//   inflight    optional Map server id -> {job_id, action, state, flying}
//   live        ms between reads of the rows in view (0: never; 5000)
//   pageSize    rows per fetch (500); firstPage the first fetch's (100)
//   label       accessible name of the table ('Servers')
//   height      CSS height of the scrolling area (default: the page's)
//   keyboard    true on the page's main table: j/k move, x selects,
//               Enter opens (one table per page)
//   onState(st) optional: {items, total, estimated, loading, error} when
//               a count, loading or the error changes (not on a live
//               refresh of rows)
//   empty       text when nothing matches
import {useEffect, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {visibleRange, needsMore, pagesIn} from '../lib/window.js';
import {isSelected, toggle, setLoaded} from '../lib/selection.js';
import {ErrorBox} from './error.js';
import {PowerBadge, StatusBadge} from './state.js';

export const ROW = 40;
const OVERSCAN = 10;

// "12 s ago", "3 min ago"... of an RFC 3339 time, from now (ms).
export function ago(ts, now) {
	if (!ts)
		return 'never';
	const s = Math.max(0, Math.round((now - Date.parse(ts)) / 1000));
	if (s < 60)
		return `${s} s ago`;
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400)
		return `${Math.floor(s / 3600)} h ago`;
	return `${Math.floor(s / 86400)} d ago`;
}

function Command({busy}) {
	if (!busy)
		return html`<span class="muted">—</span>`;
	return html`<a class=${`badge cmd ${busy.flying ? 'flying' : 'held'}`} href=${`/jobs/${busy.job_id}`}
		title=${`job ${busy.job_id}: ${busy.action}, task ${busy.state}`}>
		<span aria-hidden="true" class="icon">${busy.flying ? '⟳' : '⏸'}</span> ${busy.action} · job ${busy.job_id}${busy.flying ? '' : ' (waiting)'}</a>`;
}

// Every column a table can show. render(s, ctx) gives the cell.
export const COLUMNS = {
	name: {title: 'Name', width: 'minmax(140px, 2fr)', sort: 'name',
	    render: (s) => html`<a href=${`/servers/${s.id}`}>${s.name}</a>`},
	power_state: {title: 'Power', width: '110px', sort: 'power_state',
	    render: (s) => html`<${PowerBadge} value=${s.power_state} />`},
	status: {title: 'BMC', width: '130px', sort: 'status',
	    render: (s) => html`<${StatusBadge} value=${s.status} />`},
	command: {title: 'Command', width: 'minmax(120px, 1fr)',
	    render: (s, ctx) => html`<${Command} busy=${ctx.busy} />`},
	cluster: {title: 'Cluster', width: 'minmax(90px, 1fr)', render: (s) => s.cluster || '—'},
	bmc_address: {title: 'BMC address', width: 'minmax(130px, 1.2fr)',
	    render: (s) => html`<span class="mono">${s.bmc_address}</span>`},
	model: {title: 'Model', width: 'minmax(120px, 1.4fr)',
	    render: (s) => [s.manufacturer, s.product].filter(Boolean).join(' ') || '—'},
	manufacturer: {title: 'Manufacturer', width: 'minmax(100px, 1fr)', render: (s) => s.manufacturer || '—'},
	serial: {title: 'Serial', width: 'minmax(100px, 1fr)', render: (s) => s.serial || '—'},
	firmware: {title: 'Firmware', width: '100px', render: (s) => s.firmware || '—'},
	labels: {title: 'Labels', width: 'minmax(120px, 1.5fr)',
	    render: (s) => Object.entries(s.labels || {}).map(([k, v]) => `${k}=${v}`).join(' ') || '—'},
	reading: {title: 'Reading', width: '105px',
	    render: (s, ctx) => html`<span title=${s.last_polled || 'never polled'}>${ago(s.last_polled, ctx.now)}</span>`},
	last_seen: {title: 'Last seen', width: '105px', sort: 'last_seen',
	    render: (s, ctx) => html`<span title=${s.last_seen || 'never'}>${ago(s.last_seen, ctx.now)}</span>`},
};

function columnsOf(list) {
	return list.map((c) => (typeof c === 'string' ? {key: c, ...COLUMNS[c]} : c)).filter((c) => c && c.render);
}

// Pages of servers from fetchPage: {items, total, estimated, done,
// loading, error}; more() fetches the next page; refresh(start, end)
// reads again the pages that hold rows start..end. The first page is
// small (firstPage rows: a screenful comes sooner), the others pageSize.
function usePages(fetchPage, queryKey, pageSize, firstPage) {
	const [st, setSt] = useState({items: [], total: null, estimated: false,
	    next: null, done: false, loading: true, error: null});
	const gen = useRef(0);
	const busy = useRef(false);
	// Every page fetched: {cursor, limit, at, n} (rows at..at+n-1).
	const pages = useRef([]);
	const fetcher = useRef(fetchPage);
	fetcher.current = fetchPage;

	function load(reset, cursor) {
		const my = gen.current;
		if (busy.current && !reset)
			return;
		busy.current = true;
		if (reset)
			pages.current = [];
		const limit = reset ? firstPage : pageSize;
		const at = reset ? 0 : pages.current.reduce((n, p) => n + p.n, 0);
		setSt((s) => ({...s, loading: true, ...(reset ? {items: [], total: null, done: false, error: null} : {})}));
		fetcher.current({cursor: reset ? null : cursor, limit}).then((page) => {
			if (my !== gen.current)
				return;
			busy.current = false;
			pages.current.push({cursor: reset ? null : cursor, limit, at, n: page.items.length});
			setSt((s) => ({items: (reset ? [] : s.items).concat(page.items),
			    total: page.total, estimated: !!page.estimated, next: page.next,
			    done: page.next === null || page.next === undefined,
			    loading: false, error: null}));
		}, (error) => {
			if (my !== gen.current)
				return;
			busy.current = false;
			setSt((s) => ({...s, loading: false, error, done: true}));
		});
	}

	useEffect(() => {
		gen.current++;
		busy.current = false;
		load(true, null);
	}, [queryKey]);

	function refresh(start, end) {
		const my = gen.current;
		if (busy.current || end <= start)
			return;
		for (const p of pagesIn(pages.current, start, end)) {
			fetcher.current({cursor: p.cursor, limit: p.limit}).then((page) => {
				if (my !== gen.current || busy.current)
					return;
				setSt((s) => {
					const items = s.items.slice();
					const n = Math.min(page.items.length, p.n, items.length - p.at);
					for (let j = 0; j < n; j++)
						items[p.at + j] = page.items[j];
					return {...s, items, total: page.total, estimated: !!page.estimated};
				});
			}, () => {});
		}
	}

	return [st, () => load(false, st.next), refresh];
}

function Row({s, index, cols, ctx, current, selected, onTick, grid}) {
	return html`<div class=${`row${current ? ' current' : ''}${selected ? ' selected' : ''}`} role="row"
		aria-rowindex=${index + 2}
		style=${{transform: `translateY(${index * ROW}px)`, gridTemplateColumns: grid}}>
		${onTick ? html`<span role="cell" class="c-select"><input type="checkbox" checked=${!!selected}
			aria-label=${`Select ${s.name}`} onClick=${(e) => onTick(index, e.shiftKey)} /></span>` : null}
		${cols.map((c) => html`<span role="cell" class=${`c-${c.key}`}>${c.render(s, ctx)}</span>`)}
	</div>`;
}

export function ServerTable({fetchPage, queryKey, columns, sort, onSort, selection,
	onSelection, inflight, live = 5000, pageSize = 500, firstPage = 100, label = 'Servers', height,
	keyboard = false, onState, empty = 'No server matches.'}) {
	const [pages, more, refresh] = usePages(fetchPage, queryKey, pageSize, Math.min(firstPage, pageSize));
	const [view, setView] = useState({top: 0, height: 600});
	const [cur, setCur] = useState(-1);
	const scroller = useRef(null);
	const curRef = useRef(-1);
	curRef.current = cur;
	const cols = columnsOf(columns || Object.keys(COLUMNS));
	const selectable = !!(selection && onSelection);
	const grid = `${selectable ? '36px ' : ''}${cols.map((c) => c.width || '1fr').join(' ')}`;
	const minWidth = cols.length * 110 + (selectable ? 36 : 0);
	const now = Date.now();

	// The page hears of counts, not of every live refresh of a row.
	useEffect(() => {
		if (onState)
			onState({items: pages.items, total: pages.total, estimated: pages.estimated,
			    loading: pages.loading, error: pages.error});
	}, [pages.items.length, pages.total, pages.estimated, pages.loading, pages.error]);
	useEffect(() => {
		if (scroller.current)
			scroller.current.scrollTop = 0;
		setCur(-1);
	}, [queryKey]);
	useEffect(() => {
		const el = scroller.current;
		if (!el)
			return undefined;
		const measure = () => setView({top: el.scrollTop, height: el.clientHeight});
		measure();
		window.addEventListener('resize', measure);
		return () => window.removeEventListener('resize', measure);
	}, []);

	const sel = useRef(null);
	sel.current = {selection, onSelection, items: pages.items};
	const tick = (index, shift) => {
		const c = sel.current;
		c.onSelection(toggle(c.selection, c.items, index, shift));
	};

	// Keys of the page's main table: j/k move the current row (its link
	// focused: Enter opens it), x ticks it.
	useEffect(() => {
		if (!keyboard)
			return undefined;
		const key = (e) => {
			const t = e.target;
			const typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' ||
			    t.tagName === 'TEXTAREA' || t.isContentEditable);
			if (typing && !(t.type === 'checkbox' && t.closest('.row')))
				return;
			if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]'))
				return;
			if (e.key === 'j' || e.key === 'k') {
				e.preventDefault();
				setCur((c) => Math.max(0, c + (e.key === 'j' ? 1 : -1)));
			} else if (e.key === 'x' && sel.current.onSelection) {
				e.preventDefault();
				if (curRef.current >= 0)
					tick(curRef.current, e.shiftKey);
			}
		};
		document.addEventListener('keydown', key);
		return () => document.removeEventListener('keydown', key);
	}, [keyboard]);
	useEffect(() => {
		const el = scroller.current;
		if (cur < 0 || !el)
			return;
		if (cur >= pages.items.length) {
			setCur(pages.items.length - 1);
			return;
		}
		const top = cur * ROW;
		if (top < el.scrollTop)
			el.scrollTop = top;
		else if (top + ROW > el.scrollTop + el.clientHeight)
			el.scrollTop = top + ROW - el.clientHeight;
		setView({top: el.scrollTop, height: el.clientHeight});
		requestAnimationFrame(() => {
			const a = el.querySelector(`.row[aria-rowindex="${cur + 2}"] a`);
			if (a)
				a.focus({preventScroll: true});
		});
	}, [cur]);

	const count = pages.items.length + (pages.done ? 0 :
	    Math.min(pageSize, Math.max(0, (pages.total || 0) - pages.items.length)));
	const {start, end} = visibleRange(count, ROW, view.top, view.height, OVERSCAN);
	useEffect(() => {
		if (!pages.loading && !pages.error && needsMore(pages.items.length, end, !pages.done, OVERSCAN))
			more();
	}, [end, pages.items.length, pages.done, pages.loading]);

	const liveFn = useRef(null);
	liveFn.current = () => refresh(start, end);
	useEffect(() => {
		if (!live)
			return undefined;
		const t = setInterval(() => {
			if (!document.hidden)
				liveFn.current();
		}, live);
		return () => clearInterval(t);
	}, [live]);

	const rows = [];
	for (let i = start; i < end; i++) {
		const s = pages.items[i];
		rows.push(s ? html`<${Row} key=${s.id} s=${s} index=${i} cols=${cols} grid=${grid}
			ctx=${{now, busy: inflight ? inflight.get(s.id) : null}} current=${keyboard && i === cur}
			selected=${selectable && isSelected(selection, s.id)} onTick=${selectable ? tick : null} />` :
		    html`<div class="row placeholder" key=${`p${i}`} role="row" style=${{transform: `translateY(${i * ROW}px)`}}>
			<span role="cell" class="muted">Loading…</span></div>`);
	}
	const sortState = (c) => {
		if (!c.sort || !onSort)
			return undefined;
		if (sort === c.sort)
			return 'ascending';
		if (sort === `-${c.sort}`)
			return 'descending';
		return 'none';
	};
	const loadedAll = selectable && pages.items.length > 0 &&
	    pages.items.every((s) => isSelected(selection, s.id));

	return html`<div class="servertable">
		<${ErrorBox} error=${pages.error} title="Servers could not be listed" />
		<div class="grid" role="table" aria-rowcount=${(pages.total || 0) + 1} aria-label=${label}>
			<div role="rowgroup"><div class="row head" role="row" aria-rowindex="1" style=${{gridTemplateColumns: grid, minWidth: `${minWidth}px`}}>
				${selectable ? html`<span role="columnheader" class="c-select"><input type="checkbox"
					aria-label="Select the loaded rows" checked=${loadedAll}
					onClick=${() => onSelection(setLoaded(selection, pages.items, !loadedAll))} /></span>` : null}
				${cols.map((c) => html`<span role="columnheader" class=${`c-${c.key}`} aria-sort=${sortState(c)}>
					${c.sort && onSort ? html`<button type="button" class="linkish" onClick=${() => onSort(c.sort)}>${c.title}${sort === c.sort ? ' ▲' : sort === `-${c.sort}` ? ' ▼' : ''}</button>` : c.title}
				</span>`)}
			</div></div>
			<div class="scroller" role="rowgroup" ref=${scroller} tabindex="0" aria-label=${`${label}: rows`}
				style=${{...(height ? {height} : {}), minWidth: `${minWidth}px`}}
				onScroll=${(e) => setView({top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight})}>
				<div class="spacer" role="presentation" style=${{height: `${count * ROW}px`}}>${rows}</div>
			</div>
		</div>
		${!pages.loading && pages.total === 0 && !pages.error ? html`<p class="empty">${empty}</p>` : null}
	</div>`;
}
