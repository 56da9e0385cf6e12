// Browser test: the real binary in sandbox mode, driven in Debian's Chromium
// through playwright-core. Run by scripts/test.sh after scripts/build.sh.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate } from './harness.mjs';

describe('portal in a real browser', () => {
  let mg;
  let browser;
  let page;
  let base;
  let azureId; // the Microsoft subscription bought below

  before(async () => {
    mg = await startMarketgate();
    base = mg.base;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  const shot = (name) => screenshot(page, name);

  async function total() {
    const text = await page.getByTestId('pager-summary').textContent();
    return Number(text.match(/of (\d+)/)[1]);
  }

  it('refuses a wrong password with a clear message', async () => {
    await page.goto(base + '/subscriptions');
    await page.waitForURL(/\/login/);
    await page.fill('#email', EMAIL);
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.getByText('Wrong e-mail or password.').waitFor();
  });

  it('signs in, filters and searches subscriptions, opens one, and goes back', async () => {
    try {
      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      // back where we wanted to go
      await page.waitForURL(/\/subscriptions$/);
      await page.getByTestId('subscription-row').first().waitFor();
      const all = await total();
      assert.ok(all >= 300, `sandbox shows its demo subscriptions (got ${all})`);

      await page.getByLabel('State').selectOption('active');
      await page.waitForURL(/state=active/);
      await page.waitForFunction((n) => {
        const t = document.querySelector('[data-testid=pager-summary]')?.textContent ?? '';
        return Number((t.match(/of (\d+)/) || [])[1]) !== n;
      }, all);
      const active = await total();
      assert.ok(active > 0 && active < all, `filter narrows the list (${active} of ${all})`);
      const states = await page.getByTestId('state').allTextContents();
      assert.ok(states.length > 0 && states.every((s) => s === 'active'), 'every row is active: ' + states.join(','));

      const customer = (await page.locator('[data-testid=subscription-row] td:nth-child(2)').first().textContent()).trim();
      const term = customer.split(' ')[0];
      await page.getByLabel('Search').fill(term);
      await page.waitForURL(new RegExp('q=' + encodeURIComponent(term)));
      await page.waitForFunction(
        (t) => {
          const cells = [...document.querySelectorAll('[data-testid=subscription-row] td:nth-child(2)')];
          return cells.length > 0 && cells.every((td) => td.textContent.includes(t));
        },
        term,
      );
      const found = await total();
      assert.ok(found >= 1 && found <= active, `search "${term}" finds ${found}`);

      await page.getByTestId('subscription-row').first().click();
      await page.waitForURL(/\/subscriptions\/\d+$/);
      await page.getByTestId('subscription-state').waitFor();
      assert.equal(await page.getByTestId('subscription-state').textContent(), 'active');
      assert.ok((await page.getByTestId('timeline-entry').count()) >= 1, 'the timeline has entries');
      await page.getByText(customer).first().waitFor();

      await page.goBack();
      await page.waitForURL(/state=active/);
      await page.getByTestId('subscription-row').first().waitFor();
      assert.equal(await page.getByLabel('State').inputValue(), 'active');
      assert.equal(await total(), found);
    } catch (err) {
      const path = await shot('failure');
      console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    }
  });

  it('enters usage for a subscription and sees it on its Metering tab and the Metering page', async () => {
    try {
      const id = await page.evaluate(async () => {
        const r = await fetch('/api/subscriptions?marketplace=aws&state=active&limit=200');
        const body = await r.json();
        return body.items.find((s) => s.offer?.marketplace_id === 'acme4analytics7legacy')?.id;
      });
      assert.ok(id, 'an active AWS subscription on the metered offer');
      await page.goto(base + '/subscriptions/' + id);
      await page.getByRole('tab', { name: 'Metering' }).click();
      // The API calls used this billing period so far (the demo's history, or none).
      await page.getByTestId('usage-range').waitFor();
      await page.locator('[data-testid=usage-totals], .bp6-non-ideal-state').first().waitFor();
      const calls = page.getByTestId('usage-dimension').filter({ hasText: 'API calls' }).getByTestId('usage-totals');
      const used = async () => ((await calls.count()) === 0 ? 0 : Number((await calls.textContent()).match(/Used: ([\d,.]+)/)[1].replace(/,/g, '')));
      const before = await used();
      await page.getByRole('button', { name: 'Enter usage' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Dimension').fill('api_calls');
      await dialog.getByLabel('Quantity').fill('7');
      await dialog.getByRole('button', { name: 'Record usage' }).click();
      await page.waitForFunction(
        (want) => {
          const dim = [...document.querySelectorAll('[data-testid=usage-dimension]')].find((d) => d.textContent.includes('API calls'));
          const m = dim?.querySelector('[data-testid=usage-totals]')?.textContent.match(/Used: ([\d,.]+)/);
          return m && Number(m[1].replace(/,/g, '')) === want;
        },
        before + 7,
      );
      // An unknown dimension is refused with the reason.
      await page.getByRole('button', { name: 'Enter usage' }).click();
      await dialog.getByLabel('Dimension').fill('gpu_hours');
      await dialog.getByRole('button', { name: 'Record usage' }).click();
      await dialog.getByText('is not metered on plan').waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      await page.goto(base + '/metering');
      await page.getByTestId('health-card').nth(4).waitFor(); // health at a glance
      await page.getByLabel('Subscription').fill(String(id));
      await page.waitForURL(new RegExp('subscription=' + id));
      await page.getByTestId('records-summary').waitFor();
    } catch (err) {
      const path = await shot('metering-failure');
      console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    }
  });

  it('a Microsoft buyer purchases, signs in and activates; the seller changes the plan and sees it succeed', async () => {
    const buyerContext = await browser.newContext();
    const buyer = await buyerContext.newPage();
    try {
      await buyer.goto(base + '/sandbox/azure');
      const form = buyer.locator('form[action="/sandbox/azure/purchase"]').first();
      await form.locator('select[name=plan]').selectOption('gold');
      await form.getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      // Sign in as the buyer who just purchased (the newest known user).
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      await buyer.getByRole('button', { name: 'Activate subscription' }).click();
      await buyer.getByText('Getting started').waitFor();
      const id = new URL(buyer.url()).searchParams.get('subscription');
      azureId = Number(id);

      await page.goto(base + '/subscriptions/' + id);
      await page.getByTestId('subscription-state').waitFor();
      assert.equal(await page.getByTestId('subscription-state').textContent(), 'active');
      await page.getByRole('button', { name: 'Change plan' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/New plan/).waitFor();
      await dialog.getByRole('button', { name: 'Change plan' }).click();
      const row = page.getByTestId('azure-operation').first();
      await row.waitFor();
      assert.match(await row.textContent(), /Change the plan to silver/);
      // The portal follows the operation until Microsoft reports success.
      await row.getByText('Succeeded').waitFor({ timeout: 45_000 });
      await page.getByText('Silver (silver)').waitFor({ timeout: 10_000 });
    } catch (err) {
      const path = await shot('microsoft-failure');
      await screenshot(buyer, 'buyer');
      console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    } finally {
      await buyerContext.close();
    }
  });

  it('replays a Microsoft webhook call from the inbox (Microsoft confirms it again); the landing-page message says why it cannot be', async () => {
    try {
      assert.ok(azureId, 'the Microsoft subscription of the previous test');
      // The customer renews in Microsoft's portal: Microsoft calls the webhook.
      const r = await fetch(base + '/sandbox/azure/act', {
        method: 'POST',
        headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ subscription: String(azureId), action: 'Renew' }),
        redirect: 'manual',
      });
      assert.equal(r.status, 303);
      assert.match(new URL(r.headers.get('location'), base).searchParams.get('message'), /^Renew sent/);
      const inbox = (q) => page.evaluate(async (q) => (await (await fetch('/api/inbox?' + q)).json()).items, q);
      let call;
      const deadline = Date.now() + 30_000;
      while (!call && Date.now() < deadline) {
        call = (await inbox(`source=azure_webhook&action=Renew&subscription=${azureId}&status=processed`))[0];
        if (!call) await new Promise((res) => setTimeout(res, 300));
      }
      assert.ok(call, 'the Renew webhook call was processed');

      await page.goto(`${base}/notifications/${call.id}`);
      const detail = page.getByTestId('inbox-detail');
      await detail.getByTestId('replay-hint').getByText(/Get Operation/).waitFor();
      await detail.getByRole('button', { name: 'Replay…' }).click();
      const confirm = page.getByRole('alertdialog');
      await confirm.getByText(/asks Microsoft to confirm the operation again \(Get Operation\)/).waitFor();
      await confirm.getByRole('button', { name: 'Replay message' }).click();
      await detail.getByTestId('replay-result').getByText(/now processed/).waitFor();
      assert.equal(await detail.getByTestId('detail-status').textContent(), 'processed');
      assert.match(await detail.textContent(), /after 2 attempts/);
      await screenshot(page, 'notification-webhook-replayed');

      // The buyer's landing-page resolve: its purchase token was for that visit only.
      const landing = (await inbox(`source=azure_landing&subscription=${azureId}`))[0];
      assert.ok(landing, 'the landing-page message of the purchase');
      await page.goto(`${base}/notifications/${landing.id}`);
      await detail.getByTestId('replay-refusal').getByText(/purchase token works for the buyer’s visit only/).waitFor();
      assert.equal(await detail.getByRole('button', { name: 'Replay…' }).count(), 0);
      // The server refuses it too, with that reason.
      const refused = await page.evaluate(async (id) => {
        const res = await fetch(`/api/inbox/${id}/replay`, { method: 'POST' });
        return { status: res.status, body: await res.json() };
      }, landing.id);
      assert.equal(refused.status, 409);
      assert.match(refused.body.error.message, /purchase token works for the buyer's visit only/);
    } catch (err) {
      const path = await shot('replay-failure');
      console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    }
  });
});
