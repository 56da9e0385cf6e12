// The inbox: every inbound message (AWS registrations and SQS notifications,
// Microsoft landing-page resolves and webhook calls) with its raw body,
// processing status and error. Filters live in the URL
// (/notifications?marketplace=&source=&action=&status=&from=&to=&subscription=&q=&offset=&limit=);
// /notifications/:id opens one message over the list, with its request
// headers and body.
import { useRef } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Classes, Drawer, HTMLSelect, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate, marketplaceName } from '../../shared/format';
import { FilterText, RequireRole, SELLER, TimeRange, useRowKeys, useUrlFilters } from '../../shared/components/common';
import { INBOX_STATUSES, SOURCES, ACTIONS, statusIntent, FILTERS } from './notificationLabels';
import { InboxDetail } from './InboxDetail';
import { PageTitle } from '../../shared/components/PageTitle';

export function NotificationsPage() {
  return (
    <RequireRole roles={SELLER} what="the notification inbox">
      <Inbox />
    </RequireRole>
  );
}

function Inbox() {
  const { id } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const f = useUrlFilters();
  const search = useRef<HTMLInputElement>(null);
  const values = Object.fromEntries(FILTERS.map((k) => [k, f.get(k)])) as Record<(typeof FILTERS)[number], string>;
  const limit = f.num('limit', 50);
  const offset = f.num('offset', 0);
  const list = useQuery({
    queryKey: queryKeys.inbox.list(values, limit, offset),
    queryFn: () => api.inbox.list({ ...values, limit, offset: offset || undefined }),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.items ?? [];
  const open = (mid: number) => navigate({ pathname: `/notifications/${mid}`, search: location.search });
  const close = () => navigate({ pathname: '/notifications', search: location.search });
  const keys = useRowKeys(items.length, (i) => open(items[i].id), search);
  const filtered = FILTERS.some((k) => values[k]);
  const openId = id ? Number(id) : null;
  const sourceOptions = values.source && !SOURCES[values.source] ? { ...SOURCES, [values.source]: values.source } : SOURCES;
  return (
    <div>
      <PageTitle title="Notifications" />
      <div className="mg-toolbar" role="search" aria-label="Filter the inbox">
        <HTMLSelect value={values.marketplace} onChange={(e) => f.set({ marketplace: e.currentTarget.value })} aria-label="Marketplace">
          <option value="">All marketplaces</option>
          <option value="aws">AWS</option>
          <option value="azure">Microsoft</option>
        </HTMLSelect>
        <HTMLSelect value={values.source} onChange={(e) => f.set({ source: e.currentTarget.value })} aria-label="Source">
          <option value="">Any source</option>
          {Object.entries(sourceOptions).map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </HTMLSelect>
        <FilterText value={values.action} onCommit={(v) => f.set({ action: v })} label="Action" placeholder="action (exact)" list="mg-inbox-actions" width={170} icon="tag" />
        <datalist id="mg-inbox-actions">
          {ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <HTMLSelect value={values.status} onChange={(e) => f.set({ status: e.currentTarget.value })} aria-label="Status">
          <option value="">Any status</option>
          {INBOX_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </HTMLSelect>
        <FilterText value={values.subscription} onCommit={(v) => f.set({ subscription: v })} label="Subscription id" placeholder="subscription" width={140} icon="th-filtered" />
        <FilterText value={values.q} onCommit={(v) => f.set({ q: v })} label="Search dedup key" placeholder="dedup key  ( / )" width={200} icon="search" inputRef={search} />
        <TimeRange from={values.from} to={values.to} onChange={(from, to) => f.set({ from, to })} />
        {filtered && <Button small minimal icon="filter-remove" text="Clear filters" onClick={() => f.set(Object.fromEntries(FILTERS.map((k) => [k, ''])))} />}
        <Button small minimal icon="refresh" aria-label="Refresh" title="Refresh" loading={list.isFetching && !list.isPending} onClick={() => void list.refetch()} />
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.isSuccess && items.length === 0 && (
        <Empty
          title={filtered ? 'No messages match these filters' : 'No inbound messages yet'}
          action={
            filtered ? (
              <Button text="Clear filters" onClick={() => f.set(Object.fromEntries(FILTERS.map((k) => [k, ''])))} />
            ) : (
              <span>Registrations, SQS notifications and webhook calls appear here as the marketplaces send them.</span>
            )
          }
        />
      )}
      {items.length > 0 && (
        <DataTable
          label="Inbound messages"
          interactive
          style={{ opacity: list.isPlaceholderData ? 0.6 : 1 }}
          rows={items}
          rowKey={(m) => m.id}
          onRowOpen={(m, i) => {
            keys.setSelected(i);
            open(m.id);
          }}
          openOnClick
          rowProps={(m, i) => ({
            'data-testid': 'inbox-row',
            className: m.id === openId ? 'mg-row-open' : i === keys.selected ? 'mg-row-selected' : undefined,
            ref: i === keys.selected ? keys.rowRef : undefined,
            'aria-selected': i === keys.selected,
          })}
          columns={[
            { id: 'id', header: '#', cell: (m) => m.id },
            { id: 'received', header: 'Received', cell: (m) => formatDate(m.received_at) },
            { id: 'marketplace', header: 'Marketplace', cell: (m) => marketplaceName[m.marketplace] ?? m.marketplace },
            { id: 'source', header: 'Source', cell: (m) => SOURCES[m.source] ?? m.source },
            { id: 'action', header: 'Action', cell: (m) => m.action || '—' },
            {
              id: 'status',
              header: 'Status',
              cell: (m) => (
                <Tag minimal intent={statusIntent(m.status)} data-testid="inbox-status">
                  {m.status}
                </Tag>
              ),
            },
            { id: 'tries', header: 'Tries', cell: (m) => m.attempts },
            { id: 'subscription', header: 'Subscription', cell: (m) => (m.subscription_id ? <Link to={'/subscriptions/' + m.subscription_id}>#{m.subscription_id}</Link> : '—') },
            { id: 'dedup', header: 'Dedup key', className: 'mg-ellipsis', cellProps: (m) => ({ title: m.dedup_key }), cell: (m) => <code>{m.dedup_key}</code> },
            { id: 'error', header: 'Error', className: 'mg-cell-error', cellProps: (m) => ({ title: m.error }), cell: (m) => m.error },
          ]}
        />
      )}
      {list.data && (
        <Pager offset={offset} limit={limit} total={list.data.total} more={list.data.total_capped} onOffset={(o) => f.set({ offset: o || '' }, true)} onLimit={(l) => f.set({ limit: l === 50 ? '' : l })} />
      )}
      {list.isSuccess && <p className={Classes.TEXT_MUTED}>↑/↓ to move, Enter to open, / to search.</p>}
      <Drawer isOpen={openId !== null} onClose={close} title={openId !== null ? `Inbound message #${openId}` : ''} size="62%" icon="envelope">
        {openId !== null && <InboxDetail id={openId} />}
      </Drawer>
    </div>
  );
}
