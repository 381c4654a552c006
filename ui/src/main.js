// The app shell: session check, navigation, and the page for the path.
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';
import {html} from './lib/html.js';
import {current, subscribe, restore, logout} from './lib/session.js';
import {useLocation, navigate, onLink, match} from './lib/router.js';
import {can} from './lib/perms.js';
import {Login} from './pages/login.js';
import {Dashboard} from './pages/dashboard.js';
import {Servers} from './pages/servers.js';
import {Server} from './pages/server.js';
import {Clusters, Cluster} from './pages/clusters.js';
import {Jobs, Job} from './pages/jobs.js';
import {Alerts} from './pages/alerts.js';
import {Discovery} from './pages/discovery.js';
import {Admin, Profile} from './pages/admin.js';
import './styles.css';

function NotFound({path}) {
	return html`<main id="main" class="page"><h1>No such page</h1>
		<p><code>${path}</code> is not a page of OpenServerHub.</p>
		<p><a href="/">Dashboard</a></p></main>`;
}

const ROUTES = [
	{pattern: /^\/$/, page: Dashboard, title: 'Dashboard'},
	{pattern: /^\/servers$/, page: Servers, title: 'Servers'},
	{pattern: /^\/servers\/(\d+)$/, page: Server, title: 'Server'},
	{pattern: /^\/clusters$/, page: Clusters, title: 'Clusters'},
	{pattern: /^\/clusters\/(\d+)$/, page: Cluster, title: 'Cluster'},
	{pattern: /^\/jobs$/, page: Jobs, title: 'Jobs'},
	{pattern: /^\/jobs\/(\d+)$/, page: Job, title: 'Job'},
	{pattern: /^\/alerts$/, page: Alerts, title: 'Alerts'},
	{pattern: /^\/discovery$/, page: Discovery, title: 'Discovery and import'},
	{pattern: /^\/admin$/, page: Admin, title: 'Admin'},
	{pattern: /^\/profile$/, page: Profile, title: 'Profile'},
];

const NAV = [
	['/', 'Dashboard'],
	['/servers', 'Servers'],
	['/clusters', 'Clusters'],
	['/jobs', 'Jobs'],
	['/alerts', 'Alerts'],
	['/discovery', 'Discovery'],
	['/admin', 'Admin', 'users:read'],
];

function Shell({loc, children}) {
	const user = current().user;
	const here = (href) => (href === '/' ? loc.path === '/' : loc.path.startsWith(href));
	return html`<div class="shell">
		<a class="skip" href="#main">Skip to content</a>
		<header class="top">
			<a class="brand" href="/">OpenServerHub</a>
			<nav aria-label="Main"><ul>${NAV.filter((n) => !n[2] || can(n[2])).map(([href, label]) => html`<li>
				<a href=${href} aria-current=${here(href) ? 'page' : undefined}>${label}</a></li>`)}</ul></nav>
			<div class="who">
				<a class="muted" href="/profile" aria-current=${loc.path === '/profile' ? 'page' : undefined}>${user.username} (${user.role})</a>
				<button type="button" onClick=${async () => { await logout(); navigate('/login', true); }}>Sign out</button>
			</div>
		</header>
		${children}
	</div>`;
}

function App() {
	const loc = useLocation();
	const [, setTick] = useState(0);
	const [ready, setReady] = useState(false);
	useEffect(() => {
		const off = subscribe(() => setTick((t) => t + 1));
		restore().finally(() => setReady(true));
		return off;
	}, []);
	useEffect(() => {
		document.addEventListener('click', onLink);
		return () => document.removeEventListener('click', onLink);
	}, []);

	const signedIn = !!current().token;
	useEffect(() => {
		if (!ready)
			return;
		if (!signedIn && loc.path !== '/login')
			navigate(`/login?${new URLSearchParams({next: loc.path + loc.search})}`, true);
	}, [ready, signedIn, loc.path, loc.search]);
	useEffect(() => {
		const m = match(ROUTES, loc.path);
		const title = loc.path === '/login' ? 'Sign in' : m ? m.title : 'Not found';
		document.title = `${title} · OpenServerHub`;
	}, [loc.path]);

	if (!ready)
		return html`<p class="page">Loading…</p>`;
	if (loc.path === '/login')
		return html`<${Login} search=${loc.search} />`;
	if (!signedIn)
		return null;
	const m = match(ROUTES, loc.path);
	const Page = m ? m.page : NotFound;
	return html`<${Shell} loc=${loc}>
		<${Page} params=${m ? m.params : []} search=${loc.search} path=${loc.path} key=${loc.path} />
	</${Shell}>`;
}

render(html`<${App} />`, document.getElementById('app'));
