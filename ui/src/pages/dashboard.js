// The dashboard: fleet counts as tiles, each a link to the list or page
// already filtered to what it counts; read again every 15 s.
import {useEffect, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get} from '../lib/api.js';
import {format} from '../lib/search.js';
import {ErrorBox} from '../components/error.js';

const serversLink = (fields) => {
	const q = format(fields);
	return q ? `/servers?${new URLSearchParams({q})}` : '/servers';
};

function Tile({title, value, href, tone, note}) {
	return html`<a class=${`tile ${tone || ''}`} href=${href}>
		<span class="tile-value">${value === null ? '…' : value}</span>
		<span class="tile-title">${title}</span>
		${note ? html`<span class="tile-note muted">${note}</span>` : null}
	</a>`;
}

// One section's data: {data, error} filled by fn's promise, read again
// every REFRESH_MS while the page is visible.
const REFRESH_MS = 15000;
function useLoad(fn) {
	const [st, setSt] = useState({data: null, error: null});
	useEffect(() => {
		let live = true;
		const read = () => fn().then((data) => live && setSt({data, error: null}),
		    (error) => live && setSt((s) => ({data: s.data, error})));
		read();
		const t = setInterval(() => !document.hidden && read(), REFRESH_MS);
		return () => {
			live = false;
			clearInterval(t);
		};
	}, []);
	return st;
}

export function Dashboard() {
	const stats = useLoad(() => get('/api/servers/stats'));
	const alerts = useLoad(() => get('/api/monitoring/alerts?state=firing&limit=1'));
	const jobs = useLoad(() => get('/api/jobs?state=running&limit=1'));
	const s = stats.data;
	const n = (obj, k) => (s ? (obj[k] || 0) : null);
	const reachable = s ? n(s.by_status, 'online') : null;
	const unreachable = s ? s.total - n(s.by_status, 'online') - n(s.by_status, 'unknown') : null;

	return html`<main id="main" class="page">
		<h1>Dashboard</h1>
		<${ErrorBox} error=${stats.error} title="Server counts unavailable" />
		<section aria-labelledby="power-h">
			<h2 id="power-h">Power</h2>
			<div class="tiles">
				<${Tile} title="Servers" value=${s ? s.total : null} href="/servers" />
				<${Tile} title="Powered on" value=${s ? n(s.by_power_state, 'on') : null} href=${serversLink({power: 'on'})} tone="ok" />
				<${Tile} title="Powered off" value=${s ? n(s.by_power_state, 'off') : null} href=${serversLink({power: 'off'})} />
				<${Tile} title="Power unknown" value=${s ? n(s.by_power_state, 'unknown') : null} href=${serversLink({power: 'unknown'})} tone="unk" />
			</div>
		</section>
		<section aria-labelledby="bmc-h">
			<h2 id="bmc-h">BMC reachability</h2>
			<div class="tiles">
				<${Tile} title="Reachable" value=${reachable} href=${serversLink({status: 'online'})} tone="ok" />
				<${Tile} title="Offline" value=${s ? n(s.by_status, 'offline') : null} href=${serversLink({status: 'offline'})} tone="crit" />
				<${Tile} title="Auth failed" value=${s ? n(s.by_status, 'auth_failed') : null} href=${serversLink({status: 'auth_failed'})} tone="warn" />
				<${Tile} title="Error" value=${s ? n(s.by_status, 'error') : null} href=${serversLink({status: 'error'})} tone="warn" />
				<${Tile} title="Not polled yet" value=${s ? n(s.by_status, 'unknown') : null} href=${serversLink({status: 'unknown'})} tone="unk"
					note=${unreachable !== null ? `${unreachable} unreachable in all` : null} />
			</div>
		</section>
		<section aria-labelledby="ops-h">
			<h2 id="ops-h">Operations</h2>
			<${ErrorBox} error=${alerts.error} title="Alerts unavailable" />
			<${ErrorBox} error=${jobs.error} title="Jobs unavailable" />
			<div class="tiles">
				<${Tile} title="Active alerts" value=${alerts.data ? `${alerts.data.total}${alerts.data.total_capped ? '+' : ''}` : (alerts.error ? '–' : null)}
					href="/alerts?state=firing" tone=${alerts.data && alerts.data.total ? 'crit' : 'ok'} />
				<${Tile} title="Running jobs" value=${jobs.data ? jobs.data.total : (jobs.error ? '–' : null)}
					href="/jobs?state=running" />
			</div>
		</section>
	</main>`;
}
