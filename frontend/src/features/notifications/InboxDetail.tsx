import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H6, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate, marketplaceName } from '../../shared/format';
import { CopyButton, useMe, WRITERS } from '../../shared/components/common';
import { PayloadViewer } from './Payload';
import { REPLAYABLE_SOURCES, replayEffect, replayRefusal } from './replay';
import { SOURCES, statusIntent } from './notificationLabels';

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
