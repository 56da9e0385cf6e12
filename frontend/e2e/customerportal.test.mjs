// Browser test of the customer portal (issue 17, item 1): a customer admin
// of a sandbox customer signs in and gets their own portal — not the
// seller's console — sees their subscriptions with a plain-language status,
// opens one, corrects the organisation's registration information and
// switches to Japanese. Every customer page is screenshotted in both
// languages (frontend/e2e/artifacts/customer-*.png) and checked with axe-core.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

describe('the customer portal in a real browser', () => {
  let mg;
  let browser;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  /** No serious or critical accessibility violation on the page (axe-core). */
  async function accessible(page, what) {
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(violations, [], `${what}: accessibility violations`);
  }

  /** One <h1>, a document title, the skip link and the language switch. */
  async function pageBasics(page, h1, title) {
    await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
    assert.equal(await page.locator('h1').count(), 1, 'one <h1> per page');
    assert.equal(await page.title(), title);
    assert.equal(await page.locator('a.mg-skip-link[href="#main"]').count(), 1, 'a skip link');
    await page.getByRole('combobox', { name: /Language|言語/ }).waitFor();
  }

  const nav = (page, name = 'Customer portal') => page.getByRole('navigation', { name });

  it('AWS: a customer admin sees their own portal, opens a subscription, corrects the organisation and switches to Japanese', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true }) // bypassCSP: to inject axe-core;
    const buyer = await ctx.newPage();
    try {
      // A sandbox customer: buy the per-user contract on the simulated AWS
      // Marketplace and set up the account (its first customer admin).
      await buyer.goto(mg.base + '/sandbox/aws');
      await buyer.locator('form', { hasText: 'acme9contracts2ca' }).getByRole('button', { name: 'Subscribe' }).click();
      await buyer.waitForURL(/\/marketplace\/aws\/onboarding/);
      const stamp = Date.now().toString(36);
      const admin = `it-${stamp}@northwind.example`;
      await buyer.fill('#company', 'Northwind ' + stamp);
      await buyer.fill('#name', 'Nora Admin');
      await buyer.fill('#email', admin);
      await buyer.fill('#password', 'northwind-password-42');
      await buyer.getByRole('button', { name: 'Create account' }).click();
      await buyer.getByText('Getting started').waitFor();

      // Signed in, in English: the customer's shell, no seller navigation.
      await buyer.addInitScript(() => localStorage.getItem('marketgate.lang') || localStorage.setItem('marketgate.lang', 'en'));
      await signInAt(buyer, mg.base, admin, 'northwind-password-42');
      await buyer.waitForURL(/\/subscriptions$/);
      const items = (await nav(buyer).getByRole('link').allTextContents()).map((t) => t.trim());
      assert.deepEqual(items, ['Subscriptions', 'Organisation', 'Team']);
      for (const seller of ['Dashboard', 'Metering', 'Notifications', 'Customers', 'Settings']) {
        assert.equal(await buyer.getByRole('link', { name: seller }).count(), 0, `no seller item ${seller}`);
      }
      assert.match(await buyer.getByTestId('current-user').textContent(), /Nora Admin/);
      await buyer.getByRole('button', { name: 'Sign out' }).waitFor();
      await buyer.getByTestId('portal-organisation').getByText('Northwind ' + stamp).waitFor();

      // Subscriptions: one row, its status in plain words.
      await pageBasics(buyer, 'Subscriptions', 'Subscriptions – Customer portal');
      const row = buyer.getByTestId('my-subscription-row');
      await row.first().waitFor();
      assert.equal(await row.count(), 1);
      assert.match(await row.textContent(), /AWS Marketplace/);
      await accessible(buyer, 'subscriptions');
      await screenshot(buyer, 'customer-subscriptions-en');

      // The subscription: active once AWS confirms; no internal words.
      await row.first().click();
      await buyer.waitForURL(/\/subscriptions\/\d+$/);
      const id = Number(new URL(buyer.url()).pathname.split('/').pop());
      const explanation = buyer.getByTestId('status-explanation');
      for (let i = 0; i < 60 && (await explanation.getAttribute('data-situation').catch(() => null)) !== 'active'; i++) {
        await buyer.waitForTimeout(500);
        await buyer.reload();
        await explanation.waitFor();
      }
      assert.equal(await explanation.getAttribute('data-situation'), 'active');
      assert.match(await explanation.textContent(), /Your users can use the product/);
      const facts = await buyer.getByTestId('subscription-facts').textContent();
      assert.match(facts, /AWS Marketplace/);
      assert.match(facts, /AWS account \d{12}/, 'the purchaser is the buyer’s AWS account');
      const page = await buyer.locator('main').textContent();
      for (const internal of ['Version', 'aws.subscribe_success', 'inbound message', 'Marketplace identities']) {
        assert.ok(!page.includes(internal), `shows ${internal}`);
      }
      const title = await buyer.locator('h1').textContent();
      await pageBasics(buyer, title, `${title} – Customer portal`);
      await accessible(buyer, 'subscription overview');
      await screenshot(buyer, 'customer-subscription-en');
      await buyer.getByRole('tab', { name: 'Seats' }).click();
      await buyer.waitForURL(/tab=seats/);
      await buyer.getByTestId('seat-summary').waitFor();
      await screenshot(buyer, 'customer-subscription-seats-en');

      // Another organisation's subscription does not exist for them.
      const other = await buyer.evaluate(async (id) => (await fetch('/api/my/subscriptions/' + (id + 1000))).status, id);
      assert.equal(other, 404);

      // The organisation: a wrong e-mail is refused under its field; then saved.
      await nav(buyer).getByText('Organisation').click();
      await buyer.waitForURL(/\/organisation$/);
      await pageBasics(buyer, 'Organisation', 'Organisation – Customer portal');
      const billing = buyer.getByTestId('fieldset-billing_contact');
      await billing.getByLabel('Name').fill('Bea Billing');
      await billing.getByLabel('E-mail').fill('billing@northwind');
      await billing.getByLabel('Phone').fill('+81 3-1234-5678');
      await buyer.getByRole('button', { name: 'Save' }).click();
      await billing.getByText('Enter an e-mail address such as name@example.com.').waitFor();
      assert.equal(await billing.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
      await billing.getByLabel('E-mail').fill('billing@northwind.example');
      await buyer.getByTestId('fieldset-technical_contact').getByLabel('Name').fill('Theo Tech');
      await buyer.getByLabel('Organisation name').fill('Northwind Traders ' + stamp);
      await buyer.getByRole('button', { name: 'Save' }).click();
      await buyer.getByTestId('organisation-saved').waitFor();
      await buyer.getByTestId('portal-organisation').getByText('Northwind Traders ' + stamp).waitFor();
      await accessible(buyer, 'organisation');
      await screenshot(buyer, 'customer-organisation-en');
      await buyer.reload();
      await billing.getByLabel('E-mail').waitFor();
      assert.equal(await billing.getByLabel('E-mail').inputValue(), 'billing@northwind.example', 'stored');

      // The team.
      await nav(buyer).getByText('Team').click();
      await buyer.waitForURL(/\/team$/);
      await pageBasics(buyer, 'Team', 'Team – Customer portal');
      await buyer.getByTestId('admin-row').filter({ hasText: admin }).waitFor();
      await screenshot(buyer, 'customer-team-en');

      // Japanese: the switch changes the whole portal, and stays.
      await buyer.getByRole('combobox', { name: 'Language' }).selectOption('ja');
      await nav(buyer, 'カスタマーポータル').waitFor();
      const ja = (await nav(buyer, 'カスタマーポータル').getByRole('link').allTextContents()).map((t) => t.trim());
      assert.deepEqual(ja, ['サブスクリプション', '組織情報', 'チーム']);
      assert.equal(await buyer.evaluate(() => document.documentElement.lang), 'ja');
      await pageBasics(buyer, 'チーム', 'チーム – カスタマーポータル');
      await screenshot(buyer, 'customer-team-ja');
      await buyer.goto(mg.base + '/subscriptions');
      await pageBasics(buyer, 'サブスクリプション', 'サブスクリプション – カスタマーポータル');
      await buyer.getByTestId('my-subscription-row').getByText('有効').waitFor();
      await screenshot(buyer, 'customer-subscriptions-ja');
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      await buyer.getByTestId('status-explanation').getByText('ユーザーの皆様は製品をご利用いただけます。').waitFor();
      await buyer.getByRole('tab', { name: '概要' }).waitFor();
      await accessible(buyer, 'subscription overview (ja)');
      await screenshot(buyer, 'customer-subscription-ja');
      await buyer.getByRole('tab', { name: 'シート' }).click();
      await buyer.getByTestId('seat-summary').waitFor();
      await screenshot(buyer, 'customer-subscription-seats-ja');
      await buyer.goto(mg.base + '/organisation');
      await pageBasics(buyer, '組織情報', '組織情報 – カスタマーポータル');
      await buyer.getByText('請求担当者').waitFor();
      await screenshot(buyer, 'customer-organisation-ja');
      await buyer.goto(mg.base + '/metering');
      await pageBasics(buyer, 'ページが見つかりません', 'ページが見つかりません – カスタマーポータル');
      await buyer.getByRole('link', { name: 'サブスクリプション一覧に戻る' }).waitFor();
      await screenshot(buyer, 'customer-not-found-ja');
    } catch (err) {
      await screenshot(buyer, 'customer-portal-aws-failure');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    } finally {
      await ctx.close();
    }
  });

  it('Microsoft: a subscription the seller must approve says who acts next, in English and Japanese', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true }) // bypassCSP: to inject axe-core;
    const buyer = await ctx.newPage();
    try {
      await buyer.addInitScript(() => localStorage.getItem('marketgate.lang') || localStorage.setItem('marketgate.lang', 'en'));
      await buyer.goto(mg.base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]', { hasText: 'acme-teams-app' });
      await form.locator('select[name=plan]').selectOption('per-user');
      await form.locator('input[name=quantity]').fill('5');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));

      // Signed in by Microsoft: into the customer portal.
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      const explanation = buyer.getByTestId('status-explanation');
      await explanation.waitFor();
      assert.equal(await explanation.getAttribute('data-situation'), 'pending_seller');
      assert.match(await explanation.textContent(), /The provider is setting up your account/);
      assert.match(await buyer.getByTestId('status-actor').textContent(), /The provider/);
      assert.match(await buyer.getByTestId('subscription-facts').textContent(), /Microsoft commercial marketplace/);
      await accessible(buyer, 'pending Microsoft subscription');
      await screenshot(buyer, 'customer-subscription-pending-en');

      await buyer.getByRole('combobox', { name: 'Language' }).selectOption('ja');
      await explanation.getByText('サブスクリプションを準備しています').waitFor();
      assert.match(await buyer.getByTestId('status-actor').textContent(), /提供元/);
      await screenshot(buyer, 'customer-subscription-pending-ja');
    } catch (err) {
      await screenshot(buyer, 'customer-portal-azure-failure');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    } finally {
      await ctx.close();
    }
  });
});
