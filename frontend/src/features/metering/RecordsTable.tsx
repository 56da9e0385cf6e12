import { useState } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, Tag, type Intent } from '@blueprintjs/core';
import { api, queryKeys, type MeteringRecord } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate, marketplaceName } from '../../shared/format';
import { statusIntent, useCanWrite, PAGE } from './meteringShared';

export function HealthCard({ label, value, intent = 'none', onClick }: { label: string; value: number; intent?: Intent; onClick?: () => void }) {
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
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
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
                  {r.status === 'pending' && r.next_attempt_at && <div style={{ opacity: 0.7, whiteSpace: 'normal' }}>next {formatDate(r.next_attempt_at)}</div>}
                </>
              ),
            },
            {
              id: 'reason',
              header: 'Marketplace id / reason',
              // The reasons wrap, and the heading too (the table's cells do
              // not by default): the table fits at 1,024 px.
              className: 'mg-prose',
              headerStyle: { whiteSpace: 'normal' },
              style: { maxWidth: 360, minWidth: 120 },
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
          {q.data.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, q.data.total)} of {q.data.total_capped ? 'more than ' : ''}
          {q.data.total}
        </span>
        <Button icon="chevron-right" disabled={offset + PAGE >= q.data.total && !q.data.total_capped} onClick={() => onOffset(offset + PAGE)} aria-label="Next page" />
      </div>
    </>
  );
}
