// Browser test of seats (issue 7): customers buy per-user plans in the
// sandbox on AWS and on Microsoft, their IT admin assigns seats up to what
// was bought, imports a list, and the seller's application asks whether a
// user holds a seat.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

describe('seats in a real browser', () => {
  let mg;
  let browser;
  let sellerContext;
  let seller; // the seller admin's page
  let apiKey;

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    sellerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    seller = await sellerContext.newPage();
    await signIn(seller, EMAIL, PASSWORD);
    // The seller's application gets a key that may ask about seats.
    apiKey = await seller.evaluate(async () => {
      const r = await fetch('/api/apikeys', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'seat checks (e2e)', scopes: ['seats'] }),
      });
      if (r.status !== 201 && r.status !== 200) throw new Error('POST /api/apikeys answered ' + r.status + ': ' + (await r.text()));
      return (await r.json()).key;
    });
    assert.match(apiKey, /^mgk_/);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  const signIn = (page, email, password) => signInAt(page, mg.base, email, password);

  /** GET /api/v1/seats/check as the seller's application. */
  async function seatCheck(params) {
    const r = await fetch(mg.base + '/api/v1/seats/check?' + new URLSearchParams(params), { headers: { Authorization: 'Bearer ' + apiKey } });
    const body = await r.json();
    assert.equal(r.status, 200, 'seat check answered ' + r.status + ': ' + JSON.stringify(body));
    return body;
  }

  /** Reads a subscription through the page's session until it is in the state. */
  async function waitState(page, id, state, timeout = 30_000) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      last = await page.evaluate(async (id) => (await (await fetch('/api/subscriptions/' + id)).json()).subscription, id);
      if (last?.state === state) return last;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`subscription ${id} is ${last?.state}, not ${state}`);
  }

  const summary = async (page, what) => (await page.getByTestId('seats-' + what).textContent()).trim();

  async function assign(page, user, name = '') {
    const form = page.getByRole('form', { name: 'Assign a seat' });
    await form.getByLabel('User e-mail or Entra object id').fill(user);
    await form.getByLabel('Name (optional)').fill(name);
    await form.getByRole('button', { name: 'Assign seat' }).click();
  }

  async function assigned(page, user) {
    await assign(page, user);
    await page.getByRole('status').getByText('Seat assigned to ' + user.toLowerCase()).waitFor();
  }

  async function failed(page, name, buyer) {
    const path = await screenshot(page, name);
    if (buyer) await screenshot(buyer, name + '-buyer');
    console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-4000));
  }

  it('AWS: a contract buyer sets up an account, imports users, fills the seats and is refused past them; the app sees who holds one', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const buyer = await ctx.newPage();
    try {
      // Buy the per-user contract (10 users) in the simulated AWS Marketplace.
      await buyer.goto(mg.base + '/sandbox/aws');
      await buyer.locator('form', { hasText: 'acme9contracts2ca' }).getByRole('button', { name: 'Subscribe' }).click();
      await buyer.waitForURL(/\/marketplace\/aws\/onboarding/);
      const stamp = Date.now().toString(36);
      const admin = `it-${stamp}@fabrikam.example`;
      await buyer.fill('#company', 'Fabrikam ' + stamp);
      await buyer.fill('#name', 'Ivy Admin');
      await buyer.fill('#email', admin);
      await buyer.fill('#password', 'fabrikam-password-42');
      await buyer.getByRole('button', { name: 'Create account' }).click();
      await buyer.getByText('Getting started').waitFor();

      // The customer admin signs in and sees only their own things.
      await signIn(buyer, admin, 'fabrikam-password-42');
      const nav = (await buyer.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) => t.trim());
      assert.deepEqual(nav, ['Dashboard', 'Subscriptions', 'Team', 'Settings']);
      await buyer.goto(mg.base + '/subscriptions');
      await buyer.getByTestId('subscription-row').first().waitFor();
      assert.equal(await buyer.getByTestId('subscription-row').count(), 1, 'a customer admin sees only their subscription');
      await buyer.getByTestId('subscription-row').first().click();
      await buyer.waitForURL(/\/subscriptions\/\d+$/);
      const id = Number(new URL(buyer.url()).pathname.split('/').pop());
      const sub = await waitState(buyer, id, 'active');
      assert.ok(sub.aws_customer_account_id, 'the subscription names the AWS account');

      // The Seats tab is deep-linkable; the contract bought 10 users.
      await buyer.goto(`${mg.base}/subscriptions/${id}?tab=seats`);
      await buyer.getByTestId('seat-summary').waitFor();
      assert.equal(await buyer.getByRole('tab', { name: /Seats/ }).getAttribute('aria-selected'), 'true');
      assert.equal(await summary(buyer, 'bought'), '10 bought');
      assert.equal(await summary(buyer, 'assigned'), '0 assigned');
      await buyer.getByText('No seats assigned yet').waitFor();

      // Import a list: preview what it would do, then apply it.
      const users = Array.from({ length: 8 }, (_, i) => `user${i + 1}@fabrikam.example`);
      const csv = ['email,name', ...users.map((u, i) => `${u},User ${i + 1}`), 'not-an-address,Nobody', 'user1@fabrikam.example,Twice'].join('\n') + '\n';
      await buyer.getByRole('button', { name: 'Import…' }).click();
      const dialog = buyer.getByRole('dialog');
      await dialog.locator('#import-file').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await dialog.getByText('users.csv').waitFor();
      assert.equal(await dialog.locator('#import-text').inputValue(), csv, 'the chosen file is read into the text box');
      await dialog.getByRole('button', { name: 'Preview' }).click();
      const report = dialog.getByTestId('import-report');
      await report.waitFor();
      await dialog.getByText('nothing has changed yet').waitFor();
      assert.equal(await report.getByTestId('import-add').locator('tbody tr').count(), 8);
      const refusedRows = await report.getByTestId('import-refused').locator('tbody tr').allTextContents();
      assert.equal(refusedRows.length, 2, 'refused: ' + refusedRows.join(' | '));
      assert.match(refusedRows[0], /not-an-address/);
      assert.match(refusedRows[0], /not an e-mail address/);
      assert.match(refusedRows[1], /user1@fabrikam\.example/);
      assert.equal(await summary(buyer, 'assigned'), '0 assigned', 'a preview changes nothing');
      await screenshot(buyer, 'seats-import-preview');
      await dialog.getByRole('button', { name: /^Apply/ }).click();
      await dialog.getByTestId('import-applied').getByText('8 added, 0 kept, 0 released, 2 refused').waitFor();
      await dialog.getByRole('button', { name: 'Done' }).click();
      await buyer.getByText('8 assigned').waitFor();
      assert.equal(await buyer.getByTestId('seat-row').count(), 8);
      assert.equal(await buyer.getByTestId('seat-row').first().locator('td').nth(3).textContent(), 'imported');

      // Assign the last two by hand, then one more is refused with the way to get more.
      await assigned(buyer, 'user9@fabrikam.example');
      await assigned(buyer, 'User10@Fabrikam.example');
      await buyer.getByText('0 free').waitFor();
      assert.equal(await summary(buyer, 'assigned'), '10 assigned');
      await assign(buyer, 'user11@fabrikam.example');
      const alert = buyer.getByRole('form', { name: 'Assign a seat' }).getByRole('alert');
      await alert.getByText(/No free seat: 10 bought, 10 assigned/).waitFor();
      assert.match(await alert.textContent(), /request id: \S+/);
      const more = buyer.getByTestId('more-seats');
      await more.getByText('How to get more seats').waitFor();
      assert.match(await more.textContent(), /AWS Marketplace/);
      assert.equal(await summary(buyer, 'assigned'), '10 assigned');

      // An import past the limit is refused line by line, and nothing changes.
      await buyer.getByRole('button', { name: 'Import…' }).click();
      await dialog.locator('#import-text').fill('user1@fabrikam.example\nuser12@fabrikam.example,Twelve\n');
      await dialog.getByRole('button', { name: 'Preview' }).click();
      await report.waitFor();
      assert.equal(await report.getByTestId('import-keep').locator('tbody tr').count(), 1);
      const refused = await report.getByTestId('import-refused').locator('tbody tr').allTextContents();
      assert.equal(refused.length, 1, refused.join(' | '));
      assert.match(refused[0], /user12@fabrikam\.example.*no free seat/i);
      assert.equal(await dialog.getByRole('button', { name: /^Apply/ }).isDisabled(), true, 'nothing to apply');
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Search narrows the list and lives in the URL.
      await buyer.getByLabel('Search seats').fill('user9');
      await buyer.waitForURL(/q=user9/);
      await buyer.waitForFunction(() => document.querySelectorAll('[data-testid=seat-row]').length === 1);
      await buyer.getByLabel('Search seats').fill('');
      await buyer.waitForFunction(() => document.querySelectorAll('[data-testid=seat-row]').length === 10);
      const path = await screenshot(buyer, 'seats-aws');
      console.log('seats tab screenshot:', path);

      // The export is the CSV of the seats.
      const exported = await buyer.evaluate(async (id) => {
        const r = await fetch(`/api/subscriptions/${id}/seats/export`);
        return { type: r.headers.get('content-type'), text: await r.text() };
      }, id);
      assert.match(exported.type, /text\/csv/);
      assert.equal(exported.text.trim().split('\n').length, 11, exported.text);

      // The seller's application asks about a seated and an unseated user.
      const yes = await seatCheck({ aws_account_id: sub.aws_customer_account_id, email: 'user10@fabrikam.example' });
      assert.equal(yes.licensed, true, JSON.stringify(yes));
      assert.equal(yes.reason, 'seat_assigned');
      assert.equal(yes.subscription?.id, id);
      const no = await seatCheck({ aws_account_id: sub.aws_customer_account_id, email: 'user11@fabrikam.example' });
      assert.equal(no.licensed, false, JSON.stringify(no));
      assert.ok(['no_seat', 'no_free_seat'].includes(no.reason), JSON.stringify(no));

      // Release one: the user loses access at once.
      const row = buyer.getByTestId('seat-row').filter({ hasText: 'user10@fabrikam.example' });
      await row.getByRole('button', { name: 'Release' }).click();
      const confirm = buyer.getByRole('alertdialog');
      await confirm.getByText('They lose access at once.').waitFor();
      await confirm.getByRole('button', { name: 'Release seat' }).click();
      await buyer.getByText('9 assigned').waitFor();
      assert.equal((await seatCheck({ aws_account_id: sub.aws_customer_account_id, email: 'user10@fabrikam.example' })).licensed, false);

      // The Team page: invite a colleague; the link is shown once.
      await buyer.getByRole('navigation', { name: 'Main' }).getByText('Team').click();
      await buyer.waitForURL(/\/team$/);
      await buyer.getByTestId('admin-row').filter({ hasText: admin }).waitFor();
      await buyer.getByLabel('E-mail of the new admin').fill(`colleague-${stamp}@fabrikam.example`);
      await buyer.getByRole('button', { name: 'Invite an admin' }).click();
      const link = await buyer.getByTestId('invite-url').textContent();
      assert.match(link, /\/invite\?token=/);
      await buyer.getByTestId('invite-row').filter({ hasText: `colleague-${stamp}@fabrikam.example` }).getByText('open').waitFor();
    } catch (err) {
      await failed(buyer, 'seats-aws-failure');
      throw err;
    } finally {
      await ctx.close();
    }
  });

  it('Microsoft: a Teams buyer is approved by the seller, assigns seats by e-mail and object id, handles a lower quantity; the app sees who holds one', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const buyer = await ctx.newPage();
    try {
      // Buy 3 seats of the per-user Teams app and sign in with the simulated Entra.
      await buyer.goto(mg.base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]', { hasText: 'acme-teams-app' });
      await form.locator('select[name=plan]').selectOption('per-user');
      await form.locator('input[name=quantity]').fill('3');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      await buyer.getByText('The seller reviews new subscriptions').waitFor();
      const id = Number(new URL(buyer.url()).searchParams.get('subscription'));
      const me = await buyer.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user);
      assert.equal(me.role, 'customer_admin');

      // Per-user plans need the seller's approval.
      await seller.goto(`${mg.base}/subscriptions/${id}`);
      await seller.getByRole('button', { name: 'Approve and activate' }).click();
      // The confirmation says that activation starts billing.
      const confirm = seller.getByRole('dialog');
      await confirm.getByText('Activation starts billing.').waitFor();
      await confirm.getByRole('button', { name: 'Activate' }).click();
      await seller.getByTestId('subscription-state').getByText('active').waitFor({ timeout: 30_000 });
      const sub = await waitState(buyer, id, 'active');

      // The customer admin opens the Seats tab from the Subscription page.
      await buyer.goto(`${mg.base}/subscriptions/${id}`);
      await buyer.getByRole('tab', { name: /Seats/ }).click();
      await buyer.waitForURL(/tab=seats/);
      await buyer.getByTestId('seat-summary').waitFor();
      assert.equal(await summary(buyer, 'bought'), '3 bought');
      const objectId = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
      await assigned(buyer, 'adele@contoso.example');
      await assigned(buyer, objectId);
      await assigned(buyer, 'lee@contoso.example');
      await assign(buyer, 'nestor@contoso.example');
      await buyer.getByRole('form', { name: 'Assign a seat' }).getByText(/No free seat: 3 bought, 3 assigned/).waitFor();
      const more = buyer.getByTestId('more-seats');
      await more.getByText('How to get more seats').waitFor();
      assert.equal(await more.getByRole('link').getAttribute('href'), 'https://admin.microsoft.com/Adminportal/Home#/subscriptions');

      // The app: the object id holds a seat, an unseated user does not.
      const yes = await seatCheck({ tenant_id: sub.azure_tenant_id, object_id: objectId });
      assert.equal(yes.licensed, true, JSON.stringify(yes));
      const no = await seatCheck({ tenant_id: sub.azure_tenant_id, email: 'nestor@contoso.example' });
      assert.equal(no.licensed, false, JSON.stringify(no));

      // The customer lowers the quantity at Microsoft: the newest seat is over.
      await buyer.goto(mg.base + '/sandbox/azure');
      const act = buyer.locator('form[action="/sandbox/azure/act"]').filter({ has: buyer.locator(`input[name=subscription][value="${id}"]`) });
      await act.getByLabel('Seats').fill('2');
      await act.getByRole('button', { name: 'Change seats' }).click();
      await buyer.getByText('ChangeQuantity sent').waitFor();
      await waitQuantity(buyer, id, 2);
      await buyer.goto(`${mg.base}/subscriptions/${id}?tab=seats`);
      const warning = buyer.getByTestId('over-warning');
      await warning.waitFor();
      assert.match(await warning.textContent(), /2 bought, 3 assigned/);
      const over = buyer.getByTestId('seat-row').filter({ has: buyer.getByTestId('over-tag') });
      assert.equal(await over.count(), 1);
      assert.match(await over.textContent(), /lee@contoso\.example/);
      await screenshot(buyer, 'seats-microsoft-over');
      await warning.getByRole('button', { name: 'Tick the over-quantity seat' }).click();
      await buyer.getByRole('button', { name: 'Release selected (1)' }).click();
      await buyer.getByRole('alertdialog').getByText('lose access at once').waitFor();
      await buyer.getByRole('alertdialog').getByRole('button', { name: 'Release seat' }).click();
      await buyer.getByText('2 assigned').waitFor();
      await warning.waitFor({ state: 'detached' });
      assert.equal(await summary(buyer, 'over'), '0 over');
      assert.equal((await seatCheck({ tenant_id: sub.azure_tenant_id, email: 'lee@contoso.example' })).licensed, false);
    } catch (err) {
      await failed(buyer, 'seats-microsoft-failure', seller);
      throw err;
    } finally {
      await ctx.close();
    }
  });

  it('the login page offers Microsoft sign-in and shows why a sign-in failed', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    try {
      await page.goto(mg.base + '/login?next=%2Fteam&error=' + encodeURIComponent('That Microsoft account is not an admin here.'));
      await page.getByTestId('login-error').getByText('That Microsoft account is not an admin here.').waitFor();
      const link = page.getByRole('button', { name: 'Sign in with Microsoft' });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), '/auth/microsoft?next=%2Fteam');
      // The Microsoft buyer from the test before signs in with the simulated Entra.
      await link.click();
      await page.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await page.locator('.known button').first().click();
      await page.waitForURL(/\/team$/);
      await page.getByTestId('current-user').getByText('customer_admin').waitFor();
      await page.getByTestId('admin-row').first().waitFor();
    } catch (err) {
      await failed(page, 'login-microsoft-failure');
      throw err;
    } finally {
      await ctx.close();
    }
  });

  async function waitQuantity(page, id, quantity) {
    const deadline = Date.now() + 30_000;
    let q;
    while (Date.now() < deadline) {
      q = await page.evaluate(async (id) => (await (await fetch('/api/subscriptions/' + id)).json()).subscription?.quantity, id);
      if (q === quantity) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`subscription ${id} has quantity ${q}, not ${quantity}`);
  }
});
