import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Role, OfferFull, PlanFull } from '../../shared/api';
import { OffersPage } from './Offers';
import { json, refusal, renderRoutes, type Call } from '../../shared/test/testutil';

const plan = (over: Partial<PlanFull> = {}): PlanFull => ({
  id: 11,
  plan_id: 'gold',
  name: 'Gold',
  seat_based: false,
  dimensions: [{ key: 'api_calls', name: 'API calls', unit: '1000 calls', metered: false }],
  activation_policy: 'buyer_confirms',
  reject_plan_change: false,
  reject_quantity_change: false,
  min_quantity: 0,
  max_quantity: 0,
  allow_over_assignment: false,
  auto_assign_seats: false,
  over_quantity_policy: 'keep_all',
  needs_review: false,
  customer_plan_change: 'approval',
  customer_seat_change: 'approval',
  customer_unsubscribe: 'approval',
  ...over,
});

const offers: { items: OfferFull[] } = {
  items: [{ id: 1, marketplace: 'azure', name: 'Acme for Azure', marketplace_id: 'acme-saas', identity_model: '', contract: false, plans: [plan()], permissions: [],
    branding: { product_name: '', logo_url: '', accent_color: '', support_email: '', support_url: '', getting_started: [] } }],
};

function renderAt(role: Role, handler?: (c: Call) => Response | undefined) {
  return renderRoutes('/offers', role, { '/offers': <OffersPage /> }, (c) => handler?.(c) ?? json(200, offers));
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const dimRows = () => screen.getAllByTestId('dimension-row');
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('Offers & plans', () => {
  it('an admin adds a plan with dimension rows added, filled and removed; the request has exactly the rows left', async () => {
    const calls = renderAt('admin', (c) => (c.method === 'POST' ? json(201, { plan: plan({ id: 12 }) }) : undefined));
    await screen.findAllByTestId('plan-row');
    fireEvent.click(screen.getByRole('button', { name: 'Add plan…' }));
    const dialog = await screen.findByRole('dialog');
    fill('Plan id', 'per-user');
    fill('Name', 'Per user');
    fireEvent.click(within(dialog).getByLabelText('Per user: the quantity is a number of seats'));
    for (let i = 0; i < 3; i++) fireEvent.click(within(dialog).getByRole('button', { name: 'Add dimension' }));
    expect(dimRows()).toHaveLength(3);
    fill('Dimension 1 key', 'api_calls');
    fill('Dimension 1 name', 'API calls');
    fill('Dimension 2 key', 'to_remove');
    fill('Dimension 3 key', ' storage_gb ');
    fill('Dimension 3 unit', 'GB');
    fireEvent.click(within(dialog).getByLabelText('Dimension 3 metered'));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove dimension 2' }));
    expect(dimRows()).toHaveLength(2);
    // The rows that stay keep what was typed in them.
    expect((screen.getByLabelText('Dimension 2 key') as HTMLInputElement).value).toBe(' storage_gb ');
    expect((screen.getByLabelText('Dimension 2 metered') as HTMLInputElement).checked).toBe(true);
    fill('Fewest seats', '5');
    fill('Most seats', '50');
    fireEvent.click(within(dialog).getByLabelText(/Seller approves/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create plan' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.url).toBe('/api/offers/1/plans');
    expect(JSON.parse(post.body)).toEqual({
      plan_id: 'per-user',
      name: 'Per user',
      seat_based: true,
      dimensions: [
        { key: 'api_calls', name: 'API calls', unit: '', metered: false },
        { key: 'storage_gb', name: '', unit: 'GB', metered: true },
      ],
      activation_policy: 'seller_approves',
      reject_plan_change: false,
      reject_quantity_change: false,
      min_quantity: 5,
      max_quantity: 50,
      allow_over_assignment: false,
      auto_assign_seats: false,
      over_quantity_policy: 'keep_all',
    });
  });

  it('shows the server’s validation message next to the dimension row it is about, and next to the field', async () => {
    let answer = refusal(400, 'invalid_input', 'Dimension 2: the key "api_calls" is listed twice', 'req-d');
    renderAt('admin', (c) => (c.method === 'POST' ? answer : undefined));
    await screen.findAllByTestId('plan-row');
    fireEvent.click(screen.getByRole('button', { name: 'Add plan…' }));
    const dialog = await screen.findByRole('dialog');
    fill('Plan id', 'silver');
    fill('Name', 'Silver');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add dimension' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add dimension' }));
    fill('Dimension 1 key', 'api_calls');
    fill('Dimension 2 key', 'api_calls');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create plan' }));
    const err = await within(dialog).findByTestId('dimension-error');
    expect(err.textContent).toBe('Dimension 2: the key "api_calls" is listed twice');
    // It sits right under the second row, which is marked; the first is not.
    expect(dimRows()[1].className).toContain('mg-dim-invalid');
    expect(dimRows()[0].className).not.toContain('mg-dim-invalid');
    expect(dimRows()[1].nextElementSibling).toBe(err);
    expect(within(dialog).getByText('request id: req-d')).toBeTruthy();
    expect(screen.getByRole('dialog')).toBeTruthy(); // still open to fix it

    answer = refusal(400, 'invalid_input', "Plan id: 1 to 50 letters, digits, '_', '.' or '-', as the marketplace knows it", 'req-p');
    fill('Plan id', 'Gold plan!');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create plan' }));
    const planIdError = await within(dialog).findByText(/^Plan id: 1 to 50 letters/);
    expect(planIdError.closest('.bp6-form-group')!.textContent).toContain('Plan id');
    expect(within(dialog).queryByTestId('dimension-error')).toBeNull();
  });

  it('editing a plan sends only what changed, and says what a seat change means', async () => {
    const calls = renderAt('admin', (c) => (c.method === 'PATCH' ? json(200, { plan: plan() }) : undefined));
    await screen.findAllByTestId('plan-row');
    fireEvent.click(screen.getByRole('button', { name: 'Edit plan gold' }));
    const dialog = await screen.findByRole('dialog');
    expect((screen.getByLabelText('Plan id') as HTMLInputElement).disabled).toBe(true);
    expect((within(dialog).getByRole('button', { name: 'No changes' }) as HTMLButtonElement).disabled).toBe(true);
    fill('Dimension 1 unit', 'call');
    fireEvent.click(within(dialog).getByLabelText(/Refuse plan changes/));
    fireEvent.click(within(dialog).getByLabelText('Per user: the quantity is a number of seats'));
    expect(within(dialog).getByTestId('plan-effects').textContent).toContain('The plan becomes per user');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save plan' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url).toBe('/api/plans/11');
    expect(JSON.parse(patch.body)).toEqual({
      seat_based: true,
      dimensions: [{ key: 'api_calls', name: 'API calls', unit: 'call', metered: false }],
      reject_plan_change: true,
    });
  });

  it('a new offer’s refused product code is shown under that field', async () => {
    renderAt('admin', (c) =>
      c.method === 'POST' ? refusal(400, 'invalid_input', 'Product code: 1 to 64 lower-case letters and digits, as AWS Marketplace shows it', 'req-o') : undefined,
    );
    await screen.findAllByTestId('plan-row');
    fireEvent.click(screen.getByRole('button', { name: 'New offer' }));
    const dialog = await screen.findByRole('dialog');
    fill('Name', 'Acme AWS');
    fill('Product code', 'Acme-AWS');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create offer' }));
    const msg = await within(dialog).findByText(/^Product code: 1 to 64/);
    expect(msg.closest('.bp6-form-group')!.textContent).toContain('Product code');
  });

  it('operators and viewers read; nothing to edit is offered', async () => {
    renderAt('viewer');
    await screen.findAllByTestId('plan-row');
    expect(screen.getByText(/read only/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'New offer' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Add plan…' })).toBeNull();
    expect(screen.getByTestId('plan-row').textContent).toContain('api_calls');
  });
  it('marks a plan learned from Microsoft as needing review, and only that one', async () => {
    renderAt('viewer', () =>
      json(200, { items: [{ ...offers.items[0], plans: [plan(), plan({ id: 12, plan_id: 'team', name: 'Team', needs_review: true })] }] }),
    );
    const rows = await screen.findAllByTestId('plan-row');
    expect(rows.map((r) => within(r).queryByText('needs review') !== null)).toEqual([false, true]);
  });
});
