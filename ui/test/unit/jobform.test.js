import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildJob, planSummary, DESTRUCTIVE, optionsText} from '../../src/lib/jobform.js';

test('defaults make a plain cluster job', () => {
	const {body, errors} = buildJob({action: 'on'}, {cluster: 3}, false);
	assert.deepEqual(errors, []);
	assert.deepEqual(body, {action: 'on', targets: {cluster: 3}, concurrency: 32});
});

test('stagger overall and per label value, canary, max failures, dry run', () => {
	const {body, errors} = buildJob({action: 'cycle', concurrency: '8',
	    staggerCount: '4', staggerInterval: '10', staggerLabel: 'rack',
	    staggerLabelCount: '1', canary: '2', maxFailures: '10%'},
	{cluster: 1}, true);
	assert.deepEqual(errors, []);
	assert.deepEqual(body, {action: 'cycle', targets: {cluster: 1},
	    concurrency: 8, stagger: {count: 4, interval_s: 10, label: 'rack',
		label_count: 1}, canary: 2, max_failures: '10%', dry_run: true});
});

test('each bad field is named', () => {
	const {body, errors} = buildJob({action: 'on', concurrency: '0',
	    staggerCount: 'x', staggerLabel: '9bad', staggerLabelCount: '',
	    canary: '101', maxFailures: 'many'}, {cluster: 1}, false);
	assert.equal(body, null);
	assert.deepEqual(errors.map((e) => e.field).sort(), ['canary',
	    'concurrency', 'maxFailures', 'staggerCount', 'staggerLabel',
	    'staggerLabelCount']);
});

test('a label limit needs the overall one', () => {
	const {errors} = buildJob({action: 'on', staggerLabel: 'rack'}, {cluster: 1});
	assert.deepEqual(errors.map((e) => e.field), ['staggerCount']);
	assert.equal(buildJob({action: 'on', maxFailures: '150%'}, {cluster: 1}).errors[0].field, 'maxFailures');
});

test('boot and identify carry their options', () => {
	assert.deepEqual(buildJob({action: 'boot', bootDevice: 'disk', bootPersistent: true}, {cluster: 1}).body.boot,
	    {device: 'disk', persistent: true});
	assert.equal(buildJob({action: 'identify', identifySeconds: '0'}, {cluster: 1}).body.identify_seconds, 0);
	assert.equal(buildJob({action: 'halt'}, {cluster: 1}).errors[0].field, 'action');
});

test('destructive actions and the plan sentence', () => {
	assert.deepEqual(DESTRUCTIVE, ['soft', 'off', 'cycle', 'reset']);
	assert.equal(planSummary({servers: [{id: 1}, {id: 2}], left_out: [{id: 3}],
	    waves: [{wave: 0}, {wave: 1}], estimated_duration_s: 12.4}),
	'2 servers in 2 waves, about 12 s; 1 left out');
});

test('stored options read as a sentence', () => {
	assert.equal(optionsText({canary: 0, verify: false, retries: 2,
	    stagger: {count: 1, label: null, interval_ms: 2000, label_count: 0},
	    timeout_s: 30, concurrency: 32, max_failures: 1, max_failures_percent: null}),
	'32 at a time · stagger 1 per 2 s · stop past 1 failed · 2 retries · timeout 30 s');
	assert.equal(optionsText({concurrency: 8, stagger: {count: 4, interval_ms: 1000, label: 'rack', label_count: 1},
	    canary: 2, max_failures: null, max_failures_percent: 10, verify: true, verify_timeout_s: 60}),
	'8 at a time · stagger 4 per 1 s, 1 per rack · 2 canary · stop past 10% failed · verify within 60 s');
	assert.equal(optionsText(null), '');
});
