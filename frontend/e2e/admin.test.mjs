// Browser test of the seller's admin pages (issue 6), per role, against the
// sandbox: Notifications (filters in the URL, the payload viewer, replay),
// Customers, Offers & plans (create and edit with validation), Users (one-time
// password, forced password change, a new one-time password, role change,
// deactivation, invitations by link: accepted and revoked), the Audit log
// (entries, diff, CSV export) and Settings (connections, sandbox pages).
// Then the same pages as an operator, a viewer and a customer admin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EMAIL, PASSWORD, launchBrowser, screenshot, startMarketgate, signInAt } from './harness.mjs';

const QUEUE = '/sandbox/aws/sqs/000000000000/marketgate-sandbox-notifications';

describe('admin pages in a real browser, per role', () => {
  let mg;
  let browser;
  let adminCtx;
  let admin; // the seller admin's page
  let staffCtx;
  let staff; // the user the admin adds: operator, then viewer, then deactivated
  const stamp = Date.now().toString(36);
  const staffEmail = `e2e-${stamp}@example.com`;
  let staffPassword = 'staff-password-e2e-42'; // changes with the new one-time password
  let failedId; // a failed SQS message in the inbox

  before(async () => {
    mg = await startMarketgate();
    browser = await launchBrowser();
    adminCtx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    await adminCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mg.base });
    admin = await adminCtx.newPage();
    await signIn(admin, EMAIL, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    mg?.stop();
  });

  const signIn = (page, email, password) => signInAt(page, mg.base, email, password);

  async function failed(name, ...pages) {
    for (const [i, p] of [admin, ...pages].entries()) if (p) console.error('screenshot:', await screenshot(p, `${name}-${i}`));
    console.error('server log:\n' + mg.log().slice(-4000));
  }

  const nav = (page) => page.getByRole('navigation', { name: 'Main' });
  const navItems = async (page) => (await nav(page).getByRole('link').allTextContents()).map((t) => t.trim());
  const where = (page) => {
    const u = new URL(page.url());
    return { path: u.pathname, params: Object.fromEntries(u.searchParams) };
  };
  const api = (page, path) => page.evaluate(async (p) => (await fetch(p)).json(), path);

  /** Sends a message to the sandbox's SQS queue, as AWS would. */
  async function sqsSend(body) {
    const r = await fetch(mg.base + '/sandbox/aws/sqs', {
      method: 'POST',
      headers: { 'X-Amz-Target': 'AmazonSQS.SendMessage', 'Content-Type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ QueueUrl: mg.base + QUEUE, MessageBody: body }),
    });
    assert.equal(r.status, 200, await r.text());
  }

  async function waitInbox(page, q, n) {
    const deadline = Date.now() + 30_000;
    let got;
    while (Date.now() < deadline) {
      got = await api(page, '/api/inbox?' + q);
      if (got.total >= n) return got.items;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`inbox ${q}: ${got?.total} messages, wanted ${n}`);
  }

  it('admin: the inbox filters live in the URL; a failed SNS message shows decoded; replay asks first; the back button works', async () => {
    try {
      // A broken SNS notification (fails), a real one (processed) and a registration without a token (fails).
      await sqsSend(JSON.stringify({ Type: 'Notification', MessageId: 'e2e-broken-' + stamp, Message: JSON.stringify({ action: 'subscribe-success' }) }));
      const subs = await api(admin, '/api/subscriptions?marketplace=aws&state=active&limit=200');
      const legacy = subs.items.find((s) => s.offer?.marketplace_id === 'acme4analytics7legacy');
      assert.ok(legacy, 'an active legacy AWS subscription');
      const r = await fetch(mg.base + '/sandbox/aws/notify', {
        method: 'POST',
        headers: { Origin: mg.base, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ subscription: String(legacy.id), action: 'subscribe-success' }),
        redirect: 'manual',
      });
      assert.equal(r.status, 303);
      await fetch(mg.base + '/marketplace/aws/register', { method: 'POST', body: new URLSearchParams({ 'x-amzn-marketplace-token': 'e2e-not-a-token' }) });
      const failedSqs = await waitInbox(admin, 'status=failed&source=aws_sqs', 1);
      failedId = failedSqs[0].id;
      await waitInbox(admin, 'status=processed', 1);
      await waitInbox(admin, 'source=aws_registration', 1);
      // The sandbox's demo month has failed messages of its own: the filters must show exactly what the API counts.
      const failedTotal = (await api(admin, '/api/inbox?status=failed')).total;
      const failedSqsTotal = (await api(admin, '/api/inbox?status=failed&source=aws_sqs')).total;
      assert.ok(failedTotal >= 2 && failedSqsTotal >= 1, `failed ${failedTotal}, of which SQS ${failedSqsTotal}`);

      const adminNav = await navItems(admin);
      for (const item of ['Notifications', 'Customers', 'Offers', 'Users', 'Audit log', 'Settings']) assert.ok(adminNav.includes(item), adminNav.join(','));
      await nav(admin).getByText('Notifications').click();
      await admin.waitForURL(/\/notifications$/);
      await admin.getByTestId('inbox-row').first().waitFor();
      assert.ok((await admin.getByTestId('inbox-row').count()) >= 3);
      await screenshot(admin, 'admin-notifications');

      await admin.getByLabel('Status').selectOption('failed');
      await admin.waitForURL(/status=failed/);
      await admin.waitForFunction(() => {
        const states = [...document.querySelectorAll('[data-testid=inbox-status]')];
        return states.length > 0 && states.every((t) => t.textContent === 'failed');
      });
      assert.equal(await admin.getByTestId('inbox-row').count(), failedTotal);
      await admin.getByLabel('Source').selectOption('aws_sqs');
      await admin.waitForURL(/source=aws_sqs/);
      await admin.waitForFunction((n) => document.querySelectorAll('[data-testid=inbox-row]').length === n, failedSqsTotal);
      assert.deepEqual(where(admin).params, { status: 'failed', source: 'aws_sqs' });

      // Keyboard: ↓ selects the row, Enter opens it, filters kept (once no control has the focus).
      await admin.evaluate(() => document.activeElement?.blur());
      await admin.keyboard.press('ArrowDown');
      await admin.keyboard.press('Enter');
      await admin.waitForURL(new RegExp(`/notifications/${failedId}\\?`));
      assert.deepEqual(where(admin), { path: `/notifications/${failedId}`, params: { status: 'failed', source: 'aws_sqs' } });
      const detail = admin.getByTestId('inbox-detail');
      await detail.getByTestId('processing-error').getByText('without customer-identifier').waitFor();
      assert.match(await detail.getByTestId('payload-decoded').textContent(), /"action": "subscribe-success"/);
      assert.match(await detail.getByTestId('payload-envelope').textContent(), /"MessageId": "e2e-broken-/);
      await screenshot(admin, 'admin-notification-detail');

      await detail.getByRole('button', { name: 'Replay…' }).click();
      const confirm = admin.getByRole('alertdialog');
      await confirm.getByText(`Replay message #${failedId}`).waitFor();
      await confirm.getByRole('button', { name: 'Replay message' }).click();
      await detail.getByTestId('replay-result').getByText('it failed again').waitFor();
      assert.equal(await detail.getByTestId('detail-status').textContent(), 'failed');
      assert.match(await detail.textContent(), /after 2 attempts/);

      // Back closes the message, back again restores the first filter.
      await admin.goBack();
      await admin.waitForURL((u) => u.pathname === '/notifications' && u.searchParams.get('source') === 'aws_sqs');
      await admin.getByTestId('inbox-detail').waitFor({ state: 'detached' });
      await admin.goBack();
      await admin.waitForURL((u) => u.pathname === '/notifications' && !u.searchParams.has('source'));
      assert.equal(await admin.getByLabel('Source').inputValue(), '');
      assert.equal(await admin.getByLabel('Status').inputValue(), 'failed');

      // A time range in the future finds nothing; clearing it brings the rows back.
      await admin.getByLabel('From (UTC)').fill('2099-01-01T00:00');
      await admin.waitForURL(/from=2099-01-01T00%3A00%3A00Z/);
      await admin.getByText('No messages match these filters').waitFor();
      await admin.getByRole('button', { name: 'Any time' }).click();
      await admin.getByTestId('inbox-row').first().waitFor();

      // A registration cannot be replayed: the reason shows, no button; its request headers have a section.
      const registration = (await api(admin, '/api/inbox?source=aws_registration')).items[0];
      await admin.goto(`${mg.base}/notifications/${registration.id}`);
      const regDetail = admin.getByTestId('inbox-detail');
      await regDetail.getByTestId('replay-refusal').getByText(/purchase token works for the buyer’s visit only/).waitFor();
      assert.equal(await regDetail.getByRole('button', { name: 'Replay…' }).count(), 0);
      await regDetail.getByTestId('headers').or(regDetail.getByTestId('headers-none')).waitFor();

      // A deep link opens one message, with the link to its subscription.
      const processed = (await api(admin, '/api/inbox?status=processed&source=aws_sqs')).items[0];
      await admin.goto(`${mg.base}/notifications/${processed.id}`);
      await admin.getByTestId('detail-subscription').click();
      await admin.waitForURL(new RegExp(`/subscriptions/${processed.subscription_id}$`));
    } catch (err) {
      await failed('admin-notifications-failure');
      throw err;
    }
  });

  it('admin: creates an offer and a plan with a metered dimension, sees the validation messages, edits the plan', async () => {
    try {
      await nav(admin).getByText('Offers').click();
      await admin.waitForURL(/\/offers$/);
      await admin.getByTestId('offer-card').first().waitFor();
      await admin.getByRole('button', { name: 'New offer' }).click();
      let dialog = admin.getByRole('dialog');
      await dialog.getByText('Microsoft commercial marketplace').click();
      await dialog.getByLabel('Name').fill('E2E Suite ' + stamp);
      await dialog.getByLabel('Offer id').fill('E2E Suite');
      await dialog.getByRole('button', { name: 'Create offer' }).click();
      await dialog.getByText(/^Offer id: up to 50 lower-case/).waitFor();
      await dialog.getByLabel('Offer id').fill('e2e-suite-' + stamp);
      await dialog.getByRole('button', { name: 'Create offer' }).click();
      await dialog.waitFor({ state: 'detached' });
      const card = admin.getByTestId('offer-card').filter({ hasText: 'e2e-suite-' + stamp });
      await card.getByText('No plans yet.').waitFor();

      await card.getByRole('button', { name: 'Add plan…' }).click();
      dialog = admin.getByRole('dialog');
      await dialog.getByLabel('Plan id').fill('Gold plan!');
      await dialog.getByLabel('Name', { exact: true }).fill('Gold');
      await dialog.getByRole('button', { name: 'Add dimension' }).click();
      await dialog.getByLabel('Dimension 1 key').fill('reports');
      await dialog.getByLabel('Dimension 1 name').fill('Reports generated');
      await dialog.getByLabel('Dimension 1 unit').fill('report');
      await dialog.getByRole('button', { name: 'Add dimension' }).click();
      await dialog.getByLabel('Dimension 2 key').fill('reports');
      await dialog.getByRole('button', { name: 'Create plan' }).click();
      // The server's validation, one message at a time, next to what it is about.
      const dimError = dialog.getByTestId('dimension-error');
      await dimError.getByText('Dimension 2: the key "reports" is listed twice').waitFor();
      assert.match(await dialog.getByTestId('dimension-row').nth(1).getAttribute('class'), /mg-dim-invalid/);
      await screenshot(admin, 'admin-plan-validation');
      await dialog.getByLabel('Dimension 2 key').fill('exports');
      await dialog.getByTestId('dimension-row').nth(1).locator('label.bp6-checkbox').click(); // "metered"
      assert.equal(await dialog.getByLabel('Dimension 2 metered').isChecked(), true);
      await dialog.getByRole('button', { name: 'Create plan' }).click();
      await dialog.getByText(/^Plan id: 1 to 50 letters/).waitFor();
      assert.equal(await dimError.count(), 0);
      await dialog.getByLabel('Plan id').fill('gold');
      await dialog.getByText(/^Buyer confirms/).click();
      await dialog.getByRole('button', { name: 'Create plan' }).click();
      await dialog.waitFor({ state: 'detached' });
      const planRow = card.getByTestId('plan-row').filter({ hasText: 'gold' });
      await planRow.getByText('Reports generated').waitFor();
      assert.match(await planRow.textContent(), /Buyer confirms/);

      // Edit: per user with a seat limit and a refused plan change.
      await planRow.getByRole('button', { name: 'Edit plan gold' }).click();
      dialog = admin.getByRole('dialog');
      await dialog.getByText('Per user: the quantity is a number of seats').click();
      await dialog.getByTestId('plan-effects').getByText(/The plan becomes per user/).waitFor();
      await dialog.getByLabel('Fewest seats').fill('10');
      await dialog.getByLabel('Most seats').fill('5');
      await dialog.getByText(/^Refuse plan changes/).click();
      await dialog.getByRole('button', { name: 'Save plan' }).click();
      await dialog.getByText(/^Fewest and most seats: 0 \(no limit\)/).waitFor();
      await dialog.getByLabel('Most seats').fill('500');
      await dialog.getByRole('button', { name: 'Save plan' }).click();
      await dialog.waitFor({ state: 'detached' });
      await planRow.getByText('10–500 seats').waitFor();
      await planRow.getByText('no plan change').waitFor();

      const offers = (await api(admin, '/api/offers')).items;
      const offer = offers.find((o) => o.marketplace_id === 'e2e-suite-' + stamp);
      assert.equal(offer.marketplace, 'azure');
      const plan = offer.plans.find((p) => p.plan_id === 'gold');
      assert.deepEqual(plan.dimensions, [
        { key: 'reports', name: 'Reports generated', unit: 'report', metered: false },
        { key: 'exports', name: '', unit: '', metered: true },
      ]);
      assert.equal(plan.activation_policy, 'buyer_confirms');
      assert.equal(plan.seat_based, true);
      assert.equal(plan.min_quantity, 10);
      assert.equal(plan.max_quantity, 500);
      assert.equal(plan.reject_plan_change, true);

      // Rename the offer.
      await card.getByRole('button', { name: 'Edit offer…' }).click();
      dialog = admin.getByRole('dialog');
      assert.equal(await dialog.getByLabel('Offer id').isDisabled(), true);
      await dialog.getByLabel('Name').fill('E2E Suite renamed ' + stamp);
      await dialog.getByRole('button', { name: 'Save offer' }).click();
      await dialog.waitFor({ state: 'detached' });
      await admin.getByText('E2E Suite renamed ' + stamp).waitFor();
      await screenshot(admin, 'admin-offers');
    } catch (err) {
      await failed('admin-offers-failure');
      throw err;
    }
  });

  it('admin: adds a user who must change the one-time password at first sign-in; the operator sees no admin pages', async () => {
    try {
      await nav(admin).getByText('Users').click();
      await admin.waitForURL(/\/users$/);
      await admin.getByTestId('user-row').first().waitFor();
      await admin.getByRole('button', { name: 'Add with a one-time password…' }).click();
      const dialog = admin.getByRole('dialog');
      await dialog.getByLabel('E-mail').fill(staffEmail);
      await dialog.getByLabel('Name').fill('Olive Operator');
      await dialog.getByText(/^operator —/).click();
      await dialog.getByRole('button', { name: 'Add user' }).click();
      const callout = admin.getByTestId('one-time-password-callout');
      await callout.waitFor();
      const oneTime = (await admin.getByTestId('one-time-password').textContent()).trim();
      assert.ok(oneTime.length >= 12, 'a one-time password: ' + oneTime);
      assert.match(await callout.textContent(), /shown only once/);
      assert.match(await callout.textContent(), /must choose their own password/);
      await callout.getByRole('button', { name: 'Copy password' }).click();
      assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), oneTime);
      const row = admin.getByTestId('user-row').filter({ hasText: staffEmail });
      await row.getByText('must change password').waitFor();
      await screenshot(admin, 'admin-users-one-time-password');
      // My own account offers nothing to change.
      const mine = admin.getByTestId('user-row').filter({ hasText: EMAIL });
      assert.equal(await mine.getByLabel(`Role of ${EMAIL}`).isDisabled(), true);

      // The new user signs in elsewhere and must choose a password first.
      staffCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      staff = await staffCtx.newPage();
      await signIn(staff, staffEmail, oneTime);
      const change = staff.getByRole('dialog', { name: 'Choose your own password' });
      await change.waitFor();
      await screenshot(staff, 'operator-forced-password-change');
      await change.getByLabel('One-time password').fill(oneTime);
      await change.getByLabel(/New password/).fill(staffPassword);
      await change.getByRole('button', { name: 'Save password' }).click();
      await change.waitFor({ state: 'detached' });

      // As an operator: no Users, no Audit log, offers read only, replay offered.
      const items = await navItems(staff);
      assert.ok(!items.includes('Users') && !items.includes('Audit log') && !items.includes('Webhooks'), items.join(','));
      assert.ok(items.includes('Notifications') && items.includes('Customers') && items.includes('Offers'), items.join(','));
      for (const path of ['/users', '/audit']) {
        await staff.goto(mg.base + path);
        await staff.getByTestId('not-allowed').getByText('Only admins may open').waitFor();
        await screenshot(staff, 'operator' + path.replace('/', '-'));
      }
      await staff.goto(mg.base + '/offers');
      await staff.getByTestId('plan-row').first().waitFor();
      await staff.getByText('read only — admins change offers and plans').waitFor();
      assert.equal(await staff.getByRole('button', { name: /New offer|Edit|Add plan|Seat policies/ }).count(), 0);
      await screenshot(staff, 'operator-offers');
      await staff.goto(`${mg.base}/notifications/${failedId}`);
      await staff.getByTestId('inbox-detail').getByRole('button', { name: 'Replay…' }).waitFor();
      await screenshot(staff, 'operator-notifications');
      await staff.goto(mg.base + '/customers');
      await staff.getByTestId('customer-row').first().waitFor();
      await screenshot(staff, 'operator-customers');
      await staff.goto(mg.base + '/settings');
      await staff.getByRole('button', { name: 'Reconcile now' }).waitFor();
      assert.equal(await staff.getByText('API keys').count(), 0);
      await screenshot(staff, 'operator-settings');
    } catch (err) {
      await failed('admin-users-failure', staff);
      throw err;
    }
  });

  it('admin: a new one-time password signs the operator out everywhere; they must change it at their next sign-in', async () => {
    try {
      await admin.goto(mg.base + '/users');
      const row = admin.getByTestId('user-row').filter({ hasText: staffEmail });
      await row.getByText('active', { exact: true }).waitFor(); // changed their one-time password already
      // Never for one's own account.
      assert.equal(await admin.getByTestId('user-row').filter({ hasText: EMAIL }).getByRole('button', { name: /New one-time password/ }).count(), 0);
      await row.getByRole('button', { name: 'New one-time password…' }).click();
      const confirm = admin.getByRole('alertdialog');
      const text = confirm.getByTestId('reset-confirm-text');
      await text.getByText(/signed out everywhere/).waitFor();
      assert.match(await text.textContent(), /must change it at their first sign-in/);
      await confirm.getByRole('button', { name: 'Sign out and issue a new password' }).click();
      const callout = admin.getByTestId('one-time-password-callout');
      await callout.getByText(`${staffEmail} has a new one-time password — it is shown only once`).waitFor();
      const oneTime = (await admin.getByTestId('one-time-password').textContent()).trim();
      assert.ok(oneTime.length >= 12, 'a one-time password: ' + oneTime);
      await callout.getByRole('button', { name: 'Copy password' }).click();
      assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), oneTime);
      await row.getByText('must change password').waitFor();
      await screenshot(admin, 'admin-users-new-one-time-password');
      await callout.getByRole('button', { name: /Done/ }).click();
      await callout.waitFor({ state: 'detached' });

      // The operator's open session has ended; the old password no longer works.
      await staff.goto(mg.base + '/customers');
      await staff.waitForURL(/\/login/);
      await staff.fill('#email', staffEmail);
      await staff.fill('#password', staffPassword);
      await staff.click('button[type=submit]');
      await staff.getByText('Wrong e-mail or password.').waitFor();
      // The new one works once: a new password first.
      await staff.fill('#password', oneTime);
      await staff.click('button[type=submit]');
      const change = staff.getByRole('dialog', { name: 'Choose your own password' });
      await change.waitFor();
      staffPassword = 'staff-password-e2e-43';
      await change.getByLabel('One-time password').fill(oneTime);
      await change.getByLabel(/New password/).fill(staffPassword);
      await change.getByRole('button', { name: 'Save password' }).click();
      await change.waitFor({ state: 'detached' });
      await staff.getByTestId('current-user').getByText('operator').waitFor();
    } catch (err) {
      await failed('admin-reset-failure', staff);
      throw err;
    }
  });

  it('admin: makes the operator a viewer, who then only reads; deactivating signs them out at once', async () => {
    try {
      const row = admin.getByTestId('user-row').filter({ hasText: staffEmail });
      await row.getByLabel(`Role of ${staffEmail}`).selectOption('viewer');
      const confirm = admin.getByRole('alertdialog');
      await confirm.getByText(`Make ${staffEmail} a viewer?`).waitFor();
      await confirm.getByRole('button', { name: 'Make viewer' }).click();
      await admin.getByTestId('user-updated').getByText(`${staffEmail}: role changed to viewer.`).waitFor();

      // The viewer reads everything, changes nothing.
      await staff.goto(`${mg.base}/notifications/${failedId}`);
      await staff.getByTestId('inbox-detail').getByTestId('payload-decoded').waitFor();
      assert.equal(await staff.getByRole('button', { name: 'Replay…' }).count(), 0);
      await screenshot(staff, 'viewer-notifications');
      await staff.goto(mg.base + '/offers');
      await staff.getByTestId('plan-row').first().waitFor();
      assert.equal(await staff.getByRole('button', { name: /New offer|Edit|Add plan|Seat policies/ }).count(), 0);
      await screenshot(staff, 'viewer-offers');
      await staff.goto(mg.base + '/customers');
      await staff.getByTestId('customer-row').first().click();
      await staff.waitForURL(/\/customers\/\d+$/);
      await staff.getByTestId('customer-name').waitFor();
      await screenshot(staff, 'viewer-customer');
      await staff.getByRole('button', { name: 'Manage admins & invitations' }).click();
      await staff.waitForURL(/\/customers\/\d+\/admins$/);
      await staff.getByText('Admins', { exact: true }).waitFor();
      assert.equal(await staff.getByLabel('E-mail of the new admin').count(), 0);
      await staff.goto(mg.base + '/settings');
      await staff.getByTestId('connection').first().waitFor();
      assert.equal(await staff.getByRole('button', { name: 'Reconcile now' }).count(), 0);
      await screenshot(staff, 'viewer-settings');
      for (const path of ['/users', '/audit']) {
        await staff.goto(mg.base + path);
        await staff.getByTestId('not-allowed').waitFor();
        await screenshot(staff, 'viewer' + path.replace('/', '-'));
      }

      // Deactivate: the confirmation says so, and the viewer is out at once.
      await admin.getByTestId('user-row').filter({ hasText: staffEmail }).getByRole('button', { name: 'Deactivate…' }).click();
      await confirm.getByText('signed out at once').waitFor();
      await confirm.getByRole('button', { name: 'Deactivate and sign out' }).click();
      await admin.getByTestId('user-updated').getByText(`${staffEmail}: deactivated and signed out.`).waitFor();
      await admin.getByTestId('user-row').filter({ hasText: staffEmail }).getByText('deactivated').waitFor();
      await screenshot(admin, 'admin-users');
      await staff.goto(mg.base + '/customers');
      await staff.waitForURL(/\/login/);
      await staff.fill('#email', staffEmail);
      await staff.fill('#password', staffPassword);
      await staff.click('button[type=submit]');
      await staff.getByText('Wrong e-mail or password.').waitFor(); // a deactivated account cannot sign in
      await staffCtx.close();
    } catch (err) {
      await failed('admin-roles-failure', staff);
      throw err;
    }
  });

  it('admin: the audit log shows those actions with before and after, filters in the URL, and exports them', async () => {
    try {
      await nav(admin).getByText('Audit log').click();
      await admin.waitForURL(/\/audit$/);
      await admin.getByTestId('audit-row').first().waitFor();
      await admin.getByLabel('Action prefix').fill('user.');
      await admin.waitForURL(/action=user\./);
      // Wait for the list under the new filter: rows present, and every one a user action
      // (every() alone holds on the empty list between two fetches).
      await admin.waitForFunction(() => {
        const cells = [...document.querySelectorAll('[data-testid=audit-row] td:nth-child(4)')];
        return cells.length >= 3 && cells.every((td) => td.textContent.startsWith('user.'));
      });
      const actions = (await admin.locator('[data-testid=audit-row] td:nth-child(4)').allTextContents()).map((t) => t.trim());
      for (const a of ['user.create', 'user.update', 'user.password_changed']) assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);

      // Narrow to the new user with the "history" link of an entry about them.
      const users = (await api(admin, '/api/users')).items;
      const staffId = String(users.find((u) => u.email === staffEmail).id);
      await admin.getByLabel('Target id').fill(staffId);
      await admin.waitForURL(new RegExp('target_id=' + staffId));
      await admin.waitForFunction((id) => {
        const cells = [...document.querySelectorAll('[data-testid=audit-row] td:nth-child(5)')];
        return cells.length >= 2 && cells.every((td) => td.textContent.includes('#' + id));
      }, staffId);
      // The newest first: deactivation, then the role change.
      const rows = admin.getByTestId('audit-row');
      await rows.nth(1).click();
      await admin.waitForURL(/entry=\d+/);
      const diff = admin.getByTestId('audit-diff');
      // Wait for this entry's diff to render before reading it.
      await diff.getByTestId('diff-row').filter({ hasText: /^role/ }).waitFor();
      const changed = await diff.getByTestId('diff-row').allTextContents();
      assert.ok(changed.some((t) => t.startsWith('role') && t.includes('"operator"') && t.includes('"viewer"')), changed.join(' | '));
      const roleEntry = new URL(admin.url()).searchParams.get('entry');
      await rows.first().click();
      await admin.waitForURL((u) => new URL(u).searchParams.get('entry') !== roleEntry);
      await admin.getByTestId('audit-diff').getByTestId('diff-row').filter({ hasText: /^disabled/ }).waitFor();
      const deactivated = await admin.getByTestId('audit-diff').getByTestId('diff-row').allTextContents();
      assert.ok(deactivated.some((t) => t.startsWith('disabled') && t.includes('false') && t.includes('true')), deactivated.join(' | '));
      await screenshot(admin, 'admin-audit');

      // The deep link keeps everything.
      const url = admin.url();
      await admin.goto(url);
      await admin.getByTestId('audit-diff').waitFor();

      // Export: the same filters, as CSV.
      const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByTestId('audit-export').click()]);
      const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
      assert.equal(csv[0], 'at,actor,action,target_type,target_id,before,after,request_id,ip');
      assert.ok(csv.length >= 4, csv.join('\n'));
      assert.ok(
        csv.slice(1).every((l) => l.includes(',user.') && l.includes(`,user,${staffId},`)),
        csv.join('\n'),
      );
    } catch (err) {
      await failed('admin-audit-failure');
      throw err;
    }
  });

  it('admin: invites a viewer by a link that works once — they join signed in; a revoked invitation’s link no longer works', async () => {
    const inviteeEmail = `invitee-${stamp}@example.com`;
    const revokedEmail = `revoked-${stamp}@example.com`;
    const inviteeCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const invitee = await inviteeCtx.newPage();
    const strangerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const stranger = await strangerCtx.newPage();
    /** Invites someone through the dialog; returns the link it shows once (read back from the clipboard). */
    async function invite(email, name, role) {
      await admin.getByRole('button', { name: 'Invite user' }).click();
      const dialog = admin.getByRole('dialog');
      await dialog.getByLabel('E-mail').fill(email);
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByText(new RegExp(`^${role} —`)).click();
      await dialog.getByRole('button', { name: 'Create invitation link' }).click();
      const shown = (await dialog.getByTestId('invite-url').textContent()).trim();
      assert.match(shown, new RegExp('^' + mg.base.replace(/[.:/]/g, '\\$&') + '/invite\\?token=\\S{16,}$'));
      assert.match(await dialog.getByTestId('invite-link-note').textContent(), /works once, for 7 days/);
      await dialog.getByRole('button', { name: 'Copy link' }).click();
      const copied = await admin.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, shown);
      await screenshot(admin, `admin-users-invite-${role}`);
      await dialog.getByRole('button', { name: /Done/ }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await admin.getByText(shown).count(), 0, 'the link is shown once');
      return copied;
    }
    const inviteRow = (email) => admin.getByTestId('invite-row').filter({ hasText: email });
    try {
      await admin.goto(mg.base + '/users');
      await admin.getByTestId('user-row').first().waitFor();
      const link = await invite(inviteeEmail, 'Ivy Invitee', 'viewer');
      let row = inviteRow(inviteeEmail);
      await row.getByTestId('invite-state').getByText('pending', { exact: true }).waitFor();
      const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
      assert.deepEqual(cells.slice(0, 3), [`${inviteeEmail} — Ivy Invitee`, 'viewer', EMAIL]);

      // Another invitation, revoked: its link stops working.
      const revokedLink = await invite(revokedEmail, 'Rex Revoked', 'operator');
      await inviteRow(revokedEmail).getByRole('button', { name: 'Revoke…' }).click();
      const confirm = admin.getByRole('alertdialog');
      await confirm.getByTestId('revoke-confirm-text').getByText(/stops working at once/).waitFor();
      await confirm.getByRole('button', { name: 'Revoke invitation' }).click();
      await admin.getByTestId('invite-updated').getByText(`The invitation for ${revokedEmail} is revoked`).waitFor();
      await inviteRow(revokedEmail).getByTestId('invite-state').getByText('revoked', { exact: true }).waitFor();
      assert.equal(await inviteRow(revokedEmail).getByRole('button', { name: /Revoke/ }).count(), 0);
      const gone = await stranger.goto(revokedLink);
      assert.equal(gone.status(), 410);
      await stranger.getByText('This invitation no longer works').waitFor();
      await screenshot(stranger, 'invite-revoked');

      // The invitee opens the link in a browser of their own, chooses a name and password, and is signed in as a viewer.
      const opened = await invitee.goto(link);
      assert.equal(opened.status(), 200);
      await invitee.getByText(inviteeEmail).first().waitFor();
      assert.equal(await invitee.inputValue('#name'), 'Ivy Invitee');
      await screenshot(invitee, 'invite-page');
      await invitee.fill('#name', 'Ivy Viewer');
      await invitee.fill('#password', 'invitee-password-e2e-42');
      await invitee.click('button[type=submit]');
      await invitee.waitForURL(mg.base + '/');
      const me = invitee.getByTestId('current-user');
      await me.getByText('viewer', { exact: true }).waitFor();
      assert.match(await me.textContent(), new RegExp(inviteeEmail.replace(/[.]/g, '\\.')));
      const items = await navItems(invitee);
      assert.ok(!items.includes('Users') && items.includes('Notifications'), items.join(','));
      await screenshot(invitee, 'invitee-signed-in');
      // The link worked once.
      const again = await stranger.goto(link);
      assert.equal(again.status(), 410);

      // The admin sees the invitation accepted and the new viewer among the staff.
      await admin.reload();
      row = inviteRow(inviteeEmail);
      await row.getByTestId('invite-state').getByText('accepted', { exact: true }).waitFor();
      assert.equal(await row.getByRole('button', { name: /Revoke/ }).count(), 0);
      const staffRow = admin.getByTestId('user-row').filter({ hasText: inviteeEmail });
      await staffRow.getByText('Ivy Viewer').waitFor();
      assert.equal(await staffRow.getByLabel(`Role of ${inviteeEmail}`).inputValue(), 'viewer');
      await staffRow.getByText('active', { exact: true }).waitFor();
      await screenshot(admin, 'admin-users-invitations');
    } catch (err) {
      await failed('admin-invite-failure', invitee, stranger);
      throw err;
    } finally {
      await inviteeCtx.close();
      await strangerCtx.close();
    }
  });

  it('admin: customers — search, open one with its subscriptions and admins; Settings shows the connections', async () => {
    try {
      await nav(admin).getByText('Customers').click();
      await admin.waitForURL(/\/customers$/);
      await admin.getByTestId('customer-row').first().waitFor();
      await admin.getByLabel('Search customers').fill('Adatum');
      await admin.waitForURL(/q=Adatum/);
      await admin.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid=customer-row]')];
        return rows.length > 0 && rows.every((r) => r.textContent.includes('Adatum'));
      });
      await screenshot(admin, 'admin-customers');
      await admin.getByTestId('customer-row').first().click();
      await admin.waitForURL(/\/customers\/\d+$/);
      const id = where(admin).path.split('/').pop();
      await admin.getByTestId('customer-name').getByText(/Adatum/).waitFor();
      await admin.getByTestId('customer-subscription').first().waitFor();
      const listed = await admin.getByTestId('customer-subscription').count();
      const viaApi = await api(admin, `/api/subscriptions?customer=${id}&limit=1`);
      assert.equal(listed, Math.min(viaApi.total, 50));
      // The header's figures (GET /api/customers/:id) are those of the lists they link to.
      assert.equal(await admin.getByTestId('customer-subscriptions').textContent(), String(viaApi.total));
      const active = await api(admin, `/api/subscriptions?customer=${id}&state=active,unsubscribe_pending&limit=1`);
      assert.equal(await admin.getByTestId('customer-active').textContent(), `${active.total} active`);
      const team = await api(admin, `/api/customer-admins?customer_id=${id}`);
      assert.equal(await admin.getByTestId('customer-admins-count').textContent(), String(team.admins.length));
      await screenshot(admin, 'admin-customer');
      await admin.getByRole('button', { name: 'Manage admins & invitations' }).click();
      await admin.waitForURL(new RegExp(`/customers/${id}/admins$`));
      await admin.getByLabel('E-mail of the new admin').waitFor();
      await admin.goBack();
      await admin.getByTestId('customer-name').waitFor();
      await admin.goBack();
      await admin.waitForURL(/\/customers\?q=Adatum$/);

      await nav(admin).getByText('Settings').click();
      await admin.waitForURL(/\/settings$/);
      await admin.getByTestId('connection').nth(1).waitFor();
      const [aws, ms] = await admin.getByTestId('connection').all();
      // The sandbox's SQS poller has called AWS by now.
      await aws.getByTestId('connection-state').getByText('working').waitFor();
      assert.doesNotMatch(await aws.getByTestId('last-success').textContent(), /none yet/);
      assert.match(await aws.textContent(), new RegExp(mg.base.replace(/[.:/]/g, '\\$&') + '/marketplace/aws/register'));
      assert.match(await ms.textContent(), /\/marketplace\/azure\/webhook/);
      const sandbox = admin.getByTestId('sandbox-controls');
      assert.equal(await sandbox.getByRole('link', { name: 'AWS buyer' }).getAttribute('href'), '/sandbox/aws');
      assert.equal(await sandbox.getByRole('link', { name: 'Microsoft buyer' }).getAttribute('href'), '/sandbox/azure');
      await admin.getByText('API keys').waitFor();
      assert.match(await admin.getByTestId('version').textContent(), /\S/);
      await screenshot(admin, 'admin-settings');
    } catch (err) {
      await failed('admin-customers-failure');
      throw err;
    }
  });

  it('customer admin: their own portal, no seller page in the nav, and a deep link to one is not found', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const buyer = await ctx.newPage();
    try {
      await buyer.goto(mg.base + '/sandbox/aws');
      await buyer.locator('form', { hasText: 'acme4analytics7legacy' }).getByRole('button', { name: 'Subscribe' }).click();
      await buyer.waitForURL(/\/marketplace\/aws\/onboarding/);
      const email = `it-${stamp}@northwind.example`;
      await buyer.fill('#company', 'Northwind ' + stamp);
      await buyer.fill('#name', 'Nina Admin');
      await buyer.fill('#email', email);
      await buyer.fill('#password', 'northwind-password-42');
      await buyer.getByRole('button', { name: 'Create account' }).click();
      await buyer.getByText('Getting started').waitFor();
      await signIn(buyer, email, 'northwind-password-42');
      // Their own portal (features/portal): none of the seller's pages.
      const nav = buyer.getByRole('navigation', { name: 'Customer portal' });
      assert.deepEqual((await nav.getByRole('link').allTextContents()).map((t) => t.trim()), ['Subscriptions', 'Organisation', 'Team']);
      for (const path of ['/notifications', `/notifications/${failedId}`, '/customers', '/customers/1', '/offers', '/users', '/audit', '/settings']) {
        await buyer.goto(mg.base + path);
        await buyer.getByRole('heading', { level: 1, name: "Page not found" }).waitFor();
        assert.equal(await buyer.getByTestId('version').count(), 0);
        assert.equal(await buyer.getByTestId('sandbox-controls').count(), 0);
        await screenshot(buyer, 'customer-admin' + path.replace(/\//g, '-'));
      }

      // The seller's Users page lists them under their organisation.
      await admin.goto(mg.base + '/users?q=' + encodeURIComponent(email));
      const group = admin.getByTestId('customer-admin-group').filter({ hasText: email });
      await group.getByRole('link', { name: 'Northwind ' + stamp }).click();
      await admin.waitForURL(/\/customers\/\d+$/);
      await admin.getByTestId('customer-admin').getByText(email).waitFor();
    } catch (err) {
      await failed('customer-admin-failure', buyer);
      throw err;
    } finally {
      await ctx.close();
    }
  });
});
