// Browser test of issue 19, item 5 (a sandbox that shows every view): a
// fresh sandbox is walked as a newcomer would — the dashboard, metering,
// notifications, webhooks and alerts pages — and none shows only zeros or
// an empty state: the charts have drawn data, the tables have rows, and
// the demo's month shows its failures with the marketplaces' own reasons
// (AWS's CustomerNotSubscribed and DuplicateRecord, Microsoft's
// ResourceNotActive), a refused SNS message, a webhook endpoint that
// accepts and one that fails, and alerts. Each page is screenshotted and
// checked with axe.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, checkA11y, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';

/** Rows of the page's data tables, once some have rendered. */
async function tableRows(page, selector = 'table.mg-table tbody tr') {
  await page.locator(selector).first().waitFor({ timeout: 20_000 });
  return page.locator(selector).count();
}

describe('the sandbox demo shows every view with data', () => {
  let mg;
  let browser;
  let page;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  it('dashboard: the charts draw the month of usage', async () => {
    await page.goto(mg.base + '/');
    await page.locator('.recharts-surface').first().waitFor({ timeout: 20_000 });
    // Drawn shapes (bars, areas, lines) with a real extent, not an empty plot.
    const drawn = await page.evaluate(() => {
      const shapes = document.querySelectorAll('.recharts-surface path.recharts-rectangle, .recharts-surface path.recharts-curve, .recharts-surface path.recharts-area-area');
      return [...shapes].filter((s) => s.getBBox().width > 0 && s.getBBox().height > 0).length;
    });
    await screenshot(page, 'sandbox-demo-dashboard');
    assert.ok(drawn > 0, 'no drawn chart shape on the dashboard');
    await checkA11y(page, 'sandbox-demo-dashboard');
  });

  it('metering: records in every status, with the marketplaces\u2019 reasons', async () => {
    await page.goto(mg.base + '/metering');
    assert.ok((await tableRows(page)) > 0, 'no metering records');
    await screenshot(page, 'sandbox-demo-metering');
    await checkA11y(page, 'sandbox-demo-metering');
    for (const [status, reason] of [
      ['rejected', 'CustomerNotSubscribed'],
      ['rejected', 'ResourceNotActive'],
      ['duplicate', 'DuplicateRecord'],
      ['conflict', 'Microsoft already holds'],
      ['expired', '24-hour window'],
    ]) {
      await page.goto(`${mg.base}/metering?status=${status}`);
      assert.ok((await tableRows(page)) > 0, `no ${status} records`);
      await page.getByText(reason).first().waitFor({ timeout: 10_000 });
    }
    await screenshot(page, 'sandbox-demo-metering-expired');
  });

  it('notifications: a refused message beside the processed ones', async () => {
    await page.goto(mg.base + '/notifications');
    assert.ok((await tableRows(page)) > 10, 'few inbound messages');
    await page.goto(mg.base + '/notifications?status=failed');
    assert.ok((await tableRows(page)) > 0, 'no failed inbound message');
    await screenshot(page, 'sandbox-demo-notifications-failed');
    await checkA11y(page, 'sandbox-demo-notifications');
  });

  it('webhooks: an endpoint delivering, one failing', async () => {
    await page.goto(mg.base + '/webhooks');
    assert.equal(await tableRows(page), 2, 'the demo has two endpoints');
    await page.getByText('webhooks.sandbox.invalid/billing').first().waitFor();
    await page.getByText('webhooks.sandbox.invalid/legacy-crm').first().waitFor();
    await screenshot(page, 'sandbox-demo-webhooks');
    await checkA11y(page, 'sandbox-demo-webhooks');
    for (const [name, shot] of [
      ['webhooks.sandbox.invalid/billing', 'sandbox-demo-webhook-delivered'],
      ['webhooks.sandbox.invalid/legacy-crm', 'sandbox-demo-webhook-failing'],
    ]) {
      await page.goto(mg.base + '/webhooks');
      await page.getByText(name).first().click();
      await page.waitForURL(/\/webhooks\/\d+/);
      assert.ok((await tableRows(page)) > 0, `no deliveries for ${name}`);
      await screenshot(page, shot);
    }
    await page.getByText(/HTTP 500/).first().waitFor({ timeout: 10_000 });
    await checkA11y(page, 'sandbox-demo-webhook-failing');
  });

  it('alerts: raised by the sweep', async () => {
    await page.goto(mg.base + '/alerts');
    assert.ok((await tableRows(page)) >= 4, 'few alerts');
    await page.getByText(/refused metering records/).first().waitFor();
    await screenshot(page, 'sandbox-demo-alerts');
    await checkA11y(page, 'sandbox-demo-alerts');
  });
});
