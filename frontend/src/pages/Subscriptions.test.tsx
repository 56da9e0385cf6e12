import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SubscriptionsPage } from './Subscriptions';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

const sub = {
  id: 7, marketplace: 'aws', state: 'active', name: 'Contoso', customer: { id: 1, name: 'Contoso Ltd' },
  offer: { id: 1, name: 'Acme', marketplace_id: 'p' }, plan: { id: 2, plan_id: 'std', name: 'Standard' }, quantity: 3,
  aws_customer_account_id: '', aws_license_arn: '', aws_customer_identifier: '', aws_product_code: '', aws_offer_id: '', azure_subscription_id: '',
  azure_tenant_id: '', term_start: null, term_end: null, free_trial: true, is_test: false, auto_renew: false, version: 1,
  state_changed_at: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z',
};

let location = '';
function LocationSpy() {
  location = useLocation().search;
  return null;
}

function renderAt(url: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/subscriptions" element={<><SubscriptionsPage /><LocationSpy /></>} />
          <Route path="/subscriptions/:id" element={<div>detail page</div>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Subscriptions page', () => {
  it('sends the URL filters to the API and shows the rows and total', async () => {
    const calls: string[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = String(input);
      calls.push(url);
      if (url.startsWith('/api/offers')) return json(200, { items: [] });
      return json(200, { items: [sub], total: 1, limit: 50, offset: 0, next_cursor: null });
    });
    renderAt('/subscriptions?state=active&marketplace=aws&q=contoso');
    expect(await screen.findByText('Contoso Ltd')).toBeTruthy();
    const listCall = calls.find((c) => c.startsWith('/api/subscriptions'))!;
    const params = new URLSearchParams(listCall.split('?')[1]);
    expect(params.get('state')).toBe('active');
    expect(params.get('marketplace')).toBe('aws');
    expect(params.get('q')).toBe('contoso');
    expect(params.get('sort')).toBe('-created_at');
    expect(screen.getByTestId('pager-summary').textContent).toBe('showing 1–1 of 1');
  });

  it('puts a clicked sort header into the URL and toggles its direction', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) =>
      String(input).startsWith('/api/offers') ? json(200, { items: [] }) : json(200, { items: [sub], total: 1, limit: 50, offset: 0 }),
    );
    renderAt('/subscriptions');
    await screen.findByText('Contoso Ltd');
    fireEvent.click(screen.getByText('Qty'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('quantity'));
    fireEvent.click(screen.getByText('Qty'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('-quantity'));
  });

  it('changing a filter updates the URL and resets paging', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) =>
      String(input).startsWith('/api/offers') ? json(200, { items: [] }) : json(200, { items: [sub], total: 120, limit: 50, offset: 50 }),
    );
    renderAt('/subscriptions?offset=50');
    await screen.findByText('Contoso Ltd');
    fireEvent.change(screen.getByLabelText('State'), { target: { value: 'ended' } });
    await waitFor(() => expect(new URLSearchParams(location).get('state')).toBe('ended'));
    expect(new URLSearchParams(location).get('offset')).toBeNull();
  });

  it("shows the server's error message and request id", async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) =>
      String(input).startsWith('/api/offers')
        ? json(200, { items: [] })
        : json(400, { error: { code: 'invalid_input', message: 'cannot sort by "nope"', request_id: 'req-123' } }),
    );
    renderAt('/subscriptions?sort=nope');
    expect(await screen.findByText('cannot sort by "nope"')).toBeTruthy();
    expect(screen.getByText('request id: req-123')).toBeTruthy();
  });

  it('opens a subscription when its row is clicked', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) =>
      String(input).startsWith('/api/offers') ? json(200, { items: [] }) : json(200, { items: [sub], total: 1, limit: 50, offset: 0 }),
    );
    renderAt('/subscriptions');
    fireEvent.click(await screen.findByText('Contoso Ltd'));
    expect(await screen.findByText('detail page')).toBeTruthy();
  });
});
