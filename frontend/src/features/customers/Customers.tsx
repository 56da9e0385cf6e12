// Customers: the organisations that bought (/customers?q=&offset=&limit=)
// and one organisation with its subscriptions and customer admins
// (/customers/:id). Seller staff only.
import { useRef } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Classes, H5, HTMLSelect, Tag } from '@blueprintjs/core';
import { api, query, queryKeys, type CustomerDetail } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate, marketplaceName, stateIntent, STATES } from '../../shared/format';
import { FilterText, RequireRole, SELLER, useRowKeys, useUrlFilters } from '../../shared/components/common';
import { AdminsTable } from '../team/Team';
import { ConsentSummary } from '../consent/ConsentSummary';
import { PageTitle } from '../../shared/components/PageTitle';

export function CustomersPage() {
  return (
    <RequireRole roles={SELLER} what="the customer list">
      <CustomerList />
    </RequireRole>
  );
}

export function CustomerPage() {
  const { id } = useParams();
  return (
    <RequireRole roles={SELLER} what="this customer">
      <CustomerDetail id={Number(id)} />
    </RequireRole>
  );
}

function CustomerList() {
  const f = useUrlFilters();
  const navigate = useNavigate();
  const search = useRef<HTMLInputElement>(null);
  const q = f.get('q');
  const offset = f.num('offset', 0);
  const limit = f.num('limit', 50);
  const list = useQuery({
    queryKey: queryKeys.customers.list(q, offset, limit),
    queryFn: () => api.customers.list({ q, offset: offset || undefined, limit }),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.items ?? [];
  const keys = useRowKeys(items.length, (i) => navigate('/customers/' + items[i].id), search);
  return (
    <div>
      <PageTitle title="Customers" />
      <div className="mg-toolbar" role="search">
        <FilterText
          value={q}
          onCommit={(v) => f.set({ q: v })}
          label="Search customers"
          placeholder="name, e-mail, AWS account or tenant  ( / )"
          width={340}
          icon="search"
          inputRef={search}
        />
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.isSuccess && items.length === 0 && <Empty title={q ? `No customer matches “${q}”` : 'No customers yet'} />}
      {items.length > 0 && (
        <DataTable
          label="Customers"
          rows={items}
          rowKey={(c) => c.id}
          interactive
          style={{ opacity: list.isPlaceholderData ? 0.6 : 1 }}
          activeIndex={keys.selected}
          onRowOpen={(c) => navigate('/customers/' + c.id)}
          openOnClick
          rowProps={(_, i) => ({ 'data-testid': 'customer-row', ref: i === keys.selected ? keys.rowRef : undefined })}
          columns={[
            { id: 'id', header: 'ID', cell: (c) => c.id },
            { id: 'name', header: 'Name', cell: (c) => <Link to={'/customers/' + c.id}>{c.name}</Link> },
            { id: 'email', header: 'E-mail', cell: (c) => c.email || '—' },
            { id: 'aws', header: 'AWS account', cell: (c) => c.aws_account_id || '—' },
            { id: 'tenant', header: 'Entra tenant', cell: (c) => c.azure_tenant_id || '—' },
            { id: 'subscriptions', header: 'Subscriptions', cell: (c) => <Link to={'/subscriptions?customer=' + c.id}>{c.subscriptions}</Link> },
            { id: 'admins', header: 'Admins', cell: (c) => <Link to={`/customers/${c.id}/admins`}>admins &amp; invitations</Link> },
            { id: 'created', header: 'Created', cell: (c) => formatDate(c.created_at) },
          ]}
        />
      )}
      {list.data && (
        <Pager offset={offset} limit={limit} total={list.data.total} onOffset={(o) => f.set({ offset: o || '' }, true)} onLimit={(l) => f.set({ limit: l === 50 ? '' : l })} />
      )}
    </div>
  );
}

/** A contact the customer's admins keep in their portal: name, e-mail, phone. */
function contactLine(c: { name: string; email: string; phone: string }): string {
  return [c.name, c.email, c.phone].filter(Boolean).join(' · ') || '—';
}

function CustomerDetail({ id }: { id: number }) {
  const navigate = useNavigate();
  const f = useUrlFilters();
  const state = f.get('state');
  const offset = f.num('offset', 0);
  const limit = 50;
  // The organisation with its counts; its admins and invitations come from their own page's API.
  const detail = useQuery({
    queryKey: queryKeys.customers.detail(id),
    queryFn: () => api.customers.get(id),
  });
  const org = useQuery({
    queryKey: queryKeys.customerAdmins(id),
    queryFn: () => api.customerAdmins.list(id),
  });
  const subs = useQuery({
    queryKey: queryKeys.subscriptions.ofCustomer(id, state, offset),
    queryFn: () => api.subscriptions.list({ customer: id, state, sort: '-created_at', limit, offset: offset || undefined }),
    placeholderData: keepPreviousData,
  });
  const items = subs.data?.items ?? [];
  const keys = useRowKeys(items.length, (i) => navigate('/subscriptions/' + items[i].id));
  if (detail.isPending) return <Loading />;
  if (detail.isError && detail.data === undefined) return <ErrorBox error={detail.error} title={`Customer #${id}`} />;
  const customer = detail.data.customer;
  const admins = org.data?.admins ?? [];
  const invites = org.data?.invites ?? [];
  const open = invites.filter((i) => !i.used_at && !i.revoked_at && new Date(i.expires_at) > new Date()).length;
  return (
    <div>
      <PageTitle title={customer.name + ' · Customers'}>
        <Link to="/customers">Customers</Link> / <span data-testid="customer-name">{customer.name}</span>
      </PageTitle>
      <dl className="mg-grid" aria-label="Customer" data-testid="customer-header">
        <dt>Customer id</dt>
        <dd>{customer.id}</dd>
        <dt>E-mail</dt>
        <dd data-testid="customer-email">{customer.email || '—'}</dd>
        <dt>AWS account</dt>
        <dd>{customer.aws_account_id || '—'}</dd>
        <dt>Entra tenant</dt>
        <dd>{customer.azure_tenant_id || '—'}</dd>
        <dt>Subscriptions</dt>
        <dd>
          <Link to={'/subscriptions' + query({ customer: id })} data-testid="customer-subscriptions">
            {customer.subscriptions}
          </Link>
          {' · '}
          <Link to={'/subscriptions' + query({ customer: id, state: 'active,unsubscribe_pending' })} data-testid="customer-active" title="Active or unsubscribe pending">
            {customer.active_subscriptions} active
          </Link>
        </dd>
        <dt>Customer admins</dt>
        <dd>
          <Link to={`/customers/${id}/admins`} data-testid="customer-admins-count">
            {customer.admins}
          </Link>
        </dd>
        <dt>Billing contact</dt>
        <dd data-testid="customer-billing-contact">{contactLine(customer.billing_contact)}</dd>
        <dt>Technical contact</dt>
        <dd data-testid="customer-technical-contact">{contactLine(customer.technical_contact)}</dd>
        <dt>Created</dt>
        <dd>{formatDate(customer.created_at)} UTC</dd>
        <dt>Updated</dt>
        <dd>{formatDate(customer.updated_at)} UTC</dd>
      </dl>
      {detail.data.consent && <ConsentSummary consent={detail.data.consent} title="Microsoft tenant's admin consent" />}

      <H5 style={{ marginTop: 16 }}>
        Subscriptions {subs.data && <Tag minimal round>{subs.data.total}{subs.data.total_capped ? '+' : ''}</Tag>}
      </H5>
      <div className="mg-toolbar">
        <HTMLSelect value={state} onChange={(e) => f.set({ state: e.currentTarget.value })} aria-label="State">
          <option value="">Any state</option>
          {STATES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </HTMLSelect>
        <Link to={'/subscriptions' + query({ customer: id, state })}>Open in the subscriptions list</Link>
      </div>
      {subs.isError && <ErrorBox error={subs.error} />}
      {subs.isPending && <Loading />}
      {subs.isSuccess && items.length === 0 && <p className={Classes.TEXT_MUTED}>{state ? `No ${state} subscriptions.` : 'No subscriptions.'}</p>}
      {items.length > 0 && (
        <DataTable
          label="Subscriptions of the customer"
          rows={items}
          rowKey={(s) => s.id}
          interactive
          activeIndex={keys.selected}
          onRowOpen={(s) => navigate('/subscriptions/' + s.id)}
          openOnClick
          rowProps={(_, i) => ({ 'data-testid': 'customer-subscription', ref: i === keys.selected ? keys.rowRef : undefined })}
          columns={[
            { id: 'id', header: 'ID', cell: (s) => <Link to={'/subscriptions/' + s.id}>{s.id}</Link> },
            { id: 'marketplace', header: 'Marketplace', cell: (s) => marketplaceName[s.marketplace] ?? s.marketplace },
            { id: 'offer', header: 'Offer', cell: (s) => s.offer?.name ?? '—' },
            { id: 'plan', header: 'Plan', cell: (s) => (s.plan ? `${s.plan.name} (${s.plan.plan_id})` : '—') },
            { id: 'qty', header: 'Qty', cell: (s) => s.quantity },
            {
              id: 'state',
              header: 'State',
              cell: (s) => (
                <Tag minimal intent={stateIntent(s.state)}>
                  {s.state}
                </Tag>
              ),
            },
            { id: 'created', header: 'Created', cell: (s) => formatDate(s.created_at) },
            { id: 'term_end', header: 'Term ends', cell: (s) => formatDate(s.term_end) },
          ]}
        />
      )}
      {subs.data && (subs.data.total > limit || subs.data.total_capped) && <Pager offset={offset} limit={limit} total={subs.data.total} more={subs.data.total_capped} onOffset={(o) => f.set({ offset: o || '' }, true)} />}

      <H5 style={{ marginTop: 16 }}>
        Customer admins <Tag minimal round>{customer.admins}</Tag>
      </H5>
      <p>
        <Button icon="people" text="Manage admins & invitations" onClick={() => navigate(`/customers/${id}/admins`)} />{' '}
        <span className={Classes.TEXT_MUTED}>
          {open > 0 ? `${open} open ${open === 1 ? 'invitation' : 'invitations'}. ` : ''}Customer admins see this organisation&apos;s subscriptions and
          assign its seats.
        </span>
      </p>
      {org.isError && <ErrorBox error={org.error} title="The customer admins could not be loaded" />}
      {org.isPending && <Loading />}
      {org.isSuccess && admins.length === 0 ? (
        <p className={Classes.TEXT_MUTED}>No customer admins yet: invite one from the admins page.</p>
      ) : admins.length === 0 ? null : (
        <AdminsTable admins={admins} label="Customer admins" rowTestId="customer-admin" staticLook />
      )}
    </div>
  );
}
