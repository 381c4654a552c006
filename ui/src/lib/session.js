// The browser session. The access token lives in this module's memory
// only: never in localStorage, a cookie readable by scripts, a URL or the
// console. How the refresh token is kept is decided in one place,
// refreshRequest() and logoutBody() below:
//  - COOKIE_REFRESH true (the default): login asks osh-auth for a browser
//    session ("session": "cookie"), which keeps the refresh token in an
//    HttpOnly SameSite=Strict cookie scoped to /api/auth; refresh sends no
//    body, only the cookie and the CSRF header, and a reload restores the
//    session through restore();
//  - COOKIE_REFRESH false: the refresh token is kept in memory too, so a
//    reload ends the session (the user logs in again).

export const COOKIE_REFRESH = true;
// The custom header osh-auth requires with a cookie refresh (CSRF
// defence: a cross-site form cannot set it). Name to match osh-auth.
export const CSRF_HEADER = 'X-OSH-CSRF';

let state = {user: null, token: null, expiresAt: 0};
let refreshToken = null;	// memory mode only
let inflight = null;
const listeners = new Set();

function set(next) {
	state = next;
	for (const fn of listeners)
		fn(state);
}

// Calls fn(state) on every change; returns the function that stops it.
export function subscribe(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

export function current() {
	return state;
}

async function post(path, body, headers) {
	const r = await fetch(path, {
		method: 'POST',
		credentials: 'same-origin',
		headers: {'Content-Type': 'application/json', ...headers},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	return {ok: r.ok, status: r.status, data,
	    requestId: r.headers.get('X-Request-Id')};
}

function accept(data) {
	if (!COOKIE_REFRESH)
		refreshToken = data.refresh_token || null;
	set({user: data.user, token: data.access_token,
	    expiresAt: Date.now() + (data.expires_in || 0) * 1000});
}

// The one request that trades the refresh credential for a new pair.
function refreshRequest() {
	if (COOKIE_REFRESH)
		return post('/api/auth/refresh', undefined, {[CSRF_HEADER]: '1'});
	if (!refreshToken)
		return Promise.resolve({ok: false, status: 401, data: null});
	return post('/api/auth/refresh', {refresh_token: refreshToken});
}

function logoutBody() {
	return COOKIE_REFRESH || !refreshToken ? undefined :
	    {refresh_token: refreshToken};
}

// Logs in; resolves to {ok, error, requestId}.
export async function login(username, password) {
	const r = await post('/api/auth/login', COOKIE_REFRESH ?
	    {username, password, session: 'cookie'} : {username, password});
	if (!r.ok)
		return {ok: false, error: r.data && r.data.error ? r.data.error :
		    {message: `login failed (HTTP ${r.status})`}, requestId: r.requestId};
	accept(r.data);
	return {ok: true};
}

// A new access token; concurrent callers share one request. Resolves to
// true when the session goes on, false when it ended.
export function refresh() {
	if (!inflight) {
		inflight = refreshRequest().then((r) => {
			inflight = null;
			if (r.ok && r.data && r.data.access_token) {
				accept(r.data);
				return true;
			}
			refreshToken = null;
			set({user: null, token: null, expiresAt: 0});
			return false;
		}, () => {
			inflight = null;
			return false;
		});
	}
	return inflight;
}

// At page load: the session the browser still has (cookie mode), if any.
export async function restore() {
	if (!COOKIE_REFRESH)
		return false;
	return refresh();
}

// Ends the session here and at osh-auth (its refresh family too).
export async function logout() {
	const token = state.token;
	const body = logoutBody();
	refreshToken = null;
	set({user: null, token: null, expiresAt: 0});
	if (token) {
		try {
			await post('/api/auth/logout', body,
			    {Authorization: `Bearer ${token}`,
			    ...(COOKIE_REFRESH ? {[CSRF_HEADER]: '1'} : {})});
		} catch (e) {
			// The tokens are gone from memory either way.
		}
	}
}

// Changes the signed-in user's password. osh-auth ends every session of
// the user and answers a fresh one for this browser (a new cookie in
// cookie mode), which is taken here so that the page goes on. Resolves
// to {ok, error, status, requestId}.
export async function changePassword(currentPassword, newPassword) {
	const token = state.token;
	const r = await post('/api/auth/password', {current_password: currentPassword,
	    new_password: newPassword}, token ? {Authorization: `Bearer ${token}`} : {});
	if (!r.ok)
		return {ok: false, status: r.status, requestId: r.requestId,
		    error: r.data && r.data.error ? r.data.error : {message: `HTTP ${r.status}`}};
	if (r.data && r.data.access_token)
		accept(r.data);
	return {ok: true};
}
