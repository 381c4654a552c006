// CSV for the import preview: RFC 4180 (quoted fields, "" inside quotes,
// CRLF or LF), and the rows joined with the API's per-row results. Pure.

// Parses text into an array of rows (arrays of strings). Blank lines are
// dropped; at most max rows are kept (the API takes 5000 and a header).
export function parseCsv(text, max = 5001) {
	const rows = [];
	let row = [];
	let field = '';
	let quoted = false;
	let i = 0;
	const s = String(text || '').replace(/^\uFEFF/, '');
	const endRow = () => {
		row.push(field);
		field = '';
		if (!(row.length === 1 && row[0] === ''))
			rows.push(row);
		row = [];
	};
	while (i < s.length && rows.length < max) {
		const c = s[i];
		if (quoted) {
			if (c === '"' && s[i + 1] === '"') {
				field += '"';
				i += 2;
				continue;
			}
			if (c === '"')
				quoted = false;
			else
				field += c;
			i++;
			continue;
		}
		if (c === '"' && field === '')
			quoted = true;
		else if (c === ',') {
			row.push(field);
			field = '';
		} else if (c === '\n' || c === '\r') {
			if (c === '\r' && s[i + 1] === '\n')
				i++;
			endRow();
		} else
			field += c;
		i++;
	}
	if ((field !== '' || row.length) && rows.length < max)
		endRow();
	return rows;
}

// Rows of an import preview: each data row's name and BMC address (from
// the header's columns) with its result ({row, status, error}) from the
// API, whose row numbers count data rows from 0.
export function previewRows(rows, results) {
	if (!rows.length)
		return [];
	const head = rows[0].map((h) => h.trim().toLowerCase());
	const col = (name) => head.indexOf(name);
	const byRow = new Map((results || []).map((r) => [r.row, r]));
	return rows.slice(1).map((r, i) => ({
		line: i + 2,
		name: col('name') >= 0 ? r[col('name')] || '' : '',
		bmc_address: col('bmc_address') >= 0 ? r[col('bmc_address')] || '' : '',
		result: byRow.get(i) || null,
	}));
}
