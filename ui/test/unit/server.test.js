// The server page's pure logic: history charts from the metrics API's
// series, and the event log's filters and CSV.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {bySensor, extent, linePath, yOf} from '../../src/lib/chart.js';
import {filterSel, selCsv, csvField} from '../../src/lib/sel.js';

test('series are grouped by sensor, thresholds by their last value', () => {
	const g = bySensor([
		{labels: {__name__: 'ipmi_temperature_celsius', name: 'CPU'}, points: [[1, 50], [2, '52'], [3, null]]},
		{labels: {name: 'CPU', threshold: 'upper_critical'}, points: [[1, 90], [2, 95], [3, null]]},
		{labels: {__name__: 'ipmi_temperature_state', name: 'CPU'}, points: [[1, 0]]},
		{labels: {}, points: [[1, 1]]},
	]);
	assert.deepEqual(Object.keys(g), ['CPU']);
	assert.deepEqual(g.CPU.points, [[1, 50], [2, 52], [3, null]]);
	assert.deepEqual(g.CPU.thresholds, {upper_critical: 95});
});

test('extent: thresholds near the readings are in range, far ones not', () => {
	const e = extent([[0, 40], [1, 60]], {upper_critical: 90, lower_critical: -500});
	assert.ok(e.hi > 90 && e.lo > -500 && e.lo < 40);
	assert.equal(extent([[0, null]], {}), null);
	const flat = extent([[0, 5], [1, 5]], {});
	assert.ok(flat.lo < 5 && flat.hi > 5);
});

test('a null value breaks the line', () => {
	const d = linePath([[0, 0], [1, 10], [2, null], [3, 0]], 30, 10, 0, 3, 0, 10);
	assert.equal(d, 'M0.0,10.0L10.0,0.0M30.0,10.0');
	assert.equal(yOf(5, 10, 0, 10), 5);
});

const log = [
	{id: 3, timestamp: '2026-12-01T10:00:00Z', sensor: 'PSU 12V', sensor_type: 'Voltage', description: 'Lower Critical going low', severity: 'critical', direction: 'assertion', raw: 'aa'},
	{id: 2, timestamp: '2026-11-01T09:00:00Z', sensor: 'Fan 1', sensor_type: 'Fan', description: 'going low', severity: 'warning', direction: 'deassertion', raw: 'bb'},
	{id: 1, timestamp: null, seconds_since_init: 12, sensor: 'Sys', sensor_type: 'System', description: '=HYPERLINK("x"), "quoted"', severity: 'nominal', raw: 'cc'},
];

test('event log filters', () => {
	assert.equal(filterSel(log, {}).length, 3);
	assert.deepEqual(filterSel(log, {severity: 'critical'}).map((e) => e.id), [3]);
	assert.deepEqual(filterSel(log, {direction: 'deassertion'}).map((e) => e.id), [2]);
	assert.deepEqual(filterSel(log, {text: 'FAN'}).map((e) => e.id), [2]);
	assert.deepEqual(filterSel(log, {since: Date.parse('2026-11-15')}).map((e) => e.id), [3]);
});

test('CSV: quoted where needed, formulas defused, time since BMC start', () => {
	assert.equal(csvField('a,b'), '"a,b"');
	assert.equal(csvField('=1+1'), "'=1+1");
	assert.equal(csvField(null), '');
	const csv = selCsv(log).split('\r\n');
	assert.equal(csv[0], 'id,timestamp,severity,direction,sensor,sensor_type,description,raw');
	assert.equal(csv[1], '3,2026-12-01T10:00:00Z,critical,assertion,PSU 12V,Voltage,Lower Critical going low,aa');
	assert.equal(csv[3], `1,12 s after BMC start,nominal,,Sys,System,"'=HYPERLINK(""x""), ""quoted""",cc`);
	assert.equal(csv[4], '');
});
