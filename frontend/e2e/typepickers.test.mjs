// Browser test of issue 16's picker bug: the webhook endpoint's and the
// alert channel's event-type pickers showed "—" for every type and ticked
// all of them at once, because the API sent `Type`/`Description` while the
// portal reads `type`/`description`. Each type must show its name and what it
// means, and ticking one ticks only that one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

describe('event-type pickers in a real browser', () => {
  let mg;
  let browser;
  let page;

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

  /** The types the API lists under key at path, as the signed-in browser gets them. */
  async function typesFrom(path, key) {
    const body = await page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).json(), path);
    const types = body[key];
    assert.ok(Array.isArray(types) && types.length > 1, `${path} lists its ${key}`);
    for (const t of types) {
      assert.equal(typeof t.type, 'string', `each of ${key} has a "type": ${JSON.stringify(t)}`);
      assert.equal(typeof t.description, 'string', `each of ${key} has a "description": ${JSON.stringify(t)}`);
      assert.ok(t.type && t.description, `no empty type or description: ${JSON.stringify(t)}`);
    }
    return types;
  }

  /**
   * Checks the picker in the open dialog: every expected type is a checkbox
   * labelled with its name and description; choosing "only the ticked types"
   * and ticking one leaves every other unticked.
   */
  async function checkPicker(dialog, group, expected) {
    const picker = dialog.getByRole('group', { name: group });
    const boxes = picker.getByRole('checkbox');
    // The dialog may still be drawing its list: wait for the last box first.
    await boxes.nth(expected.length - 1).waitFor();
    assert.equal(await boxes.count(), expected.length, 'one checkbox per type');
    for (const [i, t] of expected.entries()) {
      const label = (await picker.locator('label').nth(i).innerText()).replace(/\s+/g, ' ').trim();
      assert.equal(label, `${t.type} — ${t.description}`, 'the type shows its name and what it means');
    }
    // "All" ticks (and disables) every box; "only the ticked" starts with none.
    await dialog.getByText('Only the types ticked below').click();
    for (let i = 0; i < expected.length; i++) assert.equal(await boxes.nth(i).isChecked(), false, `${expected[i].type} starts unticked`);
    const pick = expected[1];
    await picker.getByText(pick.type, { exact: true }).click();
    for (let i = 0; i < expected.length; i++) {
      assert.equal(await boxes.nth(i).isChecked(), expected[i].type === pick.type, `ticking ${pick.type} ticks only it (${expected[i].type})`);
    }
    // A second one adds to it; unticking the first leaves the second.
    const other = expected[2];
    await picker.getByText(other.type, { exact: true }).click();
    await picker.getByText(pick.type, { exact: true }).click();
    for (let i = 0; i < expected.length; i++) {
      assert.equal(await boxes.nth(i).isChecked(), expected[i].type === other.type, `only ${other.type} stays ticked (${expected[i].type})`);
    }
  }

  it('the webhook endpoint picker shows each event type and ticks one at a time', async () => {
    try {
      // The test event is sent only by its button, so the picker leaves it out.
      const expected = (await typesFrom('/api/webhooks', 'event_types')).filter((t) => t.type !== 'webhook.test');
      await page.getByRole('navigation', { name: 'Main' }).getByText('Webhooks').click();
      await page.waitForURL(/\/webhooks$/);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const dialog = page.getByRole('dialog');
      await checkPicker(dialog, 'Event types', expected);
      await screenshot(page, 'picker-webhooks');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    } catch (err) {
      await screenshot(page, 'picker-webhooks-failure');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    }
  });

  it('the alert channel picker shows each alert type and ticks one at a time', async () => {
    try {
      const expected = await typesFrom('/api/alerts/channels', 'alert_types');
      await page.getByRole('navigation', { name: 'Main' }).getByText('Alerts').click();
      await page.waitForURL(/\/alerts$/);
      await page.getByRole('button', { name: 'Add channel' }).click();
      const dialog = page.getByRole('dialog');
      await checkPicker(dialog, 'Alert types', expected);
      await screenshot(page, 'picker-alerts');
    } catch (err) {
      await screenshot(page, 'picker-alerts-failure');
      console.error('server log:\n' + mg.log().slice(-4000));
      throw err;
    }
  });
});
