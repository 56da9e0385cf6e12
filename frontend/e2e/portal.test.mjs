// Browser test: the real binary in sandbox mode, driven in Debian's Chromium
// through playwright-core. Run by scripts/test.sh after scripts/build.sh.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.MARKETGATE_BIN || '../bin/marketgate');
const EMAIL = 'admin@example.com';
const PASSWORD = 'e2e-admin-password-42';

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

async function waitHealthy(url, proc) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error('marketgate exited with ' + proc.exitCode);
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('marketgate did not become healthy');
}

describe('portal in a real browser', () => {
  let proc;
  let browser;
  let page;
  let base;
  let dataDir;
  let log = '';

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'marketgate-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(BIN, ['serve', '--sandbox', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      env: { ...process.env, MARKETGATE_ADMIN_EMAIL: EMAIL, MARKETGATE_ADMIN_PASSWORD: PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    await waitHealthy(base, proc);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    proc?.kill('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function shot(name) {
    const path = join(tmpdir(), `marketgate-e2e-${name}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    return path;
  }

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
    await page.getByText('wrong e-mail or password').waitFor();
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
        (t) => [...document.querySelectorAll('[data-testid=subscription-row] td:nth-child(2)')].every((td) => td.textContent.includes(t)),
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
      console.error('screenshot:', path, '\nserver log:\n' + log.slice(-3000));
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
      await page.getByText('No usage reported in this period.').waitFor();
      await page.getByRole('button', { name: 'Enter usage' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Dimension').fill('api_calls');
      await dialog.getByLabel('Quantity').fill('7');
      await dialog.getByRole('button', { name: 'Record usage' }).click();
      await page.getByTestId('usage-chart').getByText('total 7').waitFor();
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
      console.error('screenshot:', path, '\nserver log:\n' + log.slice(-3000));
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

      await page.goto(base + '/subscriptions/' + id);
      await page.getByTestId('subscription-state').waitFor();
      assert.equal(await page.getByTestId('subscription-state').textContent(), 'active');
      await page.getByRole('button', { name: 'Change plan' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/New plan/).waitFor();
      await dialog.getByRole('button', { name: 'Change plan' }).click();
      const row = page.getByTestId('azure-operation').first();
      await row.waitFor();
      assert.match(await row.textContent(), /ChangePlan → silver/);
      // The portal follows the operation until Microsoft reports success.
      await row.getByText('Succeeded').waitFor({ timeout: 45_000 });
      await page.getByText('Silver (silver)').waitFor({ timeout: 10_000 });
    } catch (err) {
      const path = await shot('microsoft-failure');
      await buyer.screenshot({ path: join(tmpdir(), 'marketgate-e2e-buyer.png'), fullPage: true }).catch(() => {});
      console.error('screenshot:', path, '\nserver log:\n' + log.slice(-3000));
      throw err;
    } finally {
      await buyerContext.close();
    }
  });
});
