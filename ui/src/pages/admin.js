// Admin: users and roles (GET/POST /api/users, PATCH /api/users/{id}:
// role, active) and the audit log with filters and CSV export (GET
// /api/audit, /api/audit/export.csv). Profile: everyone's own name,
// email and password (GET/PATCH /api/auth/profile, POST
// /api/auth/password).
import {useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {api, post} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why, who} from '../lib/perms.js';
import {changePassword} from '../lib/session.js';
import {ErrorBox} from '../components/error.js';
import {ActionButton} from '../components/action.js';
import {Confirm} from '../components/confirm.js';
import {useGet, Time, Field, bind, TabLinks, StateBadge, download} from '../components/ops.js';

const ROLES = ['viewer', 'operator', 'admin'];
const TABS = [['/admin', 'Users', 'users'], ['/admin?tab=audit', 'Audit log', 'audit']];
const AFILTERS = ['actor', 'action', 'target', 'result', 'service', 'request_id', 'since', 'until'];

function NewUser({onDone}) {
	const [f, setF] = useState({username: '', display_name: '', email: '', role: 'viewer', password: ''});
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const set = (k) => (v) => setF({...f, [k]: v});
	const fe = (k) => (err && err.field === k ? err.message : null);
	async function submit(e) {
		e.preventDefault();
		setBusy(true);
		setErr(null);
		const body = {username: f.username.trim(), role: f.role, password: f.password};
		if (f.display_name.trim())
			body.display_name = f.display_name.trim();
		if (f.email.trim())
			body.email = f.email.trim();
		try {
			const u = await post('/api/users', body);
			setF({username: '', display_name: '', email: '', role: 'viewer', password: ''});
			onDone(`User ${u.username} created (${u.role}).`);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	return html`<form class="panel" onSubmit=${submit} aria-labelledby="nu-h" autocomplete="off">
		<h2 id="nu-h">New user</h2>
		<div class="form-grid">
			<${Field} id="nu-name" label="Username" error=${fe('username')}><input required maxlength="64" ...${bind('nu-name', f.username, set('username'), fe('username'))} /><//>
			<${Field} id="nu-display" label="Display name" error=${fe('display_name')}><input maxlength="128" ...${bind('nu-display', f.display_name, set('display_name'), fe('display_name'))} /><//>
			<${Field} id="nu-email" label="Email" error=${fe('email')}><input type="email" ...${bind('nu-email', f.email, set('email'), fe('email'))} /><//>
			<${Field} id="nu-role" label="Role"><select id="nu-role" value=${f.role} onChange=${(e) => set('role')(e.currentTarget.value)}>
				${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select><//>
			<${Field} id="nu-pass" label="Initial password" error=${fe('password')} help="at least 10 characters"><input type="password" autocomplete="new-password" required minlength="10" ...${bind('nu-pass', f.password, set('password'), fe('password'), 'x')} /><//>
		</div>
		${err && !err.field ? html`<${ErrorBox} error=${err} title="The user was not created" />` : null}
		${err && err.field ? html`<p class="muted small">Request id: <code>${err.requestId}</code></p>` : null}
		<div class="form-row"><button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create user'}</button></div>
	</form>`;
}

function Users() {
	const list = useGet('/api/users?limit=500&sort=username');
	const [note, setNote] = useState(null);
	const [err, setErr] = useState(null);
	const [ask, setAsk] = useState(null);
	const me = who();
	async function patch(u, body, text) {
		setErr(null);
		setAsk(null);
		try {
			const n = await api('PATCH', `/api/users/${u.id}`, body);
			setNote(text(n));
			list.reload();
		} catch (ex) {
			setErr(ex);
		}
	}
	const items = list.data ? list.data.items : [];
	return html`<section aria-labelledby="users-h">
		<h2 id="users-h">Users</h2>
		${note ? html`<p class="ok-note" role="status">${note}</p>` : null}
		<${ErrorBox} error=${list.error || err} title="Request failed" />
		${list.data ? html`<div class="table-wrap"><table class="table"><caption class="sr-only">Users</caption>
			<thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Last login</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
			<tbody>${items.map((u) => {
				const self = me && me.id === u.id;
				return html`<tr key=${u.id} data-user=${u.username} data-id=${u.id}>
					<td><strong>${u.username}</strong>${u.display_name ? html`<br /><span class="small">${u.display_name}</span>` : null}${u.email ? html`<br /><span class="small muted">${u.email}</span>` : null}</td>
					<td><label class="sr-only" for=${`role-${u.id}`}>Role of ${u.username}</label>
						<select id=${`role-${u.id}`} value=${u.role} disabled=${self} aria-describedby=${self ? `self-${u.id}` : undefined}
							onChange=${(e) => { const role = e.currentTarget.value; setAsk({u, body: {role}, title: `Make ${u.username} ${role}?`, label: `Make ${role}`,
							    text: `${u.username} becomes ${role}; their sessions end and they sign in again.`}); e.currentTarget.value = u.role; }}>
							${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>
						${self ? html`<span class="reason muted small" id=${`self-${u.id}`}> not your own role</span>` : null}</td>
					<td>${u.active ? html`<${StateBadge} value="active" />` : html`<span class="badge unk"><span aria-hidden="true" class="icon">⊘</span> disabled</span>`}</td>
					<td><${Time} ts=${u.last_login_at} /></td>
					<td><${Time} ts=${u.created_at} /></td>
					<td><${ActionButton} id=${`act-${u.id}`} label=${u.active ? 'Disable' : 'Enable'} danger=${u.active}
						reason=${self ? 'not your own account' : null}
						onClick=${() => setAsk({u, body: {active: !u.active}, title: `${u.active ? 'Disable' : 'Enable'} ${u.username}?`,
						    label: u.active ? 'Disable' : 'Enable',
						    text: u.active ? `${u.username} can no longer sign in; their sessions end now.` : `${u.username} can sign in again.`})} /></td>
				</tr>`;
			})}</tbody></table></div>` : list.error ? null : html`<p>Loading…</p>`}
		<${NewUser} onDone=${(t) => { setNote(t); list.reload(); }} />
		<${Confirm} open=${!!ask} title=${ask ? ask.title : ''} body=${ask ? ask.text : ''} confirmLabel=${ask ? ask.label : ''}
			onConfirm=${() => patch(ask.u, ask.body, (n) => `${n.username}: ${n.role}, ${n.active ? 'active' : 'disabled'}.`)} onCancel=${() => setAsk(null)} />
	</section>`;
}

function Audit({search}) {
	const q = new URLSearchParams(search || '');
	const f = Object.fromEntries(AFILTERS.map((k) => [k, q.get(k) || '']));
	const offset = Math.max(0, Number(q.get('offset')) || 0);
	const [form, setForm] = useState(f);
	const [err, setErr] = useState(null);
	const filt = new URLSearchParams();
	for (const k of AFILTERS)
		if (f[k])
			filt.set(k, k === 'since' || k === 'until' ? new Date(f[k]).toISOString() : f[k]);
	const list = useGet(`/api/audit?${filt}&limit=100&offset=${offset}`);
	const go = (next, off) => {
		const p = new URLSearchParams({tab: 'audit'});
		for (const k of AFILTERS)
			if (next[k])
				p.set(k, next[k]);
		if (off)
			p.set('offset', String(off));
		navigate(`/admin?${p}`);
	};
	const set = (k) => (e) => setForm({...form, [k]: e.currentTarget.value});
	const text = (k, label, type) => html`<${Field} id=${`au-${k}`} label=${label}><input id=${`au-${k}`} type=${type || 'text'} value=${form[k]} onInput=${set(k)} /><//>`;
	const total = list.data ? list.data.total : 0;
	return html`<section aria-labelledby="audit-h">
		<h2 id="audit-h">Audit log</h2>
		<form class="filters" role="search" aria-label="Filter the audit log" onSubmit=${(e) => { e.preventDefault(); go(form, 0); }}>
			${text('actor', 'Who')}${text('action', 'Action')}${text('target', 'Target')}
			<${Field} id="au-result" label="Result"><select id="au-result" value=${form.result} onChange=${set('result')}>
				<option value="">any</option><option value="success">success</option><option value="failure">failure</option></select><//>
			${text('service', 'Service')}${text('request_id', 'Request id')}
			${text('since', 'Since', 'datetime-local')}${text('until', 'Until', 'datetime-local')}
			<button type="submit" class="primary">Filter</button>
			<button type="button" onClick=${() => download(`/api/audit/export.csv${filt.toString() ? `?${filt}` : ''}`, 'audit.csv', setErr)}>Export CSV</button>
		</form>
		<${ErrorBox} error=${list.error || err} title="Request failed" />
		${list.data ? html`<p class="summary" role="status">${total} entr${total === 1 ? 'y' : 'ies'}</p>
			<div class="table-wrap"><table class="table"><caption class="sr-only">Audit entries</caption>
			<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Client</th><th scope="col">Request id</th></tr></thead>
			<tbody>${list.data.items.map((a) => html`<tr key=${a.id}>
				<td><${Time} ts=${a.ts} /></td><td>${a.actor}</td><td><code>${a.action}</code></td><td>${a.target}</td>
				<td>${a.result === 'success' ? html`<${StateBadge} value="succeeded" />` : html`<${StateBadge} value="failed" />`}</td>
				<td class="mono">${a.client}</td><td class="mono small">${a.request_id}</td></tr>`)}</tbody></table></div>
			<div class="pager">
				<button type="button" disabled=${offset === 0} onClick=${() => go(f, Math.max(0, offset - 100))}>Newer</button>
				<span class="muted">${total ? `${offset + 1}–${Math.min(total, offset + 100)} of ${total}` : ''}</span>
				<button type="button" disabled=${offset + 100 >= total} onClick=${() => go(f, offset + 100)}>Older</button>
			</div>` : list.error ? null : html`<p>Loading…</p>`}
	</section>`;
}

export function Admin({search}) {
	const tab = new URLSearchParams(search || '').get('tab') === 'audit' ? 'audit' : 'users';
	const role = why('users:write');
	if (role)
		return html`<main id="main" class="page"><h1>Admin</h1>
			<p class="note" role="status">User administration and the audit log ${role}. Your own profile and password: <a href="/profile">Profile</a>.</p></main>`;
	return html`<main id="main" class="page">
		<h1>Admin</h1>
		<${TabLinks} tabs=${TABS} current=${tab} label="Admin views" />
		${tab === 'audit' ? html`<${Audit} search=${search} />` : html`<${Users} />`}
	</main>`;
}

export function Profile() {
	const prof = useGet('/api/auth/profile');
	const [f, setF] = useState(null);
	const [pw, setPw] = useState({current: '', next: '', again: ''});
	const [note, setNote] = useState(null);
	const [err, setErr] = useState(null);
	const [pwErr, setPwErr] = useState(null);
	const [pwNote, setPwNote] = useState(null);
	const [busy, setBusy] = useState(null);
	const p = prof.data;
	const form = f || (p ? {display_name: p.display_name || '', email: p.email || ''} : null);
	async function save(e) {
		e.preventDefault();
		setBusy('profile');
		setErr(null);
		setNote(null);
		try {
			prof.set(await api('PATCH', '/api/auth/profile', form));
			setNote('Profile saved.');
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(null);
		}
	}
	async function password(e) {
		e.preventDefault();
		setPwErr(null);
		setPwNote(null);
		if (pw.next !== pw.again) {
			setPwErr({field: 'again', message: 'the two new passwords differ'});
			return;
		}
		setBusy('password');
		const r = await changePassword(pw.current, pw.next);
		setBusy(null);
		if (!r.ok) {
			setPwErr({...r.error, requestId: r.error.request_id || r.requestId, status: r.status});
			return;
		}
		setPw({current: '', next: '', again: ''});
		setPwNote('Password changed. Your other sessions have ended; this one goes on.');
	}
	const fe = (k) => (err && err.field === k ? err.message : null);
	const pe = (k) => (pwErr && pwErr.field === k ? pwErr.message : null);
	return html`<main id="main" class="page">
		<h1>Profile</h1>
		<${ErrorBox} error=${prof.error} title="The profile could not be read" />
		${p ? html`<dl class="kv panel">
			<dt>Username</dt><dd>${p.username}</dd><dt>Role</dt><dd>${p.role}</dd>
			<dt>Last login</dt><dd><${Time} ts=${p.last_login_at} /></dd>
			<dt>Password changed</dt><dd><${Time} ts=${p.password_changed_at} /></dd></dl>
		<form class="panel" onSubmit=${save} aria-labelledby="pf-h">
			<h2 id="pf-h">Name and email</h2>
			<div class="form-grid">
				<${Field} id="pf-name" label="Display name" error=${fe('display_name')}><input maxlength="128" ...${bind('pf-name', form.display_name, (v) => setF({...form, display_name: v}), fe('display_name'))} /><//>
				<${Field} id="pf-email" label="Email" error=${fe('email')}><input type="email" ...${bind('pf-email', form.email, (v) => setF({...form, email: v}), fe('email'))} /><//>
			</div>
			${note ? html`<p class="ok-note" role="status">${note}</p>` : null}
			${err && !err.field ? html`<${ErrorBox} error=${err} title="Not saved" />` : null}
			<div class="form-row"><button type="submit" class="primary" disabled=${busy === 'profile'}>Save</button></div>
		</form>` : prof.error ? null : html`<p>Loading…</p>`}
		<form class="panel" onSubmit=${password} aria-labelledby="pw-h">
			<h2 id="pw-h">Change password</h2>
			<input type="text" autocomplete="username" value=${p ? p.username : ''} hidden readonly />
			<div class="form-grid">
				<${Field} id="pw-cur" label="Current password" error=${pe('current_password')}><input type="password" autocomplete="current-password" required ...${bind('pw-cur', pw.current, (v) => setPw({...pw, current: v}), pe('current_password'))} /><//>
				<${Field} id="pw-new" label="New password" error=${pe('new_password')} help="at least 10 characters"><input type="password" autocomplete="new-password" required minlength="10" ...${bind('pw-new', pw.next, (v) => setPw({...pw, next: v}), pe('new_password'), 'x')} /><//>
				<${Field} id="pw-again" label="New password again" error=${pe('again')}><input type="password" autocomplete="new-password" required ...${bind('pw-again', pw.again, (v) => setPw({...pw, again: v}), pe('again'))} /><//>
			</div>
			${pwNote ? html`<p class="ok-note" role="status">${pwNote}</p>` : null}
			${pwErr && !pwErr.field ? html`<${ErrorBox} error=${pwErr} title="Password not changed" />` : null}
			${pwErr && pwErr.field && pwErr.requestId ? html`<p class="muted small">Request id: <code>${pwErr.requestId}</code></p>` : null}
			<div class="form-row"><button type="submit" class="primary" disabled=${busy === 'password'}>${busy === 'password' ? 'Changing…' : 'Change password'}</button></div>
		</form>
	</main>`;
}
