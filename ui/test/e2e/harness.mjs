// What the browser tests (browser.mjs, ops.mjs) share: the browser, named
// steps with a tally, axe-core, in-app navigation, screenshots, sign-in.
import {chromium} from 'playwright-core';
import {mkdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = process.env.OSH_UI_SHOTS || join(here, '..', '..', '..', 'build', 'ui', 'screenshots');
mkdirSync(SHOTS, {recursive: true});

const tally = {passed: 0, failed: 0};

// Runs one named step: a failure is reported and counted, the next runs.
export async function step(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		tally.passed++;
		console.log(`ok   ${name} (${Date.now() - t0} ms)`);
	} catch (e) {
		tally.failed++;
		console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
	}
}

// Prints the tally and exits with it.
export function finish() {
	console.log(`${tally.passed} passed, ${tally.failed} failed`);
	process.exit(tally.failed ? 1 : 0);
}

// axe-core on the page as it is: no serious or critical violation.
// Returns how many violations of any impact it found.
export async function axe(page, what) {
	await page.addScriptTag({content: AXE});
	const res = await page.evaluate(async () => {
		// eslint-disable-next-line no-undef
		const r = await axe.run(document, {resultTypes: ['violations']});
		return r.violations.map((v) => ({id: v.id, impact: v.impact,
		    help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
	});
	const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	assert.deepEqual(bad, [], `${what}: axe violations ${JSON.stringify(bad, null, 1)}`);
	return res.length;
}

// In-app navigation (the History API, as a click on a link does): a
// page load would start a new document, whose memory holds no access
// token (the cookie restores it, but slower).
export async function go(page, path) {
	await page.evaluate((p) => {
		history.pushState(null, '', p);
		dispatchEvent(new PopStateEvent('popstate'));
	}, path);
}

export async function shot(page, name, scheme, fullPage = false) {
	await page.screenshot({path: join(SHOTS, `${name}-${scheme}.png`), fullPage});
}

export async function login(page, user, pw) {
	await page.getByLabel('Username').fill(user);
	await page.getByLabel('Password').fill(pw);
	await page.getByRole('button', {name: 'Sign in'}).click();
}

// Debian's chromium (OSH_CHROMIUM elsewhere). Chromium refuses some ports
// (10080, say) that a port offset can give the gateway: it allows gw's.
export function launch(gw) {
	return chromium.launch({executablePath: process.env.OSH_CHROMIUM || '/usr/bin/chromium',
	    args: ['--no-sandbox', '--disable-dev-shm-usage',
		`--explicitly-allowed-ports=${new URL(gw).port || 80}`]});
}
