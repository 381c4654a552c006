// Path routing on the History API: navigate() pushes, back/forward
// (popstate) re-render, and useLocation() gives {path, search}.
import {useEffect, useState} from 'preact/hooks';

const listeners = new Set();

function where() {
	return {path: location.pathname, search: location.search};
}

function notify() {
	const loc = where();
	for (const fn of listeners)
		fn(loc);
}

window.addEventListener('popstate', notify);

// Goes to url (path and query); replace keeps the history entry.
export function navigate(url, replace) {
	if (url === location.pathname + location.search)
		return;
	if (replace)
		history.replaceState(null, '', url);
	else
		history.pushState(null, '', url);
	notify();
}

export function useLocation() {
	const [loc, setLoc] = useState(where());
	useEffect(() => {
		listeners.add(setLoc);
		return () => listeners.delete(setLoc);
	}, []);
	return loc;
}

// A click on an in-app link navigates without a page load (modified
// clicks keep the browser's behaviour: new tab and so on).
export function onLink(e) {
	const a = e.target.closest && e.target.closest('a[href]');
	if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey ||
	    e.ctrlKey || e.shiftKey || e.altKey || a.target ||
	    a.origin !== location.origin || a.hasAttribute('download'))
		return;
	e.preventDefault();
	navigate(a.pathname + a.search);
}

// Matches a path against routes [{pattern: /^...$/, page}], returning
// {page, params} of the first match or null.
export function match(routes, path) {
	for (const r of routes) {
		const m = r.pattern.exec(path);
		if (m)
			return {page: r.page, params: m.slice(1)};
	}
	return null;
}
