// State badges whose shape and text say the state, colour only helps:
// readable without colour vision and in a greyscale print.
import {html} from '../lib/html.js';

const POWER = {on: ['●', 'On'], off: ['○', 'Off'], unknown: ['?', 'Unknown']};
const STATUS = {
	online: ['✔', 'Online', 'ok'],
	offline: ['✖', 'Offline', 'crit'],
	auth_failed: ['⊘', 'Auth failed', 'warn'],
	error: ['▲', 'Error', 'warn'],
	unknown: ['?', 'Unknown', 'unk'],
};
const SENSOR = {
	nominal: ['✔', 'Nominal', 'ok'],
	warning: ['▲', 'Warning', 'warn'],
	critical: ['✖', 'Critical', 'crit'],
	unknown: ['?', 'Unknown', 'unk'],
};

function badge(table, value, cls) {
	const [icon, label, tone] = table[value] || ['?', value || 'Unknown', 'unk'];
	return html`<span class=${`badge ${cls} ${tone || value}`}><span aria-hidden="true" class="icon">${icon}</span> ${label}</span>`;
}

export const PowerBadge = ({value}) => badge(POWER, value, 'power');
export const StatusBadge = ({value}) => badge(STATUS, value, 'status');
export const SensorBadge = ({value}) => badge(SENSOR, value, 'sensor');
