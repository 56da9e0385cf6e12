// Browser test of two-factor authentication (issue 15): an admin sets it up
// in Settings (QR code, key, otpauth link, a code from the "app"), keeps the
// recovery codes, signs out, and signs in again in two steps — a wrong code
// is refused, a recovery code works; then requires it of all seller staff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totp(secretBase32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

describe('two-factor authentication in a real browser', () => {
  let mg;
  let browser;
  let page;
  let recovery = [];

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  it('sets it up in Settings with a QR code, the key and the otpauth link', async () => {
    await page.goto(mg.base + '/settings');
    const card = page.getByTestId('two-factor');
    await card.getByLabel('Current password').fill(PASSWORD);
    await card.getByRole('button', { name: 'Set up' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(await page.getByTestId('totp-uri').getAttribute('href'), /^otpauth:\/\/totp\/Marketgate:admin(@|%40)example\.com\?.*secret=[A-Z2-7]{32}/);
    const qr = page.getByAltText('QR code for your authenticator app');
    await qr.waitFor();
    assert.ok((await qr.evaluate((img) => img.complete && img.naturalWidth)) > 0, 'the QR code image loads');
    await screenshot(page, 'two-factor-setup');
    await card.getByLabel('Code from the app').fill(totp(secret));
    await card.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    recovery = (await codes.locator('pre').textContent()).split('\n').filter(Boolean);
    assert.equal(recovery.length, 10);
    await screenshot(page, 'two-factor-recovery-codes');
    await card.getByRole('button', { name: 'I saved them' }).click();
    await card.getByText('Recovery codes left').waitFor();
  });

  it('signs in in two steps: a wrong code is refused, a recovery code works', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.getByTestId('two-factor-step').waitFor();
    await page.getByLabel('Code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Wrong or already used code.').waitFor();
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recovery[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByTestId('current-user').waitFor();
  });

  it('lets the admin require it of all seller staff, and the audit log shows it all', async () => {
    await page.goto(mg.base + '/settings');
    const toggle = page.getByTestId('security-settings').getByText('Require two-factor authentication for all seller staff with a password');
    await toggle.click();
    await page.getByTestId('security-settings').locator('input:checked').waitFor();
    await page.goto(mg.base + '/audit');
    for (const action of ['security.settings_changed', 'user.2fa_enabled', 'auth.2fa_failed']) {
      await page.getByText(action).first().waitFor();
    }
    await screenshot(page, 'two-factor-audit');
  });
});
