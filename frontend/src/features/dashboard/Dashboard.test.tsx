import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Role, Dashboard } from '../../shared/api';
import { DashboardPage } from './Dashboard';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const days = (counts: Record<number, number>) =>
  Array.from({ length: 30 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, count: counts[i] ?? 0 }));

const seller: Dashboard = {
  by_state: [
    { marketplace: 'aws', state: 'active', count: 107 },
    { marketplace: 'azure', state: 'active', count: 116 },
    { marketplace: 'aws', state: 'pending', count: 23 },
    { marketplace: 'azure', state: 'suspended', count: 4 },
  ],
  total: 250,
  customers: 150,
  seats: { sold: 800, assigned: 600 },
  created_per_day: days({ 0: 2, 29: 5 }),
  ended_per_day: days({ 10: 3 }),
  recent_events: [{ id: 950, subscription_id: 400, at: '2026-11-26T22:43:30Z', kind: 'aws.unsubscribe_success', summary: 'Unsubscribed', to_state: 'ended' }],
  inbox_failed: 3,
  metering: { pending: 12, expiring: 2, accepted: 150, failed: 4, expired: 1, unsealed_usage_hours: 0 },
};

let path = '';
function Spy() {
  const l = useLocation();
  path = l.pathname + l.search;
  return null;
}

function renderAs(role: Role, body: Dashboard | Response) {
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) =>
    String(input) === '/api/dashboard' ? (body instanceof Response ? body : json(200, body)) : json(404, {}),
  );
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['me'], { user: { id: 1, email: 'x@example.com', name: 'x', role, customer_id: role === 'customer_admin' ? 3 : null, must_change_password: false } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={['/']}>
        <Routes>
          <Route path="*" element={<><DashboardPage /><Spy /></>} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const href = (el: HTMLElement) => decodeURIComponent((el.closest('a') ?? el.querySelector('a'))!.getAttribute('href')!);

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Dashboard', () => {
  it('links every number to the filtered list behind it', async () => {
    renderAs('operator', seller);
    const cell = await screen.findByTestId('count-aws-active');
    expect(cell.textContent).toBe('107');
    expect(href(cell)).toBe('/subscriptions?state=active&marketplace=aws');
    expect(href(screen.getByTestId('count-azure-suspended'))).toBe('/subscriptions?state=suspended&marketplace=azure');
    expect(screen.getByTestId('count-all-active').textContent).toBe('223');
    expect(href(screen.getByTestId('count-all-active'))).toBe('/subscriptions?state=active');
    expect(screen.getByTestId('count-aws-all').textContent).toBe('130');
    expect(href(screen.getByTestId('count-aws-all'))).toBe('/subscriptions?marketplace=aws');
    expect(href(within(screen.getByTestId('stat-total')).getByText('250'))).toBe('/subscriptions');
    expect(href(within(screen.getByTestId('stat-customers')).getByText('150'))).toBe('/customers');
    expect(href(within(screen.getByTestId('stat-inbox-failed')).getByText('3'))).toBe('/notifications?status=failed');
    expect(href(screen.getByTestId('metering-pending'))).toBe('/metering?status=pending');
    expect(screen.getByTestId('metering-failed').textContent).toBe('4');
    expect(href(screen.getByTestId('metering-failed'))).toBe('/metering?status=rejected,duplicate,conflict');
    expect(href(screen.getByTestId('metering-expired'))).toBe('/metering?status=expired');
    // Seats count only per-user plans in the states that hold seats: the link lists exactly those.
    expect(href(within(screen.getByTestId('stat-seats')).getByText('800'))).toBe('/subscriptions?state=active,unsubscribe_pending&seat_based=true');
    expect(screen.getByTestId('seats-assigned').textContent).toBe('600 assigned');
    expect(href(screen.getByTestId('seats-assigned'))).toBe('/subscriptions?state=active,unsubscribe_pending&seat_based=true');
    // Expiring: pending, deadline within 4 hours, the API's own filter.
    expect(screen.getByTestId('metering-expiring').textContent).toBe('2');
    expect(href(screen.getByTestId('metering-expiring'))).toBe('/metering?expiring=true');
    // The 30-day totals: from the chart's first day (UTC midnight), as the API counts them.
    expect(screen.getByTestId('new-30').textContent).toBe('7');
    expect(href(screen.getByTestId('new-30'))).toBe('/subscriptions?created_from=2026-11-01T00:00:00Z');
    expect(screen.getByTestId('ended-30').textContent).toBe('3');
    expect(href(screen.getByTestId('ended-30'))).toBe('/subscriptions?state=ended&changed_from=2026-11-01T00:00:00Z&sort=-state_changed_at');
    const ev = screen.getByTestId('recent-event');
    expect(href(within(ev).getByText('#400'))).toBe('/subscriptions/400?tab=timeline');
    // A click navigates in the app.
    fireEvent.click(cell);
    expect(path).toBe('/subscriptions?state=active&marketplace=aws');
  });

  it('draws 30 days of new and ended subscriptions', async () => {
    renderAs('admin', seller);
    const chart = await screen.findByTestId('day-chart');
    expect(within(chart).getAllByTestId('chart-day')).toHaveLength(30);
    const titles = [...chart.querySelectorAll('title')].map((t) => t.textContent);
    expect(titles).toContain('2026-11-30: 5 new');
    expect(titles).toContain('2026-11-11: 3 ended');
  });

  it("each bar links to that day's subscriptions: created on it, or ended on it", async () => {
    renderAs('admin', seller);
    await screen.findByTestId('day-chart');
    const created = screen.getByTestId('chart-new-2026-11-30');
    expect(created.getAttribute('aria-label')).toBe('2026-11-30: 5 new');
    // The day ends where the next one starts (the API's "to" is exclusive), across the month's end too.
    expect(href(created)).toBe('/subscriptions?created_from=2026-11-30T00:00:00Z&created_to=2026-12-01T00:00:00Z');
    const ended = screen.getByTestId('chart-ended-2026-11-11');
    expect(ended.getAttribute('aria-label')).toBe('2026-11-11: 3 ended');
    expect(href(ended)).toBe('/subscriptions?state=ended&changed_from=2026-11-11T00:00:00Z&changed_to=2026-11-12T00:00:00Z&sort=-state_changed_at');
    // A day without any is a link too (to an empty list), so every slot is clickable.
    expect(href(screen.getByTestId('chart-ended-2026-11-01'))).toBe(
      '/subscriptions?state=ended&changed_from=2026-11-01T00:00:00Z&changed_to=2026-11-02T00:00:00Z&sort=-state_changed_at',
    );
    fireEvent.click(ended);
    expect(decodeURIComponent(path)).toBe('/subscriptions?state=ended&changed_from=2026-11-11T00:00:00Z&changed_to=2026-11-12T00:00:00Z&sort=-state_changed_at');
  });

  it('hides the seller-only figures from a customer admin', async () => {
    const own: Dashboard = { ...seller, customers: 1, inbox_failed: undefined, metering: undefined };
    renderAs('customer_admin', own);
    await screen.findByTestId('count-aws-active');
    expect(screen.queryByTestId('stat-customers')).toBeNull();
    expect(screen.queryByTestId('stat-inbox-failed')).toBeNull();
    expect(screen.queryByTestId('stat-metering')).toBeNull();
    expect(screen.queryByRole('link', { name: /notifications|metering/i })).toBeNull();
    expect(screen.getByTestId('stat-seats')).toBeTruthy();
  });

  it("shows the server's error and request id", async () => {
    renderAs('viewer', json(500, { error: { code: 'internal', message: 'database is locked', request_id: 'req-dash' } }));
    expect(await screen.findByText('database is locked')).toBeTruthy();
    expect(screen.getByText('request id: req-dash')).toBeTruthy();
  });
});
