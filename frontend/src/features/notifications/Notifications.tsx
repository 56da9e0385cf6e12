// The inbox: every inbound message (AWS registrations and SQS notifications,
// Microsoft landing-page resolves and webhook calls) with its raw body,
// processing status and error. Filters live in the URL
// (/notifications?marketplace=&source=&action=&status=&from=&to=&subscription=&q=&offset=&limit=);
// /notifications/:id opens one message over the list, with its request
// headers and body.
import { useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Drawer, H4, H6, HTMLSelect, Tag, type Intent } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate, marketplaceName } from '../../shared/format';
import { CopyButton, FilterText, RequireRole, SELLER, TimeRange, useMe, useRowKeys, useUrlFilters, WRITERS } from '../../shared/components/common';
import { PayloadViewer } from './Payload';
import { REPLAYABLE_SOURCES, replayEffect, replayRefusal } from './replay';

export const INBOX_STATUSES = ['received', 'processed', 'failed', 'ignored'] as const;

export const SOURCES: Record<string, string> = {
  aws_registration: 'AWS registration',
  aws_sqs: 'AWS notification (SQS)',
  azure_landing: 'Microsoft landing page',
  azure_webhook: 'Microsoft webhook',
};

// Suggestions for the action filter (it matches exactly).
const ACTIONS = [
  'register',
  'subscribe-success',
  'subscribe-fail',
  'unsubscribe-pending',
  'unsubscribe-success',
  'entitlement-updated',
  'License Updated',
  'License Deprovisioned',
  'Purchase Agreement Created',
  'Purchase Agreement Amended',
  'Purchase Agreement Ended',
  'Resolve',
  'ChangePlan',
  'ChangeQuantity',
  'Suspend',
  'Reinstate',
  'Renew',
  'Unsubscribe',
];

export const statusIntent = (s: string): Intent => (s === 'processed' ? 'success' : s === 'failed' ? 'danger' : s === 'received' ? 'warning' : 'none');

/** Filters of the inbox, in the order the API takes them. */
export const FILTERS = ['marketplace', 'source', 'action', 'status', 'from', 'to', 'subscription', 'q'] as const;

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
      <H4>Notifications</H4>
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
        <Pager offset={offset} limit={limit} total={list.data.total} onOffset={(o) => f.set({ offset: o || '' }, true)} onLimit={(l) => f.set({ limit: l === 50 ? '' : l })} />
      )}
      {list.isSuccess && <p className={Classes.TEXT_MUTED}>↑/↓ to move, Enter to open, / to search.</p>}
      <Drawer isOpen={openId !== null} onClose={close} title={openId !== null ? `Inbound message #${openId}` : ''} size="62%" icon="envelope">
        {openId !== null && <InboxDetail id={openId} />}
      </Drawer>
    </div>
  );
}

export function InboxDetail({ id }: { id: number }) {
  const qc = useQueryClient();
  const me = useMe();
  const canReplay = !!me && WRITERS.includes(me.role);
  const [confirm, setConfirm] = useState(false);
  const q = useQuery({ queryKey: queryKeys.inbox.message(id), queryFn: () => api.inbox.get(id) });
  const replay = useMutation({
    mutationFn: () => api.inbox.replay(id),
    onSuccess: (res) => {
      qc.setQueryData(queryKeys.inbox.message(id), res);
      setConfirm(false);
      void qc.invalidateQueries({ queryKey: queryKeys.inbox.all });
      if (res.message.subscription_id) void qc.invalidateQueries({ queryKey: queryKeys.subscription.all });
    },
    onError: () => setConfirm(false),
  });
  if (q.isPending) return <div className="mg-drawer-body"><Loading /></div>;
  if (q.isError) return <div className="mg-drawer-body"><ErrorBox error={q.error} /></div>;
  const m = q.data.message;
  // Registrations and landing-page resolves are refused by the server (409): say why instead of offering it.
  const refused = replayRefusal(m.source);
  return (
    <div className="mg-drawer-body" data-testid="inbox-detail">
      <dl className="mg-grid">
        <dt>Status</dt>
        <dd>
          <Tag intent={statusIntent(m.status)} data-testid="detail-status">
            {m.status}
          </Tag>{' '}
          after {m.attempts} {m.attempts === 1 ? 'attempt' : 'attempts'}
        </dd>
        <dt>From</dt>
        <dd>
          {marketplaceName[m.marketplace] ?? m.marketplace} · {SOURCES[m.source] ?? m.source}
        </dd>
        <dt>Action</dt>
        <dd>{m.action || '—'}</dd>
        <dt>Subscription</dt>
        <dd>
          {m.subscription_id ? (
            <>
              <Link to={'/subscriptions/' + m.subscription_id} data-testid="detail-subscription">
                Subscription #{m.subscription_id}
              </Link>{' '}
              · <Link to={'/notifications?subscription=' + m.subscription_id}>all its messages</Link>
            </>
          ) : (
            'none linked'
          )}
        </dd>
        <dt>Received</dt>
        <dd>{formatDate(m.received_at)} UTC</dd>
        <dt>Processed</dt>
        <dd>{m.processed_at ? formatDate(m.processed_at) + ' UTC' : 'not yet'}</dd>
        <dt>Dedup key</dt>
        <dd>
          <code>{m.dedup_key}</code>
        </dd>
      </dl>
      {m.error && (
        <Callout
          intent={m.status === 'failed' ? 'danger' : 'none'}
          icon={m.status === 'failed' ? 'error' : 'info-sign'}
          title={m.status === 'failed' ? 'Processing error' : m.status === 'ignored' ? 'Why it was ignored' : 'Last error'}
          style={{ margin: '10px 0' }}
          data-testid="processing-error"
        >
          {m.error}
        </Callout>
      )}
      {replay.isSuccess && (
        <Callout intent={m.status === 'failed' ? 'warning' : 'success'} style={{ margin: '10px 0' }} data-testid="replay-result" role="status">
          Replayed: the message is now <strong>{m.status}</strong>
          {m.status === 'failed' ? ' — it failed again (the error above is from this attempt).' : '.'}
        </Callout>
      )}
      {replay.isError && <ErrorBox error={replay.error} title="Replay refused" />}
      {canReplay && refused && (
        <Callout icon="disable" style={{ margin: '10px 0' }} data-testid="replay-refusal" title={`${SOURCES[m.source] ?? m.source} messages cannot be replayed`}>
          {refused}
        </Callout>
      )}
      {canReplay && !refused && (
        <div className="mg-toolbar" style={{ margin: '10px 0' }}>
          <Button icon="redo" intent={m.status === 'failed' ? 'primary' : 'none'} text="Replay…" loading={replay.isPending} onClick={() => setConfirm(true)} />
          <span className={Classes.TEXT_MUTED} style={{ maxWidth: 560 }} data-testid="replay-hint">
            {m.source === 'azure_webhook'
              ? 'Confirms the call with Microsoft again (Get Operation) and acts on what Microsoft reports. Processing is idempotent: what was already applied changes nothing.'
              : (REPLAYABLE_SOURCES as readonly string[]).includes(m.source)
                ? 'Applies the message again. Processing is idempotent: a message that was already applied changes nothing.'
                : 'Applies the message again, if the server can replay messages of this source.'}
          </span>
        </div>
      )}
      <H6 style={{ marginTop: 12 }}>Request headers</H6>
      <StoredHeaders raw={m.headers ?? ''} />
      <H6 style={{ marginTop: 12 }}>Body</H6>
      <PayloadViewer body={m.body ?? ''} contentType={m.content_type} />
      <ConfirmDialog
        isOpen={confirm}
        icon="redo"
        intent="primary"
        confirmText="Replay message"
        loading={replay.isPending}
        onConfirm={() => replay.mutate()}
        onCancel={() => setConfirm(false)}
      >
        <p>
          Replay message #{m.id} ({m.action || m.source}){m.subscription_id ? ` of subscription #${m.subscription_id}` : ''}? {replayEffect(m.source)}
        </p>
        <p>
          {m.status === 'failed'
            ? 'It failed before; if the cause is gone it is applied now and may change the subscription’s state.'
            : 'It was already applied, so nothing changes.'}{' '}
          The replay is written to the audit log.
        </p>
      </ConfirmDialog>
    </div>
  );
}

/** The stored request headers (a JSON object in a string) as name and value pairs, sorted; null when they are not an object. */
export function parseHeaders(raw: string): [string, string][] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  return Object.entries(parsed as Record<string, unknown>)
    .map(([k, v]): [string, string] => [k, Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'string' ? v : JSON.stringify(v)])
    .sort((a, b) => a[0].toLowerCase().localeCompare(b[0].toLowerCase()));
}

/** The request headers stored with a message: a table, the text when it is not a JSON object, or a note when there are none. */
export function StoredHeaders({ raw }: { raw: string }) {
  if (!raw.trim())
    return (
      <p className={Classes.TEXT_MUTED} data-testid="headers-none">
        No request headers were stored with this message.
      </p>
    );
  const pairs = parseHeaders(raw);
  return (
    <div data-testid="headers">
      {pairs === null ? (
        <pre className="mg-payload-raw" data-testid="headers-raw">
          {raw}
        </pre>
      ) : pairs.length === 0 ? (
        <p className={Classes.TEXT_MUTED}>No request headers were stored with this message.</p>
      ) : (
        <DataTable
          label="Request headers"
          header={false}
          staticLook
          striped={false}
          bordered
          rows={pairs}
          rowKey={([k]) => k}
          rowProps={() => ({ 'data-testid': 'header-row' })}
          columns={[
            { id: 'name', header: 'Name', cell: ([k]) => <code>{k}</code> },
            { id: 'value', header: 'Value', className: 'mg-wrap', cell: ([, v]) => v },
          ]}
        />
      )}
      <CopyButton text={raw} label="Copy headers" />
    </div>
  );
}
