// Browser test (issue 17, items 5-7): the buyer-facing pages the server
// renders, in the buyer's language and the seller's branding. The seller
// brands an AWS offer in the portal; a buyer whose browser speaks Japanese
// buys it in the sandbox, lands on the Japanese welcome page, sees the
// branding and clicks into the customer portal, signed in. The seller's own
// sandbox purchase leaves the seller signed in. Screenshots of every buyer
// page in English and Japanese go to the artifacts folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EMAIL, PASSWORD, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const BRAND = 'Northwind Analytics Cloud';

describe('buyer pages in the buyer language', () => {
  let mg;
  let browser;
  let seller;
  let base;
  let offer; // the AWS offer branded below

  before(async () => {
    mg = await startMarketgate();
    base = mg.base;
    browser = await launchBrowser();
    seller = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signInAt(seller, base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  /** Runs axe-core on the page (evaluated over the DevTools protocol, which the pages' policy does not block). */
  async function accessible(page, name) {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const r = await globalThis.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
    });
    assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
  }

  async function fail(err, ...pages) {
    for (const [i, p] of pages.entries()) console.error('screenshot:', await screenshot(p, `buyerpages-failure-${i}`));
    console.error('server log:\n' + mg.log().slice(-3000));
    throw err;
  }

  /** Buys `offer` on the simulated AWS Marketplace page and returns on the onboarding page. */
  async function buyOnAWS(page) {
    await page.goto(base + '/sandbox/aws');
    const form = page.locator('form[action="/sandbox/aws/subscribe"]').filter({ has: page.locator(`input[name=offer][value="${offer.id}"]`) });
    await form.locator('button[value=false]').click();
    await page.waitForURL(/\/marketplace\/aws\/onboarding\?ticket=/);
  }

  async function onboard(page, email) {
    await page.fill('#company', 'Tokyo Trading K.K.');
    await page.fill('#name', 'Hanako Sato');
    await page.fill('#email', email);
    await page.fill('#password', 'buyer-pages-password-17');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/marketplace\/aws\/welcome\?subscription=\d+/);
  }

  it('the seller brands an AWS offer', async () => {
    try {
      const offers = await seller.evaluate(async () => (await (await fetch('/api/offers')).json()).items);
      offer = offers.find((o) => o.marketplace === 'aws' && !o.contract);
      assert.ok(offer, 'the sandbox has an AWS offer without a contract');
      await seller.goto(base + '/offers');
      const card = seller.getByTestId('offer-card').filter({ has: seller.getByTestId('offer-name').getByText(offer.name, { exact: true }) });
      await card.getByRole('button', { name: 'Buyer pages…' }).click();
      const dialog = seller.getByRole('dialog');
      await dialog.getByLabel('Product name').fill(BRAND);
      await dialog.locator('input[type=file]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
      await dialog.locator('#brand-accent').fill('#aa3300');
      await dialog.getByLabel('Support e-mail').fill('support@northwind.example');
      await dialog.getByLabel('Support site').fill('https://northwind.example/support');
      await dialog.getByRole('button', { name: 'Add link' }).click();
      await dialog.getByLabel('Title 1').fill('クイックスタートガイド');
      await dialog.getByLabel('Address 1').fill('https://docs.northwind.example/start');
      await dialog.getByTestId('branding-preview').getByText(BRAND).waitFor();
      await screenshot(seller, 'buyerpages-seller-branding-dialog');
      // A link that is not https is refused, with the field's message.
      await dialog.getByLabel('Support site').fill('http://northwind.example/support');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.getByRole('alert').getByText('The support site must be an https:// address.').waitFor();
      await dialog.getByLabel('Support site').fill('https://northwind.example/support');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached' });
      const saved = await seller.evaluate(async (id) => (await (await fetch('/api/offers')).json()).items.find((o) => o.id === id), offer.id);
      assert.equal(saved.branding.product_name, BRAND);
      assert.equal(saved.branding.accent_color, '#aa3300');
      assert.match(saved.branding.logo_url, /^data:image\/png;base64,/);
    } catch (err) {
      await fail(err, seller);
    }
  });

  it('a Japanese buyer buys in the sandbox, sees the branded Japanese welcome page and enters the customer portal signed in', async () => {
    const ctx = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1100, height: 900 } });
    const buyer = await ctx.newPage();
    try {
      await buyOnAWS(buyer);
      assert.equal(await buyer.getAttribute('html', 'lang'), 'ja');
      await buyer.getByRole('heading', { name: `${BRAND} のアカウントをセットアップ` }).waitFor();
      await accessible(buyer, 'onboarding-ja');
      await screenshot(buyer, 'buyerpages-aws-onboarding-ja');
      // The same page in English through the switch, then back.
      await buyer.getByRole('link', { name: 'English' }).click();
      await buyer.getByRole('heading', { name: `Set up your ${BRAND} account` }).waitFor();
      await screenshot(buyer, 'buyerpages-aws-onboarding-en');
      await buyer.getByRole('link', { name: '日本語' }).click();
      await buyer.getByRole('heading', { name: `${BRAND} のアカウントをセットアップ` }).waitFor();

      await onboard(buyer, 'hanako@tokyo-trading.example');
      await buyer.getByRole('heading', { name: `${BRAND} へようこそ` }).waitFor();
      const main = buyer.locator('main');
      await main.getByText('support@northwind.example').waitFor();
      await main.getByRole('link', { name: 'クイックスタートガイド' }).waitFor();
      assert.match(await buyer.locator('header.brand img').getAttribute('src'), /^data:image\/png;base64,/);
      // The accent colour reaches the button: the page's policy lets its rule through.
      const portal = main.getByRole('link', { name: 'カスタマーポータルを開く' });
      assert.equal(await portal.evaluate((a) => globalThis.getComputedStyle(a).backgroundColor), 'rgb(170, 51, 0)');
      await accessible(buyer, 'welcome-ja');
      await screenshot(buyer, 'buyerpages-aws-welcome-ja');
      await buyer.getByRole('link', { name: 'English' }).click();
      await buyer.getByRole('heading', { name: `Welcome to ${BRAND}` }).waitFor();
      await screenshot(buyer, 'buyerpages-aws-welcome-en');
      await buyer.getByRole('link', { name: '日本語' }).click();

      await buyer.getByRole('link', { name: 'カスタマーポータルを開く' }).click();
      await buyer.getByTestId('current-user').waitFor();
      // The customer portal names the signed-in person; the e-mail is in its title.
      assert.match(await buyer.getByTestId('current-user').getAttribute('title'), /hanako@tokyo-trading\.example/);
      await screenshot(buyer, 'buyerpages-customer-portal-ja');
    } catch (err) {
      await fail(err, buyer);
    } finally {
      await ctx.close();
    }
  });

  it("the seller's own sandbox purchase keeps the seller signed in", async () => {
    try {
      await buyOnAWS(seller);
      await onboard(seller, 'trial@seller-test.example');
      await seller.getByText("The buyer's account is ready.").waitFor();
      await seller.getByText(/private window/).waitFor();
      await screenshot(seller, 'buyerpages-aws-welcome-seller-session-en');
      await seller.getByRole('link', { name: "Back to the seller's portal" }).click();
      await seller.getByTestId('current-user').waitFor();
      assert.match(await seller.getByTestId('current-user').textContent(), new RegExp(EMAIL.replace('.', '\\.')));
      const me = await seller.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user);
      assert.equal(me.role, 'admin');
    } catch (err) {
      await fail(err, seller);
    }
  });

  it('a Microsoft buyer gets the welcome page in their language', async () => {
    for (const [locale, lang, activate, heading] of [
      ['ja-JP', 'ja', 'サブスクリプションを有効化', /へようこそ/],
      ['en-GB', 'en', 'Activate subscription', /^Welcome to /],
    ]) {
      const ctx = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
      const buyer = await ctx.newPage();
      try {
        await buyer.goto(base + '/sandbox/azure');
        const form = buyer.locator('form[action="/sandbox/azure/purchase"]').first();
        await form.locator('select[name=plan]').selectOption('gold');
        await form.getByRole('button', { name: 'Purchase and configure account' }).click();
        await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
        await buyer.locator('.known button').first().click();
        await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
        assert.equal(await buyer.getAttribute('html', 'lang'), lang);
        await screenshot(buyer, `buyerpages-azure-welcome-pending-${lang}`);
        await buyer.getByRole('button', { name: activate }).click();
        await buyer.getByRole('heading', { name: heading }).waitFor();
        assert.equal(await buyer.getByText('You can close this page').count(), 0);
        await accessible(buyer, `azure-welcome-${lang}`);
        await screenshot(buyer, `buyerpages-azure-welcome-${lang}`);
      } catch (err) {
        await fail(err, buyer);
      } finally {
        await ctx.close();
      }
    }
  });

  it('the invitation and problem pages in both languages', async () => {
    const made = await seller.evaluate(async () => {
      const r = await fetch('/api/users/invites', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'kenji@seller-test.example', name: 'Kenji', role: 'viewer' }),
      });
      return r.json();
    });
    assert.equal(made.emailed, false, 'no SMTP in the sandbox: the link is only copied');
    const invite = new URL(made.url);
    for (const [locale, lang, title, problem] of [
      ['ja-JP', 'ja', '販売者のチーム に参加', 'セットアップリンクの有効期限が切れています'],
      ['en-US', 'en', "Join the seller's team", 'This setup link has expired'],
    ]) {
      const ctx = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
      const page = await ctx.newPage();
      try {
        await page.goto(base + invite.pathname + invite.search);
        await page.getByRole('heading', { name: title }).waitFor();
        await accessible(page, `invite-${lang}`);
        await screenshot(page, `buyerpages-invitation-${lang}`);
        await page.goto(base + '/marketplace/aws/onboarding?ticket=no-such-ticket');
        await page.getByRole('heading', { name: problem }).waitFor();
        await accessible(page, `problem-${lang}`);
        await screenshot(page, `buyerpages-problem-${lang}`);
      } catch (err) {
        await fail(err, page);
      } finally {
        await ctx.close();
      }
    }
  });
});
