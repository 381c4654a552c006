// The list's URL state, the API query built from it, and where login
// may send the user back to.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readState, writeState, apiQuery, safeNext} from '../../src/lib/urlstate.js';
import {visibleRange, needsMore, pagesIn} from '../../src/lib/window.js';

test('defaults read from an empty query', () => {
	assert.deepEqual(readState(''), {q: '', sort: 'name', group: ''});
	assert.equal(writeState({q: '', sort: 'name'}), '');
});

test('round trip through the URL', () => {
	const st = {q: 'power:on label:rack=r1', sort: '-last_seen', group: ''};
	const s = writeState(st);
	assert.equal(s, '?q=power%3Aon+label%3Arack%3Dr1&sort=-last_seen');
	assert.deepEqual(readState(s), st);
});

test('invalid sort falls back to the default', () => {
	assert.equal(readState('?sort=drop+table').sort, 'name');
});

test('apiQuery: sorted parameters, sort, limit and cursor', () => {
	assert.equal(apiQuery({q: 'a b', power_state: 'on'}, 'name', 500, null),
	    'power_state=on&q=a+b&sort=name&limit=500');
	assert.equal(apiQuery({}, '-id', 10, 'abc=='),
	    'sort=-id&limit=10&cursor=abc%3D%3D');
});

test('safeNext keeps only paths of this origin', () => {
	assert.equal(safeNext('/servers?q=x'), '/servers?q=x');
	assert.equal(safeNext('//evil.example/'), '/');
	assert.equal(safeNext('/\\evil.example'), '/');
	assert.equal(safeNext('https://evil.example/'), '/');
	assert.equal(safeNext('/login?next=/x'), '/');
	assert.equal(safeNext(null), '/');
});

test('visibleRange renders a screenful plus overscan', () => {
	assert.deepEqual(visibleRange(10000, 40, 0, 400, 10), {start: 0, end: 21});
	assert.deepEqual(visibleRange(10000, 40, 4000, 400, 10), {start: 90, end: 121});
	assert.deepEqual(visibleRange(10000, 40, 400000, 400, 10), {start: 9990, end: 10000});
	assert.deepEqual(visibleRange(0, 40, 0, 400, 10), {start: 0, end: 0});
	assert.deepEqual(visibleRange(5, 40, -50, 400, 2), {start: 0, end: 5});
});

test('needsMore asks for a page before the end is reached', () => {
	assert.equal(needsMore(500, 495, true, 10), true);
	assert.equal(needsMore(500, 100, true, 10), false);
	assert.equal(needsMore(500, 495, false, 10), false);
});

test('pagesIn: the fetched pages that hold rows of a range', () => {
	const pages = [{at: 0, n: 100}, {at: 100, n: 500}, {at: 600, n: 500}, {at: 1100, n: 0}];
	assert.deepEqual(pagesIn(pages, 0, 30).map((p) => p.at), [0]);
	assert.deepEqual(pagesIn(pages, 90, 130).map((p) => p.at), [0, 100]);
	assert.deepEqual(pagesIn(pages, 600, 601).map((p) => p.at), [600]);
	assert.deepEqual(pagesIn(pages, 1100, 1200), []);
	assert.deepEqual(pagesIn(pages, 5, 5), []);
});
