// Browser test of issue 20's agreement page and renewals: a seller admin
// opens the agreement of a sandbox AWS subscription (concurrent
// agreements) — its terms as the simulated Agreement Service describes
// them through the real SDK client — then plays AWS's renewal moments in
// /sandbox/aws ("advance to 90 days before the end": Purchase Agreement
// Ending; "turn auto-renew off (by the buyer)": Purchase Agreement
// Amended) and sees them on the agreement page, in Renewals, and as an
// alert.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, checkA11y, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';

describe('AWS agreement page and renewals in a real browser', () => {
  let mg;
  let browser;
  let page;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    page = await ctx.newPage();
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  async function failed(name) {
    console.error('screenshot:', await screenshot(page, name));
    console.error('server log:\n' + mg.log().slice(-4000));
  }

  it('shows the terms, then the ending and the buyer turning auto-renew off, in Renewals and as an alert', async () => {
    try {
      // A concurrent-agreements subscription on the sandbox's buyer page: its form has the renewal controls.
      // Not one of the demo month's, whose agreements AWS already said are ending.
      await page.goto(mg.base + '/sandbox/aws');
      const ending = await page.evaluate(async () => {
        const r = await (await fetch('/api/renewals?all=true')).json();
        return (r.items ?? []).map((x) => String(x.subscription_id));
      });
      const ids = await page.locator('form.sandbox-sub', { has: page.locator('select[name=days]') }).locator('input[name=subscription]').evaluateAll((els) => els.map((e) => e.value));
      const subId = ids.find((id) => !ending.includes(id));
      assert.ok(Number(subId) > 0, 'a concurrent-agreements subscription is listed');

      // Its agreement page, linked from the subscription's page.
      await page.goto(`${mg.base}/subscriptions/${subId}`);
      await page.getByTestId('agreement-link').click();
      await page.waitForURL(new RegExp(`/subscriptions/${subId}/agreement$`));
      assert.equal(await page.getByTestId('agreement-status').textContent(), 'ACTIVE');
      await page.getByRole('region', { name: 'Dimensions' }).waitFor();
      assert.match(await page.getByRole('region', { name: 'Renewal' }).textContent(), /Auto-renewal \(buyer\)on/);
      assert.match(await page.getByRole('region', { name: 'Terms' }).textContent(), /Refunds are considered within 30 days/);
      await screenshot(page, 'agreements-01-agreement');
      await checkA11y(page, 'agreement-page');

      // AWS: 90 days before the end, then the buyer turns auto-renew off.
      await page.goto(mg.base + '/sandbox/aws');
      const mine = page.locator('form.sandbox-sub', { has: page.locator(`input[name=subscription][value="${subId}"]`) });
      await mine.locator('select[name=days]').selectOption('90');
      await mine.getByRole('button', { name: 'Advance to that many days before the end' }).click();
      await page.waitForURL(/\/sandbox\/aws$/);
      await page
        .locator('form.sandbox-sub', { has: page.locator(`input[name=subscription][value="${subId}"]`) })
        .getByRole('button', { name: 'Turn auto-renew off (by the buyer)' })
        .click();
      await page.waitForURL(/\/sandbox\/aws$/);

      // The agreement page reads AWS again: the buyer opted out; the events say 90 days.
      await page.goto(`${mg.base}/subscriptions/${subId}/agreement`);
      const events = page.getByRole('region', { name: 'What AWS said of the end' });
      await events.waitFor({ timeout: 30_000 }).catch(() => {});
      for (let i = 0; i < 30 && !/buyer/.test((await events.textContent().catch(() => '')) ?? ''); i++) {
        await page.waitForTimeout(1000);
        await page.reload();
      }
      assert.match(await events.textContent(), /90 days before the end/);
      assert.match(await events.textContent(), /Turned off bybuyer/);
      await page.getByRole('button', { name: 'Read again from AWS' }).click();
      await page.getByRole('region', { name: 'Renewal' }).getByText('expires — the buyer turned auto-renewal off').waitFor();
      await screenshot(page, 'agreements-02-auto-renew-off');

      // Renewals: what ends when, auto-renewal off, who turned it off.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Renewals' }).click();
      await page.waitForURL(/\/renewals/);
      await page.getByText('Only auto-renewal off').click();
      await page.waitForURL(/auto_renew=off/);
      const row = page.getByTestId('renewal-row').filter({ has: page.locator(`a[href="/subscriptions/${subId}/agreement"]`) });
      await row.waitFor();
      assert.match(await row.textContent(), /off/);
      assert.match(await row.textContent(), /buyer/);
      assert.match(await row.textContent(), /90 days before/);
      await screenshot(page, 'agreements-03-renewals');
      await checkA11y(page, 'renewals-page');

      // The alert (derived every 30 s).
      await page.goto(mg.base + '/alerts');
      const alert = page
        .getByTestId('alert-row')
        .filter({ hasText: 'auto_renewal_off' })
        .filter({ has: page.locator(`a[href="/subscriptions/${subId}"]`) });
      for (let i = 0; i < 45 && (await alert.count()) === 0; i++) {
        await page.waitForTimeout(2000);
        await page.reload();
      }
      assert.match(await alert.first().textContent(), /turned off by the buyer/);
      assert.ok((await page.getByTestId('alert-row').filter({ hasText: 'agreement_ending' }).count()) > 0, 'the ending alert is listed too');
      await screenshot(page, 'agreements-04-alert');
    } catch (err) {
      await failed('agreements-failure');
      throw err;
    }
  });
});
