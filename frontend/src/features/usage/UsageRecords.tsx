// The hourly metering records of a subscription over a period: what was
// sent to the marketplace, with its status, newest first, a page at a time.
// (Keyed by its period: a new period starts at its first page.)
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Tag } from '@blueprintjs/core';
import { api, queryKeys, type MeteringRecord, type UsageDimension } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';
import { QueryState } from '../../shared/components/QueryState';
import { formatDateTime, formatNumber } from '../../shared/i18n';
import { statusIntent } from '../metering/meteringShared';
import { exact } from './UsageChart';
import type { Period } from './period';

export const RECORDS_PAGE = 25;

export function UsageRecords({ subscriptionId, period, dimensions }: { subscriptionId: number; period: Period; dimensions: UsageDimension[] }) {
  const { t } = useTranslation('usage');
  const [offset, setOffset] = useState(0);
  const qs = new URLSearchParams({ subscription: String(subscriptionId), from: period.from, to: period.to, limit: String(RECORDS_PAGE), offset: String(offset) });
  const q = useQuery({
    queryKey: queryKeys.metering.records.page(qs.toString()),
    queryFn: () => api.metering.records(qs),
    placeholderData: keepPreviousData,
  });
  const names = new Map(dimensions.map((d) => [d.key, d]));
  return (
    <section aria-labelledby="usage-records-title">
      <h3 id="usage-records-title" className="mg-usage-h">
        {t('records.title')}
      </h3>
      <QueryState query={q} isEmpty={(d) => d.total === 0} empty={<p className="mg-usage-muted">{t('records.none')}</p>}>
        {(data) => (
          <>
            <DataTable<MeteringRecord>
              label={t('records.label')}
              rows={data.items}
              rowKey={(r) => r.id}
              rowProps={() => ({ 'data-testid': 'usage-record' })}
              columns={[
                { id: 'hour', header: t('records.hour'), cell: (r) => formatDateTime(r.hour) },
                { id: 'dimension', header: t('records.dimension'), cell: (r) => names.get(r.dimension)?.name ?? r.dimension },
                {
                  id: 'quantity',
                  header: t('records.quantity'),
                  headerStyle: { textAlign: 'right' },
                  style: { textAlign: 'right' },
                  cell: (r) => exact(r.quantity) + (names.get(r.dimension)?.unit ? ' ' + names.get(r.dimension)?.unit : ''),
                },
                {
                  id: 'status',
                  header: t('records.status'),
                  cell: (r) => (
                    <Tag minimal intent={statusIntent(r.status)} data-testid="usage-record-status">
                      {t('status.' + r.status, { defaultValue: r.status })}
                    </Tag>
                  ),
                },
                {
                  id: 'detail',
                  header: t('records.detail'),
                  style: { maxWidth: 360, wordBreak: 'break-word' },
                  cell: (r) => (
                    <>
                      {r.marketplace_record_id && <code>{r.marketplace_record_id}</code>}
                      {r.reason && <div className="mg-usage-muted">{r.reason}</div>}
                    </>
                  ),
                },
              ]}
            />
            <div className="mg-usage-pager">
              <Button small icon="chevron-left" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - RECORDS_PAGE))} aria-label={t('records.previous')} />
              <Button
                small
                icon="chevron-right"
                disabled={offset + RECORDS_PAGE >= data.total && !data.total_capped}
                onClick={() => setOffset(offset + RECORDS_PAGE)}
                aria-label={t('records.next')}
              />
              <span data-testid="usage-records-summary">
                {t(data.total_capped ? 'records.summaryMore' : 'records.summary', {
                  from: formatNumber(offset + 1),
                  to: formatNumber(Math.min(offset + RECORDS_PAGE, data.total)),
                  total: formatNumber(data.total),
                })}
              </span>
            </div>
          </>
        )}
      </QueryState>
    </section>
  );
}
