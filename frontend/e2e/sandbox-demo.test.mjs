// Browser test of issue 19, item 5 (a sandbox that shows every view): a
// fresh sandbox is walked as a newcomer would — every page of the seller's
// console — and none shows only zeros or an empty state: the charts have
// drawn data, the tables have rows, and
// the demo's month shows its failures with the marketplaces' own reasons
// (AWS's CustomerNotSubscribed and DuplicateRecord, Microsoft's
// ResourceNotActive), a refused SNS message, a webhook endpoint that
// accepts and one that fails, alerts, agreements nearing their end, change
// requests answered and waiting, a Microsoft webhook refused, and the
// audit log of it all. Each page is screenshotted and checked with axe.
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

  it('dashboard: the charts have bars, the metering tiles numbers', async () => {
    await page.goto(mg.base + '/');
    await page.getByTestId('day-chart').waitFor({ timeout: 20_000 });
    // Bars with a height (the coloured ones, not the transparent link areas).
    const bars = await page.evaluate(
      () => [...document.querySelectorAll('[data-testid=day-chart] rect')].filter((r) => r.getAttribute('fill') !== 'transparent' && Number(r.getAttribute('height')) > 0).length,
    );
    assert.ok(bars > 0, 'the new/ended chart draws no bar');
    // The month's mishaps are recent enough for the tiles: refused in the
    // last 24 hours, expired in the last 7 days.
    for (const id of ['metering-failed', 'metering-expired']) {
      const n = Number((await page.getByTestId(id).innerText()).replace(/\D/g, ''));
      assert.ok(n > 0, `${id} shows ${n}`);
    }
    assert.ok(Number((await page.getByTestId('stat-inbox-failed').innerText()).replace(/\D/g, '')) > 0, 'no failed inbound message on the dashboard');
    await screenshot(page, 'sandbox-demo-dashboard');
    await checkA11y(page, 'sandbox-demo-dashboard');
  });

  it('usage: a metered subscription charts its month', async () => {
    const res = await page.request.get(mg.base + '/api/metering/records?status=duplicate&limit=1');
    assert.equal(res.status(), 200);
    const body = await res.json();
    const rec = (body.records ?? body.items ?? body)[0];
    assert.ok(rec?.subscription_id, 'no duplicate record to find its subscription: ' + JSON.stringify(body).slice(0, 200));
    await page.goto(`${mg.base}/subscriptions/${rec.subscription_id}`);
    await page.getByRole('tab', { name: 'Metering' }).click();
    await page.locator('.recharts-surface').first().waitFor({ timeout: 20_000 });
    const drawn = await page.evaluate(
      () => [...document.querySelectorAll('.recharts-surface path, .recharts-surface rect')].filter((s) => s.getBBox().width > 0 && s.getBBox().height > 0).length,
    );
    assert.ok(drawn > 2, 'the usage chart draws nothing');
    await screenshot(page, 'sandbox-demo-usage-chart');
  });

  it('metering: records in every status, with the marketplaces\u2019 reasons', async () => {
    await page.goto(mg.base + '/metering');
    assert.ok((await tableRows(page)) > 0, 'no metering records');
    await screenshot(page, 'sandbox-demo-metering');
    await checkA11y(page, 'sandbox-demo-metering');
    for (const [status, reason] of [
      ['rejected&marketplace=aws', 'CustomerNotSubscribed'],
      ['rejected&marketplace=azure', 'ResourceNotActive'],
      ['duplicate', 'DuplicateRecord'],
      ['conflict', 'Microsoft already holds'],
      ['expired&marketplace=aws', '24-hour window'],
      ['expired&marketplace=azure', '24-hour window'],
    ]) {
      await page.goto(`${mg.base}/metering?status=${status}`);
      assert.ok((await tableRows(page)) > 0, `no ${status} records`);
      await page.getByText(reason).first().waitFor({ timeout: 10_000 });
      // The reasons wrap: the page does not scroll sideways at 1,400 px.
      const sideways = await page.evaluate(() => {
        const main = document.querySelector('main');
        return main.scrollWidth - main.clientWidth;
      });
      assert.ok(sideways <= 1, `${status}: the metering page scrolls sideways by ${sideways} px`);
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
    const res = await page.request.get(mg.base + '/api/webhooks');
    assert.equal(res.status(), 200);
    const list = await res.json();
    const endpoints = list.items ?? list.endpoints ?? list;
    for (const [path, shot, answer] of [
      ['/billing', 'sandbox-demo-webhook-delivered', '204'],
      ['/legacy-crm', 'sandbox-demo-webhook-failing', '500'],
    ]) {
      const ep = endpoints.find((e) => e.url.endsWith(path));
      assert.ok(ep, `no endpoint ${path} in ${JSON.stringify(list).slice(0, 200)}`);
      await page.goto(`${mg.base}/webhooks/${ep.id}`);
      // Delivered (204) at the one, failed (500) and retried at the other.
      await page.locator('table.mg-table tbody tr', { hasText: answer }).first().waitFor({ timeout: 20_000 });
      await screenshot(page, shot);
    }
    await page.getByTestId('disabled-callout').waitFor({ timeout: 10_000 });
    await checkA11y(page, 'sandbox-demo-webhook-failing');
  });

  it('alerts: raised by the sweep', async () => {
    await page.goto(mg.base + '/alerts');
    assert.ok((await tableRows(page)) >= 4, 'few alerts');
    await page.getByText(/refused metering records/).first().waitFor();
    await screenshot(page, 'sandbox-demo-alerts');
    await checkA11y(page, 'sandbox-demo-alerts');
  });
  it("the seller's desk: renewals, change requests, team and the audit log", async () => {
    await page.goto(mg.base + '/renewals');
    assert.ok((await tableRows(page, '[data-testid=renewal-row]')) >= 2, 'agreements nearing their end');
    await page.getByTestId('renewal-row').filter({ hasText: 'buyer' }).first().waitFor();
    await screenshot(page, 'sandbox-demo-renewals');
    await checkA11y(page, 'sandbox-demo-renewals');

    // The queue: the AWS request waits; the answered ones under "all".
    await page.goto(mg.base + '/change-requests');
    await page.getByTestId('queue-row').first().waitFor({ timeout: 20_000 });
    await page.goto(mg.base + '/change-requests?status=');
    await tableRows(page, '[data-testid=queue-row]');
    for (const status of ['pending', 'approved', 'declined']) {
      assert.ok((await page.locator(`[data-testid=queue-row][data-status=${status}]`).count()) > 0, `no ${status} change request`);
    }
    await screenshot(page, 'sandbox-demo-change-requests');
    await checkA11y(page, 'sandbox-demo-change-requests');

    await page.goto(mg.base + '/users');
    await page.getByTestId('invite-row').filter({ hasText: 'finance@example.com' }).waitFor({ timeout: 20_000 });
    await screenshot(page, 'sandbox-demo-users');

    await page.goto(mg.base + '/audit');
    assert.ok((await tableRows(page, '[data-testid=audit-row]')) >= 8, 'few audit entries');
    for (const action of ['change_request.approve', 'change_request.decline', 'customer_admin.join', 'webhook.create', 'inbox.replayed']) {
      await page.getByTestId('audit-row').filter({ hasText: action }).first().waitFor();
    }
    await screenshot(page, 'sandbox-demo-audit');
    await checkA11y(page, 'sandbox-demo-audit');
  });

  it('notifications: a Microsoft webhook Get Operation does not confirm is refused beside the forged SNS message', async () => {
    await page.goto(mg.base + '/notifications?status=failed');
    assert.ok((await tableRows(page, '[data-testid=inbox-row]')) >= 2, 'one failed message per marketplace');
    await page.getByTestId('inbox-row').filter({ hasText: 'rejected_unverified' }).filter({ hasText: 'Microsoft' }).first().waitFor();
    await screenshot(page, 'sandbox-demo-notifications-failed');
  });

  it('no page of the console is empty', async () => {
    for (const path of ['/subscriptions', '/customers', '/offers', '/metering', '/notifications', '/renewals', '/change-requests?status=', '/webhooks', '/alerts', '/users', '/audit']) {
      await page.goto(mg.base + path);
      await page.locator('table tbody tr').first().waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('.bp6-non-ideal-state').count(), 0, `${path} shows an empty state`);
    }
  });
});
