// The portal at scale, in Chromium: how long a seller waits for the
// subscriptions list's first rows, for a filter or a search to apply, and
// for a subscription to open, on a data directory seeded by the cost curve
// (scripts/bench-portal.sh seeds one of 1,000,000 subscriptions). Prints
// the median and the slowest of MARKETGATE_BENCH_PORTAL_RUNS runs (7) of
// each, measured from the user's action to the rows (or the page) on
// screen. Not a test: nothing is asserted about time.
//
//   MARKETGATE_BENCH_PORTAL_DIR=<data dir> node e2e/bench-portal.mjs
import { spawn } from 'node:child_process';
import { BIN, EMAIL, PASSWORD, freePort, waitHealthy, launchBrowser, signInAt } from './harness.mjs';

const dir = process.env.MARKETGATE_BENCH_PORTAL_DIR;
if (!dir) {
  console.error('set MARKETGATE_BENCH_PORTAL_DIR to a seeded data directory');
  process.exit(2);
}
const runs = Number(process.env.MARKETGATE_BENCH_PORTAL_RUNS || 7);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const proc = spawn(BIN, ['serve', '--sandbox', '--addr', `127.0.0.1:${port}`, '--data-dir', dir], {
  env: { ...process.env, MARKETGATE_ADMIN_EMAIL: EMAIL, MARKETGATE_ADMIN_PASSWORD: PASSWORD },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
proc.stdout.on('data', (d) => (log = (log + d).slice(-20000)));
proc.stderr.on('data', (d) => (log = (log + d).slice(-20000)));
await waitHealthy(base, proc).catch((err) => {
  console.error(log);
  throw err;
});
const browser = await launchBrowser();
const times = {};
const record = (name, ms) => (times[name] ??= []).push(ms);
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await signInAt(page, base, EMAIL, PASSWORD);
  // On start the server seals and sends the hours missed since the data
  // directory was last used (at a million subscriptions, minutes of both
  // cores): the portal is measured once that is done.
  const began = performance.now();
  for (let quiet = 0; quiet < 2 && performance.now() - began < 20 * 60_000; ) {
    const h = (await (await page.request.get(base + '/api/metering/health')).json()).health;
    quiet = h.pending === 0 && h.unsealed_usage_hours === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 5000));
  }
  console.log(`waited ${((performance.now() - began) / 1000).toFixed(0)} s for the metering backlog to be sent`);
  const firstRow = page.getByTestId('subscription-row').first();
  const firstState = () =>
    page.waitForFunction(
      (s) => (document.querySelector('[data-testid=subscription-row] [data-testid=state]')?.textContent ?? '').toLowerCase().includes(s),
      'suspended',
    );
  let total = '';
  for (let i = 0; i < runs + 1; i++) {
    const keep = i > 0; // the first run warms the caches (browser and database)
    let t0 = performance.now();
    await page.goto(base + '/subscriptions');
    await firstRow.waitFor();
    if (keep) record('first rows of the list', performance.now() - t0);
    total = (await page.getByTestId('pager-summary').textContent()) ?? '';

    t0 = performance.now();
    await page.getByLabel('State').selectOption('suspended');
    await firstState();
    if (keep) record('filter by state applied', performance.now() - t0);

    t0 = performance.now();
    await page.getByLabel('Offer').selectOption({ index: 2 });
    await page.waitForURL((u) => u.searchParams.has('offer'));
    await firstState();
    await firstRow.waitFor();
    if (keep) record('then by offer', performance.now() - t0);

    await page.goto(base + '/subscriptions');
    await firstRow.waitFor();
    t0 = performance.now();
    await page.getByLabel('Search').fill('northwind');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=subscription-row]')].slice(0, 5).every((r) => /northwind/i.test(r.textContent ?? '')) &&
      document.querySelectorAll('[data-testid=subscription-row]').length > 0,
    );
    if (keep) record('search "northwind" (a quarter of all)', performance.now() - t0);

    t0 = performance.now();
    await firstRow.click();
    await page.waitForURL(/\/subscriptions\/\d+/);
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    await page.locator('h1').first().waitFor();
    if (keep) record('open a subscription', performance.now() - t0);
  }
  console.log(`portal in Chromium, ${total.trim()}; ${runs} runs each (after one to warm up):`);
  for (const [name, ms] of Object.entries(times)) {
    const s = [...ms].sort((a, b) => a - b);
    console.log(`  ${name}: median ${s[s.length >> 1].toFixed(0)} ms, slowest ${s[s.length - 1].toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  proc.kill('SIGTERM');
}
