// Browser test: a metered subscription's usage on the seller's subscription
// page, against the real binary in sandbox mode (its demo data has a usage
// history): the chart is drawn with every hour of the period, hovering it
// shows the exact figures, the records sent to the marketplace are listed
// with their status, the CSV downloads with the same numbers, in English
// and in Japanese.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EMAIL, PASSWORD, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';

const require = createRequire(import.meta.url);

describe('usage in a real browser', () => {
  let mg;
  let browser;
  let page;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'en-US', bypassCSP: true });
    page = await context.newPage();
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  async function failed(name, err) {
    const path = await screenshot(page, name);
    console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-3000));
    throw err;
  }

  /** Fails the test on a serious or critical accessibility violation inside selector (axe-core, injected: the context bypasses the CSP for it). */
  async function axe(selector) {
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async (sel) => {
      const r = await globalThis.axe.run(sel, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.nodes.map((n) => n.target).join(' '));
    }, selector);
    assert.deepEqual(violations, []);
  }

  it('draws the usage of the last 7 days by hour with tooltips, lists the records, and downloads the CSV', async () => {
    try {
      // A subscription the demo month metered all month: the one whose hours another system of
      // the seller's metered first (AWS answered DuplicateRecord). The newest accepted record is
      // no guide: once the server runs, every metered subscription has zero records too.
      const id = await page.evaluate(async () => {
        const r = await fetch('/api/metering/records?status=duplicate&marketplace=aws&limit=1');
        return (await r.json()).items[0]?.subscription_id;
      });
      assert.ok(id, 'the sandbox has metered usage');
      await page.goto(`${mg.base}/subscriptions/${id}?tab=metering`);
      await page.getByLabel('Period').selectOption('last7');
      await page.getByTestId('usage-chart').first().waitFor();

      // Every hour of the 7 days is on the chart (idle ones marked at zero).
      const chart = page.getByTestId('usage-chart').first();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=usage-chart] .recharts-bar-rectangle').length > 0);
      const slots = await chart.locator('.recharts-bar-rectangle').count();
      assert.equal(slots, 7 * 24, `one bar slot per hour (got ${slots})`);
      assert.ok((await chart.locator('.recharts-xAxis .recharts-cartesian-axis-tick').count()) >= 3, 'a time axis with ticks');

      // Hovering shows the hour's exact figures.
      // (force: the hour's own bar may lie over its background slot; the tooltip follows the pointer either way)
      const plot = chart.locator('.recharts-bar-background-rectangle').nth(80);
      await plot.hover({ force: true });
      const tip = page.getByTestId('usage-tooltip');
      await tip.waitFor();
      const text = await tip.textContent();
      assert.match(text, /Used: [\d,.]+/);
      assert.match(text, /Sent to the marketplace: [\d,.]+/);
      assert.match(text, /Accepted by the marketplace: [\d,.]+/);
      await screenshot(page, 'usage-seller-tooltip');

      // The records sent, with their status.
      await page.getByTestId('usage-record').first().waitFor();
      const statuses = await page.getByTestId('usage-record-status').allTextContents();
      assert.ok(statuses.includes('Accepted'), 'records with their status: ' + statuses.join(','));

      // The CSV is the same report.
      const href = await page.getByTestId('usage-csv').getAttribute('href');
      const report = await page.evaluate(async (u) => (await fetch(u.replace('&format=csv', ''))).json(), href);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('usage-csv').click()]);
      assert.match(download.suggestedFilename(), new RegExp(`^usage-${id}-\\d{8}-hour\\.csv$`));
      const rows = readFileSync(await download.path(), 'utf8').trim().split('\n').map((l) => l.split(','));
      const head = rows[0];
      assert.deepEqual(head.slice(0, 8), ['dimension', 'name', 'unit', 'granularity', 'start_utc', 'used', 'sent', 'accepted']);
      const buckets = report.dimensions.flatMap((d) => d.buckets.map((b) => ({ d: d.key, ...b })));
      assert.equal(rows.length - 1, buckets.length);
      buckets.forEach((b, i) => {
        const r = rows[i + 1];
        assert.equal(r[0], b.d);
        assert.equal(Date.parse(r[4]), Date.parse(b.at));
        assert.equal(Number(r[5]), b.used);
        assert.equal(Number(r[6]), b.sent);
      });
      await axe('.mg-usage');
    } catch (err) {
      await failed('usage-failure', err);
    }
  });

  it('reads in Japanese, daily', async () => {
    try {
      await page.evaluate(() => localStorage.setItem('marketgate.lang', 'ja'));
      await page.reload();
      await page.getByLabel('期間').selectOption('last7');
      await page.getByRole('button', { name: '日', exact: true }).click();
      const chart = page.getByTestId('usage-chart').first();
      await chart.waitFor();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=usage-chart] .recharts-bar-rectangle').length > 0);
      const days = await chart.locator('.recharts-bar-rectangle').count();
      assert.ok(days === 8 || days === 7, `a bar slot per UTC day (got ${days})`);
      assert.match(await chart.getAttribute('aria-label'), /の使用量（\d{4}\/\d{2}\/\d{2} ～ \d{4}\/\d{2}\/\d{2}）$/);
      // (force: as above, the day's own bar may lie over the middle of its slot, depending on the
      // demo data's hours, which follow the clock)
      await chart.locator('.recharts-bar-background-rectangle').nth(2).hover({ force: true });
      assert.match(await page.getByTestId('usage-tooltip').textContent(), /使用量：[\d,.]+/);
      await page.getByText('CSV をダウンロード').waitFor();
      await page.getByText('マーケットプレイスへ送信したレコード').waitFor();
      await screenshot(page, 'usage-seller-ja');
    } catch (err) {
      await failed('usage-ja-failure', err);
    } finally {
      await page.evaluate(() => localStorage.removeItem('marketgate.lang'));
    }
  });
});
