import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Offer, Plan, Role } from '../../shared/api';
import { OffersPage } from './Offers';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const plan = (over: Partial<Plan> = {}): Plan => ({
  id: 7, plan_id: 'per-user', name: 'Per user', seat_based: true, dimensions: [], activation_policy: 'manual_approval',
  allow_over_assignment: false, auto_assign_seats: false, over_quantity_policy: 'keep_all',
  reject_plan_change: false, reject_quantity_change: false, min_quantity: 0, max_quantity: 0, needs_review: false,
  customer_plan_change: 'approval', customer_seat_change: 'approval', customer_unsubscribe: 'approval', ...over,
});

const offers = (p: Plan): { items: Offer[] } => ({
  items: [
    {
      id: 1, marketplace: 'azure', name: 'Acme Teams App', marketplace_id: 'acme-teams-app', identity_model: '', contract: false, permissions: [],
      branding: { product_name: '', logo_url: '', accent_color: '', support_email: '', support_url: '', getting_started: [] },
      plans: [p, plan({ id: 8, plan_id: 'flat', name: 'Flat', seat_based: false })],
    },
  ],
});

function renderPage(role: Role, handler: (method: string, url: string, body: string) => Response) {
  const calls: { method: string; url: string; body: string }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? '') };
    calls.push(c);
    return handler(c.method, c.url, c.body);
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['me'], { user: { id: 1, email: 'me@x', name: '', role, customer_id: null, must_change_password: false } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <OffersPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return calls;
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Plan seat policies', () => {
  it('shows each plan’s policies, says what a change means for the seat check, and sends only the changes', async () => {
    let current = plan();
    const calls = renderPage('admin', (method, _url, body) => {
      if (method === 'PATCH') {
        current = { ...current, ...(JSON.parse(body) as Partial<Plan>) };
        return json(200, { plan: current });
      }
      return json(200, offers(current));
    });
    const rows = await screen.findAllByTestId('plan-row');
    expect(within(rows[0]).getByTestId('plan-seat-summary').textContent).toBe(
      'per user no over-assignment · assigned by admins · over quantity: keep access',
    );
    expect(rows[1].textContent).toContain('not per user');

    fireEvent.click(within(rows[0]).getByRole('button', { name: 'Seat policies…' }));
    const dialog = await screen.findByRole('dialog');
    const apply = () => within(dialog).getByRole('button', { name: /^(Apply|No changes)/ }) as HTMLButtonElement;
    expect(apply().disabled).toBe(true);
    expect(within(dialog).queryByTestId('plan-seat-effects')).toBeNull();

    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Auto-assign on first check/ }));
    fireEvent.change(within(dialog).getByLabelText(/Seats over the quantity/), { target: { value: 'newest_unlicensed' } });
    const effects = within(dialog).getByTestId('plan-seat-effects');
    expect(effects.textContent).toContain('every subscription on this plan');
    const items = within(effects).getAllByRole('listitem').map((li) => li.textContent);
    expect(items).toHaveLength(2);
    expect(items[0]).toContain('seat_auto_assigned');
    expect(items[1]).toContain('refuses the newest seats beyond the quantity (seat_over_quantity)');
    expect(apply().textContent).toBe('Apply these 2 changes');

    // Undoing a change takes it out of the request and the explanation.
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Allow over-assignment/ }));
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Allow over-assignment/ }));
    expect(within(effects).getAllByRole('listitem')).toHaveLength(2);

    fireEvent.click(apply());
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url).toBe('/api/plans/7/seats');
    expect(JSON.parse(patch.body)).toEqual({ auto_assign_seats: true, over_quantity_policy: 'newest_unlicensed' });
    await waitFor(() =>
      expect(screen.getAllByTestId('plan-seat-summary')[0].textContent).toBe(
        'per user no over-assignment · auto-assign on first check · over quantity: newest refused',
      ),
    );
  });

  it('turning per-user off says the seat check stops counting the plan; a refusal shows the server’s message', async () => {
    renderPage('admin', (method) =>
      method === 'PATCH'
        ? json(400, { error: { code: 'invalid_input', message: 'over_quantity_policy must be keep_all or newest_unlicensed', request_id: 'req-p' } })
        : json(200, offers(plan())),
    );
    const rows = await screen.findAllByTestId('plan-row');
    fireEvent.click(within(rows[0]).getByRole('button', { name: 'Seat policies…' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Per user/ }));
    expect((within(dialog).getByRole('checkbox', { name: /Auto-assign/ }) as HTMLInputElement).disabled).toBe(true);
    expect(within(dialog).getByTestId('plan-seat-effects').textContent).toContain('no_seat_based_subscription');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Apply this change' }));
    expect(await within(dialog).findByText('over_quantity_policy must be keep_all or newest_unlicensed')).toBeTruthy();
    expect(within(dialog).getByText('request id: req-p')).toBeTruthy();
  });

  it('only admins may edit the policies', async () => {
    renderPage('operator', () => json(200, offers(plan({ auto_assign_seats: true }))));
    const rows = await screen.findAllByTestId('plan-row');
    expect(rows[0].textContent).toContain('auto-assign on first check');
    expect(screen.queryByRole('button', { name: 'Seat policies…' })).toBeNull();
  });
});
