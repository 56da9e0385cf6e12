// Browser test of the buyer's whole journey (issue 17), once per marketplace,
// against the real binary in sandbox mode:
// - Microsoft, in Japanese (browser locale ja-JP): purchase → Entra sign-in
//   on the landing page → welcome page → the customer portal → the
//   organisation corrected → an immediate seat change followed to
//   Completed → admin consent through the simulated Entra → the Usage tab →
//   a colleague invited by e-mail (a test SMTP server) accepts the invitation.
// - AWS, in English: purchase → registration → the address confirmed by
//   e-mail → welcome → the customer
//   portal → the organisation → the Usage tab → the Changes tab's AWS how-to
//   and a change request, which the seller sees on /change-requests.
// Every page is checked with axe-core (serious and critical violations) and
// screenshotted (frontend/e2e/artifacts/journey-<marketplace>-<step>.png).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EMAIL, PASSWORD, launchBrowser, screenshot, signInAt, startMarketgate } from './harness.mjs';
import { startSMTP } from './smtp.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const MS_OFFER = 'acme-teams-app';
const DIRECTORY = 'https://graph.microsoft.com/Directory.Read.All';

describe("the buyer's whole journey in a real browser", () => {
  let mg;
  let smtp;
  let browser;
  let seller;

  before(async () => {
    smtp = await startSMTP();
    mg = await startMarketgate(['--smtp-addr', smtp.addr, '--smtp-from', 'Marketgate <noreply@example.com>']);
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    seller = await ctx.newPage();
    await signInAt(seller, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
    await smtp?.close();
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

  async function until(what, fn, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(what + ' did not happen');
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * One step of the walk: no serious or critical accessibility violation on
   * the whole page (axe-core, evaluated over the DevTools protocol, which the
   * pages' policy does not block), and a screenshot. scope narrows the
   * check to a selector (the seller's page: its content, not the console's shell).
   */
  async function step(page, marketplace, name, scope = 'html') {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async (scope) => {
      const r = await globalThis.axe.run(scope, { resultTypes: ['violations'] });
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }, scope);
    await screenshot(page, `journey-${marketplace}-${name}`);
    assert.deepEqual(violations, [], `${marketplace} ${name}: accessibility violations`);
  }

  async function failed(err, name, ...pages) {
    for (const [i, p] of pages.entries()) console.error('screenshot:', await screenshot(p, `journey-${name}-failure-${i}`));
    console.error('server log:\n' + mg.log().slice(-4000));
    throw err;
  }

  it('Microsoft, in Japanese: purchase → welcome → portal → organisation → seat change → admin consent → usage → a colleague invited by e-mail', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
    const buyer = await ctx.newPage();
    let colleagueCtx;
    try {
      // The seller's side: the app needs a permission beyond sign-in, and
      // the per-user plan's seat changes happen at once.
      await seller.goto(mg.base + '/offers');
      const card = seller.getByTestId('offer-card').filter({ hasText: MS_OFFER });
      await card.getByRole('button', { name: 'Edit permissions…' }).click();
      const dialog = seller.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Add permission' }).click();
      await dialog.getByLabel('Scope 1').fill('Directory.Read.All');
      await dialog.getByLabel('Reason 1').fill('To list your organisation’s groups when you assign seats.');
      await dialog.getByRole('button', { name: 'Save permissions' }).click();
      await dialog.waitFor({ state: 'detached' });
      await card.getByTestId('offer-permissions').getByText(DIRECTORY).waitFor();
      await card.getByTestId('change-policies').locator('summary').click();
      const policy = card.getByTestId('policy-row-per-user');
      await policy.getByLabel('Seat change — per-user').selectOption('allowed');
      await policy.getByRole('button', { name: 'Save' }).click();
      await policy.getByText('Saved.').waitFor();

      // The purchase on the simulated Microsoft marketplace: 3 seats.
      await buyer.goto(mg.base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]', { hasText: MS_OFFER });
      await form.locator('select[name=plan]').selectOption('per-user');
      await form.locator('input[name=quantity]').fill('3');
      await form.locator('input[name=organization]').fill('株式会社コントソ');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();

      // The landing page signs the buyer in with Entra (simulated).
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await step(buyer, 'microsoft', '01-entra-sign-in');
      await buyer.locator('.known button').first().click();

      // The welcome page, in Japanese: the seller activates this plan.
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));
      assert.equal(await buyer.getAttribute('html', 'lang'), 'ja');
      await buyer.getByRole('heading', { level: 1, name: 'Acme Teams App のサブスクリプション' }).waitFor();
      await buyer.getByText('有効化待ち', { exact: true }).waitFor();
      await step(buyer, 'microsoft', '02-welcome-pending');
      assert.equal((await call(seller, 'POST', `/api/subscriptions/${id}/azure/activate`)).status, 200);
      await until('activation', async () => (await call(seller, 'GET', `/api/subscriptions/${id}`)).body?.subscription?.state === 'active');
      await buyer.reload();
      await buyer.getByRole('heading', { level: 1, name: /へようこそ/ }).waitFor();
      await step(buyer, 'microsoft', '03-welcome');

      // Into the customer portal: the customer's shell in Japanese, no seller navigation.
      await buyer.getByRole('link', { name: 'カスタマーポータルを開く' }).click();
      await buyer.getByTestId('current-user').waitFor();
      const nav = buyer.getByRole('navigation', { name: 'カスタマーポータル' });
      await nav.waitFor();
      assert.deepEqual((await nav.getByRole('link').allTextContents()).map((t) => t.trim()), ['サブスクリプション', '組織情報', 'チーム']);
      for (const item of ['Dashboard', 'Metering', 'Customers', 'Settings', 'Change requests']) {
        assert.equal(await buyer.getByRole('link', { name: item }).count(), 0, `no seller item ${item}`);
      }
      assert.equal(await buyer.evaluate(() => document.documentElement.lang), 'ja');
      const me = await buyer.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user);
      assert.equal(me.role, 'customer_admin');
      await step(buyer, 'microsoft', '04-portal');

      // The organisation's registration information, corrected.
      await nav.getByText('組織情報').click();
      await buyer.waitForURL(/\/organisation$/);
      await buyer.getByRole('heading', { level: 1, name: '組織情報' }).waitFor();
      const billing = buyer.getByTestId('fieldset-billing_contact');
      await buyer.getByLabel('組織名').fill('株式会社コントソ・ファーマ');
      await billing.getByLabel('氏名').fill('佐藤 花子');
      await billing.getByLabel('メールアドレス').fill('billing@contoso.example');
      await buyer.getByRole('button', { name: '保存' }).click();
      await buyer.getByTestId('organisation-saved').getByText('組織情報を保存しました。').waitFor();
      await buyer.getByTestId('portal-organisation').getByText('株式会社コントソ・ファーマ').waitFor();
      await step(buyer, 'microsoft', '05-organisation');

      // The subscription: 3 → 5 seats at once, followed to Completed.
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      await buyer.getByTestId('status-explanation').getByText('ユーザーの皆様は製品をご利用いただけます。').waitFor();
      await step(buyer, 'microsoft', '06-subscription');
      await buyer.getByRole('tab', { name: '変更' }).click();
      await buyer.waitForURL(/tab=changes/);
      const seats = buyer.getByTestId('change-seats');
      await seats.getByTestId('outcome-seats').getByText('すぐに反映されます').waitFor();
      assert.equal((await buyer.getByTestId('current-seats').textContent()).trim(), '3');
      await seats.getByLabel('新しいシート数').fill('5');
      await seats.getByRole('button', { name: 'ライセンスを追加購入' }).click();
      const confirm = buyer.getByRole('alertdialog');
      await confirm.getByText('（3 → 5 シート）', { exact: false }).waitFor();
      await confirm.getByRole('button', { name: 'ライセンスを追加購入' }).click();
      await seats.getByTestId('change-done').waitFor();
      await until('the operation to complete', async () => {
        await buyer.reload();
        await buyer.getByTestId('customer-changes').waitFor();
        return (await buyer.getByTestId('operation-status').first().textContent()).trim() === '完了';
      });
      await until('the seat count', async () => {
        await buyer.reload();
        await buyer.getByTestId('customer-changes').waitFor();
        return (await buyer.getByTestId('current-seats').textContent()).trim() === '5';
      });
      await step(buyer, 'microsoft', '07-changes-completed');

      // Admin consent through the simulated Entra.
      await buyer.getByRole('tab', { name: 'アクセス許可' }).click();
      await buyer.waitForURL(/tab=permissions/);
      const panel = buyer.getByTestId('permissions-panel');
      await panel.getByTestId('permission-row').filter({ hasText: 'Directory.Read.All' }).waitFor();
      await step(buyer, 'microsoft', '08-permissions');
      await panel.getByRole('button', { name: 'アクセス許可を付与する' }).click();
      await buyer.waitForURL(/\/v2\.0\/adminconsent\?/);
      await buyer.locator('#consent-scopes').getByText(DIRECTORY).waitFor();
      await step(buyer, 'microsoft', '09-entra-admin-consent');
      await buyer.getByRole('button', { name: 'Accept' }).click();
      await buyer.waitForURL(/tab=permissions&consent=granted/);
      await buyer.getByTestId('consent-outcome').getByText('ありがとうございます。アクセス許可が付与されました。').waitFor();
      await buyer.getByTestId('consent-status').getByText('付与済み').waitFor();
      await step(buyer, 'microsoft', '10-permissions-granted');

      // Usage: the chart, or its plain empty state.
      await buyer.getByRole('tab', { name: '使用量' }).click();
      await buyer.waitForURL(/tab=usage/);
      await buyer
        .getByTestId('usage-chart')
        .or(buyer.getByText('この期間の使用量はありません'))
        .or(buyer.getByText('このプランは従量課金ではありません'))
        .first()
        .waitFor();
      await buyer.getByLabel('期間').waitFor();
      await step(buyer, 'microsoft', '11-usage');

      // The team: a colleague invited by e-mail.
      const colleague = `kenji-${Date.now().toString(36)}@contoso.example`;
      await nav.getByText('チーム').click();
      await buyer.waitForURL(/\/team$/);
      await buyer.getByRole('heading', { name: '株式会社コントソ・ファーマ — チーム' }).waitFor();
      await buyer.getByRole('textbox', { name: '新しい管理者のメールアドレス' }).fill(colleague);
      await buyer.getByRole('button', { name: '管理者を招待' }).click();
      await buyer.getByTestId('invite-mailed').getByText(`${colleague} 宛てにメールで送信しました。`).waitFor();
      await buyer.getByTestId('invite-row').filter({ hasText: colleague }).getByText('未承諾').waitFor();
      await step(buyer, 'microsoft', '12-team-invited');
      const mail = await smtp.waitFor((m) => m.to.includes(colleague));
      assert.match(mail.raw, /^From: .*<noreply@example\.com>/im);
      const link = mail.body.match(/https?:\/\/[^\s"<>]+/g)?.find((u) => u.startsWith(mg.base));
      assert.ok(link, 'the mail holds the invitation link: ' + mail.body);

      // The colleague opens the link in their own browser and joins.
      colleagueCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
      const kenji = await colleagueCtx.newPage();
      await kenji.goto(link);
      assert.equal(await kenji.getAttribute('html', 'lang'), 'ja');
      await kenji.getByRole('heading', { level: 1, name: '株式会社コントソ・ファーマ に参加' }).waitFor();
      await step(kenji, 'microsoft', '13-invitation');
      await kenji.fill('#name', '田中 健二');
      await kenji.fill('#password', 'contoso-colleague-password-42');
      await kenji.click('button[type=submit]');
      await kenji.getByTestId('current-user').waitFor();
      const joined = await kenji.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user);
      assert.equal(joined.role, 'customer_admin');
      assert.equal(joined.email, colleague);
      await kenji.getByRole('navigation', { name: 'カスタマーポータル' }).waitFor();
      await step(kenji, 'microsoft', '14-colleague-portal');
      await buyer.reload();
      await buyer.getByTestId('admin-row').filter({ hasText: colleague }).getByText('有効').waitFor();
      await buyer.getByTestId('invite-row').filter({ hasText: colleague }).getByText(/^承諾済み/).waitFor();
    } catch (err) {
      await failed(err, 'microsoft', buyer, seller);
    } finally {
      await colleagueCtx?.close();
      await ctx.close();
    }
  });

  it('AWS, in English: purchase → registration → e-mail confirmed → welcome → portal → organisation → usage → a change request the seller sees', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const buyer = await ctx.newPage();
    try {
      await buyer.goto(mg.base + '/sandbox/aws');
      await buyer.locator('form', { hasText: 'acme9contracts2ca' }).getByRole('button', { name: 'Subscribe' }).click();

      // Registration: the first customer admin's account.
      await buyer.waitForURL(/\/marketplace\/aws\/onboarding/);
      assert.equal(await buyer.getAttribute('html', 'lang'), 'en');
      await step(buyer, 'aws', '01-registration');
      const stamp = Date.now().toString(36);
      const company = 'Northwind ' + stamp;
      await buyer.fill('#company', company);
      await buyer.fill('#name', 'Nora Admin');
      const email = `it-${stamp}@northwind.example`;
      await buyer.fill('#email', email);
      await buyer.fill('#password', 'northwind-password-42');
      await buyer.getByRole('button', { name: 'Create account' }).click();

      // With e-mail set up, the address is confirmed through a link in a mail.
      await buyer.getByRole('heading', { level: 1, name: 'Check your inbox' }).waitFor();
      await step(buyer, 'aws', '02-check-inbox');
      const mail = await smtp.waitFor((m) => m.to.includes(email));
      const link = mail.body.match(/https?:\/\/[^\s"<>]+/g)?.find((u) => u.startsWith(mg.base));
      assert.ok(link, 'the mail holds the confirmation link: ' + mail.body);
      await buyer.goto(link);
      await step(buyer, 'aws', '03-confirm-email');
      await buyer.getByRole('button', { name: 'Confirm and create my account' }).click();

      // The welcome page, then the customer portal, signed in.
      await buyer.waitForURL(/\/marketplace\/aws\/welcome\?subscription=\d+/);
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));
      await buyer.getByRole('heading', { level: 1, name: /^Welcome to / }).waitFor();
      await step(buyer, 'aws', '04-welcome');
      await buyer.getByRole('link', { name: 'Open the customer portal' }).click();
      await buyer.getByTestId('current-user').waitFor();
      const nav = buyer.getByRole('navigation', { name: 'Customer portal' });
      assert.deepEqual((await nav.getByRole('link').allTextContents()).map((t) => t.trim()), ['Subscriptions', 'Organisation', 'Team']);
      for (const item of ['Dashboard', 'Metering', 'Customers', 'Settings', 'Change requests']) {
        assert.equal(await buyer.getByRole('link', { name: item }).count(), 0, `no seller item ${item}`);
      }
      await step(buyer, 'aws', '05-portal');

      // The organisation.
      await nav.getByText('Organisation').click();
      await buyer.waitForURL(/\/organisation$/);
      await buyer.getByLabel('Organisation name').fill('Northwind Traders ' + stamp);
      const technical = buyer.getByTestId('fieldset-technical_contact');
      await technical.getByLabel('Name').fill('Theo Tech');
      await technical.getByLabel('E-mail').fill('theo@northwind.example');
      await buyer.getByRole('button', { name: 'Save' }).click();
      await buyer.getByTestId('organisation-saved').waitFor();
      await buyer.getByTestId('portal-organisation').getByText('Northwind Traders ' + stamp).waitFor();
      await step(buyer, 'aws', '06-organisation');

      // The subscription, active once AWS confirms it.
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      await until('the subscription to be active', async () => {
        await buyer.reload();
        await buyer.getByTestId('status-explanation').waitFor();
        return (await buyer.getByTestId('status-explanation').getAttribute('data-situation')) === 'active';
      });
      assert.match(await buyer.getByTestId('subscription-facts').textContent(), /AWS Marketplace/);
      await step(buyer, 'aws', '07-subscription');

      // Usage: the chart, or its plain empty state.
      await buyer.getByRole('tab', { name: 'Usage' }).click();
      await buyer.waitForURL(/tab=usage/);
      await buyer
        .getByTestId('usage-chart')
        .or(buyer.getByText('Nothing was used in this period', { exact: false }))
        .or(buyer.getByText('This plan is not metered', { exact: false }))
        .first()
        .waitFor();
      await step(buyer, 'aws', '08-usage');

      // Changes: AWS's how-to and a request to the seller.
      await buyer.getByRole('tab', { name: 'Changes' }).click();
      await buyer.waitForURL(/tab=changes/);
      const howto = buyer.getByTestId('aws-howto');
      await howto.getByText('Change your subscription in AWS').waitFor();
      await howto.getByRole('link', { name: 'Open Manage subscriptions in AWS Marketplace' }).waitFor();
      const request = buyer.getByTestId('aws-request');
      if (await request.locator('#aws-kind').count()) await request.locator('#aws-kind').selectOption('seats');
      await request.getByLabel('Seats you would like').fill('12');
      await request.getByLabel('Note for the seller (optional)').fill('Two new teams join in January');
      await request.getByRole('button', { name: 'Send request' }).click();
      await request.getByTestId('change-done').waitFor();
      await buyer.getByTestId('change-request').first().getByText('Seats → 12').waitFor();
      await step(buyer, 'aws', '09-changes-requested');

      // The seller sees it on the Change requests page.
      await seller.goto(mg.base + '/change-requests');
      await seller.getByTestId('queue-row').filter({ hasText: 'Seats → 12' }).getByText('Two new teams join in January').waitFor();
      // The seller console's shell is not the buyer's: only this page's content is checked.
      await step(seller, 'aws', '10-seller-change-requests', 'main');
    } catch (err) {
      await failed(err, 'aws', buyer, seller);
    } finally {
      await ctx.close();
    }
  });
});
