import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { queryKeys, type ChangeRequest, type Me } from '../../shared/api';
import { ChangeRequestsPage } from './ChangeRequestsPage';
import { PlanChangePolicies } from '../offers/PlanChangePolicies';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

interface Call {
  method: string;
  url: string;
  body: string;
}

function mockFetch(handler: (c: Call) => Response | undefined) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? '') };
    calls.push(c);
    return handler(c) ?? json(404, { error: { code: 'not_found', message: 'unexpected ' + c.method + ' ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

const req = (over: Partial<ChangeRequest> = {}): ChangeRequest => ({
  id: 4, subscription_id: 7, marketplace: 'azure', kind: 'seats', plan_id: '', quantity: 8, note: 'Two new hires', status: 'pending',
  requested_by: 'it@contoso.com', decided_by: '', decided_at: null, answer: '', operation_id: '', error: '',
  created_at: '2026-12-01T09:00:00Z', updated_at: '2026-12-01T09:00:00Z', subscription_name: 'Contoso – Acme', customer_name: 'Contoso',
  current_plan_id: 'seats', operation: null, ...over,
});

function renderWith(ui: React.ReactNode, role: Me['role'] = 'admin', url = '/change-requests') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(queryKeys.me, { user: { id: 1, email: 'admin@seller.example', role } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('ChangeRequestsPage', () => {
  it('lists the pending requests and approves one after confirmation', async () => {
    let approved = false;
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { items: approved ? [] : [req()] });
      if (c.method === 'POST' && c.url === '/api/change-requests/4/approve') {
        approved = true;
        return json(200, { outcome: 'request', existing: false, request: req({ status: 'approved' }), operation: null });
      }
    });
    renderWith(<ChangeRequestsPage />);
    const row = await screen.findByTestId('queue-row');
    expect(calls[0].url).toBe('/api/change-requests?status=pending');
    expect(row.textContent).toContain('Seats → 8');
    expect(row.textContent).toContain('Two new hires');
    fireEvent.click(within(row).getByRole('button', { name: 'Approve…' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('asks Microsoft to Seats → 8 for Contoso');
    fireEvent.change(within(dialog).getByLabelText('Note for the customer (optional)'), { target: { value: 'Welcome aboard' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    await screen.findByTestId('answer-done');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ note: 'Welcome aboard' });
    await screen.findByTestId('queue-empty');
  });

  it('declines with a reason; the server refuses an empty one and says so', async () => {
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { items: [req({ marketplace: 'aws', kind: 'plan', plan_id: 'Enterprise', quantity: 0 })] });
      if (c.method === 'POST') {
        const body = JSON.parse(c.body) as { reason: string };
        if (!body.reason) return json(400, { error: { code: 'invalid_input', message: 'give the customer a reason', request_id: 'r2' } });
        return json(200, { outcome: 'request', existing: false, request: req({ status: 'declined' }), operation: null });
      }
    });
    renderWith(<ChangeRequestsPage />);
    const row = await screen.findByTestId('queue-row');
    fireEvent.click(within(row).getByRole('button', { name: 'Decline…' }));
    let dialog = await screen.findByRole('alertdialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Decline' }));
    expect(await within(dialog).findByText('give the customer a reason')).toBeTruthy();
    dialog = screen.getByRole('alertdialog');
    fireEvent.change(within(dialog).getByLabelText('Reason (the customer sees it)'), { target: { value: 'Not this quarter.' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Decline' }));
    await screen.findByTestId('answer-done');
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.url)).toEqual(['/api/change-requests/4/decline', '/api/change-requests/4/decline']);
    expect(JSON.parse(posts[1].body)).toEqual({ reason: 'Not this quarter.' });
  });

  it('viewers read the queue without answer buttons', async () => {
    mockFetch(() => json(200, { items: [req()] }));
    renderWith(<ChangeRequestsPage />, 'viewer');
    const row = await screen.findByTestId('queue-row');
    expect(within(row).queryByRole('button')).toBeNull();
  });

  it('is not for customer admins', () => {
    mockFetch(() => json(200, { items: [] }));
    renderWith(<ChangeRequestsPage />, 'customer_admin');
    expect(screen.getByTestId('not-allowed')).toBeTruthy();
  });
});

describe('PlanChangePolicies', () => {
  it('saves only the changed policies of a plan', async () => {
    const calls = mockFetch((c) => (c.method === 'PATCH' ? json(200, { plan: {} }) : json(200, { items: [] })));
    const plan = {
      id: 3, plan_id: 'seats', name: 'Seats', seat_based: true, dimensions: [], activation_policy: 'automatic', reject_plan_change: false,
      reject_quantity_change: false, min_quantity: 0, max_quantity: 0, allow_over_assignment: false, auto_assign_seats: false,
      over_quantity_policy: 'keep_all' as const, needs_review: false, customer_plan_change: 'approval' as const,
      customer_seat_change: 'approval' as const, customer_unsubscribe: 'approval' as const,
    };
    renderWith(<PlanChangePolicies offer={{ id: 1, marketplace: 'azure', name: 'Acme', marketplace_id: 'acme', identity_model: '', contract: false, permissions: [], plans: [plan], branding: { product_name: '', logo_url: '', accent_color: '', support_email: '', support_url: '', getting_started: [] } }} admin />);
    const row = screen.getByTestId('policy-row-seats');
    const save = within(row).getByRole('button', { name: 'Save' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    fireEvent.change(within(row).getByLabelText('Plan change — seats'), { target: { value: 'allowed' } });
    fireEvent.click(save);
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url).toBe('/api/plans/3');
    expect(JSON.parse(patch.body)).toEqual({ customer_plan_change: 'allowed' });
  });
});
