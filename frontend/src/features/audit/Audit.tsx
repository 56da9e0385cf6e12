// The audit log: who did what and when, with the values before and after.
// Filters live in the URL (/audit?actor=&action=&target_type=&target_id=&from=&to=&offset=&limit=&entry=);
// the CSV export takes the same filters. Admins only.
import { useRef } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { AnchorButton, Button, Classes, HTMLSelect } from '@blueprintjs/core';
import { api, query, queryKeys } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { ADMINS, FilterText, RequireRole, TimeRange, useRowKeys, useUrlFilters } from '../../shared/components/common';
import { changedOf, AuditDiff } from './AuditDiff';
import { PageTitle } from '../../shared/components/PageTitle';
export { AuditDiff, diffAudit, flatten, type DiffKind, type DiffRow } from './AuditDiff';

export const AUDIT_FILTERS = ['actor', 'action', 'target_type', 'target_id', 'from', 'to'] as const;

const ACTION_PREFIXES = [
  'auth.',
  'user.',
  'offer.',
  'plan.',
  'inbox.',
  'apikey.',
  'webhook.',
  'alert_channel.',
  'azure.',
  'seat.',
  'metering.',
  'customer.',
  'customer_admin.',
];

const TARGET_TYPES = ['user', 'staff_invite', 'subscription', 'customer', 'offer', 'plan', 'inbox_message', 'api_key', 'webhook', 'alert_channel', 'records', 'system'];

/** Where a target lives in the portal, when it has a page. */
export function targetLink(type: string, id: string): string | null {
  switch (type) {
    case 'subscription':
      return '/subscriptions/' + id;
    case 'inbox_message':
      return '/notifications/' + id;
    case 'customer':
      return '/customers/' + id;
    case 'webhook':
      return '/webhooks/' + id;
    case 'offer':
    case 'plan':
      return '/offers';
    case 'user':
    case 'staff_invite':
      return '/users';
    case 'api_key':
      return '/settings';
    case 'alert_channel':
      return '/alerts';
    default:
      return null;
  }
}

export function AuditPage() {
  return (
    <RequireRole roles={ADMINS} what="the audit log">
      <AuditLog />
    </RequireRole>
  );
}

function AuditLog() {
  const f = useUrlFilters();
  const search = useRef<HTMLInputElement>(null);
  const values = Object.fromEntries(AUDIT_FILTERS.map((k) => [k, f.get(k)])) as Record<(typeof AUDIT_FILTERS)[number], string>;
  const limit = f.num('limit', 50);
  const offset = f.num('offset', 0);
  const entry = f.num('entry', 0);
  const list = useQuery({
    queryKey: queryKeys.audit(values, limit, offset),
    queryFn: () => api.audit.list({ ...values, limit, offset: offset || undefined }),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.items ?? [];
  const toggle = (id: number) => f.set({ entry: entry === id ? '' : id }, true);
  const keys = useRowKeys(items.length, (i) => toggle(items[i].id), search);
  const filtered = AUDIT_FILTERS.some((k) => values[k]);
  const clear = () => f.set(Object.fromEntries(AUDIT_FILTERS.map((k) => [k, ''])));
  const types = values.target_type && !TARGET_TYPES.includes(values.target_type) ? [...TARGET_TYPES, values.target_type] : TARGET_TYPES;
  const csv = api.audit.csvUrl(values);
  return (
    <div>
      <PageTitle title="Audit log" />
      <div className="mg-toolbar" role="search" aria-label="Filter the audit log">
        <FilterText value={values.actor} onCommit={(v) => f.set({ actor: v })} label="Actor" placeholder="actor e-mail  ( / )" icon="user" width={200} inputRef={search} />
        <FilterText value={values.action} onCommit={(v) => f.set({ action: v })} label="Action prefix" placeholder="action, e.g. user." list="mg-audit-actions" icon="tag" width={170} />
        <datalist id="mg-audit-actions">
          {ACTION_PREFIXES.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <HTMLSelect value={values.target_type} onChange={(e) => f.set({ target_type: e.currentTarget.value })} aria-label="Target type">
          <option value="">Any target</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </HTMLSelect>
        <FilterText value={values.target_id} onCommit={(v) => f.set({ target_id: v })} label="Target id" placeholder="target id" width={110} icon="th-filtered" />
        <TimeRange from={values.from} to={values.to} onChange={(from, to) => f.set({ from, to })} />
        {filtered && <Button small minimal icon="filter-remove" text="Clear filters" onClick={clear} />}
        <AnchorButton small icon="export" text="Export CSV" href={csv} download="audit-log.csv" data-testid="audit-export" title="The filtered entries (up to 100,000) as CSV" />
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.isSuccess && items.length === 0 && (
        <Empty title={filtered ? 'No entries match these filters' : 'Nothing recorded yet'} action={filtered ? <Button text="Clear filters" onClick={clear} /> : undefined} />
      )}
      {items.length > 0 && (
        <DataTable
          label="Audit entries"
          interactive
          style={{ opacity: list.isPlaceholderData ? 0.6 : 1 }}
          rows={items}
          rowKey={(e) => e.id}
          onRowOpen={(e, i) => {
            keys.setSelected(i);
            toggle(e.id);
          }}
          rowProps={(e, i) => ({
            'data-testid': 'audit-row',
            className: e.id === entry ? 'mg-row-open' : i === keys.selected ? 'mg-row-selected' : undefined,
            ref: i === keys.selected ? keys.rowRef : undefined,
            onClick: (ev) => {
              if ((ev.target as HTMLElement).closest('a')) return;
              keys.setSelected(i);
              toggle(e.id);
            },
          })}
          afterRow={(e) =>
            e.id === entry && (
              <tr className="mg-detail-row">
                <td />
                <td colSpan={7}>
                  <div className="mg-audit-detail">
                    <AuditDiff before={e.before} after={e.after} />
                  </div>
                </td>
              </tr>
            )
          }
          columns={[
            { id: 'open', header: '', style: { width: 16 }, cell: (e) => (e.id === entry ? '▾' : '▸') },
            { id: 'at', header: 'When (UTC)', cell: (e) => formatDate(e.at) },
            {
              id: 'actor',
              header: 'Actor',
              cell: (e) => (
                <Link to={'/audit' + query({ actor: e.actor })} title="Only this actor">
                  {e.actor || '—'}
                </Link>
              ),
            },
            { id: 'action', header: 'Action', cell: (e) => <code>{e.action}</code> },
            {
              id: 'target',
              header: 'Target',
              cell: (e) => {
                const link = targetLink(e.target_type, e.target_id);
                return (
                  <>
                    {e.target_type} {link ? <Link to={link}>#{e.target_id}</Link> : `#${e.target_id}`}{' '}
                    <Link to={'/audit' + query({ target_type: e.target_type, target_id: e.target_id })} className={Classes.TEXT_MUTED} title="Every entry about this target">
                      history
                    </Link>
                  </>
                );
              },
            },
            {
              id: 'changed',
              header: 'Changed',
              className: 'mg-cell-error',
              cellProps: (e) => ({ title: changedOf(e).map((r) => r.path).join(', ') }),
              cell: (e) => {
                const changed = changedOf(e);
                return changed.length === 0 ? '—' : changed.slice(0, 4).map((r) => r.path).join(', ') + (changed.length > 4 ? ` +${changed.length - 4}` : '');
              },
            },
            { id: 'ip', header: 'IP', cell: (e) => e.ip },
            { id: 'request_id', header: 'Request id', cell: (e) => <code>{e.request_id}</code> },
          ]}
        />
      )}
      {list.data && (
        <Pager offset={offset} limit={limit} total={list.data.total} more={list.data.total_capped} onOffset={(o) => f.set({ offset: o || '', entry: '' }, true)} onLimit={(l) => f.set({ limit: l === 50 ? '' : l })} />
      )}
      {list.isSuccess && <p className={Classes.TEXT_MUTED}>↑/↓ to move, Enter to open an entry, / to filter by actor.</p>}
    </div>
  );
}

// ---- the before/after view ----

/** The paths an entry changed. */
