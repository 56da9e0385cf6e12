// Browser test of customer-initiated changes (issue 17, item 2): the seller
// sets a plan's policy (seat changes need approval, no unsubscribing); a
// customer admin, joined through an invitation, asks for more licences on a
// sandbox Microsoft subscription; the seller approves; Microsoft's operation
// completes and the customer sees it; a refused change shows the refusal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

describe('customer-initiated changes in a real browser', () => {
  let mg;
  let browser;
  let seller;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true }); // bypassCSP: axe-core is injected
    seller = await ctx.newPage();
    await signInAt(seller, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  /** Calls the portal API with the page's session. */
  const call = (page, method, path, body) =>
    page.evaluate(
      async ({ method, path, body }) => {
        const r = await fetch(path, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
        return { status: r.status, body: await r.json().catch(() => null) };
      },
      { method, path, body },
    );

  /** Runs axe-core on the page's main region (this feature's content; the shell is checked elsewhere); fails on serious or critical violations. */
  async function accessible(page, name) {
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const found = await page.evaluate(async () => {
      const r = await globalThis.axe.run('main', { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(found, [], `${name}: accessibility violations`);
  }

  async function waitFor(what, fn, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      last = await fn();
      if (last) return last;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(what + ' did not happen');
  }

  it('Microsoft: approval-required seat change approved and completed; a refused change shows the refusal', async () => {
    const buyerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const buyer = await buyerCtx.newPage();
    const adminCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', bypassCSP: true });
    const admin = await adminCtx.newPage();
    try {
      // A Microsoft purchase of 3 per-user seats; the seller activates it.
      await buyer.goto(mg.base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]', { hasText: 'acme-teams-app' });
      await form.locator('select[name=plan]').selectOption('per-user');
      await form.locator('input[name=quantity]').fill('3');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));
      assert.equal((await call(seller, 'POST', `/api/subscriptions/${id}/azure/activate`)).status, 200);
      const sub = await waitFor('activation', async () => {
        const s = (await call(seller, 'GET', `/api/subscriptions/${id}`)).body?.subscription;
        return s?.state === 'active' ? s : null;
      });
      await buyerCtx.close();

      // The seller sets the plan's policy on the Offers page: seat changes need approval, no unsubscribing.
      await seller.goto(mg.base + '/offers');
      const card = seller.getByTestId('offer-card').filter({ hasText: 'acme-teams-app' });
      await card.getByTestId('change-policies').locator('summary').click();
      const row = card.getByTestId('policy-row-per-user');
      await row.getByLabel('Seat change — per-user').selectOption('approval');
      await row.getByLabel('Unsubscribe — per-user').selectOption('not_allowed');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText('Saved.').waitFor();
      await screenshot(seller, 'changes-seller-policy');

      // A customer admin joins through an invitation and opens the subscription's changes.
      const stamp = Date.now().toString(36);
      const adminEmail = `it-${stamp}@contoso.example`;
      const inv = await call(seller, 'POST', '/api/customer-admins/invites', { email: adminEmail, customer_id: sub.customer.id });
      assert.equal(inv.status, 201, JSON.stringify(inv.body));
      await admin.goto(inv.body.url);
      await admin.fill('#name', 'Ida Admin');
      await admin.fill('#password', 'contoso-admin-password-42');
      await admin.click('button[type=submit]');
      // The customer admin lands in the customer portal (its own navigation).
      await admin.getByTestId('portal-nav').waitFor();
      await admin.goto(`${mg.base}/subscriptions/${id}?tab=changes`);
      const changes = admin.getByTestId('customer-changes');
      await changes.waitFor();
      assert.equal((await admin.getByTestId('current-seats').textContent()).trim(), '3');
      const seats = admin.getByTestId('change-seats');
      await seats.getByTestId('outcome-seats').getByText("Needs the seller's approval").waitFor();
      // Refused by the policy: no unsubscribe button, and why.
      const unsub = admin.getByTestId('change-unsubscribe');
      await unsub.getByText('Not available').waitFor();
      await unsub.getByText('does not allow this change', { exact: false }).waitFor();
      assert.equal(await unsub.getByRole('button').count(), 0);

      // Buy more licences: 3 → 5, a request to the seller.
      await seats.getByLabel('New seat count').fill('5');
      await seats.getByLabel('Note for the seller (optional)').fill('Two new hires');
      await seats.getByRole('button', { name: 'Request more licences' }).click();
      const confirm = admin.getByRole('alertdialog');
      await confirm.getByText('from 3 to 5').waitFor();
      await confirm.getByRole('button', { name: 'Request more licences' }).click();
      await seats.getByTestId('change-done').waitFor();
      const item = admin.getByTestId('change-request').first();
      await item.getByText('Waiting for the seller').waitFor();
      await screenshot(admin, 'changes-customer-requested');
      await accessible(admin, 'customer changes');

      // The seller approves from the Change requests page (in the navigation).
      await seller.getByRole('navigation', { name: 'Main' }).getByText('Change requests').click();
      await seller.waitForURL(/\/change-requests$/);
      const queued = seller.getByTestId('queue-row').filter({ hasText: 'Seats → 5' });
      await queued.getByText('Two new hires').waitFor();
      await screenshot(seller, 'changes-seller-queue');
      await accessible(seller, 'change requests');
      await queued.getByRole('button', { name: 'Approve…' }).click();
      const approve = seller.getByRole('alertdialog');
      await approve.getByText('asks Microsoft', { exact: false }).waitFor();
      await approve.getByLabel('Note for the customer (optional)').fill('Welcome aboard');
      await approve.getByRole('button', { name: 'Approve' }).click();
      await seller.getByTestId('answer-done').waitFor();

      // The operation completes; the customer sees it and the new seat count.
      await admin.reload();
      await admin.getByTestId('change-request').first().getByText('Approved').waitFor();
      await admin.getByTestId('operation-status').first().getByText('Completed').waitFor({ timeout: 90_000 });
      await waitFor('the seat count', async () => {
        await admin.reload();
        await admin.getByTestId('customer-changes').waitFor();
        return (await admin.getByTestId('current-seats').textContent()).trim() === '5';
      });
      await admin.getByTestId('change-answer').first().getByText('Welcome aboard', { exact: false }).waitFor();
      await screenshot(admin, 'changes-customer-completed');
      // The same page in Japanese.
      await admin.evaluate(() => localStorage.setItem('marketgate.lang', 'ja'));
      await admin.reload();
      await admin.getByText('ご契約の変更').waitFor();
      await admin.getByTestId('operation-status').first().getByText('完了').waitFor();
      await screenshot(admin, 'changes-customer-completed-ja');
      await admin.evaluate(() => localStorage.setItem('marketgate.lang', 'en'));
      await admin.reload();
      await admin.getByTestId('customer-changes').waitFor();

      // The seller forbids seat changes; the customer's next attempt is refused and says so.
      await seller.goto(mg.base + '/offers');
      const card2 = seller.getByTestId('offer-card').filter({ hasText: 'acme-teams-app' });
      await card2.getByTestId('change-policies').locator('summary').click();
      const row2 = card2.getByTestId('policy-row-per-user');
      await row2.getByLabel('Seat change — per-user').selectOption('not_allowed');
      await row2.getByRole('button', { name: 'Save' }).click();
      await row2.getByText('Saved.').waitFor();
      // The page the customer has open still offers the change: the server refuses it.
      await admin.getByTestId('change-seats').getByLabel('New seat count').fill('7');
      await admin.getByTestId('change-seats').getByRole('button', { name: 'Request more licences' }).click();
      await admin.getByRole('alertdialog').getByRole('button', { name: 'Request more licences' }).click();
      await admin.getByTestId('change-seats').getByTestId('change-error').getByText('not allowed', { exact: false }).waitFor();
      await screenshot(admin, 'changes-customer-refused');
      // After a reload it is no longer offered, with the reason.
      await admin.reload();
      await admin.getByTestId('change-seats').getByText('does not allow this change', { exact: false }).waitFor();
      assert.equal(await admin.getByTestId('change-seats').getByRole('button').count(), 0);
      // Seller-only routes stay closed to the customer admin.
      assert.equal((await call(admin, 'GET', '/api/change-requests')).status, 403);
    } catch (err) {
      await screenshot(admin, 'changes-failure-customer');
      await screenshot(seller, 'changes-failure-seller');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    } finally {
      await adminCtx.close();
    }
  });
});
