import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import type { AzureOperation, TimelineEntry, AuditEntry } from '../../shared/api';
import { mergeTimeline, Timeline, TimelineTab } from './SubTimeline';

const ev = (id: number, at: string, kind: string, extra: Partial<TimelineEntry> = {}): TimelineEntry => ({
  id, at, kind, source: 'aws_sqs', summary: kind + ' happened', from_state: 'active', to_state: 'active', actor: 'system', payload: { kind },
  inbox_id: null, ...extra,
});
const op = (id: string, at: string, extra: Partial<AzureOperation> = {}): AzureOperation => ({
  operation_id: id, action: 'ChangeQuantity', source: 'Partner', quantity: 5, status: 'Succeeded', requested_by: 'ops@seller.example',
  created_at: at, updated_at: at, finished_at: at, ...extra,
});
const audit = (id: number, at: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id, at, actor: 'admin@seller.example', action: 'azure.changequantity', target_type: 'subscription', target_id: '9',
  before: '', after: '{"action":"ChangeQuantity","quantity":5}', request_id: 'req-' + id, ip: '127.0.0.1', ...extra,
});

afterEach(cleanup);

describe('mergeTimeline', () => {
  it('puts events, operations and audit entries in one time order, oldest first', () => {
    const merged = mergeTimeline(
      [ev(1, '2026-01-01T10:00:00Z', 'registered'), ev(2, '2026-01-03T10:00:00Z', 'quantity_changed')],
      // The API lists operations newest first.
      [op('op-2', '2026-01-04T00:00:00Z'), op('op-1', '2026-01-02T12:00:00Z')],
      [audit(7, '2026-01-02T12:00:01Z'), audit(3, '2026-01-01T09:00:00Z')],
    );
    expect(merged.map((m) => m.key)).toEqual(['a3', 'e1', 'oop-1', 'a7', 'e2', 'oop-2']);
  });

  it('compares instants, not strings (time zones and fractions)', () => {
    const merged = mergeTimeline(
      [ev(1, '2026-01-01T12:00:00+02:00', 'a'), ev(2, '2026-01-01T10:30:00.5Z', 'b')],
      [],
      [audit(1, '2026-01-01T10:15:00Z')],
    );
    // 12:00+02:00 is 10:00Z.
    expect(merged.map((m) => m.key)).toEqual(['e1', 'a1', 'e2']);
  });

  it('at the same instant: event, then operation, then audit; within a kind by id', () => {
    const t = '2026-01-01T00:00:00Z';
    const merged = mergeTimeline([ev(5, t, 'x'), ev(4, t, 'y')], [op('b', t), op('a', t)], [audit(9, t), audit(8, t)]);
    expect(merged.map((m) => m.key)).toEqual(['e4', 'e5', 'oa', 'ob', 'a8', 'a9']);
  });
});

describe('Timeline', () => {
  const entries = mergeTimeline(
    [ev(1, '2026-01-01T10:00:00Z', 'aws.subscribe_success', { inbox_id: 42, payload: { action: 'subscribe-success' } })],
    [op('op-1', '2026-01-02T00:00:00Z', { status: 'Failed', error_message: 'Quantity 3 is below the plan minimum', finished_at: '2026-01-02T00:01:00Z' })],
    [audit(3, '2026-01-03T00:00:00Z', { before: '{"quantity":2}', after: '{"quantity":5}' })],
  );

  it('expands each entry to its raw payload, operation or before/after', () => {
    render(
      <MemoryRouter>
        <Timeline entries={entries} />
      </MemoryRouter>,
    );
    const items = screen.getAllByTestId('timeline-entry');
    expect(items.map((i) => i.getAttribute('data-type'))).toEqual(['event', 'operation', 'audit']);
    expect(screen.queryByTestId('timeline-raw')).toBeNull();

    fireEvent.click(within(items[0]).getByRole('button', { name: 'Payload' }));
    expect(within(items[0]).getByTestId('timeline-raw').textContent).toContain('"action": "subscribe-success"');
    // The inbound message behind the event.
    expect(within(items[0]).getByRole('link', { name: 'inbound message #42' }).getAttribute('href')).toBe('/notifications/42');

    // Microsoft's own error message shows without expanding.
    expect(within(items[1]).getByText('Microsoft: Quantity 3 is below the plan minimum')).toBeTruthy();
    fireEvent.click(within(items[1]).getByRole('button', { name: 'Operation' }));
    expect(within(items[1]).getByTestId('timeline-raw').textContent).toContain('"operation_id": "op-1"');

    fireEvent.click(within(items[2]).getByRole('button', { name: 'Before / after' }));
    const diff = within(items[2]).getByTestId('timeline-raw');
    expect(diff.textContent).toContain('"quantity": 2');
    expect(diff.textContent).toContain('"quantity": 5');
    fireEvent.click(within(items[2]).getByRole('button', { name: 'Hide' }));
    expect(within(items[2]).queryByTestId('timeline-raw')).toBeNull();
  });

  it('filters by kind and turns the order around', () => {
    let filter = '';
    let newest: boolean | null = null;
    const { rerender } = render(
      <MemoryRouter>
        <TimelineTab entries={entries} filter="all" newestFirst={false} onFilter={(f) => (filter = f)} onOrder={(n) => (newest = n)} />
      </MemoryRouter>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Audit (1)' }));
    expect(filter).toBe('audit');
    fireEvent.click(screen.getByRole('button', { name: 'Oldest first' }));
    expect(newest).toBe(true);
    rerender(
      <MemoryRouter>
        <TimelineTab entries={entries} filter="all" newestFirst onFilter={() => {}} onOrder={() => {}} />
      </MemoryRouter>,
    );
    expect(screen.getAllByTestId('timeline-entry').map((i) => i.getAttribute('data-type'))).toEqual(['audit', 'operation', 'event']);
    rerender(
      <MemoryRouter>
        <TimelineTab entries={entries} filter="operation" newestFirst={false} onFilter={() => {}} onOrder={() => {}} />
      </MemoryRouter>,
    );
    expect(screen.getAllByTestId('timeline-entry').map((i) => i.getAttribute('data-type'))).toEqual(['operation']);
  });
});
