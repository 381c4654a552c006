// An API error as the user sees it: the API's message, its code and the
// request id to quote when asking for help.
import {html} from '../lib/html.js';

export function ErrorBox({error, title}) {
	if (!error)
		return null;
	return html`<div class="error" role="alert">
		<strong>${title || 'Request failed'}:</strong> ${error.message}
		${error.code ? html` <span class="muted">(${error.code}${error.status ? `, HTTP ${error.status}` : ''})</span>` : null}
		${error.requestId ? html`<div class="reqid">Request id: <code>${error.requestId}</code></div>` : null}
	</div>`;
}
