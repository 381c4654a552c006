// A button that is disabled with its reason shown beside it (and tied
// to it by aria-describedby; id makes that link unique when a label
// appears twice on a page), so that a user sees why not, not only
// that not. reason: a text from lib/perms.js, or null when allowed.
import {html} from '../lib/html.js';

// shared: the id of an element that already says the reason (several
// buttons refused for one reason): it is referred to, not repeated.
export function ActionButton({label, reason, busy, danger, primary, onClick, id, title, shared, disabled}) {
	const own = reason && !shared;
	const rid = own ? `why-${id || label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` : reason ? shared : undefined;
	const cls = [danger ? 'danger' : '', primary ? 'primary' : ''].join(' ').trim();
	return html`<span class="action">
		<button type="button" class=${cls} disabled=${!!reason || !!busy || !!disabled} title=${title}
			aria-describedby=${rid} onClick=${onClick}>${busy ? `${label}…` : label}</button>
		${own ? html`<span class="reason muted small" id=${rid}>${reason}</span>` : null}
	</span>`;
}
