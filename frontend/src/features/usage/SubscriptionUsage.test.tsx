import { cloneElement, type ReactElement } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router';
import type { MeteringRecord, UsageBucket, UsageSeries } from '../../shared/api';
import i18n from '../../shared/i18n';
import { json, mockFetch, paramsOf, type Call } from '../../shared/test/testutil';
import { SubscriptionUsage } from './SubscriptionUsage';
import { UsageTooltip } from './UsageChart';
import { periodOf, withinCap } from './period';

// jsdom lays nothing out: recharts' ResponsiveContainer would measure 0×0
// and draw nothing, so the chart gets a fixed size here.
vi.mock('recharts', async (importOriginal) => {
  const mod = await importOriginal<typeof import('recharts')>();
  return {
    ...mod,
    ResponsiveContainer: ({ children }: { children: ReactElement<{ width?: number; height?: number }> }) => (
      <div style={{ width: 800, height: 240 }}>{cloneElement(children, { width: 800, height: 240 })}</div>
    ),
  };
});

const NOW = new Date('2026-06-02T09:20:00Z');

const bucket = (at: string, used: number, over: Partial<UsageBucket> = {}): UsageBucket => ({
  at,
  used,
  sent: 0,
  accepted: 0,
  statuses: [],
  ...over,
});

const report = (over: Partial<UsageSeries> = {}): UsageSeries => ({
  subscription_id: 42,
  marketplace: 'aws',
  granularity: 'hour',
  from: '2026-06-01T00:00:00Z',
  to: '2026-07-01T00:00:00Z',
  metered: true,
  dimensions: [
    {
      key: 'api_calls',
      name: 'API calls',
      unit: 'call',
      metered: true,
      total: { used: 1234.5, sent: 7, accepted: 5, statuses: [{ status: 'accepted', records: 1, quantity: 5 }, { status: 'rejected', records: 1, quantity: 2 }] },
      buckets: [
        bucket('2026-06-01T00:00:00Z', 5, { sent: 5, accepted: 5, statuses: [{ status: 'accepted', records: 1, quantity: 5 }] }),
        bucket('2026-06-01T01:00:00Z', 2, { sent: 2, statuses: [{ status: 'rejected', records: 1, quantity: 2 }] }),
        bucket('2026-06-01T02:00:00Z', 0),
        bucket('2026-06-01T03:00:00Z', 1227.5),
      ],
    },
  ],
  ...over,
});

const record = (over: Partial<MeteringRecord> = {}): MeteringRecord => ({
  id: 1,
  subscription_id: 42,
  marketplace: 'aws',
  dimension: 'api_calls',
  hour: '2026-06-01T01:00:00Z',
  quantity: 2,
  status: 'rejected',
  reason: 'InvalidUsageDimension',
  attempts: 1,
  next_attempt_at: null,
  sent_at: null,
  settled_at: null,
  expiring: false,
  ...over,
});

function renderUsage(handler: (c: Call) => Response | undefined) {
  const calls = mockFetch(handler);
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <SubscriptionUsage subscriptionId={42} />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return calls;
}

const usageCalls = (calls: Call[]) => calls.filter((c) => c.url.startsWith('/api/subscriptions/42/usage')).map((c) => paramsOf(c.url));

function answer(rep: UsageSeries, records: MeteringRecord[] = [record()]) {
  return (c: Call) => {
    if (c.url.startsWith('/api/subscriptions/42/usage')) return json(200, rep);
    if (c.url.startsWith('/api/metering/records')) return json(200, { items: records, total: records.length });
    return undefined;
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(async () => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

describe('SubscriptionUsage', () => {
  it('asks for the current billing period by hour and draws every bucket, the empty one too', async () => {
    const calls = renderUsage(answer(report()));
    const chart = await screen.findByTestId('usage-chart');
    expect(usageCalls(calls)[0]).toEqual({ granularity: 'hour', from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' });
    // The records of the same period, for the table.
    const rec = calls.find((c) => c.url.startsWith('/api/metering/records'))!;
    expect(paramsOf(rec.url)).toMatchObject({ subscription: '42', from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' });
    // A slot per bucket (four hours, the idle one too), bars for the three
    // that hold usage, and the two lines through all four points.
    await waitFor(() => expect(chart.querySelectorAll('.recharts-bar-background-rectangle').length).toBe(4));
    expect(chart.querySelectorAll('.recharts-bar-rectangle').length).toBe(4);
    expect(chart.querySelectorAll('.recharts-bar-rectangle .mg-usage-zero').length).toBe(1);
    const lines = [...chart.querySelectorAll('.recharts-line-curve')].map((p) => p.getAttribute('d')!);
    expect(lines.map((d) => d.split(/[ML]/).filter(Boolean).length)).toEqual([4, 4]);
    expect(chart.getAttribute('aria-label')).toBe('Usage of API calls, Jun 1, 2026 – Jun 30, 2026');
    expect(screen.getByTestId('usage-totals').textContent).toContain('Used: 1,234.5 call');
    expect(screen.getByTestId('usage-totals').textContent).toContain('Rejected: 2 call');
    const row = await screen.findByTestId('usage-record');
    expect(within(row).getByTestId('usage-record-status').textContent).toBe('Rejected');
    expect(row.textContent).toContain('InvalidUsageDimension');
    // The CSV is the same selection.
    expect(paramsOf(screen.getByTestId('usage-csv').getAttribute('href')!)).toEqual({
      granularity: 'hour',
      from: '2026-06-01T00:00:00Z',
      to: '2026-07-01T00:00:00Z',
      format: 'csv',
    });
  });

  it('switches to daily and to the previous period, and refuses an hourly period the API would refuse without asking', async () => {
    const calls = renderUsage(answer(report()));
    await screen.findByTestId('usage-chart');
    fireEvent.click(screen.getByRole('button', { name: 'Day' }));
    await waitFor(() => expect(usageCalls(calls).at(-1)).toEqual({ granularity: 'day', from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' }));
    fireEvent.change(screen.getByLabelText('Period'), { target: { value: 'previous' } });
    await waitFor(() => expect(usageCalls(calls).at(-1)).toEqual({ granularity: 'day', from: '2026-05-01T00:00:00Z', to: '2026-06-01T00:00:00Z' }));
    fireEvent.change(screen.getByLabelText('Period'), { target: { value: 'custom' } });
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-01-01' } });
    await waitFor(() => expect(usageCalls(calls).at(-1)).toEqual({ granularity: 'day', from: '2026-01-01T00:00:00Z', to: '2026-06-03T00:00:00Z' }));
    const before = usageCalls(calls).length;
    fireEvent.click(screen.getByRole('button', { name: 'Hour' }));
    expect(screen.getByTestId('usage-too-long').textContent).toContain('Hourly usage covers at most 31 days');
    expect(usageCalls(calls).length).toBe(before);
    fireEvent.click(screen.getByRole('button', { name: 'Show by day' }));
    expect(screen.queryByTestId('usage-too-long')).toBeNull();
  });

  it('says so when the plan is not metered', async () => {
    renderUsage(answer(report({ metered: false, dimensions: [] }), []));
    expect(await screen.findByText('This plan is not metered')).toBeTruthy();
    expect(screen.getByText('The plan is billed at a fixed price, so there is no usage to show.')).toBeTruthy();
    expect(screen.queryByTestId('usage-chart')).toBeNull();
  });

  it('says so when nothing was used, and still lists the zero records sent', async () => {
    const zero = report();
    zero.dimensions[0] = { ...zero.dimensions[0], total: { used: 0, sent: 0, accepted: 0, statuses: [] }, buckets: [bucket('2026-06-01T00:00:00Z', 0)] };
    renderUsage(answer(zero, [record({ quantity: 0, status: 'accepted', reason: undefined, marketplace_record_id: 'mr-1' })]));
    expect(await screen.findByText('Nothing was used in this period')).toBeTruthy();
    expect(screen.getByText('No usage was reported for this subscription between Jun 1, 2026 and Jun 30, 2026.')).toBeTruthy();
    expect(screen.queryByTestId('usage-chart')).toBeNull();
    expect((await screen.findByTestId('usage-record')).textContent).toContain('mr-1');
  });

  it('shows a failure with a retry that loads the report', async () => {
    let fail = true;
    const calls = renderUsage((c) => {
      if (c.url.startsWith('/api/subscriptions/42/usage')) {
        return fail ? json(503, { error: { code: 'unavailable', message: 'database is busy', request_id: 'req-7' } }) : json(200, report());
      }
      return answer(report())(c);
    });
    expect(await screen.findByText('The usage could not be loaded.')).toBeTruthy();
    expect(screen.getByText('database is busy')).toBeTruthy();
    fail = false;
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    });
    expect(await screen.findByTestId('usage-chart')).toBeTruthy();
    expect(usageCalls(calls).length).toBe(2);
  });

  it('renders in Japanese: labels, dates and numbers for the locale', async () => {
    await i18n.changeLanguage('ja');
    renderUsage(answer(report()));
    const chart = await screen.findByTestId('usage-chart');
    expect(chart.getAttribute('aria-label')).toBe('API calls の使用量（2026/06/01 ～ 2026/06/30）');
    expect(screen.getByLabelText('期間')).toBeTruthy();
    expect(screen.getByRole('button', { name: '日' })).toBeTruthy();
    expect(screen.getByText('CSV をダウンロード')).toBeTruthy();
    expect(screen.getByTestId('usage-totals').textContent).toContain('使用量：1,234.5 call');
    expect(screen.getByText('マーケットプレイスへ送信したレコード')).toBeTruthy();
    expect(within(await screen.findByTestId('usage-record')).getByTestId('usage-record-status').textContent).toBe('拒否');
    expect(screen.queryByText(/Download|Used:|Period/)).toBeNull();
  });
});

describe('UsageRecords past a capped count', () => {
  const capped = (c: Call) =>
    c.url.startsWith('/api/metering/records') ? json(200, { items: [record()], total: 10000, total_capped: true, limit: 25, offset: 0 }) : answer(report())(c);

  it('says more records match than were counted, in both languages, and pages on', async () => {
    const calls = renderUsage(capped);
    await screen.findByTestId('usage-record');
    expect(screen.getByTestId('usage-records-summary').textContent).toBe('1–25 of more than 10,000');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(paramsOf(calls.filter((c) => c.url.startsWith('/api/metering/records')).at(-1)!.url)).toMatchObject({ offset: '25' }));
    cleanup();
    await i18n.changeLanguage('ja');
    renderUsage(capped);
    await screen.findByTestId('usage-record');
    expect(screen.getByTestId('usage-records-summary').textContent).toBe('10,000 件超のうち 1～25 件');
  });
});

describe('UsageTooltip', () => {
  it('gives the exact figures of a bucket and its records by status', () => {
    render(<UsageTooltip bucket={bucket('2026-06-01T01:00:00Z', 2.125, { sent: 2.125, statuses: [{ status: 'pending', records: 1, quantity: 2.125 }] })} granularity="day" unit="GB" />);
    const tip = screen.getByTestId('usage-tooltip');
    expect(tip.textContent).toContain('Jun 1, 2026 (UTC)');
    expect(tip.textContent).toContain('Used: 2.125 GB');
    expect(tip.textContent).toContain('Sent to the marketplace: 2.125 GB');
    expect(tip.textContent).toContain('Accepted by the marketplace: 0 GB');
    expect(tip.textContent).toContain('Waiting to be sent: 2.125 GB (1 record)');
  });
});

describe('periods', () => {
  it('are calendar months in UTC, the last 7 days to the current hour, or the days chosen (both included)', () => {
    expect(periodOf('current', new Date('2026-12-31T23:30:00Z'), { from: '', to: '' })).toEqual({ from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z' });
    expect(periodOf('previous', new Date('2026-01-15T00:00:00Z'), { from: '', to: '' })).toEqual({ from: '2025-12-01T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect(periodOf('last7', NOW, { from: '', to: '' })).toEqual({ from: '2026-05-26T10:00:00Z', to: '2026-06-02T10:00:00Z' });
    expect(periodOf('custom', NOW, { from: '2026-06-01', to: '2026-06-01' })).toEqual({ from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' });
    expect(periodOf('custom', NOW, { from: '2026-06-02', to: '2026-06-01' })).toBeNull();
    expect(periodOf('custom', NOW, { from: '', to: '2026-06-01' })).toBeNull();
  });

  it('are refused beyond 31 days by hour and 400 days by day, as the API does', () => {
    expect(withinCap({ from: '2026-05-01T00:00:00Z', to: '2026-06-01T00:00:00Z' }, 'hour')).toBe(true);
    expect(withinCap({ from: '2026-05-01T00:00:00Z', to: '2026-06-01T01:00:00Z' }, 'hour')).toBe(false);
    expect(withinCap({ from: '2025-05-01T00:00:00Z', to: '2026-06-05T00:00:00Z' }, 'day')).toBe(true);
    expect(withinCap({ from: '2025-05-01T00:00:00Z', to: '2026-06-06T00:00:00Z' }, 'day')).toBe(false);
  });
});
