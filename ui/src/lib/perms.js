// What the signed-in user may do, and why not: the roles' permissions as
// libcommon grants them (libcommon/src/jwt.c, the route tables check the
// same `resource:verb` strings), and the reasons a button is disabled
// (role, no credentials, BMC unreachable, server held by a running job).
// Pure apart from who(), which reads the session; every reason is a
// sentence fragment shown next to the disabled button.
import {current} from './session.js';

const VIEWER = ['servers:read', 'clusters:read', 'jobs:read', 'alerts:read',
    'monitoring:read', 'discovery:read'];
const OPERATOR = ['servers:read', 'servers:write', 'servers:power',
    'clusters:read', 'clusters:write', 'clusters:delete', 'jobs:read',
    'jobs:write', 'alerts:read', 'alerts:write', 'monitoring:read',
    'discovery:read', 'discovery:write'];

export const ROLE_PERMS = {admin: ['*'], operator: OPERATOR, viewer: VIEWER};

// The least role that has perm, for the reason's text.
function needed(perm) {
	if (VIEWER.includes(perm))
		return 'viewer';
	if (OPERATOR.includes(perm))
		return 'operator';
	return 'admin';
}

// Whether role grants perm ("servers:power", ...).
export function allows(role, perm) {
	const p = ROLE_PERMS[role];
	return !!p && (p.includes('*') || p.includes(perm));
}

// Why user ({role}) may not use perm, or null when it may.
export function roleReason(user, perm) {
	if (!user)
		return 'not signed in';
	if (allows(user.role, perm))
		return null;
	return `needs the ${needed(perm)} role (you are ${user.role})`;
}

// Why a BMC action cannot reach server s now, or null. s is a Server or
// a ClusterMember (has_credentials, status); busy, when given, is what
// lib/inflight.js knows of it ({job_id, action, state}).
export function serverReason(s, busy) {
	if (!s)
		return null;
	if (s.has_credentials === false)
		return 'no BMC credentials stored';
	if (s.status === 'offline')
		return 'BMC unreachable';
	if (busy && busy.job_id)
		return `in running job ${busy.job_id} (${busy.action})`;
	return null;
}

// The first reason an action needing perm on server s (optional) is
// refused: the role first, then the server. null when allowed.
export function reason(user, perm, s, busy) {
	return roleReason(user, perm) || serverReason(s, busy);
}

// The signed-in user ({id, username, role}) or null.
export function who() {
	return current().user;
}

// Shortcuts for the signed-in user.
export const can = (perm) => !roleReason(who(), perm);
export const why = (perm, s, busy) => reason(who(), perm, s, busy);
