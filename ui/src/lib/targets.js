// What a bulk action acts on. Ticked servers are a list of ids; "all N
// matching" is the query itself: when the query is only label terms it
// goes to the job as its label selector (cluster-mgmt resolves it when
// the job starts, servers not loaded in the page included); other terms
// (power:, status:, text...) are not labels, and a job's selector takes
// labels only, so the servers matching the query are read (by id, in
// pages) when the preview is asked, and the preview says so. Pure apart
// from resolveIds().
import {get} from './api.js';
import {apiQuery} from './urlstate.js';
import {ids} from './selection.js';

// A job takes at most this many server ids (JobTargets in openapi).
export const MAX_IDS = 5000;

// {kind: 'ids'|'selector'|'resolve', targets?, note} for selection sel
// over the parsed search params of the list.
export function planTargets(params, sel) {
	if (!sel.all)
		return {kind: 'ids', targets: {server_ids: ids(sel)},
		    note: `${sel.ids.size} server${sel.ids.size === 1 ? '' : 's'} ticked`};
	const keys = Object.keys(params);
	if (sel.except.size === 0 && keys.length === 1 && keys[0] === 'labels')
		return {kind: 'selector', targets: {selector: params.labels},
		    note: `every server with labels ${params.labels}, as the job starts`};
	const other = keys.filter((k) => k !== 'labels');
	let why;
	if (keys.length === 0)
		why = 'the whole fleet';
	else if (sel.except.size)
		why = `the search, less ${sel.except.size} unticked`;
	else
		why = `the search (${other.join(', ')}: not labels, which a job's selector cannot express)`;
	return {kind: 'resolve', note: `${why}: the servers matching it now, read by id`};
}

// The ids of every server params match, less except; rejects past max.
export async function resolveIds(params, except, max = MAX_IDS) {
	const out = [];
	let cursor = null;
	do {
		const page = await get(`/api/servers?${apiQuery(params, 'id', 1000, cursor)}`);
		for (const s of page.items)
			if (!except.has(s.id))
				out.push(s.id);
		if (out.length > max)
			throw Object.assign(new Error(`more than ${max} servers match: narrow the search, or use label terms only (a job selector)`),
			    {code: 'too_many'});
		cursor = page.next_cursor;
	} while (cursor);
	return out;
}

// The job's body for a bulk action. opts: {boot: {device, persistent,
// efi}, seconds} as the action needs.
export function jobBody(action, targets, opts, dryRun) {
	const body = {action, targets, dry_run: !!dryRun};
	if (action === 'boot')
		body.boot = {device: opts.device, persistent: !!opts.persistent, efi: !!opts.efi};
	if (action === 'identify')
		body.identify_seconds = Number(opts.seconds);
	return body;
}

// Left-out reasons of a plan or job, in words.
export const LEFT_OUT = {
	not_found: 'no such server',
	no_credentials: 'no BMC credentials stored',
	unreachable: 'BMC unreachable (offline at the last poll)',
	leased: 'held by another running job',
};
