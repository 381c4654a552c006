// The web UI's budgets (issue 12), measured in Debian's headless
// chromium: JavaScript size gzipped (budget 60 KB), first render of the
// server list over a 10,000-server fleet (budget 300 ms), and scrolling
// through all of it (pages fetched by cursor as it goes, frames timed).
// The UI (build/ui/dist, make ui) is served by a small server here whose
// API answers come from memory (a synthetic fleet of N servers, the
// shapes of proto/openapi.yaml), so that the figures are the UI's own,
// not PostgreSQL's or the network's.
//   node tests/bench/ui/bench.mjs [servers=10000] [runs=7]
import {createServer} from 'node:http';
import {readFileSync, readdirSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import {join, dirname, extname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';

const top = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(join(top, 'ui', 'package.json'));
const {chromium} = require('playwright-core');
const DIST = process.env.OSH_UI_DIST || join(top, 'build', 'ui', 'dist');
const N = Number(process.argv[2] || 10000);
const RUNS = Number(process.argv[3] || 7);
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const POWER = ['on', 'on', 'on', 'off', 'unknown'];
const STATUS = ['online', 'online', 'online', 'offline', 'auth_failed', 'error', 'unknown'];
const now = new Date().toISOString();
const fleet = Array.from({length: N}, (_, i) => ({
	id: i + 1, name: `node-${String(i + 1).padStart(5, '0')}`,
	bmc_address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
	ipmi_version: '2.0', privilege: 'admin', cipher_suite: 3, workarounds: [],
	labels: {rack: `r${i % 40}`}, description: '', monitoring: true,
	cluster: `c${i % 12}`, has_credentials: true, status: STATUS[i % STATUS.length],
	power_state: POWER[i % POWER.length], last_seen: now, last_polled: now,
	last_error: null, manufacturer: 'Dell Inc.', product: 'PowerEdge R650',
	serial: `SN${i}`, firmware: '2.11', created_at: now, updated_at: now,
}));

function json(res, code, body) {
	res.writeHead(code, {'Content-Type': 'application/json', 'Content-Security-Policy': CSP});
	res.end(JSON.stringify(body));
}

const TYPES = {'.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html'};
const server = createServer((req, res) => {
	const url = new URL(req.url, 'http://x');
	if (url.pathname === '/api/auth/login')
		return json(res, 200, {access_token: 'bench', token_type: 'Bearer', expires_in: 900,
		    refresh_token: 'bench', refresh_expires_in: 86400,
		    user: {id: 1, username: 'admin', role: 'admin'}});
	if (url.pathname === '/api/servers/stats')
		return json(res, 200, {total: N, by_status: {}, by_power_state: {}, by_cluster: {}, by_manufacturer: {}});
	if (url.pathname === '/api/clusters')
		return json(res, 200, {items: [], total: 0});
	if (url.pathname.startsWith('/api/monitoring') || url.pathname.startsWith('/api/jobs'))
		return json(res, 200, {items: [], total: 0, total_capped: false, next_cursor: null});
	if (url.pathname === '/api/servers') {
		const limit = Number(url.searchParams.get('limit') || 50);
		const from = Number(url.searchParams.get('cursor') || 0);
		const items = fleet.slice(from, from + limit);
		const next = from + limit < N ? String(from + limit) : null;
		return json(res, 200, {items, total: N, total_estimated: false, next_cursor: next});
	}
	let file = url.pathname.startsWith('/assets/') ? url.pathname : '/index.html';
	try {
		const body = readFileSync(join(DIST, file));
		res.writeHead(200, {'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
		    'Content-Security-Policy': CSP});
		res.end(body);
	} catch (e) {
		json(res, 404, {error: {code: 'not_found', message: 'no such file'}});
	}
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const assets = readdirSync(join(DIST, 'assets'));
const js = assets.find((f) => f.endsWith('.js'));
const gz = gzipSync(readFileSync(join(DIST, 'assets', js)), {level: 9}).length;
console.log(`ui js gzipped: ${(gz / 1024).toFixed(1)} KB (budget 60 KB: ${(gz / 60 / 1024 * 100).toFixed(0)}% of it)`);

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const browser = await chromium.launch({executablePath: process.env.OSH_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage']});
try {
	const page = await browser.newPage({viewport: {width: 1280, height: 900}});
	await page.goto(`${base}/login`);
	await page.getByLabel('Username').fill('admin');
	await page.getByLabel('Password').fill('x');
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('heading', {name: 'Dashboard'}).waitFor();

	// From the route change to the first painted frame with rows: the
	// app's own work (parse, fetch of the first page, render).
	const firsts = [];
	let rendered = 0;
	for (let i = 0; i < RUNS; i++) {
		const ms = await page.evaluate(() => new Promise((done) => {
			const t0 = performance.now();
			history.pushState(null, '', '/servers');
			dispatchEvent(new PopStateEvent('popstate'));
			const check = () => {
				if (document.querySelector('.spacer .row a'))
					requestAnimationFrame(() => done(performance.now() - t0));
				else
					requestAnimationFrame(check);
			};
			requestAnimationFrame(check);
		}));
		firsts.push(ms);
		rendered = await page.locator('.spacer .row').count();
		await page.evaluate(() => {
			history.pushState(null, '', '/');
			dispatchEvent(new PopStateEvent('popstate'));
		});
		await page.getByRole('heading', {name: 'Dashboard'}).waitFor();
	}
	console.log(`first render of the list (${N} servers): median ${median(firsts).toFixed(1)} ms, ` +
	    `max ${Math.max(...firsts).toFixed(1)} ms over ${RUNS} runs (budget 300 ms)`);

	// 100 live row updates: 100 servers of the first page change power
	// state; the list reads the rows in view again (every 5 s) and
	// applies the page. Measured: from the answer's last byte to the
	// frame that shows the change (parse, merge, render, paint).
	await page.evaluate(() => {
		history.pushState(null, '', '/servers');
		dispatchEvent(new PopStateEvent('popstate'));
	});
	await page.locator('.spacer .row a').first().waitFor();
	const live = [];
	for (let round = 0; round < 3; round++) {
		for (let i = 0; i < 100; i++)
			fleet[i].power_state = fleet[i].power_state === 'on' ? 'off' : 'on';
		live.push(await page.evaluate(() => new Promise((done) => {
			const t0 = performance.now();
			const cell = () => document.querySelector('.spacer .row[aria-rowindex="2"] .badge.power').textContent;
			const before = cell();
			const check = () => {
				if (cell() === before) {
					requestAnimationFrame(check);
					return;
				}
				requestAnimationFrame(() => {
					const t = performance.now();
					const e = performance.getEntriesByType('resource').filter((x) =>
					    x.name.includes('/api/servers?') && x.startTime >= t0).pop();
					done(t - e.responseEnd);
				});
			};
			requestAnimationFrame(check);
		})));
	}
	console.log(`100 live row updates (the rows in view read again: their page of 100, all changed): median ${median(live).toFixed(1)} ms, ` +
	    `max ${Math.max(...live).toFixed(1)} ms over ${live.length} rounds (budget 50 ms)`);
	await page.evaluate(() => {
		history.pushState(null, '', '/');
		dispatchEvent(new PopStateEvent('popstate'));
	});
	await page.getByRole('heading', {name: 'Dashboard'}).waitFor();

	// Scroll to the end in steps of a screen, one per frame: every page
	// is fetched on the way; frame times say how smooth it is.
	await page.evaluate(() => {
		history.pushState(null, '', '/servers');
		dispatchEvent(new PopStateEvent('popstate'));
	});
	await page.locator('.spacer .row a').first().waitFor();
	const scroll = await page.evaluate((n) => new Promise((done) => {
		const el = document.querySelector('.scroller');
		const frames = [];
		let last = performance.now();
		const t0 = last;
		const tick = () => {
			const t = performance.now();
			frames.push(t - last);
			last = t;
			const loaded = document.querySelector('.summary').textContent;
			if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2 && !/loaded/.test(loaded) &&
			    document.querySelector('.spacer .row:last-child a')) {
				done({ms: t - t0, frames, rows: document.querySelectorAll('.spacer .row').length,
				    height: el.scrollHeight});
				return;
			}
			el.scrollTop += el.clientHeight;
			requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
	}), N);
	const f = scroll.frames.slice(1);
	const p95 = [...f].sort((a, b) => a - b)[Math.floor(f.length * 0.95)];
	console.log(`scroll through all ${N} (a screen a frame, ${1 + Math.ceil(Math.max(0, N - 100) / 500)} pages fetched): ` +
	    `${(scroll.ms / 1000).toFixed(2)} s, ${f.length} frames, median frame ${median(f).toFixed(1)} ms, ` +
	    `p95 ${p95.toFixed(1)} ms, rows in the DOM ${rendered} at the top and ${scroll.rows} at the end`);
} finally {
	await browser.close();
	server.close();
}
