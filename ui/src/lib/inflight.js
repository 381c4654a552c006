// Which servers running jobs hold now, and which have a command in
// flight: read from cluster-mgmt (GET /api/jobs?state=running, then the
// live tasks of each), bounded: at most MAX_JOBS jobs and one page of
// 1000 tasks per state. The list shows it in a row ("off: job 12,
// verifying"); the action bar and the server page give it as the reason
// a server is left out. inflightMap() is pure.
import {useEffect, useState} from 'preact/hooks';
import {get} from './api.js';

export const LIVE_STATES = ['dispatched', 'verifying', 'retry_wait', 'pending'];
// A command is on its way to the BMC, or its effect awaited.
export const IN_FLIGHT = ['dispatched', 'verifying'];
const MAX_JOBS = 5;

// jobs: Job objects; tasks: {job id: [Task, ...]}. Returns a Map of
// server id -> {job_id, action, state, flying} where flying says a
// command is in flight; a server in two jobs keeps the one whose
// command flies (else the older job).
export function inflightMap(jobs, tasks) {
	const out = new Map();
	const byId = new Map(jobs.map((j) => [j.id, j]));
	const order = [...jobs].sort((a, b) => a.id - b.id);
	for (const j of order) {
		for (const t of tasks[j.id] || []) {
			if (!LIVE_STATES.includes(t.state))
				continue;
			const flying = IN_FLIGHT.includes(t.state);
			const had = out.get(t.server_id);
			if (had && (had.flying || !flying))
				continue;
			out.set(t.server_id, {job_id: j.id, action: byId.get(j.id).action,
			    state: t.state, flying});
		}
	}
	return out;
}

// Reads it all once; resolves to the Map (empty when jobs cannot be
// read: nothing is known to be held).
export async function loadInflight() {
	const jobs = await get(`/api/jobs?state=running&limit=${MAX_JOBS}`);
	const tasks = {};
	await Promise.all(jobs.items.map(async (j) => {
		tasks[j.id] = [];
		for (const st of LIVE_STATES) {
			const page = await get(`/api/jobs/${j.id}/tasks?state=${st}&limit=1000`);
			tasks[j.id].push(...page.items);
		}
	}));
	return inflightMap(jobs.items, tasks);
}

// The Map, read again every period ms while the page is visible.
export function useInflight(period = 5000) {
	const [map, setMap] = useState(new Map());
	useEffect(() => {
		let live = true;
		const read = () => {
			if (document.hidden)
				return;
			loadInflight().then((m) => live && setMap(m), () => {});
		};
		read();
		const t = setInterval(read, period);
		return () => {
			live = false;
			clearInterval(t);
		};
	}, [period]);
	return map;
}
