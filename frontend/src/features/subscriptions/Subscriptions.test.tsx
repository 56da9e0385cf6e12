import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, parsePath, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SubscriptionsPage } from './Subscriptions';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

const sub = {
  id: 7, marketplace: 'aws', state: 'active', name: 'Contoso', customer: { id: 1, name: 'Contoso Ltd' },
  offer: { id: 1, name: 'Acme', marketplace_id: 'p' }, plan: { id: 2, plan_id: 'std', name: 'Standard' }, quantity: 3,
  aws_customer_account_id: '', aws_license_arn: '', aws_customer_identifier: '', aws_product_code: '', aws_offer_id: '', azure_subscription_id: '',
  azure_tenant_id: '', term_start: null, term_end: null, term_unit: '', free_trial: true, is_test: false, auto_renew: false, version: 1,
  state_changed_at: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z',
};

let location = '';
let pathname = '';
function LocationSpy() {
  location = useLocation().search;
  pathname = useLocation().pathname;
  return null;
}

// Each render is a history entry of its own: the page remembers the selected
// row per entry (a module-level map, as a browser's back button needs), and
// MemoryRouter names every first entry "default".
let renders = 0;

function renderAt(url: string) {
  renders += 1;
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[{ ...parsePath(url), key: `render-${renders}` }]}>
        <Routes>
          <Route path="/subscriptions" element={<><SubscriptionsPage /><LocationSpy /></>} />
          <Route path="/subscriptions/:id" element={<><div>detail page</div><LocationSpy /></>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

beforeEach(() => localStorage.clear());

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

/** n subscriptions with ids from `from`. */
function many(n: number, from = 1) {
  return Array.from({ length: n }, (_, i) => ({ ...sub, id: from + i, customer: { id: 1, name: `Customer ${from + i}` } }));
}

/** Mocks the list: `pages` answered in order by cursor ('' first). */
function mockList(pages: Record<string, { items: unknown[]; next_cursor: string | null }>, total: number) {
  const calls: string[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = String(input);
    calls.push(url);
    if (url.startsWith('/api/offers')) return json(200, { items: [] });
    const cursor = new URLSearchParams(url.split('?')[1]).get('cursor') ?? '';
    const page = pages[cursor];
    if (!page) return json(400, { error: { code: 'invalid_input', message: 'bad cursor ' + cursor, request_id: 'r' } });
    return json(200, { ...page, total, limit: 100, offset: 0 });
  });
  return calls;
}

const listCalls = (calls: string[]) => calls.filter((c) => c.startsWith('/api/subscriptions')).map((c) => new URLSearchParams(c.split('?')[1]));
const selectedId = () => document.querySelector('tr.mg-selected td')?.textContent;

describe('Subscriptions table, grown up', () => {
  it('shift-click adds sort keys (API sort param, up to three) and shows their rank', async () => {
    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions');
    await screen.findByText('Contoso Ltd');
    fireEvent.click(screen.getByText('State'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state'));
    fireEvent.click(screen.getByText('Qty'), { shiftKey: true });
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state,quantity'));
    fireEvent.click(screen.getByText('Qty'), { shiftKey: true });
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state,-quantity'));
    fireEvent.click(screen.getByText('ID'), { shiftKey: true });
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state,-quantity,id'));
    fireEvent.click(screen.getByText('Created'), { shiftKey: true });
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state,-quantity,created_at'));
    await waitFor(() => expect(listCalls(calls).at(-1)!.get('sort')).toBe('state,-quantity,created_at'));
    expect(screen.getAllByTestId('sort-rank').map((r) => r.textContent)).toEqual(['2', '1', '3']); // Qty, State, Created in column order
    const qty = screen.getByText('Qty').closest('th')!;
    expect(qty.getAttribute('aria-sort')).toBe('descending');
    expect(screen.getByTestId('sort-summary').textContent).toContain('State ↑, Qty ↓, Created ↑');
    // A plain click starts over with one key.
    fireEvent.click(screen.getByText('Qty'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('quantity'));
  });

  it('the column chooser hides and shows columns through the URL', async () => {
    mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions');
    await screen.findByText('Contoso Ltd');
    expect(screen.queryByRole('columnheader', { name: 'Marketplace id' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /Columns/ }));
    const chooser = await screen.findByRole('group', { name: 'Columns' });
    fireEvent.click(within(chooser).getByLabelText('Flags'));
    await waitFor(() => expect(new URLSearchParams(location).get('cols')).not.toContain('flags'));
    fireEvent.click(within(chooser).getByLabelText('Marketplace id'));
    await waitFor(() => expect(new URLSearchParams(location).get('cols')).toContain('identity'));
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'ID', 'Customer', 'Marketplace', 'Marketplace id', 'Offer', 'Plan', 'Qty', 'State', 'Created', 'Updated',
    ]);
    expect(screen.getAllByTestId('subscription-row')[0].children).toHaveLength(10);
    fireEvent.click(within(chooser).getByText('Default columns'));
    await waitFor(() => expect(new URLSearchParams(location).get('cols')).toBeNull());
    expect(screen.getByRole('columnheader', { name: 'Flags' })).toBeTruthy();
  });

  it('opens with the columns of a deep link', async () => {
    mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?cols=id,state');
    await screen.findAllByTestId('subscription-row');
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['ID', 'State']);
  });

  it('keyboard: arrows move the selection, Enter opens it, / focuses search, Esc clears', async () => {
    mockList({ '': { items: many(5), next_cursor: null } }, 5);
    renderAt('/subscriptions');
    await screen.findByText('Customer 1');
    expect(selectedId()).toBe('1');
    fireEvent.keyDown(window, { key: 'ArrowDown' });
    fireEvent.keyDown(window, { key: 'ArrowDown' });
    expect(selectedId()).toBe('3');
    fireEvent.keyDown(window, { key: 'ArrowUp' });
    expect(selectedId()).toBe('2');
    // The selected row has the focus, so a screen reader announces it.
    expect(document.activeElement?.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('subscription-row');
    expect(document.activeElement?.textContent).toContain('Customer 2');
    fireEvent.keyDown(window, { key: 'End' });
    expect(selectedId()).toBe('5');
    fireEvent.keyDown(window, { key: 'ArrowDown' }); // stays on the last row
    expect(selectedId()).toBe('5');
    fireEvent.keyDown(window, { key: 'Home' });
    expect(selectedId()).toBe('1');
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(selectedId()).toBeUndefined();
    fireEvent.keyDown(window, { key: 'ArrowDown' });
    expect(selectedId()).toBe('1');

    const search = screen.getByLabelText('Search') as HTMLInputElement;
    fireEvent.keyDown(window, { key: '/' });
    expect(document.activeElement).toBe(search);
    // Typing in the search box is not navigation.
    fireEvent.change(search, { target: { value: 'con' } });
    fireEvent.keyDown(search, { key: 'j' });
    expect(selectedId()).toBe('1');
    fireEvent.keyDown(search, { key: 'Escape' });
    expect(search.value).toBe('');
    fireEvent.keyDown(search, { key: 'Escape' });
    expect(document.activeElement).not.toBe(search);

    fireEvent.keyDown(window, { key: 'ArrowDown' });
    fireEvent.keyDown(window, { key: 'ArrowDown' });
    fireEvent.keyDown(window, { key: 'Enter' });
    expect(await screen.findByText('detail page')).toBeTruthy();
    expect(pathname).toBe('/subscriptions/3');
  });

  it('pages deeper with the keyset cursor, never an offset', async () => {
    const calls = mockList(
      {
        '': { items: many(100, 1), next_cursor: 'c1' },
        c1: { items: many(100, 101), next_cursor: 'c2' },
        c2: { items: many(20, 201), next_cursor: null },
      },
      220,
    );
    renderAt('/subscriptions?state=active');
    await screen.findByText('Customer 1');
    expect(screen.getByTestId('pager-summary').textContent).toBe('showing 1–100 of 220');
    // Only a window of the rows is rendered.
    expect(screen.getAllByTestId('subscription-row').length).toBeLessThan(100);
    // Moving to the end of what is loaded loads the next page, with the same filters and sort.
    fireEvent.keyDown(window, { key: 'End' });
    await waitFor(() => expect(screen.getByTestId('pager-summary').textContent).toBe('showing 1–200 of 220'));
    fireEvent.keyDown(window, { key: 'End' });
    await waitFor(() => expect(screen.getByTestId('pager-summary').textContent).toBe('showing 1–220 of 220'));
    const lc = listCalls(calls);
    expect(lc.map((p) => p.get('cursor'))).toEqual([null, 'c1', 'c2']);
    expect(lc.every((p) => p.get('offset') === null && p.get('state') === 'active' && p.get('limit') === '100')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('exports the filtered set in the current order as CSV', async () => {
    mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?marketplace=aws&state=active&q=contoso&sort=state,-quantity&cols=id,state');
    await screen.findAllByTestId('subscription-row');
    const href = screen.getByTestId('export-csv').getAttribute('href')!;
    expect(href.startsWith('/api/subscriptions?')).toBe(true);
    const p = new URLSearchParams(href.split('?')[1]);
    expect(Object.fromEntries(p)).toEqual({ marketplace: 'aws', state: 'active', q: 'contoso', sort: 'state,-quantity', format: 'csv' });
  });

  it('saves a view and applies it; ?view= opens it by name', async () => {
    mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?state=active&sort=quantity&cols=id,state');
    await screen.findAllByTestId('subscription-row');
    fireEvent.click(screen.getByRole('button', { name: /Views/ }));
    fireEvent.change(await screen.findByLabelText('View name'), { target: { value: 'Active by qty' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save view' }));
    expect(await screen.findByTestId('current-view')).toBeTruthy();
    expect(JSON.parse(localStorage.getItem('mg-subscription-views')!)).toEqual([
      { name: 'Active by qty', params: 'state=active&sort=quantity&cols=id%2Cstate' },
    ]);
    cleanup();

    renderAt('/subscriptions?view=' + encodeURIComponent('Active by qty'));
    await waitFor(() => expect(location).toBe('?state=active&sort=quantity&cols=id%2Cstate'));
    expect((await screen.findByTestId('current-view')).textContent).toBe('Active by qty');
    cleanup();

    renderAt('/subscriptions?view=Nope&state=ended');
    expect(await screen.findByText(/no saved view named “Nope”/)).toBeTruthy();
    await waitFor(() => expect(location).toBe('?state=ended'));
  });

  it('a customer filter from a link shows and can be removed', async () => {
    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?customer=12');
    const tag = await screen.findByTestId('customer-filter');
    expect(listCalls(calls)[0].get('customer')).toBe('12');
    await act(async () => {
      fireEvent.click(within(tag).getByRole('button'));
    });
    await waitFor(() => expect(new URLSearchParams(location).get('customer')).toBeNull());
  });
});

describe('Subscriptions: the dashboard’s filters (per-user plans, created and state-changed ranges)', () => {
  const dashboardLink =
    '/subscriptions?state=ended&seat_based=true&created_from=2026-11-01T00%3A00%3A00Z&created_to=2026-11-30T00%3A00%3A00Z&changed_from=2026-11-11T00%3A00%3A00Z&changed_to=2026-11-12T00%3A00%3A00Z&sort=-state_changed_at';
  const sent = {
    state: 'ended',
    seat_based: 'true',
    created_from: '2026-11-01T00:00:00Z',
    created_to: '2026-11-30T00:00:00Z',
    changed_from: '2026-11-11T00:00:00Z',
    changed_to: '2026-11-12T00:00:00Z',
    sort: '-state_changed_at',
  };

  it('sends them to the API and the CSV export, and shows each as a tag', async () => {
    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt(dashboardLink);
    await screen.findAllByTestId('subscription-row');
    expect(Object.fromEntries(listCalls(calls)[0])).toEqual({ ...sent, limit: '100' });
    const csv = screen.getByTestId('export-csv').getAttribute('href')!;
    expect(Object.fromEntries(new URLSearchParams(csv.split('?')[1]))).toEqual({ ...sent, format: 'csv' });
    expect(screen.getByTestId('seat-based-filter').textContent).toBe('per-user plans');
    expect(screen.getByTestId('created-filter').textContent).toBe('created 2026-11-01 – 2026-11-30 (UTC)');
    expect(screen.getByTestId('changed-filter').textContent).toBe('state changed on 2026-11-11 (UTC)');
    // Sorted by the state change: that column shows, marked as the sort.
    const th = screen.getByRole('columnheader', { name: 'State changed' });
    expect(th.getAttribute('aria-sort')).toBe('descending');
    expect(screen.getByTestId('sort-summary').textContent).toContain('State changed ↓');
  });

  it('a tag removes its filter (both ends of a range) and the list is asked again without it', async () => {
    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt(dashboardLink);
    await screen.findAllByTestId('subscription-row');
    await act(async () => {
      fireEvent.click(within(screen.getByTestId('changed-filter')).getByRole('button'));
    });
    await waitFor(() => expect(new URLSearchParams(location).get('changed_from')).toBeNull());
    expect(new URLSearchParams(location).get('changed_to')).toBeNull();
    expect(new URLSearchParams(location).get('created_from')).toBe('2026-11-01T00:00:00Z');
    await waitFor(() => expect(listCalls(calls).at(-1)!.get('changed_from')).toBeNull());
    expect(listCalls(calls).at(-1)!.get('seat_based')).toBe('true');

    await act(async () => {
      fireEvent.click(within(screen.getByTestId('seat-based-filter')).getByRole('button'));
    });
    await waitFor(() => expect(new URLSearchParams(location).get('seat_based')).toBeNull());
    await waitFor(() => expect(listCalls(calls).at(-1)!.get('seat_based')).toBeNull());
    expect(screen.queryByTestId('seat-based-filter')).toBeNull();

    // Clear filters removes the rest, keeping the sort.
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(location).toBe('?sort=-state_changed_at'));
    expect(screen.queryByTestId('created-filter')).toBeNull();
  });

  it('a saved view keeps them and brings them back', async () => {
    mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt(dashboardLink);
    await screen.findAllByTestId('subscription-row');
    fireEvent.click(screen.getByRole('button', { name: /Views/ }));
    fireEvent.change(await screen.findByLabelText('View name'), { target: { value: 'Ended seats' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save view' }));
    expect(await screen.findByTestId('current-view')).toBeTruthy();
    cleanup();

    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?view=' + encodeURIComponent('Ended seats'));
    await waitFor(() => expect(Object.fromEntries(new URLSearchParams(location))).toEqual(sent));
    await waitFor(() => expect(Object.fromEntries(listCalls(calls).at(-1)!)).toEqual({ ...sent, limit: '100' }));
    expect(await screen.findByTestId('changed-filter')).toBeTruthy();
  });

  it('"State changed" is a sortable column', async () => {
    const calls = mockList({ '': { items: [sub], next_cursor: null } }, 1);
    renderAt('/subscriptions?cols=id,state,state_changed_at');
    await screen.findAllByTestId('subscription-row');
    fireEvent.click(screen.getByText('State changed'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('state_changed_at'));
    await waitFor(() => expect(listCalls(calls).at(-1)!.get('sort')).toBe('state_changed_at'));
    fireEvent.click(screen.getByText('State changed'));
    await waitFor(() => expect(new URLSearchParams(location).get('sort')).toBe('-state_changed_at'));
    expect(screen.getByText('State changed').closest('th')!.getAttribute('aria-sort')).toBe('descending');
  });
});
