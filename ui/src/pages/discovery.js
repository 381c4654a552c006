// Discovery and import: start a scan (POST /api/discovery/scans) and
// follow its real progress (GET /api/discovery/scans/{id}: probed of
// total, found), import the results chosen (POST .../import); and a CSV
// import that is checked first (POST /api/servers/import?dry_run=true:
// every row's error before anything is written), then imported.
import {useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {post} from '../lib/api.js';
import {navigate} from '../lib/router.js';
import {why} from '../lib/perms.js';
import {current, refresh} from '../lib/session.js';
import {parseCsv, previewRows} from '../lib/csv.js';
import {ErrorBox} from '../components/error.js';
import {useGet, useEvery, Time, Field, bind, StateBadge, TabLinks, download} from '../components/ops.js';

const TABS = [['/discovery', 'Scan the network', 'scan'], ['/discovery?tab=csv', 'Import a CSV file', 'csv']];

function ScanForm() {
	const [f, setF] = useState({range: '', port: '623', user: '', pass: '', workarounds: ''});
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const role = why('discovery:write');
	const set = (k) => (v) => setF({...f, [k]: v});
	async function start(e) {
		e.preventDefault();
		setErr(null);
		setBusy(true);
		const body = {range: f.range.trim()};
		const port = f.port.trim();
		if (port)
			body.port = /^\d+$/.test(port) ? Number(port) : port.includes(',') ? port.split(',').map((p) => Number(p.trim())) : port;
		if (f.user.trim())
			body.credentials = [{username: f.user.trim(), password: f.pass}];
		if (f.workarounds.trim())
			body.workarounds = f.workarounds.split(/[\s,]+/).filter(Boolean);
		try {
			const s = await post('/api/discovery/scans', body);
			setF({...f, pass: ''});
			navigate(`/discovery?scan=${s.id}`);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	const fe = (k) => (err && err.field === k ? err.message : null);
	return html`<form class="panel" onSubmit=${start} aria-labelledby="scan-h" autocomplete="off">
		<h2 id="scan-h">New scan</h2>
		<p class="muted small">Each address and port is asked, without credentials, what IPMI it speaks; the credentials given are then tried on what answered. Nothing else is tried.</p>
		<div class="form-grid">
			<${Field} id="sc-range" label="Addresses" error=${fe('range')} help="CIDR, a-b, or a list"><input required placeholder="10.0.0.0/24" ...${bind('sc-range', f.range, set('range'), fe('range'), 'x')} /><//>
			<${Field} id="sc-port" label="Ports" error=${fe('port')} help="623, 623-625 or 623,9001"><input ...${bind('sc-port', f.port, set('port'), fe('port'), 'x')} /><//>
			<${Field} id="sc-user" label="BMC username (optional)" error=${fe('credentials')}><input ...${bind('sc-user', f.user, set('user'), fe('credentials'))} /><//>
			<${Field} id="sc-pass" label="BMC password"><input type="password" autocomplete="new-password" ...${bind('sc-pass', f.pass, set('pass'))} /><//>
			<${Field} id="sc-wa" label="Workaround flags" error=${fe('workarounds')} help="e.g. opensesspriv"><input ...${bind('sc-wa', f.workarounds, set('workarounds'), fe('workarounds'), 'x')} /><//>
		</div>
		${err && !err.field ? html`<${ErrorBox} error=${err} title="The scan did not start" />` : null}
		${err && err.field ? html`<p class="muted small">Request id: <code>${err.requestId}</code></p>` : null}
		<div class="form-row"><span class="action"><button type="submit" class="primary" disabled=${!!role || busy}
			aria-describedby=${role ? 'why-scan' : undefined}>${busy ? 'Starting…' : 'Start scan'}</button>
			${role ? html`<span class="reason muted small" id="why-scan">${role}</span>` : null}</span></div>
	</form>`;
}

function ScanView({id}) {
	const scan = useGet(`/api/discovery/scans/${id}`);
	const [chosen, setChosen] = useState(null);
	const [prefix, setPrefix] = useState('bmc');
	const [result, setResult] = useState(null);
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const s = scan.data;
	useEvery(s && s.status === 'running' ? 1000 : 0, scan.reload);
	const role = why('servers:write');
	if (!s)
		return html`<${ErrorBox} error=${scan.error} title="The scan could not be read" />${scan.error ? null : html`<p>Loading…</p>`}`;
	const importable = s.results.filter((r) => !r.imported_server_id);
	const sel = chosen || new Set(importable.filter((r) => r.credentials_ok).map((r) => r.id));
	const toggle = (rid) => {
		const n = new Set(sel);
		if (n.has(rid))
			n.delete(rid);
		else
			n.add(rid);
		setChosen(n);
	};
	async function doImport() {
		setBusy(true);
		setErr(null);
		try {
			const r = await post(`/api/discovery/scans/${id}/import?name_prefix=${encodeURIComponent(prefix)}`, {results: [...sel]});
			setResult(r);
			setChosen(new Set());
			scan.reload();
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(false);
		}
	}
	const pct = s.total ? Math.round((s.probed * 100) / s.total) : 0;
	return html`<section class="panel" aria-labelledby="scanv-h">
		<div class="section-head"><h2 id="scanv-h">Scan ${s.id}</h2><${StateBadge} value=${s.status} /></div>
		<div class="progress" role="progressbar" aria-label="Scan progress" aria-valuemin="0" aria-valuemax=${s.total} aria-valuenow=${s.probed}
			aria-valuetext=${`${s.probed} of ${s.total} addresses probed, ${s.found} found`}><span class="p-ok" style=${{width: `${pct}%`}}></span></div>
		<p role="status">${s.probed} of ${s.total} addresses probed (${pct}%), ${s.found} BMC${s.found === 1 ? '' : 's'} found${s.status === 'running' ? '…' : '.'}
			<span class="muted small"> Started <${Time} ts=${s.created_at} /> by ${s.created_by}${s.finished_at ? html`, finished <${Time} ts=${s.finished_at} />` : null}.</span></p>
		${s.results.length ? html`<div class="table-wrap"><table class="table"><caption class="sr-only">What the scan found</caption>
			<thead><tr><th scope="col">Import</th><th scope="col">BMC address</th><th scope="col">IPMI</th><th scope="col">Credentials</th>
				<th scope="col">Model</th><th scope="col">Serial</th><th scope="col">Server</th></tr></thead>
			<tbody>${s.results.map((r) => html`<tr key=${r.id} class=${sel.has(r.id) ? 'sel-row' : ''}>
				<td>${r.imported_server_id ? '—' : html`<input type="checkbox" checked=${sel.has(r.id)} onChange=${() => toggle(r.id)} aria-label=${`Import ${r.bmc_address}`} />`}</td>
				<td class="mono">${r.bmc_address}</td><td>${r.ipmi_versions.join(', ')}</td>
				<td>${r.credentials_ok ? html`<${StateBadge} value="valid" />` : html`<span class="badge warn"><span class="icon" aria-hidden="true">⚿</span> ${r.error || 'not opened'}</span>`}</td>
				<td>${[r.manufacturer, r.product].filter(Boolean).join(' ') || '—'}</td><td>${r.serial || '—'}</td>
				<td>${r.imported_server_id ? html`<a href=${`/servers/${r.imported_server_id}`}>server ${r.imported_server_id}</a>` : '—'}</td></tr>`)}</tbody></table></div>
			<div class="form-row">
				<${Field} id="imp-prefix" label="Name prefix"><input maxlength="32" ...${bind('imp-prefix', prefix, setPrefix)} /><//>
				<span class="action"><button type="button" class="primary" disabled=${!!role || busy || sel.size === 0 || s.status === 'running'}
					aria-describedby=${role ? 'why-imp' : undefined} onClick=${doImport}>${busy ? 'Importing…' : `Import ${sel.size} selected`}</button>
					${role ? html`<span class="reason muted small" id="why-imp">${role}</span>` : null}</span>
			</div>` : s.status !== 'running' ? html`<p class="empty">No BMC answered.</p>` : null}
		<${ErrorBox} error=${err} title="Import failed" />
		${result ? html`<${ImportResult} result=${result} />` : null}
	</section>`;
}

function ImportResult({result, rows}) {
	return html`<div class=${result.failed ? 'note' : 'ok-box'} role="status">
		<strong>${result.dry_run ? `${result.valid} row${result.valid === 1 ? '' : 's'} valid, ${result.failed} with errors. Nothing was written.` :
		    `${result.created} server${result.created === 1 ? '' : 's'} created, ${result.failed} failed.`}</strong>
		${!rows && result.failed ? html`<ul>${result.rows.filter((r) => r.status === 'error').map((r) => html`<li>Row ${r.row + 1}: ${r.error.message}</li>`)}</ul>` : null}
	</div>`;
}

// The CSV is sent as it is (text/csv); its rows are parsed here only to
// show each one's name and address beside the API's verdict.
async function sendCsv(text, dryRun) {
	const go = () => fetch(`/api/servers/import${dryRun ? '?dry_run=true' : ''}`, {method: 'POST',
	    credentials: 'same-origin', body: text, headers: {'Content-Type': 'text/csv',
		Accept: 'application/json', Authorization: `Bearer ${current().token}`}});
	let r = await go();
	if (r.status === 401 && await refresh())
		r = await go();
	const data = await r.json().catch(() => null);
	if (!r.ok) {
		const e = new Error((data && data.error && data.error.message) || `HTTP ${r.status}`);
		Object.assign(e, {status: r.status, code: data && data.error ? data.error.code : 'http_error',
		    field: data && data.error ? data.error.field : null,
		    requestId: (data && data.error && data.error.request_id) || r.headers.get('X-Request-Id')});
		throw e;
	}
	return data;
}

function CsvImport() {
	const [text, setText] = useState('');
	const [name, setName] = useState('');
	const [preview, setPreview] = useState(null);
	const [done, setDone] = useState(null);
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(null);
	const role = why('servers:write');
	async function check() {
		setBusy('check');
		setErr(null);
		setDone(null);
		try {
			setPreview({result: await sendCsv(text, true), rows: previewRows(parseCsv(text), null)});
		} catch (ex) {
			setErr(ex);
			setPreview(null);
		} finally {
			setBusy(null);
		}
	}
	async function commit() {
		setBusy('import');
		setErr(null);
		try {
			setDone(await sendCsv(text, false));
			setPreview(null);
		} catch (ex) {
			setErr(ex);
		} finally {
			setBusy(null);
		}
	}
	const onFile = (e) => {
		const file = e.currentTarget.files[0];
		if (!file)
			return;
		setName(file.name);
		file.text().then((t) => { setText(t); setPreview(null); setDone(null); });
	};
	const rows = preview ? previewRows(parseCsv(text), preview.result.rows) : [];
	return html`<section class="panel" aria-labelledby="csv-h">
		<h2 id="csv-h">Import servers from CSV</h2>
		<p class="muted small">Columns as in the <button type="button" class="linkish link" onClick=${() => download('/api/servers/import/template.csv', 'servers-template.csv', setErr)}>template</button> (name, bmc_address, username, password, labels as <code>k=v;k=v</code>, …). At most 5000 rows. Every row is checked first and its errors shown; nothing is written until you import.</p>
		<div class="form-row">
			<${Field} id="csv-file" label="CSV file"><input id="csv-file" type="file" accept=".csv,text/csv" onChange=${onFile} /><//>
			${name ? html`<span class="muted">${name}: ${Math.max(0, parseCsv(text).length - 1)} rows</span>` : null}
		</div>
		<${Field} id="csv-text" label="or paste the CSV"><textarea rows="6" spellcheck="false" class="mono" ...${bind('csv-text', text, (v) => { setText(v); setPreview(null); })}></textarea><//>
		<div class="form-row"><span class="action"><button type="button" class="primary" disabled=${!!role || !text.trim() || !!busy}
			aria-describedby=${role ? 'why-csv' : undefined} onClick=${check}>${busy === 'check' ? 'Checking…' : 'Check rows'}</button>
			${role ? html`<span class="reason muted small" id="why-csv">${role}</span>` : null}</span></div>
		<${ErrorBox} error=${err} title="The file was refused" />
		${preview ? html`<${ImportResult} result=${preview.result} rows />
			<div class="table-wrap scrollbox"><table class="table"><caption class="sr-only">Rows checked</caption>
				<thead><tr><th scope="col">Line</th><th scope="col">Name</th><th scope="col">BMC address</th><th scope="col">Check</th><th scope="col">Error</th></tr></thead>
				<tbody>${rows.map((r) => html`<tr key=${r.line}><td class="num">${r.line}</td><td>${r.name}</td><td class="mono">${r.bmc_address}</td>
					<td><${StateBadge} value=${r.result ? r.result.status : 'unknown'} /></td>
					<td class="wrap">${r.result && r.result.error ? html`${r.result.error.field ? html`<code>${r.result.error.field}</code>: ` : null}${r.result.error.message}` : ''}</td></tr>`)}</tbody></table></div>
			<div class="form-row"><button type="button" class="primary" disabled=${!!busy || preview.result.valid === 0} onClick=${commit}>
				${busy === 'import' ? 'Importing…' : `Import the ${preview.result.valid} valid row${preview.result.valid === 1 ? '' : 's'}`}</button>
				<button type="button" onClick=${() => setPreview(null)}>Discard</button></div>` : null}
		${done ? html`<${ImportResult} result=${done} /><p><a href="/servers">Servers</a></p>` : null}
	</section>`;
}

export function Discovery({search}) {
	const q = new URLSearchParams(search || '');
	const tab = q.get('tab') === 'csv' ? 'csv' : 'scan';
	const scan = q.get('scan');
	return html`<main id="main" class="page">
		<h1>Discovery and import</h1>
		<${TabLinks} tabs=${TABS} current=${tab} label="Ways to add servers" />
		${tab === 'csv' ? html`<${CsvImport} />` : html`${scan && /^\d+$/.test(scan) ? html`<${ScanView} key=${scan} id=${scan} />` : null}<${ScanForm} />`}
	</main>`;
}
