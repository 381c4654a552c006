import {test} from 'node:test';
import assert from 'node:assert/strict';
import {initial, reduce, progress, controls, taskList, compareIds,
    taskAdvances} from '../../src/lib/jobstate.js';

const job = (over) => ({id: 7, state: 'running', total: 3,
    counts: {pending: 3}, ...over});
const task = (id, state, over) => ({id, job_id: 7, server_id: 100 + id,
    server_name: `sim-${id}`, state, attempts: 0, error: null, ...over});
const ev = (id, event, data) => ({type: 'event', id, event, data});

function loaded() {
	return reduce(initial(), {type: 'load', job: job(),
	    tasks: [task(1, 'pending'), task(2, 'pending'), task(3, 'pending')],
	    total: 3});
}

test('stream ids compare by time then sequence', () => {
	assert.ok(compareIds('1-0', '2-0') < 0);
	assert.ok(compareIds('5-10', '5-9') > 0);
	assert.equal(compareIds('5-1', '5-1'), 0);
	assert.ok(compareIds('1700000000000-0', '999-5') > 0);
});

test('load counts the tasks when all are loaded', () => {
	const st = loaded();
	assert.equal(st.complete, true);
	assert.deepEqual(st.counts, {pending: 3});
	assert.equal(progress(st).percent, 0);
});

test('a task moving forward updates counts and progress', () => {
	let st = loaded();
	st = reduce(st, ev('1-0', 'request', {task_id: '1', attempt: '1'}));
	assert.equal(st.tasks[1].state, 'dispatched');
	assert.equal(st.tasks[1].attempts, 1);
	st = reduce(st, ev('2-0', 'task', task(1, 'verifying', {attempts: 1})));
	st = reduce(st, ev('3-0', 'task', task(1, 'succeeded', {attempts: 1, power_state: 'on'})));
	st = reduce(st, ev('4-0', 'task', task(2, 'failed', {attempts: 1, error: 'bmc_timeout'})));
	assert.deepEqual(st.counts, {succeeded: 1, failed: 1, pending: 1});
	const p = progress(st);
	assert.equal(p.done, 2);
	assert.equal(p.percent, 67);
	assert.equal(st.tasks[1].power_state, 'on');
	assert.equal(st.lastEventId, '4-0');
	assert.equal(st.recent[0].server, 'sim-2');
	assert.equal(st.recent[0].error, 'bmc_timeout');
});

test('replayed and duplicate events change nothing', () => {
	let st = loaded();
	st = reduce(st, ev('3-0', 'task', task(1, 'succeeded', {attempts: 1})));
	const before = st;
	// The same id again, and an older one.
	assert.equal(reduce(st, ev('3-0', 'task', task(1, 'succeeded', {attempts: 1}))), before);
	assert.equal(reduce(st, ev('2-0', 'task', task(1, 'dispatched', {attempts: 1}))), before);
});

test('a final task stays final, an older attempt never overwrites', () => {
	let st = loaded();
	st = reduce(st, ev('5-0', 'task', task(1, 'succeeded', {attempts: 1})));
	// An event without id (no dedupe by id) trying to go back.
	st = reduce(st, {type: 'event', event: 'task', data: task(1, 'dispatched', {attempts: 2})});
	assert.equal(st.tasks[1].state, 'succeeded');
	st = reduce(st, ev('6-0', 'task', task(2, 'retry_wait', {attempts: 2})));
	st = reduce(st, {type: 'event', event: 'task', data: task(2, 'verifying', {attempts: 1})});
	assert.equal(st.tasks[2].state, 'retry_wait');
	// retry_wait -> pending is the retry coming due (same attempt).
	st = reduce(st, ev('7-0', 'task', task(2, 'pending', {attempts: 2})));
	assert.equal(st.tasks[2].state, 'pending');
	st = reduce(st, ev('8-0', 'request', {task_id: 2, attempt: 3}));
	assert.equal(st.tasks[2].state, 'dispatched');
	assert.equal(st.tasks[2].attempts, 3);
});

test('taskAdvances rules', () => {
	assert.equal(taskAdvances(null, {state: 'pending'}), true);
	assert.equal(taskAdvances({state: 'dispatched', attempts: 1}, {state: 'pending', attempts: 1}), false);
	assert.equal(taskAdvances({state: 'verifying', attempts: 1}, {state: 'failed', attempts: 1}), true);
	assert.equal(taskAdvances({state: 'cancelled'}, {state: 'succeeded'}), false);
});

test('a snapshot older than the events keeps the newer task', () => {
	let st = reduce(initial(), ev('9-0', 'task', task(1, 'succeeded', {attempts: 1})));
	st = reduce(st, {type: 'load', job: job(), total: 3,
	    tasks: [task(1, 'dispatched', {attempts: 1}), task(2, 'pending'), task(3, 'pending')]});
	assert.equal(st.tasks[1].state, 'succeeded');
	assert.deepEqual(st.counts, {succeeded: 1, pending: 2});
});

test('job events: pause, resume, final state is final', () => {
	let st = loaded();
	st = reduce(st, ev('1-0', 'job', {id: 7, state: 'paused', event: 'pause'}));
	assert.equal(st.job.state, 'paused');
	assert.equal(controls(st).pause, 'the job is paused already');
	assert.equal(controls(st).resume, null);
	st = reduce(st, ev('2-0', 'job', {id: 7, state: 'running', event: 'resume'}));
	assert.equal(controls(st).resume, 'the job is running, not paused');
	st = reduce(st, ev('3-0', 'job', {id: 7, state: 'cancelled', event: 'cancel'}));
	st = reduce(st, {type: 'event', event: 'job', data: {id: 7, state: 'running'}});
	assert.equal(st.job.state, 'cancelled');
	assert.equal(controls(st).cancel, 'the job is cancelled');
	assert.equal(controls(st).retry, 'no task failed');
	// A fresh GET cannot bring a final job back to life either.
	assert.equal(reduce(st, {type: 'job', job: job({state: 'running'})}).job.state, 'cancelled');
});

test('retry is offered once the job ended with failures', () => {
	let st = loaded();
	st = reduce(st, ev('1-0', 'task', task(1, 'failed', {attempts: 1})));
	assert.equal(controls(st).retry, 'the job is still running');
	st = reduce(st, ev('2-0', 'job', {id: 7, state: 'failed', event: 'finish'}));
	assert.equal(controls(st).retry, null);
	assert.equal(controls(st).pause, 'the job is failed');
});

test('a partly loaded job keeps counts from the job and adjusts them', () => {
	let st = reduce(initial(), {type: 'load', total: 3,
	    job: job({counts: {pending: 2, dispatched: 1}}),
	    tasks: [task(1, 'dispatched', {attempts: 1})]});
	assert.equal(st.complete, false);
	st = reduce(st, ev('1-0', 'task', task(1, 'succeeded', {attempts: 1})));
	assert.deepEqual(st.counts, {pending: 2, dispatched: 0, succeeded: 1});
	assert.equal(st.countsStale, false);
	// A task not loaded: its previous state is unknown.
	st = reduce(st, ev('2-0', 'task', task(3, 'succeeded', {attempts: 1})));
	assert.equal(st.countsStale, true);
	st = reduce(st, {type: 'job', job: job({counts: {pending: 1, succeeded: 2}})});
	assert.equal(st.countsStale, false);
	assert.deepEqual(st.counts, {pending: 1, succeeded: 2});
});

test('taskList orders by id and filters by state', () => {
	let st = loaded();
	st = reduce(st, ev('1-0', 'task', task(3, 'failed', {attempts: 1})));
	assert.deepEqual(taskList(st).map((t) => t.id), [1, 2, 3]);
	assert.deepEqual(taskList(st, 'failed').map((t) => t.id), [3]);
});

test('unknown actions and events leave the state alone', () => {
	const st = loaded();
	assert.equal(reduce(st, {type: 'nope'}), st);
	assert.equal(reduce(st, ev(null, 'other', {})), st);
	assert.equal(reduce(st, ev('1-0', 'task', null)).tasks, st.tasks);
});
