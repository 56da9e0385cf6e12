// Browser test of Entra admin consent (issue 17): the seller lists the extra
// permissions a Microsoft offer's app needs; a sandbox Microsoft buyer
// signs in on the landing page with User.Read only, becomes their
// organisation's customer admin, and after activation grants the
// permissions through the simulated Entra's admin consent page (and
// declines them once); the portal shows the outcome, the seller sees it,
// and the seller's app reads it in the access answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

const OFFER = 'acme-analytics-saas';
const DIRECTORY = 'https://graph.microsoft.com/Directory.Read.All';

describe('Entra admin consent in a real browser', () => {
  let mg;
  let browser;
  let seller;
  let apiKey;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    seller = await ctx.newPage();
    await signInAt(seller, mg.base, EMAIL, PASSWORD);
    // The seller lists what the app needs beyond sign-in, with the reasons.
    await seller.goto(mg.base + '/offers');
    const card = seller.getByTestId('offer-card').filter({ hasText: OFFER });
    await card.getByRole('button', { name: 'Edit permissions…' }).click();
    const dialog = seller.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Add permission' }).click();
    await dialog.getByLabel('Scope 1').fill('Directory.Read.All');
    await dialog.getByLabel('Reason 1').fill('To list your organisation’s groups when you assign seats.');
    await dialog.getByRole('button', { name: 'Add permission' }).click();
    await dialog.getByLabel('Scope 2').fill('read everything');
    await dialog.getByLabel('Reason 2').fill('x');
    await dialog.getByRole('button', { name: 'Save permissions' }).click();
    // A clear refusal names the entry.
    await dialog.getByRole('alert').getByText(/permission 2 \(read everything\) is not a scope/).waitFor();
    await dialog.getByRole('button', { name: 'Remove permission 2' }).click();
    await dialog.getByRole('button', { name: 'Save permissions' }).click();
    await dialog.waitFor({ state: 'detached' });
    await card.getByTestId('offer-permissions').getByText(DIRECTORY).waitFor();
    await screenshot(seller, 'consent-seller-offer-permissions');
    apiKey = await seller.evaluate(async () => {
      const r = await fetch('/api/apikeys', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'consent (e2e)', scopes: ['access'] }) });
      if (r.status !== 201) throw new Error('POST /api/apikeys answered ' + r.status);
      return (await r.json()).key;
    });
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  it('a Microsoft customer admin grants the permissions through Entra, declines once, and sees the outcome', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const buyer = await ctx.newPage();
    try {
      // Buy on the simulated marketplace and sign in on the landing page.
      await buyer.goto(mg.base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]', { hasText: OFFER });
      await form.locator('select[name=plan]').selectOption('silver');
      await form.locator('input[name=organization]').fill('Contoso Pharma');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      // The landing page's sign-in asks for User.Read and nothing an administrator must consent to.
      const signIn = new URL(buyer.url());
      assert.equal(signIn.searchParams.get('scope'), 'openid profile email User.Read');
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));
      const me = await buyer.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user);
      assert.equal(me.role, 'customer_admin');
      const sub = await buyer.evaluate(async (id) => (await (await fetch('/api/subscriptions/' + id)).json()).subscription, id);
      assert.equal(sub.state, 'active');
      // The organisation is named as Microsoft Graph names the tenant, not after the e-mail domain.
      assert.equal(sub.customer.name, 'Contoso Pharma');

      // The permissions tab: what is asked and why, not granted yet.
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      await buyer.getByRole('tab', { name: 'App permissions' }).click();
      await buyer.waitForURL(/tab=permissions/);
      const panel = buyer.getByTestId('permissions-panel');
      await panel.getByTestId('permission-row').filter({ hasText: 'Directory.Read.All' }).getByText('groups when you assign seats').waitFor();
      await panel.getByTestId('consent-status').getByText('Not granted yet').waitFor();
      await screenshot(buyer, 'consent-customer-before');

      // Grant permissions → the simulated Entra's admin consent page → Cancel.
      await panel.getByRole('button', { name: 'Grant permissions' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/[0-9a-f-]{36}\/v2\.0\/adminconsent\?/);
      const consentURL = new URL(buyer.url());
      assert.equal(consentURL.searchParams.get('scope'), DIRECTORY);
      assert.equal(consentURL.searchParams.get('redirect_uri'), mg.base + '/auth/microsoft/adminconsent');
      assert.equal(consentURL.pathname.split('/')[4], sub.azure_tenant_id.toLowerCase());
      await buyer.locator('#consent-scopes').getByText(DIRECTORY).waitFor();
      await screenshot(buyer, 'consent-entra-page');
      await buyer.getByRole('button', { name: 'Cancel' }).click();
      await buyer.waitForURL(/tab=permissions&consent=declined/);
      await buyer.getByTestId('consent-outcome').getByText('The permissions were not granted.').waitFor();
      await buyer.getByTestId('consent-status').getByText(/Declined on .* by /).waitFor();
      await buyer.getByTestId('consent-status').getByText(/AADSTS65004/).waitFor();
      await screenshot(buyer, 'consent-customer-declined');

      // Again, and Accept.
      await buyer.getByRole('button', { name: 'Grant permissions' }).click();
      await buyer.waitForURL(/\/v2\.0\/adminconsent\?/);
      await buyer.getByRole('button', { name: 'Accept' }).click();
      await buyer.waitForURL(/tab=permissions&consent=granted/);
      await buyer.getByTestId('consent-outcome').getByText('Thank you. The permissions were granted.').waitFor();
      await buyer.getByTestId('consent-status').getByText(new RegExp(`Granted on .* by ${me.email.replace(/[.]/g, '\\.')}`)).waitFor();
      await screenshot(buyer, 'consent-customer-granted');

      // In Japanese.
      await buyer.evaluate(() => localStorage.setItem('marketgate.lang', 'ja'));
      await buyer.reload();
      await buyer.getByTestId('consent-status').getByText('付与済み').waitFor();
      await screenshot(buyer, 'consent-customer-granted-ja');
      await buyer.evaluate(() => localStorage.setItem('marketgate.lang', 'en'));

      // A replayed answer is refused.
      const replay = await buyer.goto(mg.base + '/auth/microsoft/adminconsent?admin_consent=True&tenant=' + sub.azure_tenant_id + '&state=forged');
      assert.equal(replay.status(), 400);

      // The seller sees it on the subscription page; the seller's app reads it.
      await seller.goto(`${mg.base}/subscriptions/${id}`);
      await seller.getByTestId('consent-summary-status').getByText('granted').waitFor();
      await screenshot(seller, 'consent-seller-subscription');
      const r = await fetch(mg.base + '/api/v1/access?customer=' + sub.azure_tenant_id, { headers: { Authorization: 'Bearer ' + apiKey } });
      const access = await r.json();
      assert.equal(r.status, 200);
      assert.equal(access.consent.status, 'granted');
      assert.deepEqual(access.consent.scopes, [DIRECTORY]);
    } catch (err) {
      await screenshot(buyer, 'consent-failure');
      await screenshot(seller, 'consent-failure-seller');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    } finally {
      await ctx.close();
    }
  });
});
