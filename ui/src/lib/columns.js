// The server list's columns: which are shown, in what order, kept in
// localStorage so that the choice survives a reload. Pure apart from
// load() and save().

// Every column the list can show, and those shown by default.
export const ALL = ['name', 'power_state', 'status', 'command', 'cluster',
    'bmc_address', 'model', 'manufacturer', 'serial', 'firmware', 'labels',
    'reading', 'last_seen'];
export const DEFAULT = ['name', 'power_state', 'status', 'command',
    'cluster', 'bmc_address', 'model', 'reading'];
const KEY = 'osh.servers.columns';

// The column keys in text (JSON array), keeping known ones once, in
// order; name is always shown (it holds the link). Bad text: defaults.
export function parseColumns(text, all = ALL, defaults = DEFAULT) {
	let v;
	try {
		v = JSON.parse(text);
	} catch (e) {
		return defaults.slice();
	}
	if (!Array.isArray(v))
		return defaults.slice();
	const out = [];
	for (const k of v)
		if (typeof k === 'string' && all.includes(k) && !out.includes(k))
			out.push(k);
	if (!out.includes('name'))
		out.unshift('name');
	return out;
}

// Shows or hides column key, keeping the order of all for shown ones.
export function toggleColumn(shown, key, all = ALL) {
	if (key === 'name')
		return shown.slice();
	const on = !shown.includes(key);
	return all.filter((k) => (k === key ? on : shown.includes(k)));
}

export function load(storage = globalThis.localStorage) {
	try {
		const t = storage && storage.getItem(KEY);
		return t ? parseColumns(t) : DEFAULT.slice();
	} catch (e) {
		return DEFAULT.slice();
	}
}

export function save(shown, storage = globalThis.localStorage) {
	try {
		if (storage)
			storage.setItem(KEY, JSON.stringify(shown));
	} catch (e) {
		// Private mode or full: the choice lasts this page only.
	}
}
