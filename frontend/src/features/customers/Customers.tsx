// Customers: the organisations that bought (/customers?q=&offset=&limit=)
// and one organisation with its subscriptions and customer admins
// (/customers/:id). Seller staff only.
import { useRef } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Classes, H4, H5, HTMLSelect, HTMLTable, Tag } from '@blueprintjs/core';
import { api, query, queryKeys, type CustomerDetail } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { formatDate, marketplaceName, stateIntent, STATES } from '../../shared/format';
import { FilterText, RequireRole, SELLER, useRowKeys, useUrlFilters } from '../../shared/components/common';
import { AdminsTable } from '../team/Team';

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
      <H4>Customers</H4>
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
        <HTMLTable compact striped interactive className="mg-table" aria-label="Customers" style={{ opacity: list.isPlaceholderData ? 0.6 : 1 }}>
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
            {items.map((c, i) => (
              <tr
                key={c.id}
                data-testid="customer-row"
                className={i === keys.selected ? 'mg-row-selected' : undefined}
                ref={i === keys.selected ? keys.rowRef : undefined}
                onClick={() => navigate('/customers/' + c.id)}
              >
                <td>{c.id}</td>
                <td>
                  <Link to={'/customers/' + c.id} onClick={(e) => e.stopPropagation()}>
                    {c.name}
                  </Link>
                </td>
                <td>{c.email || '—'}</td>
                <td>{c.aws_account_id || '—'}</td>
                <td>{c.azure_tenant_id || '—'}</td>
                <td>
                  <Link to={'/subscriptions?customer=' + c.id} onClick={(e) => e.stopPropagation()}>
                    {c.subscriptions}
                  </Link>
                </td>
                <td>
                  <Link to={`/customers/${c.id}/admins`} onClick={(e) => e.stopPropagation()}>
                    admins &amp; invitations
                  </Link>
                </td>
                <td>{formatDate(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {list.data && (
        <Pager offset={offset} limit={limit} total={list.data.total} onOffset={(o) => f.set({ offset: o || '' }, true)} onLimit={(l) => f.set({ limit: l === 50 ? '' : l })} />
      )}
    </div>
  );
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
  if (detail.isError) return <ErrorBox error={detail.error} title={`Customer #${id}`} />;
  const customer = detail.data.customer;
  const admins = org.data?.admins ?? [];
  const invites = org.data?.invites ?? [];
  const open = invites.filter((i) => !i.used_at && !i.revoked_at && new Date(i.expires_at) > new Date()).length;
  return (
    <div>
      <H4>
        <Link to="/customers">Customers</Link> / <span data-testid="customer-name">{customer.name}</span>
      </H4>
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
        <dt>Created</dt>
        <dd>{formatDate(customer.created_at)} UTC</dd>
        <dt>Updated</dt>
        <dd>{formatDate(customer.updated_at)} UTC</dd>
      </dl>

      <H5 style={{ marginTop: 16 }}>
        Subscriptions {subs.data && <Tag minimal round>{subs.data.total}</Tag>}
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
        <HTMLTable compact striped interactive className="mg-table" aria-label="Subscriptions of the customer">
          <thead>
            <tr>
              <th>ID</th>
              <th>Marketplace</th>
              <th>Offer</th>
              <th>Plan</th>
              <th>Qty</th>
              <th>State</th>
              <th>Created</th>
              <th>Term ends</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s, i) => (
              <tr
                key={s.id}
                data-testid="customer-subscription"
                className={i === keys.selected ? 'mg-row-selected' : undefined}
                ref={i === keys.selected ? keys.rowRef : undefined}
                onClick={() => navigate('/subscriptions/' + s.id)}
              >
                <td>
                  <Link to={'/subscriptions/' + s.id} onClick={(e) => e.stopPropagation()}>
                    {s.id}
                  </Link>
                </td>
                <td>{marketplaceName[s.marketplace] ?? s.marketplace}</td>
                <td>{s.offer?.name ?? '—'}</td>
                <td>{s.plan ? `${s.plan.name} (${s.plan.plan_id})` : '—'}</td>
                <td>{s.quantity}</td>
                <td>
                  <Tag minimal intent={stateIntent(s.state)}>
                    {s.state}
                  </Tag>
                </td>
                <td>{formatDate(s.created_at)}</td>
                <td>{formatDate(s.term_end)}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {subs.data && subs.data.total > limit && <Pager offset={offset} limit={limit} total={subs.data.total} onOffset={(o) => f.set({ offset: o || '' }, true)} />}

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
        <AdminsTable admins={admins} label="Customer admins" rowTestId="customer-admin" className="mg-table mg-static" />
      )}
    </div>
  );
}
