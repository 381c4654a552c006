// Server-Sent Events without a long-lived token in a URL: each connection
// first asks for a single-use ticket (POST .../events/ticket, with the
// in-memory access token), then opens the EventSource with ?ticket=. A
// ticket works once, so EventSource's own reconnect cannot be used: on
// an error the stream is closed and reopened here with a new ticket and
// last_event_id (the id of the last event handled), so nothing is missed.
// The gateway does not buffer these streams (proxy_buffering off).
import {post} from './api.js';

// Opens the stream; returns close(). types: the event names to listen
// to; onEvent(type, data, id); onState('connecting'|'live'|'retrying'|
// 'ended'|'failed', error). A stream the server ends on purpose (job
// finished) stops when done() returns true, else it is reopened.
export function openStream({ticketPath, streamPath, types, onEvent, onState,
	lastEventId, done}) {
	let es = null;
	let closed = false;
	let last = lastEventId || null;
	let delay = 1000;
	let timer = null;
	const state = (s, e) => onState && onState(s, e);

	async function connect() {
		if (closed)
			return;
		state('connecting');
		let ticket;
		try {
			ticket = (await post(ticketPath)).ticket;
		} catch (e) {
			if (e.status === 401 || e.status === 403 || e.status === 404) {
				state('failed', e);
				return;
			}
			retry(e);
			return;
		}
		if (closed)
			return;
		const q = new URLSearchParams({ticket});
		if (last)
			q.set('last_event_id', last);
		es = new EventSource(`${streamPath}?${q}`);
		es.onopen = () => {
			delay = 1000;
			state('live');
		};
		for (const t of types) {
			es.addEventListener(t, (m) => {
				if (m.lastEventId)
					last = m.lastEventId;
				let data = null;
				try {
					data = JSON.parse(m.data);
				} catch (e) {
					data = null;
				}
				onEvent(t, data, m.lastEventId || null);
			});
		}
		es.onerror = () => {
			es.close();
			es = null;
			if (done && done()) {
				state('ended');
				return;
			}
			retry(null);
		};
	}

	function retry(e) {
		if (closed)
			return;
		state('retrying', e);
		timer = setTimeout(connect, delay);
		delay = Math.min(delay * 2, 15000);
	}

	connect();
	return () => {
		closed = true;
		clearTimeout(timer);
		if (es)
			es.close();
	};
}
