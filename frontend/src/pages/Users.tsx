// Users: the seller's staff and their roles (add with a one-time password,
// change role, deactivate and reactivate), and the customer admins of each
// organisation. Admins only. /users?q= filters the lists.
import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
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
  Radio,
  RadioGroup,
  Tag,
} from '@blueprintjs/core';
import { api, query, type CustomerAdmins, type Role, type User } from '../api';
import { ErrorBox, Loading } from '../components';
import { formatDate } from '../format';
import { ADMINS, CopyButton, FilterText, RequireRole, useMe, useUrlFilters } from './common';

type SellerRole = Exclude<Role, 'customer_admin'>;

export const ROLE_HELP: Record<SellerRole, string> = {
  admin: 'everything, including users, the audit log, API keys, webhooks and offers',
  operator: 'acts on subscriptions (activate, change plan or seats, unsubscribe), replays messages, manages customer admins and seats',
  viewer: 'reads everything seller staff see and changes nothing',
};

export function UsersPage() {
  return (
    <RequireRole roles={ADMINS} what="user management">
      <Users />
    </RequireRole>
  );
}

type Pending = { user: User; change: { role: SellerRole } | { disabled: boolean } } | null;

function Users() {
  const qc = useQueryClient();
  const me = useMe();
  const f = useUrlFilters();
  const filter = f.get('q').toLowerCase();
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<{ user: User; password: string } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [refusal, setRefusal] = useState<{ user: User; what: string; error: unknown } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const q = useQuery({ queryKey: ['users'], queryFn: () => api<{ items: User[] }>('/api/users') });
  const update = useMutation({
    mutationFn: (p: NonNullable<Pending>) => api<{ user: User }>('/api/users/' + p.user.id, { method: 'PATCH', body: p.change }),
    onMutate: () => {
      setRefusal(null);
      setDone(null);
    },
    onSuccess: (r, p) => {
      setPending(null);
      setDone(`${r.user.email}: ${describe(p.change)}.`);
      void qc.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (error, p) => {
      setPending(null);
      setRefusal({ user: p.user, what: describe(p.change), error });
    },
  });
  const users = q.data?.items ?? [];
  const match = (u: User) => !filter || u.email.toLowerCase().includes(filter) || u.name.toLowerCase().includes(filter);
  const staff = users.filter((u) => u.role !== 'customer_admin' && match(u));
  const customerAdmins = users.filter((u) => u.role === 'customer_admin' && match(u));
  const orgIds = [...new Set(customerAdmins.map((u) => u.customer_id).filter((id): id is number => id !== null))];
  // The organisations' names (GET /api/users gives only their ids).
  const orgs = useQueries({
    queries: orgIds.map((id) => ({
      queryKey: ['customer-admins', String(id)],
      queryFn: () => api<CustomerAdmins>('/api/customer-admins' + query({ customer_id: id })),
      staleTime: 60_000,
    })),
  });
  const orgName = (id: number) => orgs[orgIds.indexOf(id)]?.data?.customer.name;

  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const ask = (user: User, change: NonNullable<Pending>['change']) => {
    setRefusal(null);
    setPending({ user, change });
  };
  return (
    <div>
      <H4>Users</H4>
      <div className="mg-toolbar">
        <Button icon="new-person" intent="primary" text="Add user" onClick={() => setAdding(true)} />
        <FilterText value={f.get('q')} onCommit={(v) => f.set({ q: v })} label="Filter users" placeholder="e-mail or name" width={220} icon="search" />
      </div>
      {created && (
        <Callout intent="success" icon="key" title={`${created.user.email} can sign in with this one-time password — it is shown only once`} className="mg-once" data-testid="one-time-password-callout">
          <p>
            <code data-testid="one-time-password">{created.password}</code> <CopyButton text={created.password} label="Copy password" />
          </p>
          <p>
            Pass it on over a safe channel. It works for the first sign-in only: {created.user.email} must choose their own password at once. Marketgate
            keeps only a hash: it cannot be shown again.
          </p>
          <Button small text="Done — I have passed it on" onClick={() => setCreated(null)} />
        </Callout>
      )}
      {done && (
        <Callout intent="success" icon="tick" className="mg-once" role="status" data-testid="user-updated">
          {done}
        </Callout>
      )}
      {refusal && (
        <div className="mg-once" data-testid="user-refusal">
          <ErrorBox error={refusal.error} title={`Refused: ${refusal.user.email} — ${refusal.what}`} />
        </div>
      )}

      <H5>Seller staff</H5>
      <HTMLTable compact striped className="mg-table mg-static" aria-label="Seller staff">
        <thead>
          <tr>
            <th>E-mail</th>
            <th>Name</th>
            <th>Role</th>
            <th>Status</th>
            <th>Last sign-in</th>
            <th>Added</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {staff.map((u) => {
            const self = u.id === me?.id;
            return (
              <tr key={u.id} data-testid="user-row" className={u.disabled ? 'mg-muted-row' : refusal?.user.id === u.id ? 'mg-row-selected' : undefined}>
                <td>
                  {u.email} {self && <Tag minimal>you</Tag>}
                </td>
                <td>{u.name || '—'}</td>
                <td>
                  <HTMLSelect
                    minimal
                    value={u.role}
                    disabled={self || update.isPending}
                    aria-label={`Role of ${u.email}`}
                    title={self ? 'You cannot change your own role: ask another admin' : ROLE_HELP[u.role as SellerRole]}
                    onChange={(e) => ask(u, { role: e.currentTarget.value as SellerRole })}
                  >
                    {(['admin', 'operator', 'viewer'] as const).map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </HTMLSelect>
                </td>
                <td>
                  <UserStatus u={u} />
                </td>
                <td>{formatDate(u.last_login_at)}</td>
                <td>{formatDate(u.created_at)}</td>
                <td>
                  {self ? (
                    <span className={Classes.TEXT_MUTED}>your own account</span>
                  ) : u.disabled ? (
                    <Button small minimal icon="unlock" text="Reactivate…" onClick={() => ask(u, { disabled: false })} />
                  ) : (
                    <Button small minimal icon="disable" intent="danger" text="Deactivate…" onClick={() => ask(u, { disabled: true })} />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </HTMLTable>
      {staff.length === 0 && <p className={Classes.TEXT_MUTED}>No seller user matches “{filter}”.</p>}

      <H5 style={{ marginTop: 20 }}>Customer admins</H5>
      <p className={Classes.TEXT_MUTED}>
        Each sees only their own organisation&apos;s subscriptions and seats. They join by invitation from their organisation or sign in with Microsoft
        Entra; manage them on the organisation&apos;s admins page.
      </p>
      {orgIds.length === 0 && <p className={Classes.TEXT_MUTED}>{filter ? 'No customer admin matches.' : 'No customer admins yet.'}</p>}
      {orgIds.map((id) => (
        <div key={id} data-testid="customer-admin-group" style={{ marginBottom: 12 }}>
          <div className="mg-section">
            <Link to={'/customers/' + id}>{orgName(id) ?? `Customer #${id}`}</Link>{' '}
            <Link to={`/customers/${id}/admins`} className={Classes.TEXT_MUTED} style={{ fontWeight: 400 }}>
              admins &amp; invitations
            </Link>
          </div>
          <HTMLTable compact striped className="mg-table mg-static" aria-label={`Customer admins of ${orgName(id) ?? id}`} style={{ maxWidth: 1000 }}>
            <tbody>
              {customerAdmins
                .filter((u) => u.customer_id === id)
                .map((u) => (
                  <tr key={u.id} data-testid="customer-admin-row" className={u.disabled ? 'mg-muted-row' : undefined}>
                    <td style={{ width: 280 }}>{u.email}</td>
                    <td style={{ width: 200 }}>{u.name || '—'}</td>
                    <td style={{ width: 160 }}>
                      <UserStatus u={u} />
                    </td>
                    <td style={{ width: 160 }}>last sign-in {formatDate(u.last_login_at)}</td>
                    <td>
                      {u.disabled ? (
                        <Button small minimal icon="unlock" text="Reactivate…" onClick={() => ask(u, { disabled: false })} />
                      ) : (
                        <Button small minimal icon="disable" intent="danger" text="Deactivate…" onClick={() => ask(u, { disabled: true })} />
                      )}
                    </td>
                  </tr>
                ))}
            </tbody>
          </HTMLTable>
        </div>
      ))}

      {adding && (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onCreated={(r) => {
            setAdding(false);
            setDone(null);
            setRefusal(null);
            setCreated(r);
            void qc.invalidateQueries({ queryKey: ['users'] });
          }}
        />
      )}
      <Alert
        isOpen={pending !== null}
        icon={pending && 'disabled' in pending.change ? (pending.change.disabled ? 'disable' : 'unlock') : 'person'}
        intent={pending && 'disabled' in pending.change && pending.change.disabled ? 'danger' : 'primary'}
        confirmButtonText={pending ? confirmText(pending.change) : ''}
        cancelButtonText="Cancel"
        loading={update.isPending}
        onConfirm={() => pending && update.mutate(pending)}
        onCancel={() => setPending(null)}
      >
        {pending && <Consequence p={pending} />}
      </Alert>
    </div>
  );
}

function describe(change: NonNullable<Pending>['change']): string {
  if ('role' in change) return `role changed to ${change.role}`;
  return change.disabled ? 'deactivated and signed out' : 'reactivated';
}

function confirmText(change: NonNullable<Pending>['change']): string {
  if ('role' in change) return `Make ${change.role}`;
  return change.disabled ? 'Deactivate and sign out' : 'Reactivate';
}

function Consequence({ p }: { p: NonNullable<Pending> }) {
  const c = p.change;
  if ('role' in c)
    return (
      <p data-testid="confirm-text">
        Make <strong>{p.user.email}</strong> {c.role === 'viewer' ? 'a' : 'an'} <strong>{c.role}</strong>? {c.role === 'viewer' ? 'A' : 'An'} {c.role}{' '}
        {ROLE_HELP[c.role]}. It applies at once, to the sessions they have open too.
      </p>
    );
  return c.disabled ? (
    <p data-testid="confirm-text">
      Deactivate <strong>{p.user.email}</strong>? They are <strong>signed out at once</strong> — every session they have open ends — and cannot sign in
      again until an admin reactivates them.
    </p>
  ) : (
    <p data-testid="confirm-text">
      Reactivate <strong>{p.user.email}</strong>? They can sign in again with their password.
    </p>
  );
}

function UserStatus({ u }: { u: User }) {
  if (u.disabled) return <Tag minimal>deactivated</Tag>;
  if (u.must_change_password)
    return (
      <Tag minimal intent="warning" title="Signed in with a one-time password, or has not signed in yet">
        must change password
      </Tag>
    );
  return (
    <Tag minimal intent="success">
      active
    </Tag>
  );
}

function AddUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: { user: User; password: string }) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<SellerRole>('viewer');
  const create = useMutation({
    mutationFn: () => api<{ user: User; password: string }>('/api/users', { method: 'POST', body: { email: email.trim(), name: name.trim(), role } }),
    onSuccess: onCreated,
  });
  return (
    <Dialog isOpen onClose={onClose} title="Add a seller user" style={{ width: 560 }}>
      <form
        aria-label="Add a seller user"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="E-mail" labelFor="user-email">
            <InputGroup id="user-email" type="email" value={email} onValueChange={setEmail} autoFocus />
          </FormGroup>
          <FormGroup label="Name" labelFor="user-name">
            <InputGroup id="user-name" value={name} onValueChange={setName} maxLength={200} />
          </FormGroup>
          <FormGroup label="Role">
            <RadioGroup selectedValue={role} onChange={(e) => setRole(e.currentTarget.value as SellerRole)}>
              {(['viewer', 'operator', 'admin'] as const).map((r) => (
                <Radio key={r} value={r} label={`${r} — ${ROLE_HELP[r]}`} />
              ))}
            </RadioGroup>
          </FormGroup>
          <p className={Classes.TEXT_MUTED}>Marketgate makes a one-time password and shows it once; they choose their own at first sign-in.</p>
          {create.isError && <ErrorBox error={create.error} title="Not added" />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" text="Add user" disabled={!email.trim()} loading={create.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
