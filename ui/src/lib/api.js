// Calls to the API with the session's access token. An expired token is
// refreshed once and the call repeated; every failure becomes an ApiError
// carrying the API's message, code and request id for the user to see.
import {current, refresh} from './session.js';

export class ApiError extends Error {
	constructor(status, error, requestId) {
		super(error && error.message ? error.message : `HTTP ${status}`);
		this.status = status;
		this.code = error && error.code ? error.code : 'http_error';
		this.field = error && error.field ? error.field : null;
		this.requestId = (error && error.request_id) || requestId || null;
	}
}

async function once(method, path, body) {
	const headers = {Accept: 'application/json'};
	const {token} = current();
	if (token)
		headers.Authorization = `Bearer ${token}`;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	return fetch(path, {method, headers, credentials: 'same-origin',
	    body: body === undefined ? undefined : JSON.stringify(body)});
}

// Resolves to the answer's JSON (null for 204); rejects with ApiError.
export async function api(method, path, body) {
	let r;
	try {
		r = await once(method, path, body);
		if (r.status === 401 && current().token && await refresh())
			r = await once(method, path, body);
	} catch (e) {
		throw new ApiError(0, {code: 'network',
		    message: 'the server cannot be reached'}, null);
	}
	if (r.status === 204)
		return null;
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (!r.ok)
		throw new ApiError(r.status, data && data.error,
		    r.headers.get('X-Request-Id'));
	return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
