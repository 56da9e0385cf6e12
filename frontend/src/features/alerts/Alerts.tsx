import { Fragment, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H4, H5, HTMLTable, Tag } from '@blueprintjs/core';
import { api, queryKeys, type User, type AlertChannel } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { TypeList } from '../../shared/components/TypePicker';
import { kindLabel } from './alertLabels';
import { RecentAlerts } from './RecentAlerts';
import { ChannelDialog } from './ChannelDialog';

export function AlertsPage() {
  const me = useQueryClient().getQueryData<{ user: User }>(queryKeys.me)?.user;
  return (
    <div>
      <H4>Alerts</H4>
      <p className={Classes.TEXT_MUTED} style={{ maxWidth: 900 }}>
        Things that need a person — a marketplace failing, metering records about to expire or refused, inbound messages that failed, a webhook
        endpoint disabled, subscriptions waiting for approval. A channel hears of an alert at once, then at most once an hour with the count of
        repeats.
      </p>
      {me?.role === 'admin' && <Channels />}
      <RecentAlerts />
    </div>
  );
}

function Channels() {
  const q = useQuery({ queryKey: queryKeys.alertChannels, queryFn: api.alerts.channels });
  const [editing, setEditing] = useState<AlertChannel | 'new' | null>(null);
  return (
    <section aria-label="Alert channels" style={{ marginBottom: 20 }}>
      <H5>Channels</H5>
      <div className="mg-toolbar">
        <Button icon="add" intent="primary" text="Add channel" disabled={!q.isSuccess} onClick={() => setEditing('new')} />
      </div>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && !q.data.email_configured && (
        <Callout icon="envelope" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="smtp-note">
          E-mail channels need an SMTP server: set <code>MARKETGATE_SMTP_ADDR</code> (host:port) and <code>MARKETGATE_SMTP_FROM</code> (the
          sender), and <code>MARKETGATE_SMTP_USERNAME</code> / <code>MARKETGATE_SMTP_PASSWORD</code> when the server wants a sign-in, then
          restart Marketgate. Slack and Teams channels work without it.
        </Callout>
      )}
      {q.isSuccess && q.data.items.length === 0 && <Empty title="No alert channels" action={<span>Add one so alerts reach someone.</span>} />}
      {q.isSuccess && q.data.items.length > 0 && (
        <HTMLTable compact striped className="mg-table mg-static" aria-label="Alert channels">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Name</th>
              <th>Target</th>
              <th>Alert types</th>
              <th>Status</th>
              <th>Last sent</th>
              <th>Last error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {q.data.items.map((c) => (
              <ChannelRow key={c.id} c={c} onEdit={() => setEditing(c)} />
            ))}
          </tbody>
        </HTMLTable>
      )}
      {editing && q.isSuccess && (
        <ChannelDialog
          channel={editing === 'new' ? undefined : editing}
          alertTypes={q.data.alert_types}
          emailConfigured={q.data.email_configured}
          onClose={() => setEditing(null)}
        />
      )}
    </section>
  );
}

const COLUMNS = 8;

export function ChannelRow({ c, onEdit }: { c: AlertChannel; onEdit: () => void }) {
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: queryKeys.alertChannels });
  const test = useMutation({
    mutationFn: () => api.alerts.testChannel(c.id),
    onSettled: refresh, // last sent / last error change
  });
  const change = useMutation({
    mutationFn: (what: 'enable' | 'disable' | 'delete'): Promise<{ channel: AlertChannel } | undefined> =>
      what === 'delete'
        ? api.alerts.removeChannel(c.id)
        : api.alerts.updateChannel(c.id, { enabled: what === 'enable' }),
    onSuccess: refresh,
    onSettled: () => setConfirmDelete(false),
  });
  return (
    <Fragment>
      <tr data-testid="channel-row" className={c.enabled ? undefined : 'mg-muted-row'}>
        <td>
          <Tag minimal>{kindLabel[c.kind] ?? c.kind}</Tag>
        </td>
        <td>{c.name}</td>
        <td className="mg-wrap" style={{ maxWidth: 320 }}>
          <code>{c.target}</code>
        </td>
        <td>
          <TypeList types={c.alert_types} />
        </td>
        <td>{c.enabled ? <Tag minimal intent="success">enabled</Tag> : <Tag minimal>disabled</Tag>}</td>
        <td>{c.last_sent_at ? formatDate(c.last_sent_at) : 'never'}</td>
        <td className="mg-prose" style={{ maxWidth: 260 }}>
          {c.last_error ? <span className="mg-stat-danger">{c.last_error}</span> : '—'}
        </td>
        <td style={{ whiteSpace: 'nowrap' }}>
          <Button small minimal icon="send-message" text="Test" loading={test.isPending} onClick={() => test.mutate()} />
          <Button small minimal icon="edit" text="Edit" onClick={onEdit} />
          <Button
            small
            minimal
            icon={c.enabled ? 'pause' : 'play'}
            text={c.enabled ? 'Disable' : 'Enable'}
            loading={change.isPending && change.variables !== 'delete'}
            onClick={() => change.mutate(c.enabled ? 'disable' : 'enable')}
          />
          <Button small minimal icon="trash" intent="danger" text="Delete" onClick={() => setConfirmDelete(true)} />
          <ConfirmDialog
            isOpen={confirmDelete}
            intent="danger"
            icon="trash"
            confirmText="Delete channel"
            loading={change.isPending}
            onConfirm={() => change.mutate('delete')}
            onCancel={() => setConfirmDelete(false)}
          >
            <p>
              Delete the channel <strong>{c.name}</strong>? Alerts stop going to {c.target}. To pause it instead, disable it.
            </p>
          </ConfirmDialog>
        </td>
      </tr>
      {(test.isSuccess || test.isError || change.isError) && (
        <tr className="mg-detail-row">
          <td colSpan={COLUMNS}>
            {test.isSuccess && (
              <Callout intent="success" icon="tick" data-testid="channel-test-result">
                Test alert sent to {c.target}.{' '}
                <Button small minimal text="Dismiss" onClick={() => test.reset()} />
              </Callout>
            )}
            {test.isError && (
              <div data-testid="channel-test-result">
                <ErrorBox error={test.error} title="Test failed" />
              </div>
            )}
            {change.isError && <ErrorBox error={change.error} />}
          </td>
        </tr>
      )}
    </Fragment>
  );
}
