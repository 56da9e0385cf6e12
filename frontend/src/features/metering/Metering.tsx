import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  ButtonGroup,
  Callout,
  Card,
  Dialog,
  DialogBody,
  DialogFooter,
  FormGroup,
  H4,
  H5,
  HTMLSelect,
  InputGroup,
  NumericInput,
  Tag,
  type Intent,
} from '@blueprintjs/core';
import { api, queryKeys, type User, type MeteringRecord } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate, marketplaceName } from '../../shared/format';

const STATUSES = ['pending', 'accepted', 'rejected', 'duplicate', 'conflict', 'expired', 'not_sent_zero', 'not_sent_inactive'];

export function statusIntent(s: string): Intent {
  switch (s) {
    case 'accepted':
      return 'success';
    case 'pending':
      return 'primary';
    case 'rejected':
    case 'duplicate':
    case 'conflict':
    case 'expired':
      return 'danger';
    default:
      return 'none';
  }
}

function useCanWrite() {
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(queryKeys.me);
  return me?.user.role === 'admin' || me?.user.role === 'operator';
}

const PAGE = 50;

/** The records list's filters in the URL, passed to GET /api/metering/records as they are. */
export const RECORD_FILTERS = ['marketplace', 'subscription', 'dimension', 'status', 'expiring', 'from', 'to'] as const;

export function MeteringPage() {
  const [params, setParams] = useSearchParams();
  const [entry, setEntry] = useState(false);
  const canWrite = useCanWrite();
  const health = useQuery({ queryKey: queryKeys.metering.health, queryFn: api.metering.health, refetchInterval: 15_000 });
  const filters = new URLSearchParams();
  for (const k of RECORD_FILTERS) {
    const v = params.get(k);
    if (v) filters.set(k, v);
  }
  const setAll = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('offset' in changes)) next.delete('offset');
    setParams(next);
  };
  const set = (k: string, v: string) => setAll({ [k]: v });
  // The health cards are presets: a status, or the expiring records (pending, deadline within 4 hours).
  const preset = (status: string) => setAll({ status, expiring: '' });
  const expiring = params.get('expiring') ?? '';
  const toISO = (v: string) => (v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
  const fromISO = (v: string | null) => (v ? v.slice(0, 16) : '');
  const h = health.data?.health;
  return (
    <div>
      <H4>Metering</H4>
      {health.isError && <ErrorBox error={health.error} />}
      {h && (
        <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', marginBottom: 12 }} aria-label="Metering health">
          <HealthCard label="Pending" value={h.pending} onClick={() => preset('pending')} />
          <HealthCard
            label="Expiring (over 20 h old)"
            value={h.expiring}
            intent={h.expiring > 0 ? 'warning' : 'none'}
            onClick={() => setAll({ expiring: 'true', status: '' })}
          />
          <HealthCard label="Accepted (24 h)" value={h.accepted} intent="success" onClick={() => preset('accepted')} />
          <HealthCard label="Failed (24 h)" value={h.failed} intent={h.failed > 0 ? 'danger' : 'none'} onClick={() => preset('rejected,duplicate,conflict')} />
          <HealthCard label="Expired (7 days)" value={h.expired} intent={h.expired > 0 ? 'danger' : 'none'} onClick={() => preset('expired')} />
          <HealthCard label="Open usage hours" value={h.unsealed_usage_hours} />
        </div>
      )}
      {h && h.expiring > 0 && (
        <Callout intent="warning" style={{ marginBottom: 12, maxWidth: 900 }}>
          {h.expiring} record{h.expiring === 1 ? '' : 's'} will pass the marketplaces&apos; 24-hour window soon. Check the reasons below and retry.
        </Callout>
      )}
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'flex-end', marginBottom: 8 }}>
        <FormGroup label="Marketplace" labelFor="f-mp" style={{ margin: 0 }}>
          <HTMLSelect id="f-mp" value={params.get('marketplace') ?? ''} onChange={(e) => set('marketplace', e.target.value)}>
            <option value="">All</option>
            <option value="aws">AWS</option>
            <option value="azure">Microsoft</option>
          </HTMLSelect>
        </FormGroup>
        <FormGroup label="Status" labelFor="f-status" style={{ margin: 0 }}>
          <HTMLSelect id="f-status" value={params.get('status') ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">All</option>
            <option value="rejected,duplicate,conflict">Failed</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </HTMLSelect>
        </FormGroup>
        <FormGroup label="Subscription" labelFor="f-sub" style={{ margin: 0 }}>
          <InputGroup id="f-sub" value={params.get('subscription') ?? ''} onValueChange={(v) => set('subscription', v.replace(/\D/g, ''))} style={{ width: 110 }} />
        </FormGroup>
        <FormGroup label="Dimension" labelFor="f-dim" style={{ margin: 0 }}>
          <InputGroup id="f-dim" value={params.get('dimension') ?? ''} onValueChange={(v) => set('dimension', v)} style={{ width: 140 }} />
        </FormGroup>
        <FormGroup label="From (hour)" labelFor="f-from" style={{ margin: 0 }}>
          <input id="f-from" className="bp6-input" type="datetime-local" value={fromISO(params.get('from'))} onChange={(e) => set('from', toISO(e.target.value))} />
        </FormGroup>
        <FormGroup label="To" labelFor="f-to" style={{ margin: 0 }}>
          <input id="f-to" className="bp6-input" type="datetime-local" value={fromISO(params.get('to'))} onChange={(e) => set('to', toISO(e.target.value))} />
        </FormGroup>
        {expiring && (
          <Tag
            large
            minimal
            intent="warning"
            icon="filter"
            onRemove={() => set('expiring', '')}
            data-testid="expiring-filter"
            title="expiring=true: pending records at most 4 hours before their deadline (24 hours after their hour; AWS: 06:00 UTC on the 1st for a past month)"
            style={{ alignSelf: 'flex-end' }}
          >
            {expiring === 'true' ? 'expiring: pending, deadline within 4 h' : `expiring=${expiring}`}
          </Tag>
        )}
        <ButtonGroup>
          <a className="bp6-button" data-testid="metering-export" href={api.metering.recordsCsvUrl(filters)} download>
            Export CSV
          </a>
          {canWrite && <Button icon="add" text="Enter usage" onClick={() => setEntry(true)} />}
        </ButtonGroup>
      </div>
      <RecordsTable filters={filters} offset={Number(params.get('offset') ?? 0)} onOffset={(o) => set('offset', o ? String(o) : '')} />
      {entry && <UsageEntryDialog onClose={() => setEntry(false)} />}
    </div>
  );
}

function HealthCard({ label, value, intent = 'none', onClick }: { label: string; value: number; intent?: Intent; onClick?: () => void }) {
  return (
    <Card interactive={!!onClick} onClick={onClick} style={{ minWidth: 150, padding: 12 }} data-testid="health-card">
      <div style={{ opacity: 0.75 }}>{label}</div>
      <div style={{ fontSize: 24 }}>
        {intent === 'none' ? value : <Tag large minimal intent={intent}>{value}</Tag>}
      </div>
    </Card>
  );
}

// RecordsTable lists hourly records with paging and a retry action.
export function RecordsTable({ filters, offset, onOffset }: { filters: URLSearchParams; offset: number; onOffset: (o: number) => void }) {
  const qc = useQueryClient();
  const canWrite = useCanWrite();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const qs = new URLSearchParams(filters);
  qs.set('limit', String(PAGE));
  qs.set('offset', String(offset));
  const q = useQuery({
    queryKey: queryKeys.metering.records.page(qs.toString()),
    queryFn: () => api.metering.records(qs),
    placeholderData: keepPreviousData,
  });
  const retry = useMutation({
    mutationFn: (ids: number[]) => api.metering.retry(ids),
    onSuccess: () => {
      setSelected(new Set());
      void qc.invalidateQueries({ queryKey: queryKeys.metering.records.all });
      void qc.invalidateQueries({ queryKey: queryKeys.metering.health });
    },
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const items = q.data.items;
  const retryable = (r: MeteringRecord) => r.status === 'pending' || r.status === 'rejected';
  return (
    <>
      {canWrite && (
        <Button
          icon="refresh"
          text={`Retry selected (${selected.size})`}
          disabled={selected.size === 0}
          loading={retry.isPending}
          onClick={() => retry.mutate([...selected])}
          style={{ marginBottom: 8 }}
        />
      )}
      {retry.isError && <ErrorBox error={retry.error} />}
      {items.length === 0 ? (
        <p>No metering records match.</p>
      ) : (
        <DataTable
          label="Metering records"
          style={{ width: '100%' }}
          rows={items}
          rowKey={(r) => r.id}
          rowProps={() => ({ 'data-testid': 'metering-record' })}
          selection={
            canWrite
              ? {
                  isSelected: (r) => selected.has(r.id),
                  onToggle: (r) => {
                    const n = new Set(selected);
                    if (n.has(r.id)) n.delete(r.id);
                    else n.add(r.id);
                    setSelected(n);
                  },
                  label: (r) => `select record ${r.id}`,
                  selectable: retryable,
                }
              : undefined
          }
          columns={[
            { id: 'hour', header: 'Hour (UTC)', cell: (r) => `${r.hour.slice(0, 13).replace('T', ' ')}:00` },
            { id: 'subscription', header: 'Subscription', cell: (r) => <Link to={'/subscriptions/' + r.subscription_id}>#{r.subscription_id}</Link> },
            { id: 'marketplace', header: 'Marketplace', cell: (r) => marketplaceName[r.marketplace] },
            { id: 'dimension', header: 'Dimension', cell: (r) => <code>{r.dimension}</code> },
            { id: 'quantity', header: 'Quantity', headerStyle: { textAlign: 'right' }, style: { textAlign: 'right' }, cell: (r) => r.quantity },
            {
              id: 'status',
              header: 'Status',
              cell: (r) => (
                <>
                  <Tag minimal intent={statusIntent(r.status)}>
                    {r.status}
                  </Tag>
                  {r.expiring && (
                    <Tag minimal intent="warning" style={{ marginLeft: 4 }}>
                      expiring
                    </Tag>
                  )}
                </>
              ),
            },
            {
              id: 'attempts',
              header: 'Attempts',
              cell: (r) => (
                <>
                  {r.attempts}
                  {r.status === 'pending' && r.next_attempt_at && <div style={{ opacity: 0.7 }}>next {formatDate(r.next_attempt_at)}</div>}
                </>
              ),
            },
            {
              id: 'reason',
              header: 'Marketplace id / reason',
              style: { maxWidth: 360, wordBreak: 'break-word' },
              cell: (r) => (
                <>
                  {r.marketplace_record_id && <code>{r.marketplace_record_id}</code>}
                  {r.reason && <div>{r.reason}</div>}
                </>
              ),
            },
          ]}
        />
      )}
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginTop: 8 }}>
        <Button icon="chevron-left" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE))} aria-label="Previous page" />
        <span data-testid="records-summary">
          {q.data.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, q.data.total)} of {q.data.total}
        </span>
        <Button icon="chevron-right" disabled={offset + PAGE >= q.data.total} onClick={() => onOffset(offset + PAGE)} aria-label="Next page" />
      </div>
    </>
  );
}

function UsageEntryDialog({ onClose, subscription }: { onClose: () => void; subscription?: number }) {
  const qc = useQueryClient();
  const [sub, setSub] = useState(subscription ? String(subscription) : '');
  const [dim, setDim] = useState('');
  const [qty, setQty] = useState(1);
  const [at, setAt] = useState('');
  const save = useMutation({
    mutationFn: () =>
      api.metering.enterUsage({
        subscription_id: Number(sub),
        dimension: dim,
        quantity: qty,
        ...(at ? { timestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.metering.health });
      void qc.invalidateQueries({ queryKey: queryKeys.usage.all });
      onClose();
    },
  });
  return (
    <Dialog isOpen onClose={onClose} title="Enter usage">
      <DialogBody>
        <p>For sellers who do not report usage through the API. It counts in its hour like any usage event.</p>
        <FormGroup label="Subscription id" labelFor="u-sub">
          <InputGroup id="u-sub" value={sub} onValueChange={(v) => setSub(v.replace(/\D/g, ''))} />
        </FormGroup>
        <FormGroup label="Dimension" labelFor="u-dim">
          <InputGroup id="u-dim" value={dim} onValueChange={setDim} placeholder="api_calls" />
        </FormGroup>
        <FormGroup label="Quantity" labelFor="u-qty">
          <NumericInput id="u-qty" min={0} value={qty} onValueChange={(v) => setQty(v)} />
        </FormGroup>
        <FormGroup label="When (empty: now)" labelFor="u-at">
          <input id="u-at" className="bp6-input" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
        </FormGroup>
        {save.isError && <ErrorBox error={save.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button intent="primary" text="Record usage" disabled={!sub || !dim || !(qty > 0)} loading={save.isPending} onClick={() => save.mutate()} />
          </>
        }
      />
    </Dialog>
  );
}

// SubscriptionMetering is the subscription page's Metering tab.
export function SubscriptionMetering({ id }: { id: number }) {
  const [day, setDay] = useState(false);
  const [offset, setOffset] = useState(0);
  const [entry, setEntry] = useState(false);
  const canWrite = useCanWrite();
  const q = useQuery({
    queryKey: queryKeys.subscription.usage(id, day),
    queryFn: () => api.subscriptions.usage(id, day ? 'day' : 'hour'),
  });
  return (
    <div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginBottom: 8 }}>
        <H5 style={{ margin: 0 }}>Usage</H5>
        <ButtonGroup>
          <Button text="Hourly (48 h)" active={!day} onClick={() => setDay(false)} />
          <Button text="Daily (30 days)" active={day} onClick={() => setDay(true)} />
        </ButtonGroup>
        {canWrite && <Button icon="add" text="Enter usage" onClick={() => setEntry(true)} />}
      </div>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && Object.keys(q.data.series).length === 0 && <p>No usage reported in this period.</p>}
      {q.isSuccess &&
        Object.entries(q.data.series).map(([dim, points]) => <UsageChart key={dim} dimension={dim} points={points} day={day} />)}
      <H5 style={{ marginTop: 16 }}>Hourly records</H5>
      <RecordsTable filters={new URLSearchParams({ subscription: String(id) })} offset={offset} onOffset={setOffset} />
      {entry && <UsageEntryDialog onClose={() => setEntry(false)} subscription={id} />}
    </div>
  );
}

// UsageChart draws one dimension's usage as bars (SVG, no library).
export function UsageChart({ dimension, points, day }: { dimension: string; points: { at: string; quantity: number }[]; day: boolean }) {
  const w = 720;
  const h = 140;
  const pad = 28;
  const max = Math.max(1, ...points.map((p) => p.quantity));
  const bw = Math.max(2, Math.floor((w - pad) / Math.max(points.length, 1)) - 2);
  const total = points.reduce((s, p) => s + p.quantity, 0);
  return (
    <figure style={{ margin: '8px 0 16px' }} data-testid="usage-chart">
      <figcaption>
        <code>{dimension}</code> · total {Math.round(total * 1000) / 1000} over {points.length} {day ? 'days' : 'hours'} with usage
      </figcaption>
      <svg width={w} height={h + 18} role="img" aria-label={`usage of ${dimension}`}>
        <line x1={pad} y1={h} x2={w} y2={h} stroke="currentColor" opacity={0.4} />
        <text x={0} y={12} fontSize={10} fill="currentColor">
          {max}
        </text>
        {points.map((p, i) => {
          const bh = (p.quantity / max) * (h - 10);
          const x = pad + i * (bw + 2);
          return (
            <g key={p.at}>
              <rect x={x} y={h - bh} width={bw} height={bh} fill="#2d72d2">
                <title>{`${p.at.slice(0, day ? 10 : 13).replace('T', ' ')}${day ? '' : ':00'} — ${p.quantity}`}</title>
              </rect>
              {(i === 0 || i === points.length - 1) && (
                <text x={x} y={h + 14} fontSize={10} fill="currentColor">
                  {p.at.slice(5, day ? 10 : 13).replace('T', ' ')}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
