// Login, then back to the page asked for (?next=, same origin only).
import {useState} from 'preact/hooks';
import {html} from '../lib/html.js';
import {login} from '../lib/session.js';
import {navigate} from '../lib/router.js';
import {safeNext} from '../lib/urlstate.js';
import {ErrorBox} from '../components/error.js';

export function Login({search}) {
	const [username, setUsername] = useState('');
	const [password, setPassword] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);

	async function submit(e) {
		e.preventDefault();
		setBusy(true);
		setError(null);
		const r = await login(username, password);
		setPassword('');
		setBusy(false);
		if (!r.ok) {
			setError({...r.error, requestId: r.error.request_id || r.requestId});
			return;
		}
		navigate(safeNext(new URLSearchParams(search).get('next')), true);
	}

	return html`<main class="login" id="main">
		<form class="card" onSubmit=${submit} aria-labelledby="login-title">
			<h1 id="login-title">OpenServerHub</h1>
			<p class="muted">Sign in to manage your servers.</p>
			<${ErrorBox} error=${error} title="Sign-in failed" />
			<label for="username">Username</label>
			<input id="username" name="username" autocomplete="username" required
				value=${username} onInput=${(e) => setUsername(e.target.value)} />
			<label for="password">Password</label>
			<input id="password" name="password" type="password" autocomplete="current-password" required
				value=${password} onInput=${(e) => setPassword(e.target.value)} />
			<button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
		</form>
	</main>`;
}
