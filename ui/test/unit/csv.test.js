import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseCsv, previewRows} from '../../src/lib/csv.js';

test('quoted fields, doubled quotes, CRLF and blank lines', () => {
	const t = 'name,bmc_address,labels\r\n"a, b",10.0.0.1,"k=""v"""\r\n\r\nc,10.0.0.2,\n';
	assert.deepEqual(parseCsv(t), [['name', 'bmc_address', 'labels'],
	    ['a, b', '10.0.0.1', 'k="v"'], ['c', '10.0.0.2', '']]);
});

test('no final newline, BOM, and a row cap', () => {
	assert.deepEqual(parseCsv('\uFEFFx,y\n1,2'), [['x', 'y'], ['1', '2']]);
	assert.equal(parseCsv('a\nb\nc\nd', 2).length, 2);
	assert.deepEqual(parseCsv(''), []);
});

test('preview joins rows with the API results by data row', () => {
	const rows = parseCsv('name,bmc_address\nx,1.1.1.1\ny,bad\n');
	const p = previewRows(rows, [{row: 0, status: 'valid'},
	    {row: 1, status: 'error', error: {field: 'bmc_address', message: 'bad'}}]);
	assert.deepEqual(p.map((r) => [r.line, r.name, r.bmc_address, r.result.status]),
	    [[2, 'x', '1.1.1.1', 'valid'], [3, 'y', 'bad', 'error']]);
	assert.equal(previewRows([], []).length, 0);
});
