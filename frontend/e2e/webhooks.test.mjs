// Browser test of issue 8 (tell the seller's systems): the seller admin adds
// a webhook endpoint pointing at a local receiver that checks the Standard
// Webhooks signature with the secret copied from the portal, sends a test
// event, sees a failure (status and excerpt) after a redelivery, and
// receives a real seat.assigned event; an alert channel of kind "slack"
// posts its test message to another local receiver; plan seat policies are
// changed on the Offers page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

/**
 * Verifies a Standard Webhooks delivery: HMAC-SHA256 of `${id}.${timestamp}.${body}`
 * with the base64-decoded part of the secret after "whsec_", base64, against
 * each "v1,…" in webhook-signature; the timestamp within five minutes.
 */
function verifySignature(secret, headers, raw) {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sig = headers['webhook-signature'];
  if (!secret?.startsWith('whsec_') || !id || !ts || !sig) return 'missing secret or header';
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return 'timestamp too far from now: ' + ts;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest('base64'));
  const ok = sig.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const got = Buffer.from(s.slice(3));
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  return ok ? 'ok' : 'signature does not match';
}

/** A local HTTP receiver that records every request and answers what it is told to. */
async function startReceiver() {
  const got = [];
  let answer = { status: 200, body: 'thanks' };
  let secret = null;
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = JSON.parse(raw);
      } catch {
        // not JSON
      }
      got.push({ method: req.method, path: req.url, headers: req.headers, raw, json, verified: secret ? verifySignature(secret, req.headers, raw) : null, answered: answer.status });
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.body);
    });
  });
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const url = `http://127.0.0.1:${srv.address().port}`;
  return {
    url,
    got,
    setSecret: (s) => (secret = s),
    answer: (status, body) => (answer = { status, body }),
    /** Waits for a request that matches; returns it. */
    async waitFor(pred, what, timeout = 30_000) {
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        const r = got.find(pred);
        if (r) return r;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the receiver did not get ${what}; it got: ` + JSON.stringify(got.map((g) => [g.path, g.json?.type, g.answered])));
    },
    close: () => new Promise((res) => srv.close(res)),
  };
}

describe('webhooks and alerts in a real browser', () => {
  let mg;
  let browser;
  let context;
  let page;
  let hooks; // the seller's webhook receiver
  let slack; // a Slack-compatible incoming webhook
  let endpointId;

  before(async () => {
    // The receivers run on this machine: allow private networks, as a seller with internal endpoints would.
    [mg, hooks, slack] = await Promise.all([startMarketgate(['--outbound-allow-private']), startReceiver(), startReceiver()]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mg.base });
    page = await context.newPage();
    await signInAt(page, mg.base, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
    await hooks?.close();
    await slack?.close();
  });

  async function failed(name) {
    const path = await screenshot(page, name);
    console.error('screenshot:', path, '\nserver log:\n' + mg.log().slice(-4000));
  }

  const row = (text) => page.getByTestId('delivery-row').filter({ hasText: text });

  it('adds an endpoint, shows its secret once, and a test event arrives correctly signed', async () => {
    try {
      await page.getByRole('navigation', { name: 'Main' }).getByText('Webhooks').click();
      await page.waitForURL(/\/webhooks$/);
      // The sandbox's demo month has endpoints of its own; this test adds its receiver beside them.
      await page.getByTestId('endpoint-row').first().waitFor();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('URL', { exact: true }).fill(hooks.url + '/marketgate');
      await dialog.getByLabel('Description (optional)').fill('e2e receiver');
      await dialog.getByRole('button', { name: 'Add endpoint' }).click();

      // The secret, once, with a copy button and how to verify.
      const shown = (await dialog.getByTestId('webhook-secret').textContent()).trim();
      assert.match(shown, /^whsec_[A-Za-z0-9+/=]+$/);
      await dialog.getByText('Verify every delivery (Standard Webhooks)').waitFor();
      await dialog.getByRole('button', { name: 'Copy' }).click();
      await dialog.getByRole('button', { name: 'Copied' }).waitFor();
      const copied = await page.evaluate(() => globalThis.navigator.clipboard.readText());
      assert.equal(copied, shown, 'the Copy button puts the secret on the clipboard');
      hooks.setSecret(copied);
      await screenshot(page, 'webhooks-secret');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      const endpointRow = page.getByTestId('endpoint-row').filter({ hasText: hooks.url });
      await endpointRow.waitFor();
      assert.equal(await endpointRow.getByTestId('endpoint-status').textContent(), 'enabled');
      assert.equal(await page.getByText(shown).count(), 0, 'the secret is not shown again');
      await screenshot(page, 'webhooks-list');

      // The endpoint's page: send a test event and watch it succeed.
      await endpointRow.getByRole('link', { name: hooks.url + '/marketgate' }).click();
      await page.waitForURL(/\/webhooks\/\d+$/);
      endpointId = Number(new URL(page.url()).pathname.split('/').pop());
      await page.getByText('No deliveries yet').waitFor();
      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByTestId('test-sent').waitFor();
      const test = row('webhook.test');
      await test.getByTestId('delivery-status').getByText('succeeded').waitFor({ timeout: 20_000 });
      const eventId = (await test.locator('td').nth(2).textContent()).trim();
      assert.match(eventId, /^evt_/);

      const got = await hooks.waitFor((r) => r.json?.type === 'webhook.test', 'the test event');
      assert.equal(got.method, 'POST');
      assert.equal(got.path, '/marketgate');
      assert.match(got.headers['content-type'], /application\/json/);
      assert.equal(got.verified, 'ok', 'the signature verifies with the secret from the portal');
      assert.equal(got.headers['webhook-id'], eventId);
      assert.equal(got.json.id, eventId);
      assert.ok(!Number.isNaN(Date.parse(got.json.timestamp)), 'timestamp is RFC 3339: ' + got.json.timestamp);

      // The row opens on what was sent and what came back; it is in the URL.
      await test.click();
      await page.waitForURL(/delivery=\d+/);
      const detail = page.getByTestId('delivery-detail');
      const headers = detail.getByRole('table', { name: 'Request headers' });
      await headers.getByText(eventId).waitFor();
      assert.match(await headers.textContent(), /webhook-signature\s*v1,/);
      const body = JSON.parse(await detail.getByTestId('delivery-body').textContent());
      assert.deepEqual(body, got.json, 'the log shows the body the receiver got');
      assert.equal(await detail.getByTestId('delivery-response-status').textContent(), '200');
      assert.equal(await detail.getByTestId('delivery-excerpt').textContent(), 'thanks');
      await screenshot(page, 'webhooks-delivery-ok');
    } catch (err) {
      await failed('webhooks-test-failure');
      throw err;
    }
  });

  it('redelivers to a receiver that answers 500 and shows the status, the excerpt and the error', async () => {
    try {
      hooks.answer(500, 'receiver is down (e2e)');
      const before = hooks.got.length;
      const test = row('webhook.test');
      await test.getByRole('button', { name: 'Redeliver' }).click();
      await test.getByTestId('delivery-response').getByText('500').waitFor({ timeout: 20_000 });
      const again = await hooks.waitFor((r) => hooks.got.indexOf(r) >= before && r.json?.type === 'webhook.test', 'the redelivery');
      assert.equal(again.answered, 500);
      assert.equal(again.verified, 'ok');
      assert.equal(again.headers['webhook-id'], hooks.got.find((r) => r.json?.type === 'webhook.test').headers['webhook-id'], 'a redelivery keeps the webhook-id');

      // Still open from before: the failure in detail.
      const detail = page.getByTestId('delivery-detail');
      await detail.getByTestId('delivery-response-status').getByText('500').waitFor();
      assert.equal(await detail.getByTestId('delivery-excerpt').textContent(), 'receiver is down (e2e)');
      assert.match(await detail.getByTestId('delivery-error').textContent(), /500/);
      assert.equal(await test.getByTestId('delivery-status').textContent(), 'pending', 'a failed attempt is retried');
      await page.getByTestId('failing-callout').waitFor();
      await screenshot(page, 'webhooks-delivery-failed');

      // The filter narrows the log and lives in the URL.
      await page.getByLabel('Status').selectOption('succeeded');
      await page.waitForURL(/status=succeeded/);
      await page.getByText('No succeeded deliveries').waitFor();
      await page.getByLabel('Status').selectOption('');
      await test.waitFor();
    } catch (err) {
      await failed('webhooks-redeliver-failure');
      throw err;
    } finally {
      hooks.answer(200, 'thanks');
    }
  });

  it('a seat assigned in the portal arrives as a signed seat.assigned event with the subscription', async () => {
    try {
      // An active per-user Microsoft subscription with a free seat, from the sandbox's demo data.
      const id = await page.evaluate(async () => {
        const offers = (await (await fetch('/api/offers')).json()).items;
        const plan = offers.flatMap((o) => o.plans).find((p) => p.plan_id === 'per-user');
        const subs = (await (await fetch(`/api/subscriptions?plan=${plan.id}&state=active&limit=50`)).json()).items;
        for (const s of subs) {
          const seats = await (await fetch(`/api/subscriptions/${s.id}/seats`)).json();
          if (seats.summary.free > 0) return s.id;
        }
        return null;
      });
      assert.ok(id, 'the sandbox has an active per-user subscription with a free seat');
      const user = `webhook-${Date.now().toString(36)}@contoso.example`;
      await page.goto(`${mg.base}/subscriptions/${id}?tab=seats`);
      const form = page.getByRole('form', { name: 'Assign a seat' });
      await form.getByLabel('User e-mail or Entra object id').fill(user);
      await form.getByRole('button', { name: 'Assign seat' }).click();
      await page.getByRole('status').getByText('Seat assigned to ' + user).waitFor();

      const got = await hooks.waitFor((r) => r.json?.type === 'seat.assigned', 'seat.assigned');
      assert.equal(got.verified, 'ok');
      assert.equal(got.answered, 200);
      assert.equal(got.json.data.subscription.id, id);
      assert.equal(got.json.data.subscription.state, 'active');
      assert.ok(got.raw.includes(user), 'the event names the seat holder: ' + got.raw.slice(0, 600));

      // The log lists it with its subscription.
      await page.goto(`${mg.base}/webhooks/${endpointId}`);
      const seat = row('seat.assigned');
      await seat.getByTestId('delivery-status').getByText('succeeded').waitFor({ timeout: 20_000 });
      assert.equal(await seat.getByRole('link', { name: '#' + id }).getAttribute('href'), `/subscriptions/${id}`);
      assert.equal((await seat.locator('td').nth(2).textContent()).trim(), got.headers['webhook-id']);
      // The test delivery's retry reached the receiver again once it answered 200.
      await row('webhook.test').getByTestId('delivery-status').getByText('succeeded').waitFor({ timeout: 30_000 });
      await page.getByTestId('failing-callout').waitFor({ state: 'detached' });
      await screenshot(page, 'webhooks-endpoint');
    } catch (err) {
      await failed('webhooks-seat-failure');
      throw err;
    }
  });

  it('rotating the secret asks first; the new secret signs the next delivery', async () => {
    try {
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const confirm = page.getByRole('alertdialog');
      await confirm.getByText('The old secret stops working at once').waitFor();
      await confirm.getByRole('button', { name: 'Rotate secret' }).click();
      const dialog = page.getByRole('dialog');
      const secret = (await dialog.getByTestId('webhook-secret').textContent()).trim();
      assert.match(secret, /^whsec_/);
      await dialog.getByRole('button', { name: 'Done' }).click();
      const before = hooks.got.length;
      hooks.setSecret(secret);
      await page.getByRole('button', { name: 'Send test event' }).click();
      const got = await hooks.waitFor((r) => hooks.got.indexOf(r) >= before, 'a test event after rotation');
      assert.equal(got.verified, 'ok', 'signed with the new secret');
    } catch (err) {
      await failed('webhooks-rotate-failure');
      throw err;
    }
  });

  it('a Slack alert channel posts its test message, and a refusing one shows the error', async () => {
    try {
      await page.getByRole('navigation', { name: 'Main' }).getByText('Alerts').click();
      await page.waitForURL(/\/alerts$/);
      await page.getByRole('region', { name: 'Recent alerts' }).waitFor();
      await page.getByRole('button', { name: 'Add channel' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Kind').selectOption('slack');
      await dialog.getByLabel('Name').fill('e2e slack');
      await dialog.getByLabel('Incoming-webhook URL').fill(slack.url + '/services/T0/B0/e2e');
      await dialog.getByRole('button', { name: 'Add channel' }).click();
      await dialog.waitFor({ state: 'detached' });
      const channel = page.getByTestId('channel-row').filter({ hasText: 'e2e slack' });
      await channel.waitFor();

      await channel.getByRole('button', { name: 'Test' }).click();
      await page.getByTestId('channel-test-result').getByText('Test alert sent to ' + slack.url + '/services/T0/B0/e2e').waitFor();
      const got = await slack.waitFor((r) => r.path === '/services/T0/B0/e2e', 'the Slack test message');
      assert.equal(got.method, 'POST');
      assert.match(got.headers['content-type'], /application\/json/);
      assert.equal(typeof got.json?.text, 'string', 'a Slack message has a "text": ' + got.raw);
      assert.ok(got.json.text.length > 0);
      await channel.getByText('never').waitFor({ state: 'detached' }); // last sent is filled in

      slack.answer(404, 'no_service');
      await channel.getByRole('button', { name: 'Test' }).click();
      const result = page.getByTestId('channel-test-result');
      await result.getByRole('heading', { name: 'Test failed' }).waitFor();
      assert.match(await result.textContent(), /no_service|404/);
      assert.match(await result.textContent(), /request id: \S+/);
      await channel.locator('td').nth(6).getByText(/no_service|404/).waitFor();
      await screenshot(page, 'alerts');
    } catch (err) {
      await failed('alerts-failure');
      throw err;
    }
  });

  it('an admin changes a plan’s seat policies on the Offers page after reading what they mean', async () => {
    try {
      await page.getByRole('navigation', { name: 'Main' }).getByText('Offers').click();
      await page.waitForURL(/\/offers$/);
      const plan = page.getByTestId('plan-row').filter({ hasText: 'per-user-enterprise' });
      await plan.getByText('over quantity: keep access').waitFor();
      await plan.getByRole('button', { name: 'Seat policies…' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Seats over the quantity/).selectOption('newest_unlicensed');
      await dialog.getByText(/Auto-assign on first check/).click();
      const effects = dialog.getByTestId('plan-seat-effects');
      await effects.getByText(/seat_over_quantity/).waitFor();
      await effects.getByText(/seat_auto_assigned/).waitFor();
      await screenshot(page, 'offers-seat-policies');
      await dialog.getByRole('button', { name: 'Apply these 2 changes' }).click();
      await dialog.waitFor({ state: 'detached' });
      await plan.getByText('auto-assign on first check · over quantity: newest refused').waitFor();
      const saved = await page.evaluate(async () => {
        const offers = (await (await fetch('/api/offers')).json()).items;
        return offers.flatMap((o) => o.plans).find((p) => p.plan_id === 'per-user-enterprise');
      });
      assert.equal(saved.auto_assign_seats, true);
      assert.equal(saved.over_quantity_policy, 'newest_unlicensed');
      assert.equal(saved.allow_over_assignment, false);
      await screenshot(page, 'offers');
    } catch (err) {
      await failed('offers-failure');
      throw err;
    }
  });
});
