// Small history charts of the server page, as SVG paths: pure
// arithmetic from the metrics API's series (points [t, v], v null for
// NaN) to path data, thresholds included in the scale.

// Groups a metrics answer's series by sensor name: {name: {points,
// thresholds: {upper_critical: v, ...}}}; a threshold is its last value.
export function bySensor(series) {
	const out = {};
	for (const s of series || []) {
		const name = s.labels && s.labels.name;
		if (!name)
			continue;
		const e = out[name] || (out[name] = {points: [], thresholds: {}});
		const pts = (s.points || []).map(([t, v]) => [Number(t), v === null ? null : Number(v)])
		    .filter(([t, v]) => Number.isFinite(t) && (v === null || Number.isFinite(v)));
		if (s.labels.threshold) {
			const last = pts.filter(([, v]) => v !== null).pop();
			if (last)
				e.thresholds[s.labels.threshold] = last[1];
		} else if (!(s.labels.__name__ || '').includes('_state')) {
			e.points = e.points.concat(pts);
		}
	}
	return out;
}

// The value range to draw: the readings and the thresholds near them
// (a threshold far outside would flatten the line: kept when within
// twice the readings' span), padded 5%; a flat line gets a span of 1.
export function extent(points, thresholds) {
	const vs = points.map(([, v]) => v).filter((v) => v !== null);
	if (!vs.length)
		return null;
	let lo = Math.min(...vs);
	let hi = Math.max(...vs);
	const span = Math.max(hi - lo, Math.abs(hi) * 0.1, 1);
	for (const t of Object.values(thresholds || {})) {
		if (t >= lo - 2 * span && t <= hi + 2 * span) {
			lo = Math.min(lo, t);
			hi = Math.max(hi, t);
		}
	}
	if (hi === lo) {
		hi += 0.5;
		lo -= 0.5;
	}
	const pad = (hi - lo) * 0.05;
	return {lo: lo - pad, hi: hi + pad};
}

// Path data of points in a w x h box over [t0, t1] x [lo, hi]; a null
// value breaks the line (a gap, not a fall to zero).
export function linePath(points, w, h, t0, t1, lo, hi) {
	const dt = t1 - t0 || 1;
	const dv = hi - lo || 1;
	let d = '';
	let pen = false;
	for (const [t, v] of points) {
		if (v === null) {
			pen = false;
			continue;
		}
		const x = ((t - t0) / dt) * w;
		const y = h - ((v - lo) / dv) * h;
		d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
		pen = true;
	}
	return d;
}

// The y of value v in the same box (for threshold lines).
export function yOf(v, h, lo, hi) {
	return h - ((v - lo) / ((hi - lo) || 1)) * h;
}
