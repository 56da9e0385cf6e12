import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { MeteringRecord } from '../../shared/api';
import { MeteringPage } from './Metering';
import { json, paramsOf, renderRoutes, type Call } from '../../shared/test/testutil';

const record = (over: Partial<MeteringRecord> = {}): MeteringRecord => ({
  id: 1,
  subscription_id: 42,
  marketplace: 'aws',
  dimension: 'api_calls',
  hour: '2026-11-26T01:00:00Z',
  quantity: 7,
  status: 'pending',
  attempts: 2,
  next_attempt_at: null,
  sent_at: null,
  settled_at: null,
  expiring: true,
  ...over,
});

const health = { pending: 12, expiring: 2, accepted: 150, failed: 4, expired: 1, unsealed_usage_hours: 0 };

function renderAt(url: string, total = 1, total_capped = false) {
  return renderRoutes(url, 'operator', { '/metering': <MeteringPage /> }, (c: Call) => {
    if (c.url.startsWith('/api/metering/health')) return json(200, { health });
    return json(200, { items: [record()], total, total_capped, limit: 50, offset: 0 });
  });
}

const where = () => screen.getByTestId('where').textContent!;
const recordCalls = (calls: Call[]) => calls.filter((c) => c.url.startsWith('/api/metering/records?')).map((c) => paramsOf(c.url));

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Metering: the expiring filter', () => {
  it('passes expiring=true to the records API and the CSV export, and shows it as a removable filter', async () => {
    const calls = renderAt('/metering?expiring=true&marketplace=aws');
    await screen.findAllByTestId('metering-record');
    expect(recordCalls(calls)[0]).toEqual({ marketplace: 'aws', expiring: 'true', limit: '50', offset: '0' });
    const csv = screen.getByTestId('metering-export').getAttribute('href')!;
    expect(paramsOf(csv)).toEqual({ marketplace: 'aws', expiring: 'true', format: 'csv' });
    const tag = screen.getByTestId('expiring-filter');
    expect(tag.textContent).toBe('expiring: pending, deadline within 4 h');

    await act(async () => {
      fireEvent.click(within(tag).getByRole('button'));
    });
    expect(where()).toBe('/metering?marketplace=aws');
    expect(screen.queryByTestId('expiring-filter')).toBeNull();
    await waitFor(() => expect(recordCalls(calls).at(-1)).toEqual({ marketplace: 'aws', limit: '50', offset: '0' }));
  });

  it('the "Expiring" health card selects the expiring records (not every pending one); the others select a status', async () => {
    const calls = renderAt('/metering?status=accepted');
    await screen.findAllByTestId('metering-record');
    const card = (label: string) => screen.getAllByTestId('health-card').find((c) => c.textContent!.startsWith(label))!;
    fireEvent.click(card('Expiring'));
    expect(where()).toBe('/metering?expiring=true');
    await waitFor(() => expect(recordCalls(calls).at(-1)).toEqual({ expiring: 'true', limit: '50', offset: '0' }));
    fireEvent.click(card('Pending'));
    expect(where()).toBe('/metering?status=pending');
  });

  it('pages through the records, keeping the filters', async () => {
    const calls = renderAt('/metering?expiring=true', 120);
    await screen.findAllByTestId('metering-record');
    expect(screen.getByTestId('records-summary').textContent).toBe('1–50 of 120');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(where()).toBe('/metering?expiring=true&offset=50');
    await waitFor(() => expect(recordCalls(calls).at(-1)).toEqual({ expiring: 'true', limit: '50', offset: '50' }));
    expect(await screen.findByText('51–100 of 120')).toBeTruthy();
  });

  it('says when more records match than were counted, and pages past the count', async () => {
    const calls = renderAt('/metering?marketplace=aws&offset=9950', 10000, true);
    await screen.findAllByTestId('metering-record');
    expect(screen.getByTestId('records-summary').textContent).toBe('9951–10000 of more than 10000');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(recordCalls(calls).at(-1)).toEqual({ marketplace: 'aws', limit: '50', offset: '10000' }));
  });
});
