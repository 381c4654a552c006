// A cluster-wide job's form (strings as typed) turned into the body of
// POST /api/jobs (JobInput in proto/openapi.yaml), with an error per
// field a person can fix before anything is sent. Pure.

export const ACTIONS = [
	['status', 'Read power state', false],
	['on', 'Power on', false],
	['soft', 'Shut down (ACPI, graceful)', true],
	['off', 'Power off (forced)', true],
	['cycle', 'Power cycle', true],
	['reset', 'Reset', true],
	['identify', 'Identify LED', false],
	['boot', 'Set boot device', false],
];
// Actions that interrupt what runs on the servers: confirmed first.
export const DESTRUCTIVE = ACTIONS.filter((a) => a[2]).map((a) => a[0]);

export const FORM_DEFAULTS = {action: 'status', concurrency: '32',
    staggerCount: '', staggerInterval: '1', staggerLabel: '',
    staggerLabelCount: '', canary: '0', maxFailures: '',
    bootDevice: 'pxe', bootPersistent: false, identifySeconds: '15'};

function int(v, field, min, max, errors) {
	const s = String(v ?? '').trim();
	if (!/^\d+$/.test(s)) {
		errors.push({field, message: `a whole number from ${min} to ${max}`});
		return null;
	}
	const n = Number(s);
	if (n < min || n > max) {
		errors.push({field, message: `from ${min} to ${max}`});
		return null;
	}
	return n;
}

// Returns {body, errors}; body is null when errors is not empty.
// targets is the JobTargets object ({cluster: id} for a cluster).
export function buildJob(form, targets, dryRun) {
	const f = {...FORM_DEFAULTS, ...form};
	const errors = [];
	if (!ACTIONS.some((a) => a[0] === f.action))
		errors.push({field: 'action', message: 'choose an action'});
	const body = {action: f.action, targets};
	const conc = int(f.concurrency, 'concurrency', 1, 256, errors);
	if (conc !== null)
		body.concurrency = conc;
	if (String(f.staggerCount).trim() !== '') {
		const stagger = {};
		const c = int(f.staggerCount, 'staggerCount', 1, 100000, errors);
		const iv = int(f.staggerInterval || '1', 'staggerInterval', 1, 3600, errors);
		if (c !== null)
			stagger.count = c;
		if (iv !== null)
			stagger.interval_s = iv;
		const label = String(f.staggerLabel || '').trim();
		if (label !== '') {
			if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label))
				errors.push({field: 'staggerLabel', message: 'a label name (letters, digits, _)'});
			else
				stagger.label = label;
			const lc = int(f.staggerLabelCount, 'staggerLabelCount', 1, 100000, errors);
			if (lc !== null)
				stagger.label_count = lc;
		} else if (String(f.staggerLabelCount || '').trim() !== '') {
			errors.push({field: 'staggerLabel', message: 'name the label whose values are limited'});
		}
		body.stagger = stagger;
	} else if (String(f.staggerLabel || '').trim() !== '') {
		errors.push({field: 'staggerCount', message: 'set the starts per interval overall too'});
	}
	const canary = int(f.canary || '0', 'canary', 0, 100, errors);
	if (canary)
		body.canary = canary;
	const mf = String(f.maxFailures || '').trim();
	if (mf !== '') {
		if (/^\d+$/.test(mf))
			body.max_failures = Number(mf);
		else if (/^\d{1,3}%$/.test(mf) && Number(mf.slice(0, -1)) <= 100)
			body.max_failures = mf;
		else
			errors.push({field: 'maxFailures', message: 'a count (5) or a percentage (10%)'});
	}
	if (f.action === 'boot')
		body.boot = {device: f.bootDevice, persistent: !!f.bootPersistent};
	if (f.action === 'identify') {
		const s = int(f.identifySeconds, 'identifySeconds', 0, 255, errors);
		if (s !== null)
			body.identify_seconds = s;
	}
	if (dryRun)
		body.dry_run = true;
	return errors.length ? {body: null, errors} : {body, errors};
}

// The sentence a person reads about a plan (POST /api/jobs dry_run).
export function planSummary(plan) {
	const n = plan.servers.length;
	const out = plan.left_out.length;
	const waves = plan.waves.length;
	const secs = Math.round(plan.estimated_duration_s || 0);
	return `${n} server${n === 1 ? '' : 's'} in ${waves} wave${waves === 1 ? '' : 's'}` +
	    `, about ${secs} s` + (out ? `; ${out} left out` : '');
}

// Why a server is left out of a job, in words.
export const LEFT_OUT = {
	not_found: 'no such server any more',
	no_credentials: 'no BMC credentials stored',
	unreachable: 'its BMC does not answer',
	leased: 'in another running job',
};

// A job's stored options (Job.options) as a short sentence.
export function optionsText(o) {
	if (!o)
		return '';
	const out = [];
	if (o.concurrency)
		out.push(`${o.concurrency} at a time`);
	const st = o.stagger;
	if (st && st.count) {
		const secs = st.interval_ms ? st.interval_ms / 1000 : st.interval_s || 1;
		out.push(`stagger ${st.count} per ${secs} s` +
		    (st.label ? `, ${st.label_count} per ${st.label}` : ''));
	}
	if (o.canary)
		out.push(`${o.canary} canary`);
	if (o.max_failures_percent !== null && o.max_failures_percent !== undefined)
		out.push(`stop past ${o.max_failures_percent}% failed`);
	else if (o.max_failures !== null && o.max_failures !== undefined)
		out.push(`stop past ${o.max_failures} failed`);
	if (o.retries !== undefined)
		out.push(`${o.retries} retries`);
	if (o.timeout_s)
		out.push(`timeout ${o.timeout_s} s`);
	if (o.verify)
		out.push(`verify within ${o.verify_timeout_s || 120} s`);
	return out.join(' · ');
}
