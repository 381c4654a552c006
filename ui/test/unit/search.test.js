// The search language: terms to API query parameters, errors, and back.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parse, format, tokenize, withField, withoutTerm} from '../../src/lib/search.js';

test('free text becomes q', () => {
	assert.deepEqual(parse('sim-1').params, {q: 'sim-1'});
	assert.deepEqual(parse('  rack  12 ').params, {q: 'rack 12'});
	assert.deepEqual(parse('').params, {});
});

test('fields map to the API parameters', () => {
	const r = parse('power:on status:offline cluster:c1 manufacturer:Dell name:web');
	assert.deepEqual(r.errors, []);
	assert.deepEqual(r.params, {power_state: 'on', status: 'offline',
	    cluster: 'c1', manufacturer: 'Dell', name: 'web'});
});

test('field names and enumerated values ignore case', () => {
	assert.deepEqual(parse('Power:OFF STATUS:Auth_Failed').params,
	    {power_state: 'off', status: 'auth_failed'});
});

test('labels join into one selector', () => {
	assert.deepEqual(parse('label:rack=r12 label:role!=lab label:!gpu').params,
	    {labels: 'rack=r12,role!=lab,!gpu'});
});

test('quoted values keep spaces', () => {
	assert.deepEqual(parse('cluster:"blue team" "two words"').params,
	    {cluster: 'blue team', q: 'two words'});
	assert.deepEqual(tokenize('name:"open'), [{field: 'name', value: 'open'}]);
});

test('mixed text and fields', () => {
	assert.deepEqual(parse('web power:on 42').params,
	    {power_state: 'on', q: 'web 42'});
});

test('unknown fields are text', () => {
	assert.deepEqual(parse('rack:12').params, {q: 'rack:12'});
});

test('errors name the term', () => {
	assert.match(parse('power:maybe').errors[0], /power:maybe is not one of on, off, unknown/);
	assert.match(parse('status:').errors[0], /status: needs a value/);
	assert.match(parse('label:a,b').errors[0], /label:a,b/);
	assert.match(parse('cluster:a cluster:b').errors[0], /given twice/);
	assert.deepEqual(parse('cluster:a cluster:a').errors, []);
	assert.match(parse('x'.repeat(257)).errors[0], /256/);
});

test('format is the inverse of parse', () => {
	const text = format({power: 'on', status: 'online', label: ['rack=r1', 'env=prod'], cluster: 'blue team', text: 'web'});
	assert.equal(text, 'power:on status:online cluster:"blue team" label:rack=r1 label:env=prod web');
	assert.deepEqual(parse(text).params, {power_state: 'on', status: 'online',
	    cluster: 'blue team', labels: 'rack=r1,env=prod', q: 'web'});
	assert.equal(format({}), '');
});

test('withField replaces or removes one field', () => {
	assert.equal(withField('web power:on', 'power', 'off'), 'power:off web');
	assert.equal(withField('web power:on', 'power', null), 'web');
	assert.equal(withField('', 'status', 'offline'), 'status:offline');
});

test('withoutTerm drops one term, keeps the rest and their quotes', () => {
	const q = 'power:on label:rack=r1 "big box" label:env=lab';
	assert.equal(withoutTerm(q, 0), 'label:rack=r1 "big box" label:env=lab');
	assert.equal(withoutTerm(q, 3), 'power:on label:rack=r1 "big box"');
	assert.equal(withoutTerm('power:on', 0), '');
	assert.equal(withoutTerm('cluster:"web 1" x', 1), 'cluster:"web 1"');
});
