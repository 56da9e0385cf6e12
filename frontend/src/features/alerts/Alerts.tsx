import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Callout,
  Classes,
  Dialog,
  DialogBody,
  DialogFooter,
  FormGroup,
  H4,
  H5,
  HTMLSelect,
  HTMLTable,
  InputGroup,
  Tag,
} from '@blueprintjs/core';
import { api, queryKeys, type User, type TypeInfo, type AlertChannelKind, type AlertChannel } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { choiceOf, choiceValid, TypeList, TypePicker, typesOf, type TypeChoice } from '../../shared/components/TypePicker';


export const kindLabel: Record<AlertChannelKind, string> = { email: 'E-mail', slack: 'Slack', teams: 'Microsoft Teams' };

const targetHelp: Record<AlertChannelKind, { label: string; placeholder: string; help: string }> = {
  email: { label: 'E-mail address', placeholder: 'ops@example.com', help: 'Alerts are sent to this address through the configured SMTP server.' },
  slack: {
    label: 'Incoming-webhook URL',
    placeholder: 'https://hooks.slack.com/services/T000/B000/XXXX',
    help: 'A Slack incoming webhook (or any endpoint that takes Slack’s {"text": …} message).',
  },
  teams: {
    label: 'Incoming-webhook URL',
    placeholder: 'https://…webhook.office.com/… or a Power Automate workflow URL',
    help: 'A Microsoft Teams incoming webhook or Workflows URL for the channel.',
  },
};

// AlertsPage (/alerts): where alerts go (admins) and what was raised
// recently (seller staff).
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

export function ChannelDialog(props: { channel?: AlertChannel; alertTypes: TypeInfo[]; emailConfigured: boolean; onClose: () => void }) {
  const { channel, alertTypes, emailConfigured, onClose } = props;
  const qc = useQueryClient();
  const [kind, setKind] = useState<AlertChannelKind>(channel?.kind ?? (emailConfigured ? 'email' : 'slack'));
  const [name, setName] = useState(channel?.name ?? '');
  const [target, setTarget] = useState(channel?.target ?? '');
  const [types, setTypes] = useState<TypeChoice>(choiceOf(channel?.alert_types ?? ['*']));
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), target: target.trim(), alert_types: typesOf(types) };
      return channel
        ? api.alerts.updateChannel(channel.id, body)
        : api.alerts.createChannel({ kind, ...body });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.alertChannels });
      onClose();
    },
  });
  const noSmtp = kind === 'email' && !emailConfigured;
  const h = targetHelp[kind];
  const ready = name.trim() !== '' && target.trim() !== '' && choiceValid(types) && !(noSmtp && !channel);
  return (
    <Dialog isOpen title={channel ? 'Edit alert channel' : 'Add alert channel'} onClose={onClose} style={{ width: 680 }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) save.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="Kind" labelFor="ch-kind" helperText={channel ? 'The kind of a channel cannot change: add a new one instead.' : undefined}>
            <HTMLSelect id="ch-kind" value={kind} disabled={!!channel} onChange={(e) => setKind(e.currentTarget.value as AlertChannelKind)}>
              <option value="email">E-mail</option>
              <option value="slack">Slack</option>
              <option value="teams">Microsoft Teams</option>
            </HTMLSelect>
          </FormGroup>
          {noSmtp && (
            <Callout intent="warning" icon="envelope" style={{ marginBottom: 12 }} data-testid="smtp-needed">
              E-mail is not configured on this server, so e-mail alerts cannot be sent. Set <code>MARKETGATE_SMTP_ADDR</code> (host:port) and{' '}
              <code>MARKETGATE_SMTP_FROM</code> (plus <code>MARKETGATE_SMTP_USERNAME</code> and <code>MARKETGATE_SMTP_PASSWORD</code> if needed)
              and restart Marketgate — or choose Slack or Teams.
            </Callout>
          )}
          <FormGroup label="Name" labelFor="ch-name">
            <InputGroup id="ch-name" value={name} onValueChange={setName} maxLength={200} placeholder="on-call" />
          </FormGroup>
          <FormGroup label={h.label} labelFor="ch-target" helperText={h.help}>
            <InputGroup id="ch-target" type={kind === 'email' ? 'email' : 'url'} value={target} onValueChange={setTarget} placeholder={h.placeholder} />
          </FormGroup>
          <TypePicker name="ch-types" label="Alert types" allLabel="All alerts, including types added later" types={alertTypes} value={types} onChange={setTypes} />
          {save.isError && <ErrorBox error={save.error} title={channel ? 'Not saved' : 'Not added'} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" text={channel ? 'Save' : 'Add channel'} disabled={!ready} loading={save.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}

function RecentAlerts() {
  const q = useQuery({
    queryKey: queryKeys.alerts,
    queryFn: () => api.alerts.recent(50),
    refetchInterval: 60_000,
  });
  return (
    <section aria-label="Recent alerts">
      <H5>Recent alerts</H5>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && q.data.items.length === 0 && <Empty title="No alerts" action={<span>Nothing has needed attention.</span>} />}
      {q.isSuccess && q.data.items.length > 0 && (
        <DataTable
          label="Recent alerts"
          staticLook
          rows={q.data.items}
          rowKey={(a) => a.id}
          rowProps={() => ({ 'data-testid': 'alert-row' })}
          columns={[
            {
              id: 'type',
              header: 'Type',
              cell: (a) => (
                <Tag minimal intent="warning">
                  {a.type}
                </Tag>
              ),
            },
            { id: 'title', header: 'Title', className: 'mg-prose', style: { maxWidth: 300 }, cell: (a) => a.title },
            { id: 'detail', header: 'Detail', className: 'mg-prose', style: { maxWidth: 420 }, cell: (a) => a.detail || '—' },
            { id: 'count', header: 'Count', cell: (a) => a.count },
            { id: 'first', header: 'First seen', cell: (a) => formatDate(a.first_at) },
            { id: 'last', header: 'Last seen', cell: (a) => formatDate(a.last_at) },
            {
              id: 'link',
              header: '',
              cell: (a) =>
                a.link ? (
                  a.link.startsWith('/') ? (
                    <Link to={a.link}>open</Link>
                  ) : (
                    <a href={a.link} target="_blank" rel="noreferrer">
                      open
                    </a>
                  )
                ) : null,
            },
          ]}
        />
      )}
    </section>
  );
}
