import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5, Tag } from '@blueprintjs/core';
import { api, queryKeys, type User, type AlertChannel } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { TypeList } from '../../shared/components/TypePicker';
import { kindLabel } from './alertLabels';
import { RecentAlerts } from './RecentAlerts';
import { ChannelDialog } from './ChannelDialog';
import { ChannelActions, ChannelOutcomeRow, type ChannelOutcome } from './ChannelActions';
import { PageTitle } from '../../shared/components/PageTitle';

export function AlertsPage() {
  const me = useQueryClient().getQueryData<{ user: User }>(queryKeys.me)?.user;
  return (
    <div>
      <PageTitle title="Alerts" />
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

function channelColumns(onEdit: (c: AlertChannel) => void, report: (id: number, o: ChannelOutcome) => void): Column<AlertChannel>[] {
  return [
    { id: 'kind', header: 'Kind', cell: (c) => <Tag minimal>{kindLabel[c.kind] ?? c.kind}</Tag> },
    { id: 'name', header: 'Name', cell: (c) => c.name },
    { id: 'target', header: 'Target', className: 'mg-wrap', style: { maxWidth: 320 }, cell: (c) => <code>{c.target}</code> },
    { id: 'types', header: 'Alert types', cell: (c) => <TypeList types={c.alert_types} /> },
    { id: 'status', header: 'Status', cell: (c) => (c.enabled ? <Tag minimal intent="success">enabled</Tag> : <Tag minimal>disabled</Tag>) },
    { id: 'last_sent', header: 'Last sent', cell: (c) => (c.last_sent_at ? formatDate(c.last_sent_at) : 'never') },
    {
      id: 'last_error',
      header: 'Last error',
      className: 'mg-prose',
      style: { maxWidth: 260 },
      cell: (c) => (c.last_error ? <span className="mg-stat-danger">{c.last_error}</span> : '—'),
    },
    {
      id: 'actions',
      header: '',
      style: { whiteSpace: 'nowrap' },
      cell: (c) => <ChannelActions c={c} onEdit={() => onEdit(c)} onOutcome={(o) => report(c.id, o)} />,
    },
  ];
}

function Channels() {
  const q = useQuery({ queryKey: queryKeys.alertChannels, queryFn: api.alerts.channels });
  const [editing, setEditing] = useState<AlertChannel | 'new' | null>(null);
  // What each channel's last test or change ended in, shown under its row.
  const [outcomes, setOutcomes] = useState<Record<number, ChannelOutcome>>({});
  const report = (id: number, o: ChannelOutcome) => setOutcomes((all) => ({ ...all, [id]: { ...all[id], ...o } }));
  const columns = channelColumns(setEditing, report);
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
        <DataTable
          rows={q.data.items}
          columns={columns}
          rowKey={(c) => c.id}
          label="Alert channels"
          staticLook
          rowProps={(c) => ({ 'data-testid': 'channel-row', className: c.enabled ? undefined : 'mg-muted-row' })}
          afterRow={(c) => <ChannelOutcomeRow c={c} o={outcomes[c.id]} columns={columns.length} onDismiss={() => report(c.id, { tested: false })} />}
        />
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
