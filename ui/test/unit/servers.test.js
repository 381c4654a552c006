// The list's pure logic: selection (shift ranges, all matching), the
// columns kept in localStorage, bulk targets, what running jobs hold,
// and the reasons a button is disabled.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import * as sel from '../../src/lib/selection.js';
import {parseColumns, toggleColumn, load, save, DEFAULT} from '../../src/lib/columns.js';
import {planTargets, jobBody} from '../../src/lib/targets.js';
import {inflightMap} from '../../src/lib/inflight.js';
import {allows, roleReason, serverReason, reason} from '../../src/lib/perms.js';

const items = [1, 2, 3, 4, 5, 6].map((id) => ({id, name: `s${id}`}));

test('a click ticks one row and sets the anchor', () => {
	let s = sel.toggle(sel.empty(), items, 1, false);
	assert.deepEqual(sel.ids(s), [2]);
	assert.equal(s.anchor, 1);
	s = sel.toggle(s, items, 1, false);
	assert.deepEqual(sel.ids(s), []);
});

test('shift-click ticks the range from the anchor, both ways', () => {
	let s = sel.toggle(sel.empty(), items, 1, false);
	s = sel.toggle(s, items, 4, true);
	assert.deepEqual(sel.ids(s), [2, 3, 4, 5]);
	s = sel.toggle(s, items, 0, true);
	assert.deepEqual(sel.ids(s), [1, 2, 3, 4, 5]);
	// A shift-click on a ticked row unticks the range.
	s = sel.toggle(s, items, 2, true);
	assert.deepEqual(sel.ids(s), [4, 5]);
	assert.equal(sel.count(s, 100), 2);
});

test('shift without an anchor is a plain click', () => {
	const s = sel.toggle(sel.empty(), items, 3, true);
	assert.deepEqual(sel.ids(s), [4]);
});

test('all matching counts the query total less the unticked', () => {
	let s = sel.allMatching();
	assert.equal(sel.count(s, 10000), 10000);
	assert.equal(sel.isSelected(s, 9999), true);
	s = sel.toggle(s, items, 0, false);
	assert.equal(sel.isSelected(s, 1), false);
	assert.equal(sel.count(s, 10000), 9999);
	s = sel.setLoaded(s, items, true);
	assert.equal(sel.count(s, 10000), 10000);
});

test('columns: known keys once, name always, bad text gives defaults', () => {
	assert.deepEqual(parseColumns('["status","bogus","status","power_state"]'), ['name', 'status', 'power_state']);
	assert.deepEqual(parseColumns('not json'), DEFAULT);
	assert.deepEqual(parseColumns('{"a":1}'), DEFAULT);
	assert.deepEqual(toggleColumn(['name', 'status'], 'power_state'), ['name', 'power_state', 'status']);
	assert.deepEqual(toggleColumn(['name', 'status'], 'status'), ['name']);
	assert.deepEqual(toggleColumn(['name'], 'name'), ['name']);
});

test('columns persist through storage', () => {
	const m = new Map();
	const storage = {getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v)};
	assert.deepEqual(load(storage), DEFAULT);
	save(['name', 'serial'], storage);
	assert.deepEqual(load(storage), ['name', 'serial']);
	const broken = {getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); }};
	assert.deepEqual(load(broken), DEFAULT);
	save(['name'], broken);
});

test('targets: ticked ids, a label-only query as selector, else resolved', () => {
	const t = sel.toggle(sel.toggle(sel.empty(), items, 2, false), items, 0, false);
	assert.deepEqual(planTargets({}, t).targets, {server_ids: [1, 3]});
	assert.deepEqual(planTargets({labels: 'rack=r1,env!=lab'}, sel.allMatching()),
	    {kind: 'selector', targets: {selector: 'rack=r1,env!=lab'},
	    note: 'every server with labels rack=r1,env!=lab, as the job starts'});
	assert.equal(planTargets({labels: 'rack=r1', power_state: 'on'}, sel.allMatching()).kind, 'resolve');
	assert.match(planTargets({}, sel.allMatching()).note, /whole fleet/);
	const less = sel.toggle(sel.allMatching(), items, 0, false);
	assert.equal(planTargets({labels: 'rack=r1'}, less).kind, 'resolve');
});

test('job bodies carry only what the action takes', () => {
	assert.deepEqual(jobBody('off', {selector: 'a=b'}, {seconds: 5}, true),
	    {action: 'off', targets: {selector: 'a=b'}, dry_run: true});
	assert.deepEqual(jobBody('identify', {server_ids: [1]}, {seconds: '30'}, false),
	    {action: 'identify', targets: {server_ids: [1]}, dry_run: false, identify_seconds: 30});
	assert.deepEqual(jobBody('boot', {server_ids: [1]}, {device: 'pxe', persistent: true}, false).boot,
	    {device: 'pxe', persistent: true, efi: false});
});

test('inflight: live tasks only; a flying command wins over a waiting one', () => {
	const jobs = [{id: 3, action: 'on'}, {id: 5, action: 'off'}];
	const m = inflightMap(jobs, {
		3: [{server_id: 1, state: 'pending'}, {server_id: 2, state: 'succeeded'}, {server_id: 4, state: 'verifying'}],
		5: [{server_id: 1, state: 'dispatched'}, {server_id: 4, state: 'pending'}],
	});
	assert.deepEqual(m.get(1), {job_id: 5, action: 'off', state: 'dispatched', flying: true});
	assert.equal(m.has(2), false);
	assert.deepEqual(m.get(4), {job_id: 3, action: 'on', state: 'verifying', flying: true});
});

test('perms: roles as libcommon grants them, reasons in words', () => {
	assert.equal(allows('admin', 'users:write'), true);
	assert.equal(allows('operator', 'servers:power'), true);
	assert.equal(allows('operator', 'audit:read'), false);
	assert.equal(allows('viewer', 'servers:power'), false);
	assert.equal(allows('nobody', 'servers:read'), false);
	assert.equal(roleReason({role: 'viewer'}, 'servers:power'), 'needs the operator role (you are viewer)');
	assert.equal(roleReason({role: 'operator'}, 'audit:read'), 'needs the admin role (you are operator)');
	assert.equal(roleReason(null, 'servers:read'), 'not signed in');
	assert.equal(serverReason({has_credentials: false, status: 'online'}), 'no BMC credentials stored');
	assert.equal(serverReason({has_credentials: true, status: 'offline'}), 'BMC unreachable');
	assert.equal(serverReason({has_credentials: true, status: 'online'}, {job_id: 9, action: 'cycle'}), 'in running job 9 (cycle)');
	assert.equal(reason({role: 'viewer'}, 'servers:power', {status: 'offline'}), 'needs the operator role (you are viewer)');
	assert.equal(reason({role: 'admin'}, 'servers:power', {has_credentials: true, status: 'online'}), null);
});
