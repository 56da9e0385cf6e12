import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Seat, SeatImportResult, SeatSummary } from '../../shared/api';
import { SeatsTab } from './Seats';
import { SubscriptionPage } from '../subscriptions/Subscription';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const summary = (over: Partial<SeatSummary> = {}): SeatSummary => ({
  seat_based: true, bought: 3, assigned: 3, free: 0, over: 0, allow_over_assignment: false, over_quantity_policy: 'keep_all',
  auto_assign: false, usable: true, state: 'active', can_manage: true,
  more_seats: { text: 'Buy more seats in the Microsoft 365 admin center.', url: 'https://admin.microsoft.com/', label: 'Open the Microsoft 365 admin center' },
  ...over,
});

let nextId = 1;
const seat = (email: string, over = false): Seat => ({
  id: nextId++, subscription_id: 1, email, entra_object_id: '', name: '', source: 'manual', assigned_by: 'it@contoso.com',
  assigned_at: '2026-11-27T01:00:00Z', over, last_checked_at: null,
});

interface Call {
  method: string;
  url: string;
  body: string;
  type: string;
}

/** Mocks fetch with a handler; records every call. */
function mockFetch(handler: (c: Call) => Response | undefined) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? ''), type: headers['Content-Type'] ?? '' };
    calls.push(c);
    return handler(c) ?? json(404, { error: { code: 'not_found', message: 'unexpected ' + c.method + ' ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

function renderTab(url = '/subscriptions/9?tab=seats') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/subscriptions/:id" element={<SeatsTab id="9" />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Seats tab', () => {
  it('shows the summary, flags seats over the quantity and releases the ticked ones after confirmation', async () => {
    const items = [seat('ann@contoso.com'), seat('bob@contoso.com'), seat('cy@contoso.com', true), seat('dee@contoso.com', true)];
    const calls = mockFetch((c) => {
      if (c.method === 'GET' && c.url.startsWith('/api/subscriptions/9/seats'))
        return json(200, { summary: summary({ bought: 2, assigned: 4, free: 0, over: 2 }), items, total: 4 });
      if (c.method === 'POST' && c.url === '/api/subscriptions/9/seats/release') return json(200, { released: 2, summary: summary({ bought: 2, assigned: 2 }) });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    expect(screen.getByTestId('seats-bought').textContent).toBe('2 bought');
    expect(screen.getByTestId('seats-assigned').textContent).toBe('4 assigned');
    expect(screen.getByTestId('seats-free').textContent).toBe('0 free');
    expect(screen.getByTestId('seats-over').textContent).toBe('2 over');

    // Exactly the rows the server marks over carry the tag.
    const flagged = screen.getAllByTestId('seat-row').filter((r) => within(r).queryByTestId('over-tag'));
    expect(flagged.map((r) => r.querySelectorAll('td')[1].firstChild?.textContent)).toEqual(['cy@contoso.com', 'dee@contoso.com']);
    const warning = screen.getByTestId('over-warning');
    expect(warning.textContent).toContain('2 bought, 4 assigned');
    expect(warning.textContent).toContain('keep access');

    const release = screen.getByRole('button', { name: /Release selected/ });
    expect((release as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(warning).getByRole('button', { name: /Tick the 2 over-quantity seats/ }));
    expect(release.textContent).toContain('(2)');
    fireEvent.click(release);
    // The confirmation says what happens; nothing is sent before it is confirmed.
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('lose access at once');
    expect(dialog.textContent).toContain('cy@contoso.com, dee@contoso.com');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Release 2 seats' }));
    await waitFor(() => expect(calls.some((c) => c.url.endsWith('/seats/release'))).toBe(true));
    const post = calls.find((c) => c.url.endsWith('/seats/release'))!;
    expect(JSON.parse(post.body)).toEqual({ ids: [items[2].id, items[3].id] });
  });

  it('releases one seat with DELETE after saying the user loses access', async () => {
    const items = [seat('ann@contoso.com')];
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary({ bought: 3, assigned: 1, free: 2 }), items, total: 1 });
      if (c.method === 'DELETE') return json(200, { summary: summary({ bought: 3, assigned: 0, free: 3 }) });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    expect(screen.queryByTestId('over-warning')).toBeNull();
    expect(screen.queryByTestId('over-tag')).toBeNull();
    fireEvent.click(within(screen.getByTestId('seat-row')).getByRole('button', { name: 'Release' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('Release the seat of ann@contoso.com? They lose access at once.');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Release seat' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'DELETE')?.url).toBe(`/api/subscriptions/9/seats/${items[0].id}`));
  });

  it("on no_free_seat shows the server's message and how to get more seats", async () => {
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary(), items: [seat('ann@contoso.com')], total: 1 });
      if (c.method === 'POST')
        return json(409, { error: { code: 'no_free_seat', message: 'No free seat: 3 bought, 3 assigned.', request_id: 'req-9' } });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    fireEvent.change(screen.getByLabelText('User e-mail or Entra object id'), { target: { value: ' zed@contoso.com ' } });
    fireEvent.change(screen.getByLabelText('Name (optional)'), { target: { value: 'Zed' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign seat' }));
    expect(await screen.findByText('No free seat: 3 bought, 3 assigned.')).toBeTruthy();
    expect(screen.getByText('request id: req-9')).toBeTruthy();
    const more = screen.getByTestId('more-seats');
    expect(more.textContent).toContain('How to get more seats');
    expect(more.textContent).toContain('Buy more seats in the Microsoft 365 admin center.');
    expect(within(more).getByRole('link', { name: 'Open the Microsoft 365 admin center' }).getAttribute('href')).toBe('https://admin.microsoft.com/');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ user: 'zed@contoso.com', name: 'Zed' });
  });

  it('another refusal shows the message but no "more seats" help', async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary({ assigned: 1, free: 2 }), items: [seat('ann@contoso.com')], total: 1 });
      return json(409, { error: { code: 'conflict', message: 'ann@contoso.com already holds a seat', request_id: 'req-10' } });
    });
    renderTab();
    await screen.findAllByText('ann@contoso.com');
    fireEvent.change(screen.getByLabelText('User e-mail or Entra object id'), { target: { value: 'ann@contoso.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign seat' }));
    expect(await screen.findByText('ann@contoso.com already holds a seat')).toBeTruthy();
    expect(screen.queryByTestId('more-seats')).toBeNull();
  });

  it('hides every changing control when the user may not manage seats', async () => {
    mockFetch(() => json(200, { summary: summary({ can_manage: false, bought: 1, assigned: 2, over: 1 }), items: [seat('a@x.com'), seat('b@x.com', true)], total: 2 }));
    renderTab();
    await screen.findByText('a@x.com');
    expect(screen.getByTestId('over-tag')).toBeTruthy();
    expect(screen.getByTestId('over-warning')).toBeTruthy();
    expect(screen.queryByLabelText('User e-mail or Entra object id')).toBeNull();
    expect(screen.queryByRole('button', { name: /Release/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Import/ })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByText('Export CSV').closest('a')?.getAttribute('href')).toBe('/api/subscriptions/9/seats/export');
  });

  it('sends the search to the API and says when nothing matches', async () => {
    const calls = mockFetch(() => json(200, { summary: summary(), items: [], total: 0 }));
    renderTab('/subscriptions/9?tab=seats&q=nobody');
    expect(await screen.findByText('No seat holder matches')).toBeTruthy();
    const get = calls.find((c) => c.url.startsWith('/api/subscriptions/9/seats'))!;
    expect(new URLSearchParams(get.url.split('?')[1]).get('q')).toBe('nobody');
  });

  it("shows the server's error and request id when the seats cannot be read", async () => {
    mockFetch(() => json(404, { error: { code: 'not_found', message: 'subscription 9 not found', request_id: 'req-404' } }));
    renderTab();
    expect(await screen.findByText('subscription 9 not found')).toBeTruthy();
    expect(screen.getByText('request id: req-404')).toBeTruthy();
  });
});

describe('Seats import', () => {
  const preview: SeatImportResult = {
    applied: false,
    mode: 'replace',
    add: [{ line: 2, user: 'bob@contoso.com', name: 'Bob' }],
    keep: [{ line: 3, user: 'ann@contoso.com' }],
    release: [{ id: 4, user: 'old@contoso.com' }],
    refused: [
      { line: 5, value: 'not-an-email', reason: 'not an e-mail address or an Entra object id' },
      { line: 9, value: 'zed@contoso.com', reason: 'no free seat: 10 bought, 10 assigned' },
    ],
    summary: summary({ bought: 10, assigned: 10 }),
  };

  it('previews what will be added, kept, released and refused, then applies exactly that', async () => {
    const csv = 'email,name\nbob@contoso.com,Bob\nann@contoso.com\n\nnot-an-email\n';
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary({ bought: 10, assigned: 3, free: 7 }), items: [seat('ann@contoso.com')], total: 1 });
      const apply = new URLSearchParams(c.url.split('?')[1]).get('apply') === 'true';
      return json(200, { ...preview, applied: apply });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    fireEvent.click(screen.getByRole('button', { name: /Import/ }));
    const dialog = await screen.findByRole('dialog');
    const apply = () => within(dialog).getByRole('button', { name: /^Apply/ }) as HTMLButtonElement;
    expect(apply().disabled).toBe(true); // preview first
    fireEvent.change(within(dialog).getByLabelText('…or paste the list'), { target: { value: csv } });
    fireEvent.click(within(dialog).getByLabelText(/Replace/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Preview' }));

    const report = await within(dialog).findByTestId('import-report');
    const previewCall = calls.find((c) => c.method === 'POST')!;
    const params = new URLSearchParams(previewCall.url.split('?')[1]);
    expect(previewCall.url.startsWith('/api/subscriptions/9/seats/import?')).toBe(true);
    expect(params.get('mode')).toBe('replace');
    expect(params.get('apply')).toBe('false');
    expect(previewCall.type).toBe('text/csv');
    expect(previewCall.body).toBe(csv);

    expect(within(dialog).getByText(/nothing has changed yet/)).toBeTruthy();
    const add = within(report).getByTestId('import-add');
    expect(add.textContent).toContain('will be added');
    expect(add.textContent).toContain('bob@contoso.com');
    expect(add.textContent).toContain('Bob');
    expect(within(report).getByTestId('import-keep').textContent).toContain('ann@contoso.com');
    const release = within(report).getByTestId('import-release');
    expect(release.textContent).toContain('lose access');
    expect(release.textContent).toContain('old@contoso.com');
    const refused = within(report).getByTestId('import-refused');
    const rows = within(refused).getAllByRole('row').slice(1).map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent));
    expect(rows).toEqual([
      ['5', 'not-an-email', 'not an e-mail address or an Entra object id'],
      ['9', 'zed@contoso.com', 'no free seat: 10 bought, 10 assigned'],
    ]);

    // Changing the mode makes the preview stale: Apply waits for a new one.
    fireEvent.click(within(dialog).getByLabelText(/^Add/));
    expect(apply().disabled).toBe(true);
    expect(within(dialog).queryByTestId('import-report')).toBeNull();
    fireEvent.click(within(dialog).getByLabelText(/Replace/));
    expect(apply().disabled).toBe(false);
    expect(apply().textContent).toBe('Apply (1 add, 1 release)');

    fireEvent.click(apply());
    const done = await within(dialog).findByTestId('import-applied');
    expect(done.textContent).toContain('1 added, 1 kept, 1 released, 2 refused');
    const applyCall = calls.filter((c) => c.method === 'POST')[1];
    expect(new URLSearchParams(applyCall.url.split('?')[1]).get('apply')).toBe('true');
    expect(new URLSearchParams(applyCall.url.split('?')[1]).get('mode')).toBe('replace');
    expect(applyCall.body).toBe(csv);
    expect(within(dialog).getByTestId('import-add').textContent).toContain('added');
    expect(within(dialog).getByTestId('import-add').textContent).not.toContain('will be');
    // The list is read again after the change.
    await waitFor(() => expect(calls.filter((c) => c.method === 'GET').length).toBeGreaterThan(1));
  });

  it('after an import, the note about the last assignment is gone (it no longer describes the list)', async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary({ bought: 10, assigned: 1, free: 9 }), items: [seat('ann@contoso.com')], total: 1 });
      if (c.method === 'POST' && c.url === '/api/subscriptions/9/seats') return json(201, { seat: seat('bob@contoso.com'), summary: summary() });
      const apply = new URLSearchParams(c.url.split('?')[1]).get('apply') === 'true';
      return json(200, { ...preview, applied: apply });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    fireEvent.change(screen.getByLabelText('User e-mail or Entra object id'), { target: { value: 'bob@contoso.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign seat' }));
    expect(await screen.findByText('Seat assigned to bob@contoso.com.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /Import/ }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('…or paste the list'), { target: { value: 'cy@contoso.com\n' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Preview' }));
    await within(dialog).findByTestId('import-report');
    fireEvent.click(within(dialog).getByRole('button', { name: /^Apply/ }));
    await within(dialog).findByTestId('import-applied');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByText('Seat assigned to bob@contoso.com.')).toBeNull());
  });

  it("shows an unreadable file's error with the server's message", async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, { summary: summary(), items: [seat('ann@contoso.com')], total: 1 });
      return json(400, { error: { code: 'invalid_input', message: 'line 3: wrong number of fields', request_id: 'req-csv' } });
    });
    renderTab();
    await screen.findByText('ann@contoso.com');
    fireEvent.click(screen.getByRole('button', { name: /Import/ }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('…or paste the list'), { target: { value: 'a,"b\n' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Preview' }));
    expect(await within(dialog).findByText('line 3: wrong number of fields')).toBeTruthy();
    expect(within(dialog).getByText('request id: req-csv')).toBeTruthy();
    expect((within(dialog).getByRole('button', { name: /^Apply/ }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('Subscription page tabs', () => {
  const sub = {
    id: 9, marketplace: 'azure', state: 'active', name: 'Contoso Teams', customer: { id: 1, name: 'Contoso' },
    offer: { id: 1, name: 'Acme Teams App', marketplace_id: 'acme-teams-app' }, plan: { id: 2, plan_id: 'per-user', name: 'Per user' }, quantity: 3,
    aws_customer_account_id: '', aws_license_arn: '', aws_customer_identifier: '', aws_product_code: '', aws_offer_id: '', azure_subscription_id: 'x',
    azure_tenant_id: 't', term_start: null, term_end: null, term_unit: '', free_trial: false, is_test: false, auto_renew: true, version: 1,
    state_changed_at: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z',
  };
  function renderPage(url: string) {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    return render(
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route path="/subscriptions/:id" element={<SubscriptionPage />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>,
    );
  }

  it('opens the Seats tab from the URL for a per-user plan', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/subscriptions/9/seats')) return json(200, { summary: summary({ assigned: 1, free: 2 }), items: [seat('ann@contoso.com')], total: 1 });
      if (c.url === '/api/subscriptions/9') return json(200, { subscription: sub, timeline: [], entitlements: [], agreements: [], operations: [] });
    });
    renderPage('/subscriptions/9?tab=seats');
    expect(await screen.findByText('ann@contoso.com')).toBeTruthy();
    expect(screen.getByRole('tab', { name: /Seats/ }).getAttribute('aria-selected')).toBe('true');
  });

  it('a seat change refreshes the counts shown outside the list (tab badge, Overview "bought/free")', async () => {
    let assigned = 1;
    const counts = () => ({ seat_based: true, bought: 3, assigned, free: 3 - assigned, over: 0, allow_over_assignment: false, auto_assign: false, over_quantity_policy: 'keep_all', state: 'active', usable: true });
    const calls = mockFetch((c) => {
      if (c.method === 'POST' && c.url === '/api/subscriptions/9/seats') {
        assigned = 2;
        return json(201, { seat: seat('bob@contoso.com'), summary: summary({ assigned: 2, free: 1 }) });
      }
      if (c.url.startsWith('/api/subscriptions/9/seats')) return json(200, { summary: summary({ assigned, free: 3 - assigned }), items: [seat('ann@contoso.com')], total: 1 });
      if (c.url === '/api/subscriptions/9') return json(200, { subscription: sub, seats: counts(), timeline: [], entitlements: [], agreements: [], operations: [] });
    });
    renderPage('/subscriptions/9?tab=seats');
    await screen.findByText('ann@contoso.com');
    expect(screen.getByRole('tab', { name: /Seats/ }).textContent).toContain('1/3');
    const detailReads = () => calls.filter((c) => c.url === '/api/subscriptions/9').length;
    const before = detailReads();
    fireEvent.change(screen.getByLabelText('User e-mail or Entra object id'), { target: { value: 'bob@contoso.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign seat' }));
    await waitFor(() => expect(screen.getByRole('tab', { name: /Seats/ }).textContent).toContain('2/3'));
    await waitFor(() => expect(detailReads()).toBeGreaterThan(before));
    fireEvent.click(screen.getByRole('tab', { name: 'Overview' }));
    expect((await screen.findByTestId('overview-seats')).textContent).toContain('3 bought · 2 assigned · 1 free');
  });

  it('has no Seats tab when the plan is not per-user', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/subscriptions/9/seats')) return json(200, { summary: summary({ seat_based: false }), items: [], total: 0 });
      if (c.url === '/api/subscriptions/9') return json(200, { subscription: sub, timeline: [], entitlements: [], agreements: [], operations: [] });
    });
    renderPage('/subscriptions/9');
    await screen.findByText('Contoso Teams');
    // Overview, Timeline and Metering (no Raw tab without a seller role, no Entitlements for Microsoft; App permissions is the customer portal's tab).
    await waitFor(() => expect(screen.getAllByRole('tab').map((t) => t.textContent?.replace(/\d+$/, '').trim())).toEqual(['Overview', 'Timeline', 'Metering']));
    expect(screen.queryByRole('tab', { name: /Seats/ })).toBeNull();
  });
});
