// The web UI in a real browser (Debian's chromium, driven by
// playwright-core) against a running stack, through its nginx:
//   OSH_GATEWAY=http://127.0.0.1:18080 OSH_ADMIN_PASSWORD=... \
//   OSH_VIEWER_USER=... OSH_VIEWER_PASSWORD=... node ui/test/e2e/browser.mjs
// (tests/integration/test_ui.py runs it in the integration suite).
// Logs in and lands on the page asked for, searches, opens a server and
// each of its sections, powers it off (confirmed) and on, uses the
// list's facets, group by, columns, ticks, keys and a job after its
// dry-run preview, shows API errors with their request
// id, checks what a reload does to the session, logs out, checks a
// viewer's disabled buttons and their reasons, and runs axe-core on each
// page in light and dark (no serious or critical violation). Screenshots
// of every page go to OSH_UI_SHOTS (build/ui/screenshots).
import {readFileSync} from 'node:fs';
import assert from 'node:assert/strict';
import {axe, finish, go, launch, login, shot, step} from './harness.mjs';

const GW = process.env.OSH_GATEWAY;
const ADMIN_PW = process.env.OSH_ADMIN_PASSWORD;
const COOKIE_SESSION = process.env.OSH_UI_COOKIE_SESSION !== '0';
assert.ok(GW && ADMIN_PW, 'OSH_GATEWAY and OSH_ADMIN_PASSWORD are needed');

const browser = await launch(GW);
const errors = [];

async function context(scheme) {
	// bypassCSP only lets the test inject axe-core; the UI itself runs
	// under the gateway's CSP in the CSP check below.
	const ctx = await browser.newContext({colorScheme: scheme, bypassCSP: true,
	    viewport: {width: 1280, height: 800}});
	ctx.setDefaultTimeout(15000);
	return ctx;
}

try {
	// The UI under the real CSP: no violation reported, no page error.
	await step('loads under the gateway CSP without violations', async () => {
		const ctx = await browser.newContext();
		const page = await ctx.newPage();
		page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
		page.on('pageerror', (e) => errors.push(String(e)));
		await page.goto(`${GW}/`);
		await page.getByLabel('Username').waitFor();
		await login(page, 'admin', ADMIN_PW);
		await page.getByRole('heading', {name: 'Dashboard'}).waitFor();
		await go(page, '/servers');
		await page.getByRole('heading', {name: 'Servers'}).waitFor();
		assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/.test(e)), []);
		await ctx.close();
	});

	for (const scheme of ['light', 'dark']) {
		const ctx = await context(scheme);
		const page = await ctx.newPage();
		let serverUrl = null;

		await step(`${scheme}: login, then back to the page asked for`, async () => {
			await page.goto(`${GW}/servers?q=sim-2`);
			await page.waitForURL(/\/login\?next=/);
			await page.getByLabel('Username').waitFor();
			await axe(page, 'login');
			await shot(page, 'login', scheme);
			await login(page, 'admin', 'wrong-password');
			await page.getByRole('alert').filter({hasText: 'Sign-in failed'}).waitFor();
			await page.getByRole('alert').filter({hasText: 'Request id'}).waitFor();
			await shot(page, 'login-error', scheme);
			await login(page, 'admin', ADMIN_PW);
			await page.waitForURL(`${GW}/servers?q=sim-2`);
			await page.getByRole('link', {name: 'sim-2', exact: true}).waitFor();
		});

		await step(`${scheme}: dashboard tiles link to the filtered list; back and forward`, async () => {
			await page.getByRole('navigation').getByRole('link', {name: 'Dashboard'}).click();
			await page.getByRole('heading', {name: 'Dashboard'}).waitFor();
			const on = page.locator('a.tile', {hasText: 'Powered on'});
			await page.waitForFunction(() => !document.body.textContent.includes('…'));
			await axe(page, 'dashboard');
			await shot(page, 'dashboard', scheme);
			await on.click();
			await page.waitForURL(`${GW}/servers?q=power%3Aon`);
			assert.equal(await page.getByLabel('Search servers').inputValue(), 'power:on');
			await page.goBack();
			await page.getByRole('heading', {name: 'Dashboard'}).waitFor();
			await page.goForward();
			await page.waitForURL(/q=power%3Aon/);
			await page.locator('.grid .row:not(.head)').first().waitFor();
		});

		await step(`${scheme}: search by field:value and text, errors shown`, async () => {
			await go(page, '/servers');
			const box = page.getByLabel('Search servers');
			await box.fill('power:maybe');
			await box.press('Enter');
			await page.getByRole('alert').filter({hasText: 'power:maybe is not one of'}).waitFor();
			await box.fill('label:env=simulated sim-3');
			await box.press('Enter');
			await page.waitForURL(/label%3Aenv%3Dsimulated/);
			await page.getByRole('link', {name: 'sim-3', exact: true}).waitFor();
			await page.getByText(/^1 server$/).waitFor();
			assert.equal(await page.locator('.grid .row:not(.head)').count(), 1);
			await page.goBack();
			await page.waitForURL(/q=power%3Amaybe/);
			await page.waitForFunction(() => document.getElementById('server-search').value === 'power:maybe');
			await box.fill('');
			await box.press('Enter');
			await page.getByText(/^\d+ servers?/).waitFor();
			await axe(page, 'servers');
			await shot(page, 'servers', scheme);
			// Keyboard: j j moves to the second row, k back to the first.
			await page.locator('h1').click();
			await page.keyboard.press('j');
			await page.keyboard.press('j');
			await page.waitForFunction(() => document.activeElement &&
			    document.activeElement.closest('.row[aria-rowindex="3"]'));
			await page.keyboard.press('k');
			await page.waitForFunction(() => document.activeElement &&
			    document.activeElement.closest('.row[aria-rowindex="2"]'));
			await page.keyboard.press('/');
			await page.waitForFunction(() => document.activeElement.id === 'server-search');
			if (scheme === 'light') {
				await page.setViewportSize({width: 390, height: 844});
				await shot(page, 'servers-phone', scheme);
				await page.setViewportSize({width: 1280, height: 800});
			}
			await box.fill('sim-2');
			await box.press('Enter');
			await page.getByRole('link', {name: 'sim-2', exact: true}).click();
			await page.waitForURL(/\/servers\/\d+$/);
			serverUrl = page.url();
			await page.getByRole('heading', {name: 'sim-2'}).waitFor();
			await page.locator('dd .badge.power').waitFor();
			await axe(page, 'server');
			await shot(page, 'server', scheme);
			if (scheme === 'light') {
				await page.setViewportSize({width: 390, height: 844});
				await shot(page, 'server-phone', scheme);
				await page.setViewportSize({width: 1280, height: 800});
			}
		});

		await step(`${scheme}: the server's sections: sensors, event log, inventory, credentials, history`, async () => {
			const tabs = page.getByRole('navigation', {name: 'Server sections'});
			const open = async (name, tab) => {
				await tabs.getByRole('link', {name}).click();
				await page.waitForURL(new RegExp(`\\?tab=${tab}$`));
			};
			await open('Sensors', 'sensors');
			await page.locator('table.table tbody tr').first().waitFor();
			// State badges carry an icon and a word, not only a colour.
			assert.match(await page.locator('tbody .badge.sensor').first().textContent(), /[✔▲✖?] (Nominal|Warning|Critical|Unknown)/);
			// History: a chart per sensor once Prometheus has scraped, or
			// "no history" (never an error box for a known server).
			await page.waitForFunction(() => document.querySelectorAll('tbody svg.spark, tbody td:last-child .muted').length > 0);
			await axe(page, 'server sensors');
			await shot(page, 'server-sensors', scheme);
			await open('Event log', 'sel');
			await page.getByText(/entries in the log|The log is empty/).first().waitFor();
			await axe(page, 'server event log');
			await shot(page, 'server-sel', scheme);
			if (scheme === 'light' && await page.locator('table.table tbody tr').count() > 0) {
				// Export: the entries shown, as CSV.
				const [dl] = await Promise.all([page.waitForEvent('download'),
				    page.getByRole('button', {name: /^Export CSV/}).click()]);
				assert.equal(dl.suggestedFilename(), 'sel-sim-2.csv');
				assert.match(readFileSync(await dl.path(), 'utf8'), /^id,timestamp,severity,direction,sensor,/);
				// Clear asks first; cancelled, the log stays.
				await page.getByRole('button', {name: 'Clear the log'}).click();
				const d = page.getByRole('dialog');
				await d.getByText(/deleted from the BMC for good/).waitFor();
				await d.getByRole('button', {name: 'Cancel'}).click();
				await d.waitFor({state: 'hidden'});
			}
			await open('Inventory', 'inventory');
			await page.getByRole('heading', {name: 'BMC', exact: true}).waitFor();
			await axe(page, 'server inventory');
			await shot(page, 'server-inventory', scheme);
			await open('Credentials', 'credentials');
			await page.getByText('Credentials are stored').waitFor();
			// The stored password is never in the page.
			assert.equal(await page.getByLabel('Password').inputValue(), '');
			await page.getByRole('button', {name: 'Test the connection'}).click();
			await page.getByRole('status').filter({hasText: 'Connection test'}).getByText('Online').waitFor({timeout: 20000});
			await axe(page, 'server credentials');
			await shot(page, 'server-credentials', scheme);
			await open('History', 'history');
			await page.getByRole('heading', {name: 'Audit'}).waitFor();
			await page.waitForFunction(() => !/Loading/.test(document.getElementById('main').textContent));
			await axe(page, 'server history');
			await shot(page, 'server-history', scheme);
			await page.goBack();
			await page.waitForURL(/\?tab=credentials$/);
			await tabs.getByRole('link', {name: 'Summary'}).click();
			await page.waitForURL(/\/servers\/\d+$/);
		});

		if (scheme === 'light') {
			await step('power off from the server page, confirmed, then on', async () => {
				// Another test may have left it off: on first, then.
				if (/Off/.test(await page.locator('dd .badge.power').textContent())) {
					await page.getByRole('button', {name: 'Power on'}).click();
					await page.getByRole('status').filter({hasText: 'done, the server is on'}).waitFor({timeout: 30000});
				}
				await page.getByRole('button', {name: 'Power off (forced)'}).click();
				const dialog = page.getByRole('dialog');
				await dialog.waitFor();
				await axe(page, 'confirm dialog');
				await shot(page, 'server-confirm', scheme);
				await dialog.getByRole('button', {name: 'Cancel'}).click();
				await dialog.waitFor({state: 'hidden'});
				await page.getByRole('button', {name: 'Power off (forced)'}).click();
				await dialog.getByRole('button', {name: 'Power off (forced)'}).click();
				await page.getByRole('status').filter({hasText: 'done, the server is off'}).waitFor({timeout: 30000});
				await page.locator('dd .badge.power', {hasText: 'Off'}).waitFor();
				await page.getByRole('button', {name: 'Power on'}).click();
				await page.getByRole('status').filter({hasText: 'done, the server is on'}).waitFor({timeout: 30000});
				await page.locator('dd .badge.power', {hasText: 'On'}).waitFor();
			});

			await step('the list: facets, group by, columns kept, ticks, keys and a job after its preview', async () => {
				await go(page, '/servers');
				await page.locator('.spacer .row a').first().waitFor();
				// A facet writes its term into the search, in the URL.
				await page.getByRole('combobox', {name: 'Power', exact: true}).selectOption('on');
				await page.waitForURL(/q=power%3Aon/);
				// The box follows the URL on the render after it changes.
				await page.waitForFunction(() => document.getElementById('server-search').value === 'power:on',
				    null, {timeout: 5000}).catch(() => {});
				assert.equal(await page.getByLabel('Search servers').inputValue(), 'power:on');
				await page.getByRole('button', {name: 'Remove power:on'}).click();
				await page.waitForURL(/\/servers$/);
				// Group by power: one folded group per state, opened on demand.
				await page.getByRole('combobox', {name: 'Group by'}).selectOption('power');
				await page.waitForURL(/group=power/);
				const g = page.locator('details.group').first();
				await g.locator('summary').click();
				await g.locator('.spacer .row a').first().waitFor();
				await axe(page, 'servers grouped');
				await shot(page, 'servers-grouped', 'light');
				await page.goBack();
				await page.waitForURL(/\/servers$/);
				// Columns: Serial shown, kept over a reload.
				await page.getByText('Columns', {exact: true}).click();
				await page.getByRole('checkbox', {name: 'Serial'}).check();
				await page.getByRole('columnheader', {name: 'Serial'}).waitFor();
				await page.reload();
				await page.getByRole('columnheader', {name: 'Serial'}).waitFor();
				await page.getByText('Columns', {exact: true}).click();
				await page.getByRole('checkbox', {name: 'Serial'}).uncheck();
				await page.getByText('Columns', {exact: true}).click();
				// Ticks: a click, then shift-click two rows down: three.
				const boxes = page.locator('.spacer .row input[type=checkbox]');
				await boxes.nth(0).click();
				await boxes.nth(2).click({modifiers: ['Shift']});
				await page.getByText('3 servers selected').waitFor();
				// Keys: j moves, x unticks the current row.
				await page.locator('h1').click();
				await page.keyboard.press('j');
				await page.keyboard.press('x');
				await page.getByText('2 servers selected').waitFor();
				await page.getByRole('button', {name: 'Select all', exact: false}).click();
				await page.getByText(/^All \d+ servers selected$/).waitFor();
				await page.getByText(/the whole fleet/).waitFor();
				await page.getByRole('button', {name: 'Clear'}).click();
				// A job on one server: previewed (dry run), then run.
				const box = page.getByLabel('Search servers');
				await box.fill('label:env=simulated sim-3');
				await box.press('Enter');
				await page.getByText(/^1 server$/).waitFor();
				await page.getByRole('button', {name: 'Select all 1 matching'}).click();
				await page.getByRole('button', {name: 'Identify', exact: true}).click();
				const dialog = page.getByRole('dialog');
				await dialog.getByText('Identify: preview').waitFor();
				await dialog.getByText(/1 server/).first().waitFor();
				await axe(page, 'job preview');
				await shot(page, 'servers-preview', 'light');
				await dialog.getByRole('button', {name: 'Identify: 1 server'}).click();
				await page.getByRole('status').filter({hasText: /job \d+/}).waitFor({timeout: 20000});
				await shot(page, 'servers-job', 'light');
				// Forced off on the whole fleet: the preview says what and
				// is cancelled, nothing runs.
				await box.fill('');
				await box.press('Enter');
				await page.getByRole('button', {name: /^Select all \d+ matching$/}).click();
				await page.getByRole('button', {name: 'Power off (forced)'}).click();
				await dialog.getByText(/cuts power at once/).waitFor();
				await dialog.getByRole('button', {name: 'Cancel'}).click();
				await dialog.waitFor({state: 'hidden'});
			});

			await step('API errors show their message and request id', async () => {
				await go(page, '/servers/999999');
				const err = page.getByRole('alert');
				await err.filter({hasText: 'Request id'}).waitFor();
				await err.filter({hasText: 'not_found'}).waitFor();
				await shot(page, 'error', scheme);
				await go(page, new URL(serverUrl).pathname);
				await page.getByRole('heading', {name: 'sim-2'}).waitFor();
			});
		}

		await step(`${scheme}: reload ${COOKIE_SESSION ? 'keeps the session' : 'asks to log in again (refresh token in memory)'}`, async () => {
			await page.reload();
			if (COOKIE_SESSION) {
				await page.getByRole('heading', {name: 'sim-2'}).waitFor();
			} else {
				await page.waitForURL(/\/login\?next=%2Fservers%2F\d+/);
				await login(page, 'admin', ADMIN_PW);
				await page.waitForURL(serverUrl);
			}
			await go(page, '/jobs');
			await page.getByRole('heading', {name: 'Jobs'}).waitFor();
			await go(page, new URL(serverUrl).pathname);
			await page.getByRole('heading', {name: 'sim-2'}).waitFor();
		});

		await step(`${scheme}: logout ends the session`, async () => {
			await page.getByRole('button', {name: 'Sign out'}).click();
			await page.waitForURL(/\/login/);
			await page.goto(`${GW}/servers`);
			await page.waitForURL(/\/login\?next=%2Fservers/);
		});
		await ctx.close();
	}

	if (process.env.OSH_VIEWER_USER) {
		await step('a viewer sees power buttons disabled, with the reason', async () => {
			const ctx = await context('light');
			const page = await ctx.newPage();
			await page.goto(`${GW}/servers?q=sim-1`);
			await login(page, process.env.OSH_VIEWER_USER, process.env.OSH_VIEWER_PASSWORD);
			await page.getByRole('link', {name: 'sim-1', exact: true}).click();
			await page.getByRole('heading', {name: 'sim-1'}).waitFor();
			for (const name of ['Power on', 'Power off (forced)', 'Reset']) {
				const b = page.getByRole('button', {name});
				assert.equal(await b.isDisabled(), true, name);
				const why = await b.getAttribute('aria-describedby');
				assert.match(await page.locator(`#${why}`).textContent(), /needs the operator role \(you are viewer\)/);
			}
			await axe(page, 'server as viewer');
			await shot(page, 'server-viewer', 'light');
			await page.getByRole('navigation', {name: 'Server sections'}).getByRole('link', {name: 'Event log'}).click();
			const clear = page.getByRole('button', {name: 'Clear the log'});
			await clear.waitFor();
			assert.equal(await clear.isDisabled(), true);
			assert.match(await page.locator(`#${await clear.getAttribute('aria-describedby')}`).textContent(), /needs the operator role/);
			await page.getByRole('navigation', {name: 'Server sections'}).getByRole('link', {name: 'History'}).click();
			await page.getByText('The audit log needs the admin role (you are viewer).').waitFor();
			// The list's action bar: every action disabled, the reason said.
			await go(page, '/servers');
			await page.locator('.spacer .row a').first().waitFor();
			await page.locator('.spacer .row input[type=checkbox]').first().click();
			for (const name of ['Power on', 'Power off (forced)', 'Identify', 'Add to cluster']) {
				const b = page.getByRole('button', {name, exact: true});
				assert.equal(await b.isDisabled(), true, name);
				assert.match(await page.locator(`#${await b.getAttribute('aria-describedby')}`).textContent(),
				    /needs the operator role \(you are viewer\)/);
			}
			await axe(page, 'servers as viewer');
			await shot(page, 'servers-viewer', 'light');
			await ctx.close();
		});
	}
} finally {
	await browser.close();
}
finish();
