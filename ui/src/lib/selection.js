// Row selection of a server list. Pure: every function returns a new
// selection. Two modes:
//  - ids: the servers ticked one by one (or by a shift-click range);
//  - all: every server the list's query matches ("all N matching"),
//    except those unticked since: actions then act on the query, not
//    on a list of ids, so servers not loaded yet are included.
// anchor is the index of the last plain click, where a shift-click
// range starts.

export function empty() {
	return {all: false, ids: new Set(), except: new Set(), anchor: null};
}

export function isSelected(sel, id) {
	return sel.all ? !sel.except.has(id) : sel.ids.has(id);
}

// How many are selected, given the query's total (for all mode).
export function count(sel, total) {
	return sel.all ? Math.max(0, (total || 0) - sel.except.size) : sel.ids.size;
}

function set(sel, id, on) {
	if (sel.all) {
		const except = new Set(sel.except);
		if (on)
			except.delete(id);
		else
			except.add(id);
		return {...sel, except};
	}
	const ids = new Set(sel.ids);
	if (on)
		ids.add(id);
	else
		ids.delete(id);
	return {...sel, ids};
}

// A click on row index of items (loaded rows, in order). With shift and
// an anchor, every row between the anchor and index takes the state the
// clicked row takes; without, only the clicked row flips and becomes
// the anchor.
export function toggle(sel, items, index, shift) {
	const row = items[index];
	if (!row)
		return sel;
	const on = !isSelected(sel, row.id);
	if (shift && sel.anchor !== null && sel.anchor < items.length) {
		const lo = Math.min(sel.anchor, index);
		const hi = Math.max(sel.anchor, index);
		let next = sel;
		for (let i = lo; i <= hi; i++)
			if (items[i])
				next = set(next, items[i].id, on);
		return {...next, anchor: index};
	}
	return {...set(sel, row.id, on), anchor: index};
}

// Ticks (or unticks) every loaded row: the header checkbox.
export function setLoaded(sel, items, on) {
	let next = {...sel, anchor: null};
	for (const s of items)
		if (s)
			next = set(next, s.id, on);
	return next;
}

// Every server the query matches, now and not yet loaded.
export function allMatching() {
	return {all: true, ids: new Set(), except: new Set(), anchor: null};
}

// The ids ticked (ids mode), for targets that take ids.
export function ids(sel) {
	return [...sel.ids].sort((a, b) => a - b);
}
