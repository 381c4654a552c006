// The system event log's filters and CSV export, pure.

// Entries matching f: {severity, direction, text, since (ms)}; empty
// members match everything.
export function filterSel(entries, f) {
	const text = (f.text || '').trim().toLowerCase();
	return entries.filter((e) => {
		if (f.severity && e.severity !== f.severity)
			return false;
		if (f.direction && e.direction !== f.direction)
			return false;
		if (f.since && (!e.timestamp || Date.parse(e.timestamp) < f.since))
			return false;
		if (text && !`${e.sensor} ${e.sensor_type} ${e.description}`.toLowerCase().includes(text))
			return false;
		return true;
	});
}

export const SEL_COLUMNS = ['id', 'timestamp', 'severity', 'direction', 'sensor',
    'sensor_type', 'description', 'raw'];

// A CSV field: quoted when it holds a comma, quote or line break; a
// leading =, +, - or @ is prefixed with ' so that a spreadsheet does not
// run it as a formula.
export function csvField(v) {
	let s = v === null || v === undefined ? '' : String(v);
	if (/^[=+\-@]/.test(s))
		s = `'${s}`;
	return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function selCsv(entries) {
	const lines = [SEL_COLUMNS.join(',')];
	for (const e of entries)
		lines.push(SEL_COLUMNS.map((k) => csvField(k === 'timestamp' && !e.timestamp &&
		    e.seconds_since_init !== null && e.seconds_since_init !== undefined ?
		    `${e.seconds_since_init} s after BMC start` : e[k])).join(','));
	return `${lines.join('\r\n')}\r\n`;
}
