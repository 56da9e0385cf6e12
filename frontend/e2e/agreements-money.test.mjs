// Browser test of the AWS agreement money actions (issue 20) against the
// sandbox: an admin refunds an invoice line, sends a payment request,
// requests a cancellation the buyer rejects and one the buyer accepts (the
// buyer's side played in /sandbox/aws/agreement-requests); each outcome
// comes back through the simulated AWS's EventBridge events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, checkA11y, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';

describe('AWS agreement money in a real browser', () => {
  let mg;
  let browser;
  let admin;
  let buyer;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    admin = await ctx.newPage();
    await signInAt(admin, mg.base, EMAIL, PASSWORD);
    buyer = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  const api = (path) => admin.evaluate(async (p) => (await fetch(p)).json(), path);

  /** An active AWS subscription whose agreement AWS answers for. */
  async function subscriptionWithAgreement() {
    const subs = await api('/api/subscriptions?marketplace=aws&state=active&limit=200');
    for (const s of subs.items) {
      const m = await api(`/api/subscriptions/${s.id}/agreement/money`);
      if (m.available && m.invoices.some((i) => i.type === 'INVOICE')) return { id: s.id, money: m };
    }
    throw new Error('no active AWS subscription with an agreement');
  }

  /** The buyer answers the request waiting in the sandbox. */
  async function buyerAnswers(kind, approve, reason = '') {
    await buyer.goto(mg.base + '/sandbox/aws/agreement-requests');
    const form = buyer.locator(`form[data-request]:has(input[name=kind][value=${kind}])`).first();
    await form.waitFor();
    if (reason) await form.getByLabel('Reason (when rejecting)').fill(reason);
    await form.getByRole('button', { name: approve ? 'Approve' : 'Reject' }).click();
    await buyer.waitForURL(/agreement-requests$/);
  }

  async function waitRequest(kind, status) {
    await admin
      .locator(`[data-testid=agreement-request][data-kind=${kind}][data-status=${status}]`)
      .first()
      .waitFor({ timeout: 30_000 });
  }

  it('refunds, sends a payment request, and requests cancellations the buyer rejects and accepts', async () => {
    try {
      const { id, money } = await subscriptionWithAgreement();
      const invoice = money.invoices.find((i) => i.type === 'INVOICE');
      await admin.goto(`${mg.base}/subscriptions/${id}?tab=money`);
      await admin.getByTestId('invoices').waitFor();
      await checkA11y(admin, 'agreement-money');
      await screenshot(admin, 'agreement-money');

      // A refund of part of the invoice, confirmed with its consequence.
      await admin.getByRole('button', { name: `Refund invoice ${invoice.invoice_id}` }).click();
      assert.match(await admin.getByTestId('consequence').textContent(), /cannot be undone/);
      await admin.getByLabel(/^Amount/).fill('10.00');
      await checkA11y(admin, 'agreement-refund-dialog');
      await screenshot(admin, 'agreement-refund-dialog');
      await admin.getByTestId('confirm-money').click();
      await admin.getByTestId('money-done').waitFor();
      await waitRequest('refund', 'completed'); // Billing Adjustment Completed (the sandbox settles in 3 s)

      // A payment request within the variable-payment term; the buyer approves it.
      await admin.getByTestId('send-payment').click();
      await admin.getByLabel(/^Amount/).fill('120');
      await admin.getByLabel(/^Name/).fill('Extra onboarding');
      await admin.getByTestId('confirm-money').click();
      await admin.getByTestId('pending-payment').waitFor();
      await buyerAnswers('payment', true);
      await waitRequest('payment', 'approved');

      // A cancellation request the buyer rejects: the agreement continues.
      await admin.getByTestId('request-cancellation').click();
      assert.match(await admin.getByTestId('consequence').textContent(), /7 days/);
      await admin.getByTestId('confirm-money').click();
      await admin.getByTestId('pending-cancellation').waitFor();
      await screenshot(admin, 'agreement-cancellation-pending');
      await buyerAnswers('cancellation', false, 'we still use it');
      await waitRequest('cancellation', 'rejected');

      // One the buyer accepts: AWS ends the agreement, and the subscription ends.
      await admin.getByTestId('request-cancellation').click();
      await admin.getByTestId('confirm-money').click();
      await admin.getByTestId('pending-cancellation').waitFor();
      await buyerAnswers('cancellation', true);
      await waitRequest('cancellation', 'approved');
      const deadline = Date.now() + 30_000;
      let state = '';
      while (Date.now() < deadline && state !== 'ended') {
        state = (await api(`/api/subscriptions/${id}`)).subscription.state;
        if (state !== 'ended') await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(state, 'ended', 'an accepted cancellation ends the subscription (Purchase Agreement Ended)');
      await admin.getByTestId('agreement-ended').waitFor();
      await screenshot(admin, 'agreement-money-outcomes');
      await checkA11y(admin, 'agreement-money-outcomes');
    } catch (err) {
      await screenshot(admin, 'agreement-money-failure');
      throw new Error(`${err.message}\n--- server log ---\n${mg.log().slice(-3000)}`);
    }
  });
});
