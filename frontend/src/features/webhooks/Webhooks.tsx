import { Fragment, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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
  H6,
  HTMLSelect,
  HTMLTable,
  Icon,
  InputGroup,
  Tag,
  type Intent,
} from '@blueprintjs/core';
import { api, queryKeys, type TypeInfo, type WebhookEndpoint, type DeliveryStatus, type WebhookDelivery } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { choiceOf, choiceValid, TypeList, TypePicker, typesOf, type TypeChoice } from '../../shared/components/TypePicker';

const listQuery = { queryKey: queryKeys.webhooks, queryFn: api.webhooks.list };
export const DELIVERY_PAGE = 50;
const TEST_EVENT = 'webhook.test';

// The types an endpoint can choose: the test event goes only where it is sent.
const choosable = (types: TypeInfo[]) => types.filter((t) => t.type !== TEST_EVENT);

export const statusIntent: Record<DeliveryStatus, Intent> = { pending: 'warning', succeeded: 'success', failed: 'danger' };

// WebhooksPage: the seller's endpoints (/webhooks) and one endpoint with its
// delivery log (/webhooks/:id?status=&offset=&delivery=). Admins only.
export function WebhooksPage() {
  const { id } = useParams();
  return id ? <EndpointPage id={Number(id)} /> : <EndpointList />;
}

function EndpointList() {
  const list = useQuery({ ...listQuery, refetchInterval: (q) => (q.state.data?.items.some((e) => e.pending > 0) ? 10_000 : false) });
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const disabled = list.data?.items.filter((e) => !e.enabled && e.disabled_reason) ?? [];
  return (
    <div>
      <H4>Webhooks</H4>
      <p className={Classes.TEXT_MUTED} style={{ maxWidth: 900 }}>
        Marketgate tells your systems what happened — subscriptions created, activated, changed or ended, seats assigned or released, metering
        records refused — by POSTing signed JSON events to these endpoints, in order per subscription. A delivery that is not answered with a
        2xx is retried with backoff for more than a day; an endpoint failing for 24 hours is disabled and an alert is raised.
      </p>
      <div className="mg-toolbar">
        <Button icon="add" intent="primary" text="Add endpoint" onClick={() => setCreating(true)} disabled={!list.isSuccess} />
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ErrorBox error={list.error} />}
      {actionError !== null && <ErrorBox error={actionError} />}
      {disabled.map((e) => (
        <Callout key={e.id} intent="danger" icon="disable" title={`Disabled: ${e.url}`} style={{ maxWidth: 900, marginBottom: 8 }} data-testid="disabled-callout">
          {e.disabled_reason}
          {e.disabled_at && ` (since ${formatDate(e.disabled_at)})`}. {e.pending > 0 && `${e.pending} deliveries are waiting. `}
          <Link to={`/webhooks/${e.id}`}>Open it</Link> to see the failures and enable it again.
        </Callout>
      ))}
      {list.isSuccess && list.data.items.length === 0 && (
        <Empty title="No webhook endpoints" action={<span>Add one to be told when subscriptions and seats change.</span>} />
      )}
      {list.isSuccess && list.data.items.length > 0 && (
        <DataTable
          label="Webhook endpoints"
          staticLook
          rows={list.data.items}
          rowKey={(e) => e.id}
          rowProps={() => ({ 'data-testid': 'endpoint-row' })}
          columns={[
            {
              id: 'url',
              header: 'URL',
              className: 'mg-wrap',
              style: { maxWidth: 380 },
              cell: (e) => (
                <>
                  <Link to={`/webhooks/${e.id}`}>{e.url}</Link>
                  {e.description && <div className={Classes.TEXT_MUTED}>{e.description}</div>}
                </>
              ),
            },
            { id: 'events', header: 'Events', cell: (e) => <TypeList types={e.event_types} /> },
            { id: 'status', header: 'Status', className: 'mg-prose', style: { maxWidth: 280 }, cell: (e) => <EndpointStatus e={e} /> },
            {
              id: 'failing',
              header: 'Failing since',
              cell: (e) =>
                e.failing_since ? (
                  <span className="mg-stat-danger">
                    {formatDate(e.failing_since)} ({e.consecutive_failures} {e.consecutive_failures === 1 ? 'failure' : 'failures'})
                  </span>
                ) : (
                  '—'
                ),
            },
            { id: 'pending', header: 'Pending', cell: (e) => (e.pending > 0 ? <Link to={`/webhooks/${e.id}?status=pending`}>{e.pending}</Link> : 0) },
            { id: 'failed', header: 'Failed', cell: (e) => (e.failed > 0 ? <Link to={`/webhooks/${e.id}?status=failed`}>{e.failed}</Link> : 0) },
            { id: 'last_success', header: 'Last success', cell: (e) => (e.last_success_at ? formatDate(e.last_success_at) : 'never') },
            { id: 'actions', header: '', cell: (e) => <EndpointActions ep={e} eventTypes={list.data.event_types} onError={setActionError} small /> },
          ]}
        />
      )}
      {creating && list.isSuccess && <EndpointDialog eventTypes={list.data.event_types} onClose={() => setCreating(false)} />}
    </div>
  );
}

function EndpointStatus({ e }: { e: WebhookEndpoint }) {
  if (e.enabled)
    return (
      <Tag minimal intent="success" data-testid="endpoint-status">
        enabled
      </Tag>
    );
  return (
    <>
      <Tag minimal intent="danger" data-testid="endpoint-status">
        disabled
      </Tag>
      {e.disabled_reason && (
        <div className="mg-stat-danger" data-testid="disabled-reason">
          {e.disabled_reason}
        </div>
      )}
    </>
  );
}

type Confirm = 'disable' | 'rotate' | 'delete' | null;

// EndpointActions: edit, enable/disable, rotate the secret, delete — with
// confirmations that say what happens.
function EndpointActions(props: { ep: WebhookEndpoint; eventTypes: TypeInfo[]; onError: (e: unknown) => void; onDeleted?: () => void; small?: boolean }) {
  const { ep, eventTypes, onError, onDeleted, small } = props;
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
    void qc.invalidateQueries({ queryKey: queryKeys.webhookDeliveries.of(ep.id) });
  };
  const act = useMutation({
    mutationFn: (what: 'enable' | 'disable' | 'rotate' | 'delete'): Promise<{ endpoint: WebhookEndpoint; secret?: string } | undefined> => {
      onError(null);
      switch (what) {
        case 'enable':
        case 'disable':
          return api.webhooks.update(ep.id, { enabled: what === 'enable' });
        case 'rotate':
          return api.webhooks.rotateSecret(ep.id);
        case 'delete':
          return api.webhooks.remove(ep.id);
      }
    },
    onSuccess: (r, what) => {
      if (what === 'rotate' && r?.secret) setSecret(r.secret);
      if (what === 'delete') {
        qc.removeQueries({ queryKey: queryKeys.webhookDeliveries.of(ep.id) });
        onDeleted?.();
      }
      refresh();
    },
    onError: (e) => onError(e),
    onSettled: () => setConfirm(null),
  });
  const busy = (what: string) => act.isPending && act.variables === what;
  return (
    <span className="mg-actions" style={{ whiteSpace: 'nowrap' }}>
      <Button small={small} minimal={small} icon="edit" text="Edit" onClick={() => setEditing(true)} />
      {ep.enabled ? (
        <Button small={small} minimal={small} icon="pause" text="Disable" onClick={() => setConfirm('disable')} />
      ) : (
        <Button
          small={small}
          minimal={small}
          icon="play"
          intent="success"
          text="Enable"
          loading={busy('enable')}
          title={ep.pending > 0 ? `Resumes the ${ep.pending} waiting deliveries` : undefined}
          onClick={() => act.mutate('enable')}
        />
      )}
      <Button small={small} minimal={small} icon="key" text="Rotate secret" onClick={() => setConfirm('rotate')} />
      <Button small={small} minimal={small} icon="trash" intent="danger" text="Delete" onClick={() => setConfirm('delete')} />
      <ConfirmDialog
        isOpen={confirm !== null}
        intent={confirm === 'disable' ? 'warning' : 'danger'}
        icon={confirm === 'rotate' ? 'key' : confirm === 'delete' ? 'trash' : 'pause'}
        confirmText={confirm === 'rotate' ? 'Rotate secret' : confirm === 'delete' ? 'Delete endpoint' : 'Disable endpoint'}
        loading={act.isPending}
        onConfirm={() => confirm && act.mutate(confirm)}
        onCancel={() => setConfirm(null)}
      >
        {confirm === 'disable' && (
          <p>
            Disable <strong>{ep.url}</strong>? No new events are queued for it while it is disabled; the deliveries already waiting are held and
            resume when you enable it again.
          </p>
        )}
        {confirm === 'rotate' && (
          <p>
            Rotate the signing secret of <strong>{ep.url}</strong>? The old secret stops working at once: every delivery from now on, retries
            included, is signed with the new one, which is shown once. Update the receiver right away, or its signature checks fail.
          </p>
        )}
        {confirm === 'delete' && (
          <p>
            Delete <strong>{ep.url}</strong>? Nothing more is sent to it
            {ep.pending > 0 && ` — the ${ep.pending} deliveries still waiting are dropped —`} and its delivery log goes with it. This cannot be
            undone.
          </p>
        )}
      </ConfirmDialog>
      {editing && <EndpointDialog ep={ep} eventTypes={eventTypes} onClose={() => setEditing(false)} />}
      {secret && (
        <Dialog isOpen title="New signing secret" onClose={() => setSecret(null)} canOutsideClickClose={false} style={{ width: 680 }}>
          <DialogBody>
            <p>The old secret no longer works. Deliveries to {ep.url} are now signed with this one.</p>
            <SecretBox secret={secret} />
          </DialogBody>
          <DialogFooter actions={<Button intent="primary" text="Done" onClick={() => setSecret(null)} />} />
        </Dialog>
      )}
    </span>
  );
}

// EndpointDialog creates an endpoint (then shows its secret, once) or edits one.
export function EndpointDialog({ ep, eventTypes, onClose }: { ep?: WebhookEndpoint; eventTypes: TypeInfo[]; onClose: () => void }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState(ep?.url ?? '');
  const [description, setDescription] = useState(ep?.description ?? '');
  const [types, setTypes] = useState<TypeChoice>(choiceOf(ep?.event_types ?? ['*']));
  const [created, setCreated] = useState<{ endpoint: WebhookEndpoint; secret: string } | null>(null);
  const save = useMutation({
    mutationFn: () => {
      const body = { url: url.trim(), description: description.trim(), event_types: typesOf(types) };
      return ep
        ? api.webhooks.update(ep.id, body)
        : api.webhooks.create(body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
      if (!ep && r.secret) setCreated({ endpoint: r.endpoint, secret: r.secret });
      else onClose();
    },
  });
  if (created) {
    return (
      <Dialog isOpen title="Endpoint added" onClose={onClose} canOutsideClickClose={false} style={{ width: 680 }}>
        <DialogBody>
          <p>
            Events now go to <strong>{created.endpoint.url}</strong>. Press <em>Send test event</em> on its page to try it.
          </p>
          <SecretBox secret={created.secret} />
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Link to={`/webhooks/${created.endpoint.id}`} onClick={onClose} className={Classes.BUTTON}>
                Open the endpoint
              </Link>
              <Button intent="primary" text="Done" onClick={onClose} />
            </>
          }
        />
      </Dialog>
    );
  }
  const urlOk = /^https?:\/\/\S+$/i.test(url.trim());
  return (
    <Dialog isOpen title={ep ? 'Edit webhook endpoint' : 'Add webhook endpoint'} onClose={onClose} style={{ width: 720 }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (urlOk && choiceValid(types)) save.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="URL" labelFor="wh-url" helperText="Events are POSTed here as JSON. Use https:// outside a test setup.">
            <InputGroup id="wh-url" value={url} onValueChange={setUrl} placeholder="https://example.com/marketgate/webhook" autoFocus />
          </FormGroup>
          <FormGroup label="Description (optional)" labelFor="wh-description">
            <InputGroup id="wh-description" value={description} onValueChange={setDescription} maxLength={500} placeholder="billing service" />
          </FormGroup>
          <TypePicker
            name="wh-types"
            label="Event types"
            allLabel="All events, including types added later"
            types={choosable(eventTypes)}
            value={types}
            onChange={setTypes}
          />
          <p className={Classes.TEXT_MUTED}>
            The <code>{TEST_EVENT}</code> event goes to an endpoint only when you press <em>Send test event</em> on its page.
          </p>
          {save.isError && <ErrorBox error={save.error} title={ep ? 'Not saved' : 'Not added'} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" text={ep ? 'Save' : 'Add endpoint'} disabled={!urlOk || !choiceValid(types)} loading={save.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}

// SecretBox shows a signing secret once, with a copy button and how to
// verify a delivery with it.
export function SecretBox({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <>
      <Callout intent="warning" icon="key" title="Copy the signing secret now — it is shown only once" style={{ marginBottom: 12 }}>
        <code className="mg-secret" data-testid="webhook-secret">
          {secret}
        </code>{' '}
        <Button
          small
          icon={copied ? 'tick' : 'duplicate'}
          text={copied ? 'Copied' : 'Copy'}
          onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}
        />
        <div className={Classes.TEXT_MUTED} style={{ marginTop: 4 }}>
          Keep it in your receiver&apos;s configuration. If it is lost, rotate it: the old one stops working at once.
        </div>
      </Callout>
      <H6>Verify every delivery (Standard Webhooks)</H6>
      <p>
        Each delivery carries <code>webhook-id</code> (the event id), <code>webhook-timestamp</code> (Unix seconds) and{' '}
        <code>webhook-signature</code> (<code>v1,</code> and a base64 HMAC-SHA256). Take the part of the secret after <code>whsec_</code>,
        base64-decode it, and compute the HMAC-SHA256 of <code>{'${webhook-id}.${webhook-timestamp}.${raw body}'}</code> with it; the
        delivery is genuine when its base64 equals one of the space-separated <code>v1,</code> signatures. Refuse timestamps more than five
        minutes away, and use <code>webhook-id</code> to ignore an event you have already handled — redeliveries keep it. The Standard
        Webhooks libraries (standardwebhooks.com) do all of this.
      </p>
      <pre className={Classes.CODE_BLOCK} style={{ fontSize: 11 }}>
        {`const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const signed = \`\${headers['webhook-id']}.\${headers['webhook-timestamp']}.\${rawBody}\`;
const expected = 'v1,' + crypto.createHmac('sha256', key).update(signed).digest('base64');
const ok = headers['webhook-signature'].split(' ').includes(expected);`}
      </pre>
    </>
  );
}

/** How soon to read the log again: soon after the next attempt is due, while anything waits. */
export function pollEvery(items: WebhookDelivery[] | undefined, waitingOnEndpoint: number, now = Date.now()): number | false {
  const waiting = (items ?? []).filter((d) => d.status === 'pending');
  if (waiting.length === 0) return waitingOnEndpoint > 0 ? 10_000 : false;
  const due = Math.min(...waiting.map((d) => (d.next_attempt_at ? Date.parse(d.next_attempt_at) - now : 0)));
  return Math.min(Math.max(due + 500, 1_000), 15_000);
}

function EndpointPage({ id }: { id: number }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const open = Number(params.get('delivery') ?? 0) || null;
  const [actionError, setActionError] = useState<unknown>(null);
  const [sent, setSent] = useState<WebhookDelivery | null>(null);

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '' || v === '0') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  const list = useQuery(listQuery);
  const ep = list.data?.items.find((e) => e.id === id);
  const deliveries = useQuery({
    queryKey: queryKeys.webhookDeliveries.page(id, status, offset),
    queryFn: () =>
      api.webhooks.deliveries(id, { status, limit: DELIVERY_PAGE, offset }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => pollEvery(q.state.data?.items, ep?.pending ?? 0),
  });
  // The endpoint's counts and last success follow the log.
  const polling = pollEvery(deliveries.data?.items, ep?.pending ?? 0);
  useQuery({ ...listQuery, refetchInterval: polling });

  const refreshLog = () => {
    void qc.invalidateQueries({ queryKey: queryKeys.webhookDeliveries.of(id) });
    void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
  };
  const test = useMutation({
    mutationFn: () => api.webhooks.sendTest(id),
    onSuccess: (r) => {
      setSent(r.delivery);
      // Show the first page, where the new delivery is, unless the filter hides it.
      update({ offset: null, status: status === '' || status === 'pending' ? status : null, delivery: null });
      refreshLog();
    },
  });

  const title = (
    <H4>
      <Link to="/webhooks">Webhooks</Link> / {ep ? <span className="mg-wrap">{ep.url}</span> : `#${id}`}
    </H4>
  );
  if (list.isPending) return <Loading />;
  if (list.isError)
    return (
      <div>
        {title}
        <ErrorBox error={list.error} />
      </div>
    );
  if (!ep)
    return (
      <div>
        {title}
        <Callout intent="warning" title="No such endpoint">
          Webhook endpoint #{id} does not exist (it may have been deleted). <Link to="/webhooks">See all endpoints</Link>.
        </Callout>
      </div>
    );

  return (
    <div>
      {title}
      {!ep.enabled && (
        <Callout intent="danger" icon="disable" title="This endpoint is disabled" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="disabled-callout">
          {ep.disabled_reason ? <strong>{ep.disabled_reason}</strong> : 'An admin disabled it.'}
          {ep.disabled_at && ` Since ${formatDate(ep.disabled_at)}.`} No new events are queued for it
          {ep.pending > 0 ? `; ${ep.pending} waiting deliveries resume when it is enabled again.` : '.'}
        </Callout>
      )}
      {ep.enabled && ep.failing_since && (
        <Callout intent="warning" icon="warning-sign" title="Failing" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="failing-callout">
          Deliveries have failed since {formatDate(ep.failing_since)} ({ep.consecutive_failures} in a row). They are retried with backoff; after
          24 hours of failures the endpoint is disabled.
        </Callout>
      )}
      <dl className="mg-grid">
        <dt>Status</dt>
        <dd>
          <EndpointStatus e={ep} />
        </dd>
        <dt>Description</dt>
        <dd>{ep.description || '—'}</dd>
        <dt>Event types</dt>
        <dd>{ep.event_types.includes('*') ? 'all' : ep.event_types.join(', ')}</dd>
        <dt>Last success</dt>
        <dd>{ep.last_success_at ? formatDate(ep.last_success_at) : 'never'}</dd>
        <dt>Waiting / given up</dt>
        <dd>
          {ep.pending} / {ep.failed}
        </dd>
        <dt>Added</dt>
        <dd>
          {formatDate(ep.created_at)}
          {ep.created_by && ` by ${ep.created_by}`}
        </dd>
      </dl>
      <div className="mg-toolbar" style={{ marginTop: 8 }}>
        <Button
          icon="send-message"
          intent="primary"
          text="Send test event"
          disabled={!ep.enabled}
          title={ep.enabled ? 'Sends a webhook.test event to this endpoint only' : 'Enable the endpoint to send'}
          loading={test.isPending}
          onClick={() => test.mutate()}
        />
        <EndpointActions ep={ep} eventTypes={list.data.event_types} onError={setActionError} onDeleted={() => navigate('/webhooks')} />
      </div>
      {test.isError && <ErrorBox error={test.error} title="Test event not sent" />}
      {test.isSuccess && sent && (
        <Callout intent="primary" icon="send-message" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="test-sent">
          Test event <code>{sent.event_id}</code> queued. The log below follows it.
        </Callout>
      )}
      {actionError !== null && <ErrorBox error={actionError} />}

      <H5 style={{ marginTop: 16 }}>Deliveries</H5>
      <div className="mg-toolbar">
        <HTMLSelect value={status} onChange={(e) => update({ status: e.currentTarget.value, offset: null, delivery: null })} aria-label="Status">
          <option value="">Any status</option>
          <option value="pending">pending</option>
          <option value="succeeded">succeeded</option>
          <option value="failed">failed (given up)</option>
        </HTMLSelect>
        <Button icon="refresh" text="Refresh" minimal loading={deliveries.isFetching && !deliveries.isPending} onClick={refreshLog} />
        {polling !== false && (
          <span className={Classes.TEXT_MUTED} data-testid="polling">
            following the waiting deliveries…
          </span>
        )}
      </div>
      {deliveries.isPending && <Loading />}
      {deliveries.isError && <ErrorBox error={deliveries.error} />}
      {deliveries.isSuccess && deliveries.data.items.length === 0 && (
        <Empty
          title={status ? `No ${status} deliveries` : 'No deliveries yet'}
          action={status ? undefined : <span>Deliveries appear here as events happen. Send a test event to try the endpoint.</span>}
        />
      )}
      {deliveries.isSuccess && deliveries.data.items.length > 0 && (
        <HTMLTable compact className="mg-table mg-deliveries" aria-label="Deliveries">
          <thead>
            <tr>
              <th aria-label="Expand" />
              <th>Event type</th>
              <th>Event id</th>
              <th>Subscription</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Response</th>
              <th>Last attempt</th>
              <th>Next attempt</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.data.items.map((d) => (
              <DeliveryRow
                key={d.id}
                endpointId={id}
                d={d}
                open={open === d.id}
                onToggle={() => update({ delivery: open === d.id ? null : String(d.id) })}
                onRedelivered={refreshLog}
              />
            ))}
          </tbody>
        </HTMLTable>
      )}
      {deliveries.isSuccess && (
        <Pager offset={offset} limit={DELIVERY_PAGE} total={deliveries.data.total} onOffset={(o) => update({ offset: String(o), delivery: null })} />
      )}
    </div>
  );
}

const COLUMNS = 10;

function DeliveryRow(props: { endpointId: number; d: WebhookDelivery; open: boolean; onToggle: () => void; onRedelivered: () => void }) {
  const { endpointId, d, open, onToggle, onRedelivered } = props;
  const redeliver = useMutation({
    mutationFn: () => api.webhooks.redeliver(endpointId, d.id),
    onSuccess: onRedelivered,
  });
  const ok = d.response_status >= 200 && d.response_status < 300;
  return (
    <Fragment>
      <tr data-testid="delivery-row" className={open ? 'mg-expanded' : undefined} onClick={onToggle} aria-expanded={open}>
        <td>
          <Icon icon={open ? 'chevron-down' : 'chevron-right'} aria-label={open ? 'Collapse' : 'Expand'} />
        </td>
        <td>{d.event_type}</td>
        <td className="mg-ellipsis" title={d.event_id}>
          <code>{d.event_id}</code>
        </td>
        <td>
          {d.subscription_id ? (
            <Link to={`/subscriptions/${d.subscription_id}`} onClick={(e) => e.stopPropagation()}>
              #{d.subscription_id}
            </Link>
          ) : (
            '—'
          )}
        </td>
        <td>
          <Tag minimal intent={statusIntent[d.status] ?? 'none'} data-testid="delivery-status">
            {d.status}
          </Tag>
        </td>
        <td>{d.attempts}</td>
        <td data-testid="delivery-response">
          {d.response_status ? (
            <span className={ok ? undefined : 'mg-stat-danger'}>{d.response_status}</span>
          ) : d.error ? (
            <span className="mg-stat-danger">no response</span>
          ) : (
            '—'
          )}
        </td>
        <td>{d.last_attempt_at ? formatDate(d.last_attempt_at) : 'not yet'}</td>
        <td>{d.status === 'pending' ? formatDate(d.next_attempt_at) : '—'}</td>
        <td>
          <Button
            small
            minimal
            icon="repeat"
            text="Redeliver"
            title="Send this event again now, with the same webhook-id"
            loading={redeliver.isPending}
            onClick={(e) => {
              e.stopPropagation();
              redeliver.mutate();
            }}
          />
        </td>
      </tr>
      {redeliver.isError && (
        <tr className="mg-detail-row">
          <td colSpan={COLUMNS}>
            <ErrorBox error={redeliver.error} title="Not redelivered" />
          </td>
        </tr>
      )}
      {open && (
        <tr className="mg-detail-row">
          <td colSpan={COLUMNS}>
            <DeliveryDetail d={d} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}

function pretty(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return JSON.stringify(body, null, 2);
}

// DeliveryDetail: what was sent (headers and JSON body) and what came back.
export function DeliveryDetail({ d }: { d: WebhookDelivery }) {
  const headers = Object.entries(d.request?.headers ?? {});
  return (
    <div className="mg-delivery-detail" data-testid="delivery-detail">
      <div>
        <H6>Request</H6>
        {headers.length > 0 ? (
          <HTMLTable compact className="mg-table" aria-label="Request headers">
            <tbody>
              {headers.map(([k, v]) => (
                <tr key={k}>
                  <th style={{ width: 160 }}>{k}</th>
                  <td className="mg-wrap">
                    <code>{v}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </HTMLTable>
        ) : (
          <p className={Classes.TEXT_MUTED}>Not sent yet.</p>
        )}
        {d.request?.body !== undefined && d.request?.body !== null && (
          <pre className={Classes.CODE_BLOCK} data-testid="delivery-body">
            {pretty(d.request.body)}
          </pre>
        )}
      </div>
      <div>
        <H6>Response</H6>
        <dl className="mg-grid" style={{ gridTemplateColumns: '120px 1fr' }}>
          <dt>Status</dt>
          <dd data-testid="delivery-response-status">{d.response_status || (d.last_attempt_at ? 'no response' : 'not attempted yet')}</dd>
          <dt>Succeeded at</dt>
          <dd>{d.delivered_at ? formatDate(d.delivered_at) : '—'}</dd>
          <dt>Queued</dt>
          <dd>{formatDate(d.created_at)}</dd>
        </dl>
        {d.error && (
          <Callout intent="danger" title="Error" style={{ marginTop: 6 }} data-testid="delivery-error">
            {d.error}
          </Callout>
        )}
        {d.response_excerpt && (
          <>
            <div className={Classes.TEXT_MUTED} style={{ marginTop: 6 }}>
              Response body (first 2 KB)
            </div>
            <pre className={Classes.CODE_BLOCK} data-testid="delivery-excerpt">
              {d.response_excerpt}
            </pre>
          </>
        )}
      </div>
    </div>
  );
}
