// Browser test of issue 19 item 1 (go-live setup): the sandbox runs with a
// Microsoft app the simulated Entra does not know (a wrong tenant, client id
// and secret), so the Setup page shows the Microsoft token check failing with
// Entra's AADSTS700016 and the fix, beside AWS's checks passing against the
// simulated AWS; the fulfillment URL's copy button puts it on the
// clipboard; the dashboard's checklist lists what is left, and only a
// marketplace that is done can be dismissed. axe checks the page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, checkA11y, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

describe('Setup page', () => {
  let mg, browser, context, page;
  before(async () => {
    mg = await startMarketgate([
      '--azure-tenant-id', '0b9f6c1e-9999-4a2b-8c3d-000000000009',
      '--azure-client-id', '7a1c2b3d-9999-4e5f-9a0b-000000000009',
      '--azure-client-secret', 'not-the-sandbox-secret',
    ]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mg.base });
    page = await context.newPage();
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });
  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  it('shows a failing check with its fix beside passing ones, copies a URL, and passes axe', async () => {
    await page.getByRole('link', { name: 'Setup', exact: true }).click(); // the dashboard's checklist may already show its own links to Setup
    const token = page.getByTestId('check-azure.token');
    await token.waitFor({ timeout: 30_000 });
    assert.equal(await token.getAttribute('data-status'), 'fail');
    const tokenText = await token.textContent();
    assert.match(tokenText, /AADSTS700016/);
    assert.match(tokenText, /How to fix it/);
    assert.match(tokenText, /--azure-tenant-id/);
    for (const id of ['aws.credentials', 'aws.resolve_customer', 'aws.batch_meter_usage', 'aws.queue.readable', 'aws.queue.subscribed', 'aws.fulfillment_url']) {
      assert.equal(await page.getByTestId(`check-${id}`).getAttribute('data-status'), 'ok', id);
    }
    assert.match(await page.getByTestId('check-aws.credentials').textContent(), /account 000000000000/);

    const fulfillment = page.getByTestId('check-aws.fulfillment_url');
    await fulfillment.getByRole('button', { name: /copy fulfillment url/i }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), mg.base + '/marketplace/aws/register');

    await checkA11y(page, 'setup');
    await screenshot(page, 'setup');
  });

  it('keeps the dashboard checklist until a marketplace is done, and lets a done one be dismissed', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const azure = page.getByTestId('checklist-azure');
    await azure.waitFor({ timeout: 30_000 });
    assert.match(await azure.textContent(), /Client-credentials token/);
    assert.equal(await page.getByTestId('dismiss-azure').count(), 0);
    await page.getByTestId('dismiss-aws').click();
    await page.getByTestId('checklist-aws').waitFor({ state: 'detached' });
    assert.equal(await azure.count(), 1);
    await screenshot(page, 'setup-checklist');
  });
});
