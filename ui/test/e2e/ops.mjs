// The operations pages in a real browser (Debian's chromium, driven by
// playwright-core) against a running stack, through its nginx:
//   OSH_GATEWAY=... OSH_ADMIN_PASSWORD=... OSH_UI_CLUSTER=<id>
//   OSH_UI_ALERT=<alertname> [OSH_VIEWER_USER=... OSH_VIEWER_PASSWORD=...]
//   node ui/test/e2e/ops.mjs
// (tests/integration/test_ui.py prepares the cluster and the alert and
// runs it). Runs a staggered cluster job from its dry-run plan and
// watches per-server progress arrive over SSE; acks an alert with a
// comment; creates a user as admin and finds it in the audit log; checks
// a CSV file row by row without writing; scans for BMCs; as the new
// user, changes the password, reloads (the session stays) and logs out
// (it ends). axe-core on every page, light and dark (no serious or
// critical violation); screenshots in OSH_UI_SHOTS (build/ui/screenshots).
import assert from 'node:assert/strict';
import {axe, finish, go, launch, login, shot as pageShot, step} from './harness.mjs';

const GW = process.env.OSH_GATEWAY;
const ADMIN_PW = process.env.OSH_ADMIN_PASSWORD;
const CLUSTER = process.env.OSH_UI_CLUSTER;
const ALERT = process.env.OSH_UI_ALERT;
const SCAN_PORT = process.env.OSH_UI_SCAN_PORT;
assert.ok(GW && ADMIN_PW && CLUSTER && ALERT,
    'OSH_GATEWAY, OSH_ADMIN_PASSWORD, OSH_UI_CLUSTER and OSH_UI_ALERT are needed');
const RAND = Math.random().toString(36).slice(2, 8);
// Whole pages: the operations pages run long.
const shot = (page, name, scheme) => pageShot(page, name, scheme, true);

const browser = await launch(GW);

async function signedIn(scheme, user, pw, width) {
	const ctx = await browser.newContext({colorScheme: scheme, bypassCSP: true,
	    viewport: {width: width || 1280, height: 860}});
	ctx.setDefaultTimeout(90000);
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`page error: ${e}`));
	await page.goto(`${GW}/`, {waitUntil: 'domcontentloaded', timeout: 60000});
	await login(page, user, pw);
	await page.getByRole('heading', {name: 'Dashboard'}).waitFor({timeout: 60000});
	return {ctx, page};
}

const newUser = `ui-${RAND}`;
const newPw = `first-${RAND}-password`;

try {
	const {ctx, page} = await signedIn('light', 'admin', ADMIN_PW);

	await step('clusters: list, then a cluster with its members in the server table', async () => {
		await page.getByRole('navigation').getByRole('link', {name: 'Clusters'}).click();
		await page.getByRole('heading', {name: 'Clusters', exact: true}).waitFor();
		await page.locator('table a[href^="/clusters/"]').first().waitFor();
		await axe(page, 'clusters');
		await shot(page, 'clusters', 'light');
		await page.locator(`table a[href="/clusters/${CLUSTER}"]`).click();
		await page.waitForURL(`${GW}/clusters/${CLUSTER}`);
		await page.locator('.grid .row:not(.head) a', {hasText: 'sim-1'}).waitFor();
		await page.locator('.grid .row:not(.head) a', {hasText: 'sim-3'}).waitFor();
		assert.equal(await page.locator('.grid .row:not(.head):not(.placeholder)').count(), 3);
		await axe(page, 'cluster');
		await shot(page, 'cluster', 'light');
	});

	let jobUrl = null;
	await step('cluster job: staggered, planned first, then per-server progress live over SSE', async () => {
		await page.getByLabel('Action').selectOption('status');
		await page.getByLabel('Starts per interval').fill('1');
		await page.getByLabel('Interval (s)').fill('2');
		// A bad value is named before anything is sent.
		await page.getByLabel('Max failures').fill('lots');
		await page.getByRole('button', {name: 'Preview (dry run)'}).click();
		await page.getByText('a count (5) or a percentage (10%)').waitFor();
		await page.getByLabel('Max failures').fill('1');
		await page.getByRole('button', {name: 'Preview (dry run)'}).click();
		const dialog = page.getByRole('dialog');
		// A BMC the poller found unreachable (a loaded machine) is left
		// out by the plan, with its reason: the job runs on the others.
		const plan = await dialog.getByText(/\d+ servers? in \d+ waves?/).textContent();
		const [, n, waves] = /(\d+) servers? in (\d+) wave/.exec(plan).map(Number);
		assert.ok(n >= 2 && waves === n, plan);
		if (n < 3)
			await dialog.getByText(/BMC does not answer|no BMC credentials|in another running job/).first().waitFor();
		await axe(page, 'cluster job plan');
		await shot(page, 'cluster-plan', 'light');
		await dialog.getByRole('button', {name: `Read power state on ${n} servers`}).click();
		await page.waitForURL(/\/jobs\/\d+$/);
		jobUrl = new URL(page.url()).pathname;
		const bar = page.getByRole('progressbar', {name: 'Job progress'});
		await bar.waitFor();
		// Record what the bar shows as the events arrive: with one
		// start every 2 s, some server is done before the last is.
		const seen = new Set();
		const t0 = Date.now();
		for (;;) {
			const v = Number(await bar.getAttribute('aria-valuenow'));
			seen.add(v);
			if (v === n)
				break;
			assert.ok(Date.now() - t0 < 60000, `job not done in 60 s (seen ${[...seen]})`);
			await page.waitForTimeout(100);
		}
		assert.ok([...seen].some((v) => v > 0 && v < n), `no partial progress seen: ${[...seen]}`);
		assert.equal(await page.locator('tr[data-task] .badge', {hasText: 'succeeded'}).count(), n);
		await page.locator('.section-head .badge', {hasText: 'succeeded'}).waitFor();
		// Controls a finished job no longer offers say why.
		const retry = page.getByRole('button', {name: 'Retry failed'});
		assert.equal(await retry.isDisabled(), true);
		assert.match(await page.locator(`#${await retry.getAttribute('aria-describedby')}`).textContent(), /no task failed/);
		await axe(page, 'job');
		await shot(page, 'job', 'light');
	});

	await step('jobs: the list, filtered in the URL', async () => {
		await page.getByRole('navigation').getByRole('link', {name: 'Jobs'}).click();
		await page.getByRole('heading', {name: 'Jobs'}).waitFor();
		await page.locator(`a[href="${jobUrl}"]`).waitFor();
		await page.getByLabel('State').selectOption('succeeded');
		await page.getByRole('button', {name: 'Filter'}).click();
		await page.waitForURL(/\/jobs\?state=succeeded/);
		await page.locator(`a[href="${jobUrl}"]`).waitFor();
		await axe(page, 'jobs');
		await shot(page, 'jobs', 'light');
	});

	await step('alerts: ack a firing alert with a comment', async () => {
		await go(page, '/alerts');
		const row = page.locator('#firing-h').locator('xpath=ancestor::section').locator(`tr[data-alert="${ALERT}"]`);
		await row.waitFor();
		await page.getByRole('status').filter({hasText: 'live'}).first().waitFor();
		await axe(page, 'alerts');
		await row.getByRole('button', {name: 'Ack'}).click();
		const dialog = page.getByRole('dialog');
		await dialog.getByLabel('Comment').fill('looking at it from the UI test');
		await axe(page, 'ack dialog');
		await shot(page, 'alert-ack', 'light');
		await dialog.getByRole('button', {name: 'Acknowledge'}).click();
		await page.getByRole('status').filter({hasText: `Alert ${ALERT} acknowledged.`}).waitFor();
		const acked = page.locator('#acked-h').locator('xpath=ancestor::section').locator(`tr[data-alert="${ALERT}"]`);
		await acked.waitFor();
		assert.equal(await acked.getByRole('button', {name: 'Ack'}).isDisabled(), true);
		await shot(page, 'alerts', 'light');
		await page.getByRole('link', {name: 'History'}).click();
		await page.waitForURL(/tab=history/);
		await page.locator(`tr[data-alert="${ALERT}"]`).first().waitFor();
		await axe(page, 'alert history');
		await shot(page, 'alerts-history', 'light');
		await page.getByRole('link', {name: 'Maintenance windows'}).click();
		await page.getByRole('heading', {name: 'Maintenance windows'}).waitFor();
		await axe(page, 'maintenance');
		await shot(page, 'alerts-maintenance', 'light');
	});

	await step('admin: create a user, see it listed and audited', async () => {
		await page.getByRole('navigation').getByRole('link', {name: 'Admin'}).click();
		await page.getByRole('heading', {name: 'Admin'}).waitFor();
		await page.getByLabel('Username').fill(newUser);
		await page.getByLabel('Role', {exact: true}).selectOption('operator');
		await page.getByLabel('Initial password').fill(newPw);
		await page.getByRole('button', {name: 'Create user'}).click();
		await page.getByRole('status').filter({hasText: `User ${newUser} created (operator).`}).waitFor();
		await page.locator(`tr[data-user="${newUser}"]`).waitFor();
		const uid = await page.locator(`tr[data-user="${newUser}"]`).getAttribute('data-id');
		await axe(page, 'admin users');
		await shot(page, 'admin-users', 'light');
		await page.getByRole('link', {name: 'Audit log'}).click();
		await page.getByLabel('Action').fill('user.create');
		for (let i = 0; ; i++) {
			await page.getByRole('button', {name: 'Filter'}).click();
			await page.waitForURL(/action=user.create/);
			// Audit entries reach osh-auth through a Redis stream: soon.
			if (await page.locator('td', {hasText: new RegExp(`^user:${uid}$`)}).count())
				break;
			assert.ok(i < 30, 'the user.create audit entry did not come');
			await page.waitForTimeout(500);
			await go(page, '/admin?tab=audit');
			await go(page, '/admin?tab=audit&action=user.create');
		}
		await axe(page, 'audit');
		await shot(page, 'admin-audit', 'light');
	});

	await step('import: a CSV checked row by row, nothing written', async () => {
		await go(page, '/discovery?tab=csv');
		await page.getByLabel('or paste the CSV').fill(
		    `name,bmc_address\nui-csv-${RAND},10.77.0.1\nui-csv-bad-${RAND},not an address\nsim-1,10.77.0.2\n`);
		await page.getByRole('button', {name: 'Check rows'}).click();
		await page.getByText('1 row valid, 2 with errors. Nothing was written.').waitFor();
		const rows = page.locator('table tbody tr');
		assert.equal(await rows.count(), 3);
		await rows.nth(1).getByText('bmc_address').waitFor();
		await rows.nth(2).getByText(/exists already/).waitFor();
		await page.getByRole('button', {name: 'Import the 1 valid row'}).waitFor();
		await axe(page, 'csv preview');
		await shot(page, 'import-preview', 'light');
	});

	if (SCAN_PORT) {
		await step('discovery: a scan with its real progress', async () => {
			await go(page, '/discovery');
			await page.getByLabel('Addresses').fill('127.0.0.1');
			await page.getByLabel('Ports').fill(SCAN_PORT);
			await page.getByRole('button', {name: 'Start scan'}).click();
			await page.waitForURL(/\/discovery\?scan=\d+/);
			await page.getByText(/1 of 1 addresses probed \(100%\), 1 BMC found/).waitFor({timeout: 30000});
			await page.locator('.section-head .badge', {hasText: 'done'}).waitFor();
			await axe(page, 'discovery');
			await shot(page, 'discovery', 'light');
		});
	}
	await ctx.close();

	await step('a new user: password change keeps this session, reload keeps it, logout ends it', async () => {
		const {ctx: c2, page: p2} = await signedIn('light', newUser, newPw);
		await p2.getByRole('link', {name: `${newUser} (operator)`}).click();
		await p2.getByRole('heading', {name: 'Profile'}).waitFor();
		await p2.getByLabel('Current password').fill(newPw);
		await p2.getByLabel('New password', {exact: true}).fill(`${newPw}-2`);
		await p2.getByLabel('New password again').fill(`${newPw}-3`);
		await p2.getByRole('button', {name: 'Change password'}).click();
		await p2.getByText('the two new passwords differ').waitFor();
		await p2.getByLabel('New password again').fill(`${newPw}-2`);
		await p2.getByRole('button', {name: 'Change password'}).click();
		await p2.getByRole('status').filter({hasText: 'Password changed.'}).waitFor();
		await axe(p2, 'profile');
		await shot(p2, 'profile', 'light');
		await p2.reload();
		await p2.getByRole('heading', {name: 'Profile'}).waitFor();
		await p2.getByText(newUser, {exact: true}).waitFor();
		await p2.getByRole('button', {name: 'Sign out'}).click();
		await p2.waitForURL(/\/login/);
		await p2.goto(`${GW}/jobs`);
		await p2.waitForURL(/\/login\?next=%2Fjobs/);
		// The old password is refused, the new one works.
		await login(p2, newUser, newPw);
		await p2.getByRole('alert').filter({hasText: 'Sign-in failed'}).waitFor();
		await login(p2, newUser, `${newPw}-2`);
		await p2.waitForURL(`${GW}/jobs`);
		await c2.close();
	});

	if (process.env.OSH_VIEWER_USER) {
		await step('a viewer sees cluster and job controls disabled, with the reason', async () => {
			const {ctx: c3, page: p3} = await signedIn('light', process.env.OSH_VIEWER_USER, process.env.OSH_VIEWER_PASSWORD);
			await go(p3, `/clusters/${CLUSTER}`);
			const b = p3.getByRole('button', {name: 'Preview (dry run)'});
			await b.waitFor();
			assert.equal(await b.isDisabled(), true);
			assert.match(await p3.locator(`#${await b.getAttribute('aria-describedby')}`).textContent(),
			    /needs the operator role \(you are viewer\)/);
			await go(p3, jobUrl);
			const cancel = p3.getByRole('button', {name: 'Cancel job'});
			await cancel.waitFor();
			assert.equal(await cancel.isDisabled(), true);
			await go(p3, '/admin');
			await p3.getByText(/needs the admin role/).waitFor();
			assert.equal(await p3.getByRole('navigation').getByRole('link', {name: 'Admin'}).count(), 0);
			await shot(p3, 'cluster-viewer', 'light');
			await c3.close();
		});
	}

	await step('dark, and a phone: every page passes axe-core', async () => {
		const {ctx: c4, page: p4} = await signedIn('dark', 'admin', ADMIN_PW);
		const pages = [['clusters', '/clusters'], ['cluster', `/clusters/${CLUSTER}`], ['jobs', '/jobs'],
		    ['job', jobUrl], ['alerts', '/alerts'], ['alerts-history', '/alerts?tab=history'],
		    ['alerts-maintenance', '/alerts?tab=maintenance'], ['discovery', '/discovery'],
		    ['import', '/discovery?tab=csv'], ['admin-users', '/admin'], ['admin-audit', '/admin?tab=audit'],
		    ['profile', '/profile']];
		for (const [name, path] of pages) {
			if (!path)
				continue;
			await go(p4, path);
			await p4.locator('h1').first().waitFor();
			await p4.waitForFunction(() => !/Loading…/.test(document.querySelector('main').textContent));
			await p4.waitForTimeout(300);
			await axe(p4, `${name} (dark)`);
			await shot(p4, name, 'dark');
		}
		await p4.setViewportSize({width: 390, height: 844});
		for (const [name, path] of [['job', jobUrl], ['cluster', `/clusters/${CLUSTER}`], ['alerts', '/alerts']]) {
			await go(p4, path);
			await p4.waitForTimeout(800);
			await shot(p4, `${name}-phone`, 'dark');
		}
		await c4.close();
	});
} finally {
	await browser.close();
}
finish();
