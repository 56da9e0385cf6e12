/* global window, getComputedStyle -- used in code that runs in the browser page */
// Browser test of issue 15, findings 1 and 10: the portal and the server
// pages work under the strict Content-Security-Policy with no violation,
// and a hostile ?next= never takes the browser off the site.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate } from './harness.mjs';

describe('security in a real browser', () => {
  let mg;
  let browser;
  let base;

  before(async () => {
    mg = await startMarketgate();
    base = mg.base;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  /** A page that records every CSP violation (event and console). */
  async function watchedPage(context) {
    const page = await context.newPage();
    const violations = [];
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (execute|apply|load|connect|frame)/i.test(m.text())) violations.push(m.text());
    });
    const collect = async () => [...violations, ...(await page.evaluate(() => window.__csp || []))];
    return { page, collect };
  }

  it('the portal and the buyer pages work under the CSP, with no violation', async () => {
    const context = await browser.newContext();
    const { page, collect } = await watchedPage(context);
    const seen = [];
    try {
      const r = await page.goto(base + '/login');
      assert.match(r.headers()['content-security-policy'], /script-src 'self';.*frame-ancestors 'none'/);
      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      for (const path of ['/', '/subscriptions', '/customers', '/offers', '/metering', '/notifications', '/settings', '/users']) {
        await page.goto(base + path);
        await page.locator('#root *').first().waitFor();
        await page.waitForLoadState('networkidle');
        seen.push(...(await collect()));
      }
      // Blueprint's overlays set styles from script: allowed (CSSOM).
      await page.goto(base + '/subscriptions');
      await page.getByTestId('pager-summary').waitFor();
      seen.push(...(await collect()));

      // Server pages: the AWS buyer's auto-posted registration (script from a file) and onboarding.
      await page.goto(base + '/sandbox/aws');
      await page.locator('form[action="/sandbox/aws/subscribe"] button[value=false]').first().click();
      await page.waitForURL(/\/marketplace\/aws\/onboarding\?ticket=/);
      const bg = await page.evaluate(() => getComputedStyle(document.querySelector('main')).backgroundColor);
      assert.equal(bg, 'rgb(255, 255, 255)', 'the page stylesheet applies');
      seen.push(...(await collect()));
      assert.deepEqual(seen, [], 'CSP violations');

      // The watcher sees a violation when there is one: an injected inline script is refused.
      await page.evaluate(() => {
        const el = document.createElement('script');
        el.textContent = 'window.__ran = 1';
        document.head.appendChild(el);
      });
      await page.waitForFunction(() => window.__csp.length > 0);
      assert.equal(await page.evaluate(() => window.__ran), undefined, 'an inline script ran');
    } catch (err) {
      console.error('screenshot:', await screenshot(page, 'csp-failure'), '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    } finally {
      await context.close();
    }
  });

  it('a hostile next never leaves the site (login page and Microsoft sign-in)', async () => {
    const context = await browser.newContext();
    const { page, collect } = await watchedPage(context);
    try {
      for (const bad of ['/\t/evil.example', '//evil.example', '/\\evil.example', '/%2F%2Fevil.example', 'https://evil.example']) {
        await page.goto(base + '/login?next=' + encodeURIComponent(bad));
        const href = await page.getByTestId('microsoft-sign-in').getAttribute('href');
        assert.equal(href, '/auth/microsoft?next=%2F', bad);
      }
      // Password sign-in with a hostile next lands on the dashboard.
      await page.goto(base + '/login?next=' + encodeURIComponent('/\t/evil.example'));
      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      assert.equal(new URL(page.url()).origin, base);
      assert.equal(new URL(page.url()).pathname, '/');

      // A Microsoft buyer becomes a customer admin, then signs in with the
      // reported URL: /auth/microsoft?next=/%09/evil.example.
      const buyerContext = await browser.newContext();
      const buyer = await buyerContext.newPage();
      await buyer.goto(base + '/sandbox/azure');
      await buyer.locator('form[action="/sandbox/azure/purchase"]').first().getByRole('button', { name: 'Purchase and configure account' }).click();
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL(/\/marketplace\/azure\/welcome\?subscription=\d+/);
      await buyer.context().clearCookies();
      await buyer.goto(base + '/auth/microsoft?next=/%09/evil.example');
      await buyer.waitForURL(/\/sandbox\/azure\/entra\/.*authorize/);
      await buyer.locator('.known button').first().click();
      await buyer.waitForURL((u) => u.origin === base && !u.pathname.startsWith('/sandbox') && !u.pathname.startsWith('/marketplace/azure/callback'));
      assert.equal(new URL(buyer.url()).origin, base);
      assert.equal(new URL(buyer.url()).pathname, '/');
      await buyerContext.close();
      assert.deepEqual(await collect(), [], 'CSP violations');
    } catch (err) {
      console.error('screenshot:', await screenshot(page, 'redirect-failure'), '\nserver log:\n' + mg.log().slice(-3000));
      throw err;
    } finally {
      await context.close();
    }
  });
});
