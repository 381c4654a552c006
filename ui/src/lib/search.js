// The server search language: whitespace-separated terms, each either
// free text or field:value (value may be "quoted"). Pure: parse() turns
// the text into the API's query parameters (GET /api/servers) and the
// errors a user should see; format() writes terms back as text.

export const POWER = ['on', 'off', 'unknown'];
export const STATUS = ['unknown', 'online', 'offline', 'auth_failed', 'error'];

// field -> how a value maps to query parameters. A field may appear once,
// except label (requirements joined into one selector).
const FIELDS = {
	power: {param: 'power_state', values: POWER},
	status: {param: 'status', values: STATUS},
	cluster: {param: 'cluster'},
	manufacturer: {param: 'manufacturer'},
	name: {param: 'name'},
	label: {param: 'labels', multi: true},
};
export const FIELD_NAMES = Object.keys(FIELDS);

const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:(?:==|=|!=)[^\s,()=!]+)?$|^![A-Za-z_][A-Za-z0-9_]*$/;

// Splits text into raw terms: {field, value} or {text}. A quote keeps
// spaces; a quote left open runs to the end.
export function tokenize(input) {
	const out = [];
	const s = String(input || '');
	let i = 0;
	while (i < s.length) {
		while (i < s.length && /\s/.test(s[i]))
			i++;
		if (i >= s.length)
			break;
		let raw = '';
		let word = '';
		while (i < s.length && !/\s/.test(s[i])) {
			if (s[i] === '"') {
				raw += s[i++];
				while (i < s.length && s[i] !== '"') {
					raw += s[i];
					word += s[i++];
				}
				if (i < s.length)
					raw += s[i++];
			} else {
				raw += s[i];
				word += s[i++];
			}
		}
		const m = /^([a-z_]+):/i.exec(raw);
		if (m && FIELDS[m[1].toLowerCase()])
			out.push({field: m[1].toLowerCase(),
			    value: word.slice(m[0].length)});
		else if (word !== '')
			out.push({text: word});
	}
	return out;
}

// Parses search text into {params, errors, terms}. params holds only
// the API's parameter names; errors are sentences naming the term.
export function parse(input) {
	const terms = tokenize(input);
	const params = {};
	const errors = [];
	const text = [];
	const labels = [];
	for (const t of terms) {
		if (t.text !== undefined) {
			text.push(t.text);
			continue;
		}
		const f = FIELDS[t.field];
		const v = t.value;
		if (v === '') {
			errors.push(`${t.field}: needs a value`);
			continue;
		}
		if (f.values && !f.values.includes(v.toLowerCase())) {
			errors.push(`${t.field}:${v} is not one of ${f.values.join(', ')}`);
			continue;
		}
		if (f.multi) {
			if (!LABEL_RE.test(v)) {
				errors.push(`label:${v} is not key=value, key!=value, key or !key`);
				continue;
			}
			labels.push(v);
			continue;
		}
		if (params[f.param] !== undefined && params[f.param] !== v) {
			errors.push(`${t.field}: given twice`);
			continue;
		}
		params[f.param] = f.values ? v.toLowerCase() : v;
	}
	if (labels.length)
		params.labels = labels.join(',');
	if (text.length)
		params.q = text.join(' ');
	if (params.q && params.q.length > 256)
		errors.push('search text is longer than 256 characters');
	return {params, errors, terms};
}

function quote(v) {
	return /[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v;
}

// Writes {field: value} (label may be an array) back as search text, in
// a stable order: the inverse of parse() for what it accepts.
export function format(fields) {
	const out = [];
	for (const name of FIELD_NAMES) {
		const v = fields[name];
		if (v === undefined || v === null || v === '')
			continue;
		for (const one of Array.isArray(v) ? v : [v])
			out.push(`${name}:${quote(String(one))}`);
	}
	if (fields.text)
		out.push(fields.text);
	return out.join(' ');
}

// The search text with one field set (replacing that field's terms) or
// removed (value null): for facets and dashboard links.
export function withField(input, field, value) {
	const kept = tokenize(input).filter((t) => t.field !== field);
	const parts = kept.map((t) => t.text !== undefined ? quote(t.text) :
	    `${t.field}:${quote(t.value)}`);
	if (value !== null && value !== undefined && value !== '')
		parts.unshift(`${field}:${quote(String(value))}`);
	return parts.join(' ');
}

// The search text without its i-th term (of tokenize()): a facet chip's
// remove button.
export function withoutTerm(input, i) {
	return tokenize(input).filter((t, j) => j !== i).map((t) => (t.text !== undefined ?
	    quote(t.text) : `${t.field}:${quote(t.value)}`)).join(' ');
}
