// A confirmation dialog for destructive actions (native <dialog>: focus
// is trapped and Escape cancels).
import {useEffect, useRef} from 'preact/hooks';
import {html} from '../lib/html.js';

export function Confirm({open, title, body, confirmLabel, onConfirm, onCancel}) {
	const ref = useRef(null);
	useEffect(() => {
		const d = ref.current;
		if (!d)
			return;
		if (open && !d.open)
			d.showModal();
		else if (!open && d.open)
			d.close();
	}, [open]);
	return html`<dialog ref=${ref} class="confirm" aria-labelledby="confirm-title"
		onCancel=${(e) => { e.preventDefault(); onCancel(); }}>
		<h2 id="confirm-title">${title}</h2>
		<p>${body}</p>
		<div class="actions">
			<button type="button" onClick=${onCancel}>Cancel</button>
			<button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
		</div>
	</dialog>`;
}
