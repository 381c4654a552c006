// The servers list's state in the URL (?q=&sort=&group=), so that a link
// reproduces a view and back/forward walk through searches. Pure. The
// facets are terms of q (lib/search.js withField), so they are in it.

export const SORTS = ['name', '-name', 'status', '-status', 'power_state',
    '-power_state', 'last_seen', '-last_seen', 'id', '-id'];
// What the list may be grouped by: a search field each.
export const GROUPS = ['power', 'status', 'cluster', 'manufacturer'];
const DEFAULTS = {q: '', sort: 'name', group: ''};

// Reads the state from a query string ("?q=..."); unknown or invalid
// values fall back to the defaults.
export function readState(search) {
	const p = new URLSearchParams(search || '');
	const st = {...DEFAULTS};
	const q = p.get('q');
	if (q !== null)
		st.q = q.slice(0, 1024);
	const sort = p.get('sort');
	if (sort !== null && SORTS.includes(sort))
		st.sort = sort;
	const group = p.get('group');
	if (group !== null && GROUPS.includes(group))
		st.group = group;
	return st;
}

// Writes the state as a query string, leaving defaults out ("" when all
// are defaults), keys in a fixed order so that equal states compare equal.
export function writeState(st) {
	const p = new URLSearchParams();
	if (st.q && st.q.trim() !== '')
		p.set('q', st.q.trim());
	if (st.sort && st.sort !== DEFAULTS.sort && SORTS.includes(st.sort))
		p.set('sort', st.sort);
	if (st.group && GROUPS.includes(st.group))
		p.set('group', st.group);
	const s = p.toString();
	return s ? `?${s}` : '';
}

// The query string of GET /api/servers for parsed search params, a sort,
// a page size and an optional cursor.
export function apiQuery(params, sort, limit, cursor) {
	const p = new URLSearchParams();
	for (const k of Object.keys(params).sort())
		p.set(k, params[k]);
	if (sort)
		p.set('sort', sort);
	p.set('limit', String(limit));
	if (cursor)
		p.set('cursor', cursor);
	return p.toString();
}

// Where to go after logging in: the path asked for when it is one of
// ours (same origin, not the login page), else the dashboard.
export function safeNext(next) {
	if (typeof next !== 'string' || !next.startsWith('/') ||
	    next.startsWith('//') || next.startsWith('/\\') ||
	    next.startsWith('/login'))
		return '/';
	return next;
}
