import { useState } from 'react';
import { Link } from 'react-router';
import { Button, ButtonGroup, Tag, type Intent } from '@blueprintjs/core';
import type { AuditEntry, AzureOperation, TimelineEntry } from '../../shared/api';
import { formatDate, stateIntent } from '../../shared/format';

/** One line of the merged timeline. */
export type MergedEntry =
  | { type: 'event'; at: string; key: string; event: TimelineEntry }
  | { type: 'operation'; at: string; key: string; operation: AzureOperation }
  | { type: 'audit'; at: string; key: string; audit: AuditEntry };

const rank = { event: 0, operation: 1, audit: 2 } as const;

function time(at: string): number {
  const t = Date.parse(at);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Merges the subscription's timeline events, Microsoft operations (at the
 * time they started) and audit entries into one list in time order, oldest
 * first. At the same instant an event comes before an operation before an
 * audit entry; within a kind the order of the API is kept (by id).
 */
export function mergeTimeline(timeline: TimelineEntry[], operations: AzureOperation[], audit: AuditEntry[]): MergedEntry[] {
  const all: [MergedEntry, number][] = [
    ...timeline.map((e, n): [MergedEntry, number] => [{ type: 'event', at: e.at, key: 'e' + e.id, event: e }, e.id ?? n]),
    // The API lists operations newest first.
    ...operations.map((o, n): [MergedEntry, number] => [{ type: 'operation', at: o.created_at, key: 'o' + o.operation_id, operation: o }, -n]),
    ...audit.map((a, n): [MergedEntry, number] => [{ type: 'audit', at: a.at, key: 'a' + a.id, audit: a }, a.id ?? n]),
  ];
  all.sort(([a, an], [b, bn]) => time(a.at) - time(b.at) || rank[a.type] - rank[b.type] || an - bn);
  return all.map(([e]) => e);
}

/** Parses JSON text; anything else comes back as it is. */
export function parseJSON(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function pretty(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2);
}

export function operationIntent(o: AzureOperation): Intent {
  if (o.status === 'Succeeded') return 'success';
  if (o.finished_at === null) return 'primary';
  return 'danger';
}

export type TimelineFilter = 'all' | 'event' | 'operation' | 'audit';

/** The Timeline tab's list. */
export function Timeline({ entries, newestFirst }: { entries: MergedEntry[]; newestFirst?: boolean }) {
  const shown = newestFirst ? [...entries].reverse() : entries;
  if (shown.length === 0) return <p className="sub-hint">Nothing here yet.</p>;
  return (
    <ol className="sub-tl" aria-label="Timeline">
      {shown.map((m) => (
        <TimelineLine key={m.key} m={m} />
      ))}
    </ol>
  );
}

function TimelineLine({ m }: { m: MergedEntry }) {
  const [open, setOpen] = useState(false);
  const toggle = (label: string) => (
    <Button
      variant="minimal"
      size="small"
      icon={open ? 'chevron-up' : 'chevron-down'}
      text={open ? 'Hide' : label}
      onClick={() => setOpen(!open)}
      aria-expanded={open}
    />
  );
  if (m.type === 'event') {
    const e = m.event;
    return (
      <li className="sub-tl-event" data-testid="timeline-entry" data-type="event">
        <div className="sub-tl-line">
          <strong>{formatDate(e.at)}</strong>
          <Tag minimal>event</Tag>
          <code>{e.kind}</code>
          <span>{e.summary}</span>
          {e.from_state !== e.to_state && (
            <span>
              {e.from_state || 'new'} → <Tag minimal intent={stateIntent(e.to_state)}>{e.to_state}</Tag>
            </span>
          )}
        </div>
        <div className="sub-tl-meta">
          source {e.source || '—'} · by {e.actor || '—'}
          {e.inbox_id !== null && e.inbox_id !== undefined && (
            <>
              {' '}
              · <Link to={'/notifications/' + e.inbox_id}>inbound message #{e.inbox_id}</Link>
            </>
          )}
          {e.payload !== null && e.payload !== undefined && toggle('Payload')}
        </div>
        {open && <pre className="bp6-code-block" data-testid="timeline-raw">{pretty(e.payload)}</pre>}
      </li>
    );
  }
  if (m.type === 'operation') {
    const o = m.operation;
    return (
      <li className="sub-tl-operation" data-testid="timeline-entry" data-type="operation">
        <div className="sub-tl-line">
          <strong>{formatDate(o.created_at)}</strong>
          <Tag minimal intent="primary">
            Microsoft operation
          </Tag>
          <code>{o.action}</code>
          <span>
            {o.plan_id && `plan → ${o.plan_id}`}
            {o.action === 'ChangeQuantity' && o.quantity ? `seats → ${o.quantity}` : ''}
          </span>
          <Tag minimal intent={operationIntent(o)}>{o.status}</Tag>
        </div>
        <div className="sub-tl-meta">
          requested by {o.source === 'Partner' ? o.requested_by || 'the seller' : 'the customer (' + (o.source || 'Azure') + ')'} · finished{' '}
          {formatDate(o.finished_at)}
          {toggle('Operation')}
        </div>
        {o.error_message && <div className="dash-danger">Microsoft: {o.error_message}</div>}
        {open && <pre className="bp6-code-block" data-testid="timeline-raw">{pretty(o)}</pre>}
      </li>
    );
  }
  const a = m.audit;
  const before = parseJSON(a.before);
  const after = parseJSON(a.after);
  return (
    <li className="sub-tl-audit" data-testid="timeline-entry" data-type="audit">
      <div className="sub-tl-line">
        <strong>{formatDate(a.at)}</strong>
        <Tag minimal intent="warning">
          audit
        </Tag>
        <code>{a.action}</code>
        <span>by {a.actor || '—'}</span>
      </div>
      <div className="sub-tl-meta">
        request {a.request_id || '—'} · from {a.ip || '—'}
        {(before !== null || after !== null) && toggle('Before / after')}
      </div>
      {open && (
        <div className="sub-diff" data-testid="timeline-raw">
          <div>
            <div className="sub-tl-meta">before</div>
            <pre className="bp6-code-block">{before === null ? '—' : pretty(before)}</pre>
          </div>
          <div>
            <div className="sub-tl-meta">after</div>
            <pre className="bp6-code-block">{after === null ? '—' : pretty(after)}</pre>
          </div>
        </div>
      )}
    </li>
  );
}

/** The Timeline tab: filter by kind and order, both in the URL. */
export function TimelineTab(props: {
  entries: MergedEntry[];
  filter: TimelineFilter;
  newestFirst: boolean;
  onFilter: (f: TimelineFilter) => void;
  onOrder: (newestFirst: boolean) => void;
}) {
  const { entries, filter, newestFirst, onFilter, onOrder } = props;
  const count = (t: TimelineFilter) => (t === 'all' ? entries.length : entries.filter((e) => e.type === t).length);
  const labels: [TimelineFilter, string][] = [
    ['all', 'All'],
    ['event', 'Events'],
    ['operation', 'Microsoft operations'],
    ['audit', 'Audit'],
  ];
  return (
    <div>
      <div className="sub-tl-controls">
        <ButtonGroup>
          {labels
            .filter(([t]) => t === 'all' || count(t) > 0 || t === filter)
            .map(([t, label]) => (
              <Button key={t} size="small" active={filter === t} onClick={() => onFilter(t)} text={`${label} (${count(t)})`} />
            ))}
        </ButtonGroup>
        <Button
          size="small"
          variant="minimal"
          icon={newestFirst ? 'sort-desc' : 'sort-asc'}
          text={newestFirst ? 'Newest first' : 'Oldest first'}
          onClick={() => onOrder(!newestFirst)}
        />
      </div>
      <Timeline entries={filter === 'all' ? entries : entries.filter((e) => e.type === filter)} newestFirst={newestFirst} />
    </div>
  );
}
