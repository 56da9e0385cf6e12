import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import i18n from '../../shared/i18n';
import type { ChangeOptions, ChangeRequest } from '../../shared/api';
import { CustomerChanges } from './CustomerChanges';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

interface Call {
  method: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

function mockFetch(handler: (c: Call) => Response | undefined) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? ''), headers: (init?.headers ?? {}) as Record<string, string> };
    calls.push(c);
    return handler(c) ?? json(404, { error: { code: 'not_found', message: 'unexpected ' + c.method + ' ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

const request = (over: Partial<ChangeRequest> = {}): ChangeRequest => ({
  id: 1, subscription_id: 7, marketplace: 'azure', kind: 'seats', plan_id: '', quantity: 8, note: '', status: 'pending',
  requested_by: 'it@contoso.com', decided_by: '', decided_at: null, answer: '', operation_id: '', error: '',
  created_at: '2026-12-01T09:00:00Z', updated_at: '2026-12-01T09:00:00Z', subscription_name: 'Contoso', customer_name: 'Contoso',
  current_plan_id: 'seats', operation: null, ...over,
});

const options = (over: Partial<ChangeOptions> = {}): ChangeOptions => ({
  subscription_id: 7, marketplace: 'azure', state: 'active', plan_id: 'seats', plan_name: 'Seats', seat_based: true, quantity: 5,
  contract: false, plans_unavailable: false, min_quantity: 1, max_quantity: 30,
  kinds: [
    { kind: 'plan', policy: 'allowed', outcome: 'perform' },
    { kind: 'seats', policy: 'approval', outcome: 'request' },
    { kind: 'unsubscribe', policy: 'not_allowed', outcome: 'refuse', reason: 'policy' },
  ],
  plans: [
    { plan_id: 'seats', name: 'Seats', per_seat: true, min_quantity: 1, max_quantity: 50, current: true },
    { plan_id: 'gold', name: 'Gold', per_seat: false, min_quantity: 0, max_quantity: 0, current: false },
  ],
  requests: [],
  ...over,
});

function renderIt() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <CustomerChanges subscriptionId={7} />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

describe('CustomerChanges (Microsoft)', () => {
  it('says per kind whether a change happens now, needs approval or is refused, and why', async () => {
    mockFetch((c) => (c.method === 'GET' ? json(200, options()) : undefined));
    renderIt();
    await screen.findByTestId('customer-changes');
    expect(screen.getByTestId('outcome-plan').textContent).toContain('Happens now');
    expect(screen.getByTestId('outcome-seats').textContent).toContain("Needs the seller's approval");
    const unsub = screen.getByTestId('change-unsubscribe');
    expect(unsub.textContent).toContain('does not allow this change');
    // Refused: no button offered.
    expect(within(unsub).queryByRole('button')).toBeNull();
    // Only Microsoft's listed plans other than the current one.
    const select = screen.getByLabelText('New plan') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['', 'gold']);
  });

  it('requests more licences with an idempotency key, and shows the request', async () => {
    let submitted = false;
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, options(submitted ? { requests: [request()] } : {}));
      if (c.method === 'POST') {
        submitted = true;
        return json(201, { outcome: 'request', existing: false, request: request(), operation: null });
      }
    });
    renderIt();
    await screen.findByTestId('customer-changes');
    const seats = screen.getByTestId('change-seats');
    fireEvent.change(within(seats).getByLabelText('New seat count'), { target: { value: '8' } });
    fireEvent.click(within(seats).getByRole('button', { name: 'Request more licences' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('from 5 to 8');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Request more licences' }));
    await screen.findByTestId('change-done');
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.url).toBe('/api/my/subscriptions/7/changes');
    expect(JSON.parse(post.body)).toEqual({ kind: 'seats', quantity: 8 });
    expect(post.headers['Idempotency-Key']).toMatch(/.{8,}/);
    expect(await screen.findByText('Waiting for the seller')).toBeTruthy();
  });

  it('changes the plan now and shows the progress of Microsoft\'s operation', async () => {
    const running = request({ kind: 'plan', plan_id: 'gold', quantity: 0, status: 'performed', operation_id: 'op-1',
      operation: { operation_id: 'op-1', action: 'ChangePlan', source: 'Partner', status: 'InProgress', created_at: '2026-12-01T09:00:00Z', updated_at: '2026-12-01T09:00:00Z', finished_at: null } });
    let submitted = false;
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, options(submitted ? { requests: [running] } : {}));
      if (c.method === 'POST') {
        submitted = true;
        return json(202, { outcome: 'perform', existing: false, request: running, operation: running.operation });
      }
    });
    renderIt();
    await screen.findByTestId('customer-changes');
    fireEvent.change(screen.getByLabelText('New plan'), { target: { value: 'gold' } });
    fireEvent.click(screen.getByRole('button', { name: 'Change plan' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('Change the plan to Gold?');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Change plan' }));
    expect((await screen.findByTestId('change-done')).textContent).toContain('sent to Microsoft');
    expect((await screen.findByTestId('operation-status')).textContent).toBe('In progress at Microsoft');
  });

  it('shows a refusal the server answers', async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, options({ kinds: [{ kind: 'plan', policy: 'allowed', outcome: 'perform' }, { kind: 'seats', policy: 'allowed', outcome: 'perform' }, { kind: 'unsubscribe', policy: 'allowed', outcome: 'perform' }] }));
      if (c.method === 'POST') return json(403, { error: { code: 'change_not_allowed', message: 'no', request_id: 'r1' } });
    });
    renderIt();
    await screen.findByTestId('customer-changes');
    fireEvent.click(screen.getByRole('button', { name: 'Unsubscribe…' }));
    const dialog = await screen.findByRole('alertdialog');
    // The consequence is stated before anything happens.
    expect(dialog.textContent).toContain('every user loses access');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unsubscribe' }));
    expect((await screen.findByTestId('change-error')).textContent).toContain('not allowed');
  });

  it('shows the answers: declined with a reason', async () => {
    mockFetch(() => json(200, options({ requests: [request({ status: 'declined', answer: 'Talk to sales first.' })] })));
    renderIt();
    expect((await screen.findByTestId('change-answer')).textContent).toBe('Reason: Talk to sales first.');
  });

  it('does not offer seat changes on a flat plan', async () => {
    mockFetch(() => json(200, options({ seat_based: false })));
    renderIt();
    await screen.findByTestId('customer-changes');
    expect(screen.queryByTestId('change-seats')).toBeNull();
  });

  it('speaks Japanese', async () => {
    await i18n.changeLanguage('ja');
    mockFetch(() => json(200, options()));
    renderIt();
    await screen.findByTestId('customer-changes');
    expect(screen.getByText('ご契約の変更')).toBeTruthy();
    expect(screen.getByTestId('outcome-seats').textContent).toContain('販売元の承認が必要です');
  });
});

describe('CustomerChanges (AWS)', () => {
  it('shows how to change the subscription in AWS and sends the seller a request', async () => {
    const calls = mockFetch((c) => {
      if (c.method === 'GET')
        return json(200, options({ marketplace: 'aws', seat_based: false, contract: true, plans: [],
          kinds: [{ kind: 'plan', policy: 'allowed', outcome: 'request' }, { kind: 'seats', policy: 'approval', outcome: 'refuse', reason: 'not_seat_based' }, { kind: 'unsubscribe', policy: 'approval', outcome: 'refuse', reason: 'unsubscribe_aws' }] }));
      if (c.method === 'POST') return json(201, { outcome: 'request', existing: false, request: request({ marketplace: 'aws', kind: 'plan', plan_id: 'Enterprise' }), operation: null });
    });
    renderIt();
    const howto = await screen.findByTestId('aws-howto');
    expect(howto.textContent).toContain('Manage subscriptions');
    expect(howto.textContent).toContain('upgrade the contract');
    expect(within(howto).getByRole('link').getAttribute('href')).toContain('console.aws.amazon.com/marketplace');
    fireEvent.change(screen.getByLabelText('Plan or tier you would like'), { target: { value: 'Enterprise' } });
    fireEvent.change(screen.getByLabelText('Note for the seller (optional)'), { target: { value: 'We need SSO' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByTestId('change-done');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ kind: 'plan', plan_id: 'Enterprise', note: 'We need SSO' });
  });
});
