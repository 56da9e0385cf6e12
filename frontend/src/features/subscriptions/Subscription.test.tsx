import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { AzureOperation, FreeTrial, Role, Subscription } from '../../shared/api';
import { freeTrialText, SubscriptionPage } from './Subscription';
import { AWS_PORTAL } from './SubActions';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const old = '2026-01-01T00:00:00Z';
const azure: Subscription = {
  id: 9, marketplace: 'azure', state: 'active', name: 'Contoso Analytics', customer: { id: 1, name: 'Contoso' },
  offer: { id: 1, name: 'Acme Analytics', marketplace_id: 'acme-analytics' }, plan: { id: 2, plan_id: 'silver', name: 'Silver' }, quantity: 3,
  aws_customer_account_id: '', aws_license_arn: '', aws_customer_identifier: '', aws_product_code: '', aws_offer_id: '',
  azure_subscription_id: '5bbe8cb8-e734-4b74-ae28-62f3eea2ebc6', azure_tenant_id: 'tenant-1', term_start: old, term_end: '2027-01-01T00:00:00Z', term_unit: 'P1Y',
  free_trial: false, is_test: true, auto_renew: true, version: 2, state_changed_at: old, created_at: old, updated_at: old,
};
const aws: Subscription = {
  ...azure, id: 10, marketplace: 'aws', name: 'Fabrikam Contracts', azure_subscription_id: '', azure_tenant_id: '', aws_customer_account_id: '123456789012',
  aws_license_arn: 'arn:aws:license-manager::123:license:l-1', aws_product_code: 'prod-1', aws_offer_id: 'offer-1',
};

interface Call {
  method: string;
  url: string;
  body: string;
}

interface World {
  sub: Subscription;
  operations?: AzureOperation[];
  /** Operations answered after a change was started, one list per GET (the last repeats). */
  after?: AzureOperation[][];
  failedMessage?: { id: number; source: string; action: string; error: string };
  change?: (body: unknown) => Response;
  freeTrial?: FreeTrial;
  /** A flat-rate plan: no seat counts. */
  flat?: boolean;
}

const seatCounts = { seat_based: true, bought: 3, assigned: 1, free: 2, over: 0, allow_over_assignment: false, auto_assign: false, over_quantity_policy: 'keep_all', state: 'active', usable: true };

function mockApi(w: World) {
  const calls: Call[] = [];
  let started = false;
  let polls = 0;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? '') };
    calls.push(c);
    const id = w.sub.id;
    if (c.url.startsWith(`/api/subscriptions/${id}/seats`)) return json(200, { summary: { seat_based: false }, items: [], total: 0 });
    if (c.url === `/api/subscriptions/${id}`) {
      let operations = w.operations ?? [];
      if (started && w.after) operations = w.after[Math.min(polls++, w.after.length - 1)];
      return json(200, {
        subscription: w.sub, operations, seats: w.flat || w.sub.marketplace === 'aws' ? null : seatCounts, entitlements: [{ dimension: 'users', kind: 'Integer', value: '25', expires_at: '2027-01-01T00:00:00Z', updated_at: old }],
        agreements: [], free_trial: w.freeTrial ?? null,
        aws_metering_identity: w.sub.marketplace === 'aws'
          ? { model: 'concurrent_agreements', source: 'offer', customer_identifier: '', product_code: '', customer_aws_account_id: w.sub.aws_customer_account_id, license_arn: w.sub.aws_license_arn, missing: '' }
          : null,
        timeline: [{ id: 1, at: old, kind: 'azure.resolved', source: 'azure_landing', summary: 'Purchase resolved', from_state: '', to_state: 'pending', actor: 'sandbox', payload: { planId: 'silver' }, inbox_id: null }],
        audit: [{ id: 5, at: '2026-01-02T00:00:00Z', actor: 'ops@seller.example', action: 'azure.changequantity', target_type: 'subscription', target_id: String(id), before: '', after: '{"quantity":3}', request_id: 'rq-5', ip: '10.0.0.1' }],
      });
    }
    if (c.url === `/api/subscriptions/${id}/raw`) return json(200, { marketplace: w.sub.marketplace, source: 'Microsoft SaaS Fulfillment API: Get subscription', record: { id: 'raw-record-id', saasSubscriptionStatus: 'Subscribed' }, read_at: old });
    if (c.url === `/api/subscriptions/${id}/azure/plans`)
      return json(200, { plans: [
        { plan_id: 'silver', name: 'Silver', per_seat: true, min_quantity: 1, max_quantity: 100, private: false },
        { plan_id: 'gold', name: 'Gold', per_seat: true, min_quantity: 1, max_quantity: 100, private: false },
        { plan_id: 'platinum', name: 'Platinum', per_seat: true, min_quantity: 1, max_quantity: 100, private: true },
      ] });
    if (c.url.startsWith('/api/inbox?')) return json(200, { items: w.failedMessage ? [{ ...w.failedMessage, status: 'failed', marketplace: w.sub.marketplace, attempts: 2, subscription_id: id, received_at: old, processed_at: null, dedup_key: 'k' }] : [], total: w.failedMessage ? 1 : 0 });
    if (c.method === 'POST' && c.url === `/api/subscriptions/${id}/azure/change`) {
      const res = w.change?.(JSON.parse(c.body));
      if (res && !res.ok) return res;
      started = true;
      return json(202, { operation: { operation_id: 'op-new', action: 'ChangeQuantity', status: 'InProgress' } });
    }
    if (c.method === 'POST' && c.url === `/api/subscriptions/${id}/azure/activate`) return json(200, { subscription: { ...w.sub, state: 'active' } });
    if (c.method === 'POST' && c.url.startsWith('/api/inbox/')) return json(200, { message: { ...w.failedMessage, status: 'processed', error: '' } });
    return json(404, { error: { code: 'not_found', message: 'unexpected ' + c.method + ' ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

let search = '';
function Spy() {
  search = useLocation().search;
  return null;
}

function renderAs(role: Role | null, url: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  if (role) qc.setQueryData(['me'], { user: { id: 1, email: role + '@example.com', name: role, role, customer_id: role === 'customer_admin' ? 1 : null, must_change_password: false } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/subscriptions/:id" element={<><SubscriptionPage /><Spy /></>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const actionNames = () => {
  const bar = screen.queryByRole('toolbar', { name: 'Actions' });
  return bar ? within(bar).getAllByRole('button').map((b) => b.textContent) : [];
};
const posts = (calls: Call[]) => calls.filter((c) => c.method === 'POST');

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Subscription actions: role gating', () => {
  it.each(['admin', 'operator'] as Role[])('%s gets every action on an active Microsoft subscription', async (role) => {
    mockApi({ sub: azure });
    renderAs(role, '/subscriptions/9');
    await waitFor(() => expect(actionNames()).toEqual(['Change plan', 'Change seats', 'Unsubscribe']));
  });

  it('a flat-rate plan is not offered a seat change (Microsoft would refuse it)', async () => {
    mockApi({ sub: { ...azure, quantity: 0 }, flat: true });
    renderAs('admin', '/subscriptions/9');
    await waitFor(() => expect(actionNames()).toEqual(['Change plan', 'Unsubscribe']));
  });

  it('a pending Microsoft subscription offers activation only', async () => {
    mockApi({ sub: { ...azure, state: 'pending' } });
    renderAs('operator', '/subscriptions/9');
    await waitFor(() => expect(actionNames()).toEqual(['Approve and activate']));
  });

  it('a viewer is offered no action, but sees the Raw tab', async () => {
    const calls = mockApi({ sub: azure, failedMessage: { id: 77, source: 'aws_sqs', action: 'subscribe-fail', error: 'boom' } });
    renderAs('viewer', '/subscriptions/9');
    await screen.findByText('Contoso Analytics');
    expect(screen.queryByRole('toolbar', { name: 'Actions' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Unsubscribe|Change|Replay|activate/ })).toBeNull();
    expect(screen.getByRole('tab', { name: 'Raw' })).toBeTruthy();
    expect(calls.some((c) => c.url.startsWith('/api/inbox'))).toBe(false);
  });

  it('a customer admin is offered no action, no Raw tab and no AWS seller note', async () => {
    mockApi({ sub: aws });
    renderAs('customer_admin', '/subscriptions/10?tab=raw');
    await screen.findByText('Fabrikam Contracts');
    expect(screen.queryByRole('button', { name: /Unsubscribe|Change|Replay|activate/ })).toBeNull();
    expect(screen.queryByRole('tab', { name: 'Raw' })).toBeNull();
    expect(screen.queryByTestId('aws-no-api')).toBeNull();
    // ?tab=raw is not theirs: the Overview shows instead.
    expect(screen.getByRole('tab', { name: 'Overview' }).getAttribute('aria-selected')).toBe('true');
  });

  it('an AWS subscription explains that AWS has no seller API for plan or quantity changes, links to the Management Portal and to the agreement actions', async () => {
    mockApi({ sub: aws });
    renderAs('admin', '/subscriptions/10');
    const note = await screen.findByTestId('aws-no-api');
    expect(note.textContent).toMatch(/AWS offers sellers no API to change a buyer.s plan or quantity/);
    expect(note.textContent).not.toMatch(/no API to change or cancel/);
    expect(within(note).getByRole('link', { name: 'Billing & requests' }).getAttribute('href')).toBe('/subscriptions/10?tab=money');
    const link = within(note).getByText('AWS Marketplace Management Portal').closest('a')!;
    expect(link.getAttribute('href')).toBe(AWS_PORTAL);
    expect(link.getAttribute('target')).toBe('_blank');
    expect(AWS_PORTAL).toBe('https://aws.amazon.com/marketplace/management/');
    expect(actionNames()).toEqual([]);
  });
});

describe('Subscription actions: confirmations', () => {
  it('unsubscribe says it cannot be undone and that Microsoft bills an old subscription; cancel sends nothing', async () => {
    const calls = mockApi({ sub: azure });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Unsubscribe' }));
    const dialog = await screen.findByRole('dialog');
    const text = within(dialog).getByTestId('consequence').textContent!;
    expect(text).toContain('A marketplace unsubscribe cannot be undone.');
    expect(text).toContain('more than 72 hours old: Microsoft bills the customer for the current term');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Keep the subscription' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(posts(calls)).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: 'Unsubscribe' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Unsubscribe' }));
    await waitFor(() => expect(posts(calls).map((c) => [c.url, JSON.parse(c.body)])).toEqual([['/api/subscriptions/9/azure/change', { action: 'Unsubscribe' }]]));
  });

  it('unsubscribe within 72 hours says Microsoft does not charge', async () => {
    const recent = new Date(Date.now() - 3_600_000).toISOString();
    mockApi({ sub: { ...azure, created_at: recent } });
    renderAs('admin', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Unsubscribe' }));
    expect(within(await screen.findByRole('dialog')).getByTestId('consequence').textContent).toContain(
      'less than 72 hours old: Microsoft does not charge the customer',
    );
  });

  it('activation says it starts billing, and activates only when confirmed', async () => {
    const calls = mockApi({ sub: { ...azure, state: 'pending' } });
    renderAs('admin', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Approve and activate' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('consequence').textContent).toMatch(/^Activation starts billing\. Microsoft starts charging the customer for Silver \(silver\), 3 seats,/);
    expect(posts(calls)).toEqual([]);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Activate' }));
    await waitFor(() => expect(posts(calls).map((c) => c.url)).toEqual(['/api/subscriptions/9/azure/activate']));
    expect(await screen.findByTestId('activated')).toBeTruthy();
  });

  it('change plan offers only the plans Microsoft allows, other than the current one', async () => {
    const calls = mockApi({ sub: azure });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('dialog');
    const select = (await within(dialog).findByLabelText(/New plan/)) as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['gold', 'platinum']);
    fireEvent.change(select, { target: { value: 'platinum' } });
    expect(within(dialog).getByTestId('consequence').textContent).toContain('from Silver (silver) to Platinum (platinum) and bills the new plan');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Change plan' }));
    await waitFor(() => expect(posts(calls).map((c) => JSON.parse(c.body))).toEqual([{ action: 'ChangePlan', plan_id: 'platinum' }]));
  });

  it("change seats states the new bill, and shows Microsoft's own error when refused", async () => {
    const calls = mockApi({
      sub: azure,
      change: () => json(502, { error: { code: 'marketplace_error', message: 'Microsoft answered: The quantity 7 is not allowed for this offer', request_id: 'req-ms-1' } }),
    });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Change seats' }));
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Change seats' }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true); // unchanged quantity
    fireEvent.change(within(dialog).getByLabelText(/Seats/), { target: { value: '7' } });
    expect(within(dialog).getByTestId('consequence').textContent).toContain('Microsoft bills the customer for 7 seats instead of 3');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Change seats' }));
    expect(await within(dialog).findByText('Microsoft answered: The quantity 7 is not allowed for this offer')).toBeTruthy();
    expect(within(dialog).getByText('request id: req-ms-1')).toBeTruthy();
    expect(posts(calls).map((c) => JSON.parse(c.body))).toEqual([{ action: 'ChangeQuantity', quantity: 7 }]);
  });

  it('replays the last failed inbound message after saying what it does', async () => {
    const calls = mockApi({ sub: aws, failedMessage: { id: 77, source: 'aws_sqs', action: 'subscribe-success', error: 'subscription not found' } });
    renderAs('operator', '/subscriptions/10');
    fireEvent.click(await screen.findByRole('button', { name: 'Replay failed message #77' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('consequence').textContent).toMatch(/Replays the aws_sqs message subscribe-success received .*\. Marketgate applies it again/);
    expect(within(dialog).getByText('subscription not found')).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Replay' }));
    expect((await screen.findByTestId('replay-result')).textContent).toContain('Message #77 replayed: processed.');
    expect(posts(calls).map((c) => c.url)).toEqual(['/api/inbox/77/replay']);
  });

  it('a failed Microsoft webhook call is offered for replay, confirmed with Microsoft again', async () => {
    const calls = mockApi({ sub: azure, failedMessage: { id: 78, source: 'azure_webhook', action: 'Unsubscribe', error: 'Get Operation: 503' } });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Replay failed message #78' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('consequence').textContent).toContain('asks Microsoft to confirm the operation again (Get Operation)');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Replay' }));
    expect((await screen.findByTestId('replay-result')).textContent).toContain('Message #78 replayed: processed.');
    expect(posts(calls).map((c) => c.url)).toEqual(['/api/inbox/78/replay']);
  });

  it.each(['azure_landing', 'aws_registration'])('a failed %s message is not offered for replay; the reason shows instead', async (source) => {
    const calls = mockApi({ sub: azure, failedMessage: { id: 79, source, action: 'Resolve', error: 'x' } });
    renderAs('operator', '/subscriptions/9');
    const why = await screen.findByTestId('replay-refusal');
    expect(why.textContent).toMatch(/#79 \(.+\), cannot be\s+replayed: The marketplace’s purchase token works for the buyer’s visit only/);
    expect(within(why).getByRole('link', { name: '#79' }).getAttribute('href')).toBe('/notifications/79');
    expect(screen.queryByRole('button', { name: /Replay/ })).toBeNull();
    expect(posts(calls)).toEqual([]);
  });
});

describe('Subscription actions: live progress', () => {
  it("follows Microsoft's operation until it finishes and shows Microsoft's error", async () => {
    const running: AzureOperation = {
      operation_id: 'op-new', action: 'ChangeQuantity', source: 'Partner', quantity: 7, status: 'InProgress', requested_by: 'operator@example.com',
      created_at: '2026-02-01T00:00:00Z', updated_at: '2026-02-01T00:00:00Z', finished_at: null,
    };
    const failed = { ...running, status: 'Failed', error_message: 'The customer has reached the seat limit', finished_at: '2026-02-01T00:00:05Z' };
    const calls = mockApi({ sub: azure, after: [[running], [failed]] });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Change seats' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText(/Seats/), { target: { value: '7' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Change seats' }));
    const progress = await screen.findByTestId('operation-progress');
    expect(progress.textContent).toContain('In progress at Microsoft: Change the seats to 7 (InProgress');
    // No second change while one runs.
    expect((screen.getByRole('button', { name: 'Unsubscribe' }) as HTMLButtonElement).disabled).toBe(true);
    const result = await screen.findByTestId('operation-result', {}, { timeout: 6000 });
    expect(result.textContent).toContain('Microsoft did not change the seats to 7 (Failed).');
    expect(result.textContent).toContain('Microsoft: The customer has reached the seat limit');
    expect(screen.queryByTestId('operation-progress')).toBeNull();
    const reads = calls.filter((c) => c.url === '/api/subscriptions/9').length;
    expect(reads).toBeGreaterThanOrEqual(3);
  }, 10_000);

  it('when Microsoft finishes a seat change, the seat counts are read again (badge, "bought/free")', async () => {
    const running: AzureOperation = {
      operation_id: 'op-new', action: 'ChangeQuantity', source: 'Partner', quantity: 7, status: 'InProgress', requested_by: 'operator@example.com',
      created_at: '2026-02-01T00:00:00Z', updated_at: '2026-02-01T00:00:00Z', finished_at: null,
    };
    const done = { ...running, status: 'Succeeded', finished_at: '2026-02-01T00:00:05Z' };
    const calls = mockApi({ sub: azure, after: [[running], [done]] });
    renderAs('operator', '/subscriptions/9');
    fireEvent.click(await screen.findByRole('button', { name: 'Change seats' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText(/Seats/), { target: { value: '7' } });
    const seatReads = () => calls.filter((c) => c.url.startsWith('/api/subscriptions/9/seats')).length;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Change seats' }));
    await screen.findByTestId('operation-progress');
    const before = seatReads();
    const result = await screen.findByTestId('operation-result', {}, { timeout: 6000 });
    expect(result.textContent).toContain('Microsoft changed the seats to 7.');
    await waitFor(() => expect(seatReads()).toBeGreaterThan(before));
  }, 10_000);
});

describe('Subscription tabs', () => {
  it('merges events and audit entries on the Timeline tab (deep link)', async () => {
    mockApi({ sub: azure });
    renderAs('admin', '/subscriptions/9?tab=timeline');
    await screen.findByText('Contoso Analytics');
    expect(screen.getByRole('tab', { name: /Timeline/ }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getAllByTestId('timeline-entry').map((e) => e.getAttribute('data-type'))).toEqual(['event', 'audit']);
    fireEvent.click(screen.getByRole('button', { name: 'Audit (1)' }));
    await waitFor(() => expect(new URLSearchParams(search).get('show')).toBe('audit'));
    expect(new URLSearchParams(search).get('tab')).toBe('timeline');
    expect(screen.getAllByTestId('timeline-entry').map((e) => e.getAttribute('data-type'))).toEqual(['audit']);
  });

  it("shows Microsoft's term unit with the term, and a unit it does not know as Microsoft sent it", async () => {
    mockApi({ sub: azure });
    renderAs('viewer', '/subscriptions/9');
    await screen.findByText('Contoso Analytics');
    expect(screen.getByText(/^1 year · 2026-01-01 00:00 → 2027-01-01 00:00$/)).toBeTruthy();
    cleanup();
    vi.restoreAllMocks();
    mockApi({ sub: { ...azure, term_unit: 'PAY' } });
    renderAs('viewer', '/subscriptions/9');
    await screen.findByText('Contoso Analytics');
    expect(screen.getByText(/^pay as you go · /)).toBeTruthy();
    cleanup();
    vi.restoreAllMocks();
    mockApi({ sub: { ...azure, term_unit: 'P18M' } });
    renderAs('viewer', '/subscriptions/9');
    await screen.findByText('Contoso Analytics');
    expect(screen.getByText(/^P18M · /)).toBeTruthy();
  });

  it('shows the raw record pretty on the Raw tab', async () => {
    mockApi({ sub: azure });
    renderAs('viewer', '/subscriptions/9?tab=raw');
    const raw = await screen.findByTestId('raw-json');
    expect(raw.textContent).toContain('"saasSubscriptionStatus": "Subscribed"');
    expect(screen.getByTestId('raw-source').textContent).toContain('Get subscription');
  });

  it('puts a chosen tab into the URL; AWS has an Entitlements tab', async () => {
    mockApi({ sub: aws });
    renderAs('admin', '/subscriptions/10');
    await screen.findByText('Fabrikam Contracts');
    expect(screen.getAllByRole('tab').map((t) => t.textContent?.replace(/\d+$/, '').trim())).toEqual([
      'Overview', 'Timeline', 'Metering', 'Entitlements', 'Billing & requests', 'Raw',
    ]);
    fireEvent.click(screen.getByRole('tab', { name: 'Entitlements' }));
    await waitFor(() => expect(search).toBe('?tab=entitlements'));
    expect(await screen.findByRole('table', { name: 'Entitlements' })).toBeTruthy();
    // The overview shows the marketplace identities.
    fireEvent.click(screen.getByRole('tab', { name: 'Overview' }));
    await waitFor(() => expect(search).toBe(''));
    expect(within(screen.getByLabelText('Marketplace identities')).getByText('123456789012')).toBeTruthy();
    // ...and the one identity model usage is sent to AWS under.
    const metered = screen.getByTestId('metering-identity');
    expect(metered.textContent).toContain('CustomerAWSAccountId + LicenseArn (concurrent agreements)');
    expect(metered.textContent).toContain("(the offer's identity model)");
    expect(metered.textContent).toContain('123456789012 · arn:aws:license-manager::123:license:l-1');
    expect(within(screen.getByTestId('flags')).getByText('test')).toBeTruthy();
  });
});

describe('AWS free trial', () => {
  it('the Overview says until when the free trial from the agreement terms runs', async () => {
    mockApi({ sub: { ...aws, free_trial: true }, freeTrial: { status: 'active', days: 14, ends_at: '2026-12-17T00:00:00Z', agreement_id: 'agmt-1' } });
    renderAs('admin', '/subscriptions/10');
    expect((await screen.findByTestId('free-trial')).textContent).toBe('Free trial until 2026-12-17 (14 days)');
  });

  it('a partition without the Agreement Service shows the free trial as unknown, not an error', async () => {
    const note = 'this AWS partition has no Agreement Service to read the terms from';
    mockApi({ sub: aws, freeTrial: { status: 'unknown', days: null, ends_at: null, note } });
    renderAs('admin', '/subscriptions/10');
    expect((await screen.findByTestId('free-trial')).textContent).toBe('Unknown — ' + note);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('words every status', () => {
    expect(freeTrialText({ status: 'ended', days: 7, ends_at: '2026-11-08T00:00:00Z' })).toBe('Free trial ended 2026-11-08 (7 days)');
    expect(freeTrialText({ status: 'none', days: null, ends_at: null })).toBe('No free trial');
    expect(freeTrialText({ status: 'active', days: 5, ends_at: null, note: "the agreement's start date is not known yet" }))
      .toBe("Free trial (5 days) — the agreement's start date is not known yet");
  });

  it('a Microsoft subscription has no AWS free-trial line', async () => {
    mockApi({ sub: azure });
    renderAs('admin', '/subscriptions/9');
    await screen.findByText('Contoso Analytics');
    expect(screen.queryByTestId('free-trial')).toBeNull();
  });
});
