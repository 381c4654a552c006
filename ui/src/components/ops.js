// Small pieces the operations pages share (clusters, jobs, alerts,
// discovery, admin, profile): loading an API answer, form fields with
// their error, times, a modal dialog, a live-stream indicator.
import {useCallback, useEffect, useRef, useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {get} from '../lib/api.js';
import {current, refresh} from '../lib/session.js';
import '../ops.css';

// Loads GET path (null: nothing); {data, error, loading, reload, set}.
export function useGet(path, deps) {
	const [st, setSt] = useState({data: null, error: null, loading: !!path});
	const gen = useRef(0);
	const reload = useCallback(() => {
		if (!path)
			return Promise.resolve();
		const my = ++gen.current;
		setSt((s) => ({...s, loading: true}));
		return get(path).then((data) => {
			if (my === gen.current)
				setSt({data, error: null, loading: false});
		}, (error) => {
			if (my === gen.current)
				setSt((s) => ({...s, error, loading: false}));
		});
	}, [path]);
	useEffect(() => {
		reload();
	}, deps || [path]);
	return {...st, reload, set: (data) => setSt((s) => ({...s, data}))};
}

// Calls fn every ms while the page is visible; stops on unmount.
export function useEvery(ms, fn) {
	const ref = useRef(fn);
	ref.current = fn;
	useEffect(() => {
		if (!ms)
			return undefined;
		const t = setInterval(() => {
			if (!document.hidden)
				ref.current();
		}, ms);
		return () => clearInterval(t);
	}, [ms]);
}

// "2026-12-02 01:52:57" in the browser's zone; the exact UTC time in
// the title.
export function Time({ts}) {
	if (!ts)
		return html`<span class="muted">—</span>`;
	const d = new Date(ts);
	const p = (n) => String(n).padStart(2, '0');
	const text = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
	return html`<time datetime=${ts} title=${ts}>${text}</time>`;
}

export function duration(ms) {
	if (ms === null || ms === undefined)
		return '—';
	if (ms < 1000)
		return `${ms} ms`;
	const s = Math.round(ms / 1000);
	return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

// A labelled control with its error (role alert) and help text.
export function Field({id, label, error, help, children}) {
	return html`<div class=${`field${error ? ' invalid' : ''}`}>
		<label for=${id}>${label}</label>
		${children}
		${help ? html`<span class="muted small" id=${`${id}-help`}>${help}</span>` : null}
		${error ? html`<span class="field-error" id=${`${id}-err`} role="alert">${error}</span>` : null}
	</div>`;
}

// Props for the input of a Field: id, value, onInput, aria links.
export function bind(id, value, set, error, help) {
	const by = [help ? `${id}-help` : '', error ? `${id}-err` : ''].join(' ').trim();
	return {id, value, onInput: (e) => set(e.currentTarget.value),
	    'aria-invalid': error ? 'true' : undefined,
	    'aria-describedby': by || undefined};
}

// A modal dialog (native <dialog>: focus kept inside, Escape closes).
export function Modal({open, title, id, onClose, children, wide}) {
	const ref = useRef(null);
	useEffect(() => {
		const d = ref.current;
		if (d && open && !d.open)
			d.showModal();
		else if (d && !open && d.open)
			d.close();
	}, [open]);
	return html`<dialog ref=${ref} class=${`confirm${wide ? ' preview' : ''}`} aria-labelledby=${`${id}-title`}
		onCancel=${(e) => { e.preventDefault(); onClose(); }}>
		<h2 id=${`${id}-title`}>${title}</h2>
		${open ? children : null}
	</dialog>`;
}

const LIVE = {connecting: 'connecting…', live: 'live', retrying: 'reconnecting…',
    ended: 'finished', failed: 'not live'};

// Where a live stream is, said in words (and to screen readers).
export function LiveNote({state}) {
	if (!state)
		return null;
	return html`<span class=${`live ${state}`} role="status"><span aria-hidden="true">${state === 'live' ? '●' : '○'}</span> ${LIVE[state] || state}</span>`;
}

// Tabs as links (each its own URL, so back/forward and reload keep it).
export function TabLinks({tabs, current, label}) {
	return html`<nav class="tabs" aria-label=${label}><ul>${tabs.map(([href, text, key]) => html`<li>
		<a href=${href} aria-current=${key === current ? 'page' : undefined}>${text}</a></li>`)}</ul></nav>`;
}

// A state word with an icon whose shape says it (not only its colour).
const TONE = {
	succeeded: ['✔', 'ok'], running: ['⟳', 'run'], dispatched: ['⟳', 'run'],
	verifying: ['◔', 'run'], queued: ['…', 'unk'], pending: ['…', 'unk'],
	paused: ['⏸', 'warn'], retry_wait: ['↻', 'warn'], failed: ['✖', 'crit'],
	cancelled: ['⊘', 'unk'], skipped: ['↷', 'unk'], firing: ['▲', 'crit'],
	resolved: ['✔', 'ok'], silenced: ['🔕', 'unk'], inhibited: ['⊘', 'unk'],
	acknowledged: ['✓', 'warn'], active: ['●', 'warn'], upcoming: ['◷', 'unk'],
	ended: ['✔', 'unk'], done: ['✔', 'ok'], interrupted: ['⊘', 'warn'],
	critical: ['✖', 'crit'], warning: ['▲', 'warn'], info: ['ℹ', 'unk'],
	expired: ['✔', 'unk'], valid: ['✔', 'ok'], error: ['✖', 'crit'],
	created: ['✔', 'ok'], undone: ['⊘', 'unk'],
};

export function StateBadge({value}) {
	const [icon, tone] = TONE[value] || ['?', 'unk'];
	return html`<span class=${`badge ${tone}`}><span aria-hidden="true" class="icon">${icon}</span> ${String(value || 'unknown').replace('_', ' ')}</span>`;
}

// Downloads an API file (CSV) with the in-memory token: a plain link
// would carry none. onError gets an ApiError-like object.
export async function download(path, filename, onError) {
	const go = () => fetch(path, {credentials: 'same-origin',
	    headers: {Authorization: `Bearer ${current().token}`}});
	let r = await go();
	if (r.status === 401 && await refresh())
		r = await go();
	if (!r.ok) {
		const d = await r.json().catch(() => null);
		onError({message: (d && d.error && d.error.message) || `HTTP ${r.status}`,
		    code: d && d.error ? d.error.code : null, status: r.status,
		    requestId: (d && d.error && d.error.request_id) || r.headers.get('X-Request-Id')});
		return;
	}
	const url = URL.createObjectURL(await r.blob());
	const a = document.createElement('a');
	a.href = url;
	a.download = filename;
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}
