// A server's credentials (write-only: never read back, the password
// field emptied once sent) with a connection test (a poll now, POST
// /api/servers/{id}/refresh, whose status says whether the BMC
// answered), and its history: the audit entries about it (GET
// /api/audit?target=server:{id}, admin) and its alerts (GET
// /api/monitoring/alerts?server_id=).
import {useEffect, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get, api} from '../lib/api.js';
import {why} from '../lib/perms.js';
import {ErrorBox} from '../components/error.js';
import {ActionButton} from '../components/action.js';
import {StatusBadge} from '../components/state.js';

export function Credentials({s, setServer}) {
	const [user, setUser] = useState('');
	const [pw, setPw] = useState('');
	const [st, setSt] = useState({busy: null, error: null, ok: null});
	const writeWhy = why('servers:write');

	async function test() {
		setSt({busy: 'test', error: null, ok: null});
		try {
			const x = await api('POST', `/api/servers/${s.id}/refresh`);
			setServer(x);
			setSt({busy: null, error: null, test: x});
		} catch (error) {
			setSt({busy: null, error, ok: null});
		}
	}

	async function save(e) {
		e.preventDefault();
		setSt({busy: 'save', error: null, ok: null});
		try {
			const x = await api('PUT', `/api/servers/${s.id}/credentials`, {username: user, password: pw});
			setPw('');
			setServer(x);
			setSt({busy: null, error: null, ok: 'Credentials stored (sealed; they are never shown again). Testing the connection…'});
			await test();
		} catch (error) {
			setPw('');
			setSt({busy: null, error, ok: null});
		}
	}

	const t = st.test;
	return html`<section aria-labelledby="cred-h">
		<h2 id="cred-h">BMC credentials</h2>
		<p>${s.has_credentials ? 'Credentials are stored. They are write-only: no page or API shows them; enter new ones to replace them.' :
		    'No credentials are stored: the server cannot be polled or powered.'}</p>
		<form class="cred" onSubmit=${save} autocomplete="off">
			<label for="bmc-user">Username</label>
			<input id="bmc-user" maxlength="16" required value=${user} onInput=${(e) => setUser(e.target.value)}
				disabled=${!!writeWhy} autocomplete="off" />
			<label for="bmc-pw">Password</label>
			<input id="bmc-pw" type="password" maxlength="20" value=${pw} onInput=${(e) => setPw(e.target.value)}
				disabled=${!!writeWhy} autocomplete="new-password" />
			<div class="actions">
				<span class="action"><button type="submit" class="primary" disabled=${!!writeWhy || !!st.busy}
					aria-describedby=${writeWhy ? 'why-cred' : undefined}>${st.busy === 'save' ? 'Storing…' : 'Store and test'}</button>
					${writeWhy ? html`<span class="reason muted small" id="why-cred">${writeWhy}</span>` : null}</span>
				<${ActionButton} id="cred-test" label="Test the connection" reason=${s.has_credentials ? null : 'no BMC credentials stored'}
					busy=${st.busy === 'test'} onClick=${test} />
			</div>
		</form>
		${st.ok ? html`<p class="ok-note" role="status">${st.ok}</p>` : null}
		${t ? html`<p role="status">Connection test: <${StatusBadge} value=${t.status} />
			${t.status === 'online' ? ' the BMC answered.' : html` <span>${t.last_error || 'the BMC did not answer.'}</span>`}</p>` : null}
		<${ErrorBox} error=${st.error} title="Credentials" />
	</section>`;
}

function useList(path, skip) {
	const [st, setSt] = useState({items: null, total: 0, error: null});
	useEffect(() => {
		if (skip)
			return;
		get(path).then((r) => setSt({items: r.items, total: r.total, error: null}),
		    (error) => setSt({items: null, total: 0, error}));
	}, [path, skip]);
	return st;
}

export function History({s}) {
	const auditWhy = why('audit:read');
	const audit = useList(`/api/audit?target=${encodeURIComponent(`server:${s.id}`)}&limit=50`, !!auditWhy);
	const alerts = useList(`/api/monitoring/alerts?server_id=${s.id}&limit=50`, false);
	return html`<section aria-labelledby="hist-h">
		<h2 id="hist-h">Alerts</h2>
		<${ErrorBox} error=${alerts.error} title="Alerts could not be read" />
		${alerts.items ? (alerts.items.length ? html`<div class="table-wrap"><table class="table">
			<caption class="sr-only">This server's alerts, newest first</caption>
			<thead><tr><th scope="col">State</th><th scope="col">Severity</th><th scope="col">Alert</th>
				<th scope="col">Started</th><th scope="col">Ended</th></tr></thead>
			<tbody>${alerts.items.map((a) => html`<tr key=${a.id}>
				<td>${a.state === 'firing' ? '✖ firing' : a.state === 'resolved' ? '✔ resolved' : a.state}${a.acknowledged ? ' (acknowledged)' : ''}</td>
				<td>${a.severity}</td><td><strong>${a.alertname}</strong>${a.summary ? html`<div class="small muted">${a.summary}</div>` : null}</td>
				<td class="mono small">${a.starts_at}</td><td class="mono small">${a.ends_at || '—'}</td></tr>`)}</tbody>
		</table></div>` : html`<p class="muted">No alert about this server.</p>`) : null}
		<h2 id="audit-h">Audit</h2>
		${auditWhy ? html`<p class="muted">The audit log ${auditWhy}.</p>` : null}
		<${ErrorBox} error=${audit.error} title="Audit entries could not be read" />
		${audit.items ? (audit.items.length ? html`<div class="table-wrap"><table class="table">
			<caption class="sr-only">Audit entries about this server, newest first</caption>
			<thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th>
				<th scope="col">Result</th><th scope="col">Request id</th></tr></thead>
			<tbody>${audit.items.map((a) => html`<tr key=${a.id}>
				<td class="mono small">${a.ts}</td><td>${a.actor}</td><td>${a.action}</td><td>${a.result}</td>
				<td class="mono small">${a.request_id}</td></tr>`)}</tbody>
		</table></div>` : html`<p class="muted">No audit entry names this server.</p>`) : null}
	</section>`;
}
