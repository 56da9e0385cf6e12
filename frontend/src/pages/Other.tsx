import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Card, Drawer, DrawerSize, H4, H5, HTMLSelect, HTMLTable, InputGroup, Tag } from '@blueprintjs/core';
import { ApiKeys } from './ApiKeys';
import { PlanSeatsDialog, PlanSeatSummary } from './PlanSeats';
import { api, query, STATES, type Customer, type InboxMessage, type Offer, type Page, type Plan, type User } from '../api';
import { Empty, ErrorBox, Loading, Pager } from '../components';
import { formatDate, marketplaceName, stateIntent } from '../format';

export function DashboardPage() {
  const me = useQueryClient().getQueryData<{ user: User }>(['me']);
  const seller = me?.user.role !== 'customer_admin';
  const q = useQuery({
    queryKey: ['dashboard'],
    queryFn: () => api<{ by_state: { marketplace: string; state: string; count: number }[]; total: number; customers: number }>('/api/dashboard'),
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const count = (mp: string, st: string) => q.data.by_state.find((c) => c.marketplace === mp && c.state === st)?.count ?? 0;
  return (
    <div>
      <H4>Dashboard</H4>
      <div className="mg-cards">
        <Card>
          <div>Subscriptions</div>
          <H4>
            <Link to="/subscriptions">{q.data.total}</Link>
          </H4>
        </Card>
        {seller && (
          <Card>
            <div>Customers</div>
            <H4>
              <Link to="/customers">{q.data.customers}</Link>
            </H4>
          </Card>
        )}
      </div>
      <HTMLTable compact bordered aria-label="Subscriptions by state">
        <thead>
          <tr>
            <th>State</th>
            <th>AWS</th>
            <th>Microsoft</th>
          </tr>
        </thead>
        <tbody>
          {STATES.map((st) => (
            <tr key={st}>
              <td>
                <Tag minimal intent={stateIntent(st)}>
                  {st}
                </Tag>
              </td>
              {['aws', 'azure'].map((mp) => (
                <td key={mp}>
                  <Link to={`/subscriptions?marketplace=${mp}&state=${st}`}>{count(mp, st)}</Link>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </HTMLTable>
      <p style={{ marginTop: 12, opacity: 0.75 }}>Seat, metering and inbox health figures arrive with the features that produce them.</p>
    </div>
  );
}

export function CustomersPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const limit = 50;
  const list = useQuery({
    queryKey: ['customers', q, offset],
    queryFn: () => api<Page<Customer>>('/api/customers' + query({ q, offset, limit })),
    placeholderData: keepPreviousData,
  });
  return (
    <div>
      <H4>Customers</H4>
      <div className="mg-toolbar">
        <InputGroup leftIcon="search" placeholder="Search name, e-mail, account or tenant" defaultValue={q} style={{ width: 320 }}
          onKeyDown={(e) => e.key === 'Enter' && setParams(query({ q: e.currentTarget.value }).slice(1))} aria-label="Search customers" />
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.data && list.data.items.length === 0 && <Empty title="No customers" />}
      {list.data && list.data.items.length > 0 && (
        <HTMLTable compact striped className="mg-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>Name</th>
              <th>E-mail</th>
              <th>AWS account</th>
              <th>Entra tenant</th>
              <th>Subscriptions</th>
              <th>Admins</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((c) => (
              <tr key={c.id}>
                <td>{c.id}</td>
                <td>{c.name}</td>
                <td>{c.email}</td>
                <td>{c.aws_account_id || '—'}</td>
                <td>{c.azure_tenant_id || '—'}</td>
                <td>
                  <Link to={'/subscriptions?customer=' + c.id}>{c.subscriptions}</Link>
                </td>
                <td>
                  <Link to={`/customers/${c.id}/admins`}>admins &amp; invitations</Link>
                </td>
                <td>{formatDate(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {list.data && <Pager offset={offset} limit={limit} total={list.data.total} onOffset={(o) => setParams(query({ q, offset: o }).slice(1))} />}
    </div>
  );
}

export function OffersPage() {
  const me = useQueryClient().getQueryData<{ user: User }>(['me'])?.user;
  const admin = me?.role === 'admin';
  const [editing, setEditing] = useState<Plan | null>(null);
  const q = useQuery({ queryKey: ['offers'], queryFn: () => api<{ items: Offer[] }>('/api/offers') });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  return (
    <div>
      <H4>Offers &amp; plans</H4>
      <p style={{ opacity: 0.75 }}>
        Offers and plans come from the marketplaces&apos; listings.{admin ? ' Admins set the seat policies of each plan here; they decide what the seat check answers.' : ''}
      </p>
      {q.data.items.length === 0 && <Empty title="No offers yet" />}
      {q.data.items.map((o) => (
        <Card key={o.id} style={{ marginBottom: 12 }}>
          <H5>
            {o.name} <Tag minimal>{marketplaceName[o.marketplace]}</Tag> <code>{o.marketplace_id}</code>
            {o.identity_model && <Tag minimal style={{ marginLeft: 6 }}>{o.identity_model}</Tag>}
          </H5>
          <HTMLTable compact className="mg-table mg-static" aria-label={'Plans of ' + o.name}>
            <thead>
              <tr>
                <th>Plan id</th>
                <th>Name</th>
                <th>Metered dimensions</th>
                <th>Activation</th>
                <th>Seats</th>
                {admin && <th />}
              </tr>
            </thead>
            <tbody>
              {o.plans.map((p) => (
                <tr key={p.id} data-testid="plan-row">
                  <td>
                    <code>{p.plan_id}</code>
                  </td>
                  <td>{p.name}</td>
                  <td>{p.dimensions.map((d) => `${d.name} (${d.unit})`).join(', ') || '—'}</td>
                  <td>{p.activation_policy.replace('_', ' ')}</td>
                  <td className="mg-prose">
                    <PlanSeatSummary p={p} />
                  </td>
                  {admin && (
                    <td>
                      <Button small minimal icon="people" text="Seat policies…" onClick={() => setEditing(p)} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </HTMLTable>
        </Card>
      ))}
      {editing && <PlanSeatsDialog plan={editing} onClose={() => setEditing(null)} />}
    </div>
  );
}

export function UsersPage() {
  const q = useQuery({ queryKey: ['users'], queryFn: () => api<{ items: User[] }>('/api/users') });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  return (
    <div>
      <H4>Users</H4>
      <HTMLTable compact striped className="mg-table">
        <thead>
          <tr>
            <th>E-mail</th>
            <th>Name</th>
            <th>Role</th>
            <th>Customer</th>
            <th>Last sign-in</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {q.data.items.map((u) => (
            <tr key={u.id}>
              <td>{u.email}</td>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{u.customer_id ?? '—'}</td>
              <td>{formatDate(u.last_login_at)}</td>
              <td>{u.disabled ? 'disabled' : 'active'}</td>
            </tr>
          ))}
        </tbody>
      </HTMLTable>
    </div>
  );
}

export function NotificationsPage() {
  const [params, setParams] = useSearchParams();
  const marketplace = params.get('marketplace') ?? '';
  const status = params.get('status') ?? '';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const open = params.get('message') ? Number(params.get('message')) : null;
  const setOpen = (id: number | null) => {
    const next = new URLSearchParams(params);
    if (id === null) next.delete('message');
    else next.set('message', String(id));
    setParams(next);
  };
  const list = useQuery({
    queryKey: ['inbox', marketplace, status, offset],
    queryFn: () => api<Page<InboxMessage>>('/api/inbox' + query({ marketplace, status, offset, limit: 50 })),
    placeholderData: keepPreviousData,
  });
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    next.delete('offset');
    setParams(next);
  };
  return (
    <div>
      <H4>Notifications</H4>
      <div className="mg-toolbar">
        <HTMLSelect value={marketplace} onChange={(e) => set('marketplace', e.currentTarget.value)} aria-label="Marketplace">
          <option value="">All marketplaces</option>
          <option value="aws">AWS</option>
          <option value="azure">Microsoft</option>
        </HTMLSelect>
        <HTMLSelect value={status} onChange={(e) => set('status', e.currentTarget.value)} aria-label="Status">
          <option value="">Any status</option>
          {['received', 'processed', 'failed', 'ignored'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </HTMLSelect>
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.data && list.data.items.length === 0 && (
        <Empty title="No inbound messages yet" action={<span>Registrations, SQS notifications and webhooks appear here as the marketplaces send them.</span>} />
      )}
      {list.data && list.data.items.length > 0 && (
        <HTMLTable compact striped interactive className="mg-table">
          <thead>
            <tr>
              <th>Received</th>
              <th>Marketplace</th>
              <th>Source</th>
              <th>Action</th>
              <th>Status</th>
              <th>Subscription</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((m) => (
              <tr key={m.id} onClick={() => setOpen(m.id)}>
                <td>{formatDate(m.received_at)}</td>
                <td>{marketplaceName[m.marketplace] ?? m.marketplace}</td>
                <td>{m.source}</td>
                <td>{m.action}</td>
                <td>{m.status}</td>
                <td>{m.subscription_id ? <Link to={'/subscriptions/' + m.subscription_id}>{m.subscription_id}</Link> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {list.data && <Pager offset={offset} limit={50} total={list.data.total} onOffset={(o) => set('offset', String(o))} />}
      <Drawer isOpen={open !== null} onClose={() => setOpen(null)} title="Inbound message" size={DrawerSize.STANDARD}>
        {open !== null && <InboxDetail id={open} />}
      </Drawer>
    </div>
  );
}

function InboxDetail({ id }: { id: number }) {
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(['me']);
  const canReplay = me?.user.role === 'admin' || me?.user.role === 'operator';
  const q = useQuery({ queryKey: ['inbox-message', id], queryFn: () => api<{ message: InboxMessage }>('/api/inbox/' + id) });
  const replay = useMutation({
    mutationFn: () => api<{ message: InboxMessage }>(`/api/inbox/${id}/replay`, { method: 'POST' }),
    onSuccess: (res) => {
      qc.setQueryData(['inbox-message', id], res);
      void qc.invalidateQueries({ queryKey: ['inbox'] });
    },
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const m = q.data.message;
  let body = m.body ?? '';
  let decoded = false;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    // SNS double-encodes its Message: show it decoded as well.
    if (parsed && typeof parsed.Message === 'string') {
      try {
        parsed.Message = JSON.parse(parsed.Message) as unknown;
        decoded = true;
      } catch {
        // a plain string message
      }
    }
    body = JSON.stringify(parsed, null, 2);
  } catch {
    // not JSON: show it raw
  }
  return (
    <div style={{ padding: 12, overflow: 'auto' }}>
      <p>
        {m.source} · {m.action} · {m.status} · attempts {m.attempts}
      </p>
      {m.error && <Callout intent={m.status === 'ignored' ? 'none' : 'danger'} title={m.status === 'ignored' ? 'Why it was ignored' : 'Processing error'}>{m.error}</Callout>}
      {canReplay && m.source === 'aws_sqs' && (
        <p>
          <Button icon="refresh" text="Replay" loading={replay.isPending} onClick={() => replay.mutate()} />{' '}
          <span className="mg-error-id">Applies the message again; processing is idempotent, so a processed message changes nothing.</span>
        </p>
      )}
      {replay.isError && <ErrorBox error={replay.error} />}
      {m.subscription_id && (
        <p>
          <Link to={'/subscriptions/' + m.subscription_id}>Subscription #{m.subscription_id}</Link>
        </p>
      )}
      {decoded && <p className="mg-error-id">The SNS Message field is shown decoded; the stored body keeps it as a JSON string.</p>}
      <pre className="bp6-code-block" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
        {body}
      </pre>
    </div>
  );
}


interface SystemInfo {
  version: string;
  sandbox: boolean;
  database: string;
  base_url: string;
  aws: { configured: boolean; registration_url: string };
  microsoft: {
    configured: boolean;
    api_url?: string;
    tenant_id?: string;
    client_id?: string;
    landing_url?: string;
    webhook_url?: string;
    webhook_auth?: string;
  };
}

interface ReconcileReport {
  seen: number;
  repaired: number;
  failed: number;
  started_at: string;
  finished_at: string;
}

export function SettingsPage() {
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(['me']);
  const canWrite = me?.user.role === 'admin' || me?.user.role === 'operator';
  const q = useQuery({ queryKey: ['system'], queryFn: () => api<SystemInfo>('/api/system') });
  const reconcile = useMutation({
    mutationFn: () => api<{ report: ReconcileReport }>('/api/azure/reconcile', { method: 'POST' }),
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const ms = q.data.microsoft;
  return (
    <div>
      <H4>Settings</H4>
      <dl className="mg-grid">
        <dt>Version</dt>
        <dd>{q.data.version}</dd>
        <dt>Mode</dt>
        <dd>{q.data.sandbox ? 'sandbox (demo data, simulated marketplaces)' : 'production'}</dd>
        <dt>Database</dt>
        <dd>{q.data.database}</dd>
        <dt>Base URL</dt>
        <dd>{q.data.base_url}</dd>
      </dl>
      {me?.user.role === 'admin' && <ApiKeys />}
      <H5 style={{ marginTop: 16 }}>AWS Marketplace</H5>
      <dl className="mg-grid">
        <dt>Fulfillment URL</dt>
        <dd>
          <code>{q.data.aws.registration_url}</code>
        </dd>
      </dl>
      <H5 style={{ marginTop: 16 }}>Microsoft commercial marketplace</H5>
      {!ms.configured ? (
        <Callout icon="info-sign" style={{ maxWidth: 900 }}>
          Not connected. Set MARKETGATE_AZURE_TENANT_ID, MARKETGATE_AZURE_CLIENT_ID and MARKETGATE_AZURE_CLIENT_SECRET.
        </Callout>
      ) : (
        <>
          <dl className="mg-grid">
            <dt>Landing page URL</dt>
            <dd>
              <code>{ms.landing_url}</code>
            </dd>
            <dt>Connection webhook</dt>
            <dd>
              <code>{ms.webhook_url}</code>
            </dd>
            <dt>Webhook authentication</dt>
            <dd>{ms.webhook_auth}</dd>
            <dt>Tenant / app id</dt>
            <dd>
              {ms.tenant_id} / {ms.client_id}
            </dd>
            <dt>API</dt>
            <dd>{ms.api_url}</dd>
          </dl>
          {canWrite && (
            <p>
              <Button icon="refresh" text="Reconcile now" loading={reconcile.isPending} onClick={() => reconcile.mutate()} />
            </p>
          )}
          {reconcile.isError && <ErrorBox error={reconcile.error} />}
          {reconcile.isSuccess && (
            <Callout intent="success" style={{ maxWidth: 900 }} data-testid="reconcile-report">
              Compared {reconcile.data.report.seen} subscriptions with Microsoft, repaired {reconcile.data.report.repaired}
              {reconcile.data.report.failed > 0 && `, ${reconcile.data.report.failed} failed (see the server log)`}.
            </Callout>
          )}
        </>
      )}
    </div>
  );
}
