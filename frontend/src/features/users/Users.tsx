// Users: the seller's staff and their roles (invite with a one-time link —
// the usual way —, or add with a one-time password; change role, deactivate
// and reactivate, issue a new one-time password), the staff invitations
// (pending, accepted, expired, revoked; revoke a pending one), and the
// customer admins of each organisation. Admins only. /users?q= filters the
// lists (e-mail, name, organisation).
import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H4, H5, HTMLSelect, Tag } from '@blueprintjs/core';
import { api, queryKeys, type User } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { ADMINS, CopyButton, FilterText, RequireRole, useMe, useUrlFilters } from '../../shared/components/common';
import { type SellerRole, ROLE_HELP, type Pending, type OneTime, describe, confirmText, Consequence, UserStatus, AddUserDialog } from './UserParts';
import { Invitations } from './UserInvitations';
import { InviteDialog } from './InviteDialog';
export { inviteState, type InviteState } from './UserInvitations';

export function UsersPage() {
  return (
    <RequireRole roles={ADMINS} what="user management">
      <Users />
    </RequireRole>
  );
}

function Users() {
  const qc = useQueryClient();
  const me = useMe();
  const f = useUrlFilters();
  const filter = f.get('q').toLowerCase();
  const [adding, setAdding] = useState(false);
  const [inviting, setInviting] = useState(false);
  const [created, setCreated] = useState<OneTime | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const [refusal, setRefusal] = useState<{ user: User; what: string; error: unknown } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const q = useQuery({ queryKey: queryKeys.users, queryFn: api.users.list });
  const update = useMutation({
    mutationFn: (p: NonNullable<Pending>) => api.users.update(p.user.id, p.change),
    onMutate: () => {
      setRefusal(null);
      setDone(null);
    },
    onSuccess: (r, p) => {
      setPending(null);
      setDone(`${r.user.email}: ${describe(p.change)}.`);
      void qc.invalidateQueries({ queryKey: queryKeys.users });
    },
    onError: (error, p) => {
      setPending(null);
      setRefusal({ user: p.user, what: describe(p.change), error });
    },
  });
  // A new one-time password: the old one stops working and every session ends (POST /api/users/:id/reset-password).
  const reset = useMutation({
    mutationFn: (u: User) => api.users.resetPassword(u.id),
    onMutate: () => {
      setRefusal(null);
      setDone(null);
      setCreated(null);
    },
    onSuccess: (r, u) => {
      setResetting(null);
      // The list has the user's name and organisation; the answer has the new password.
      setCreated({ user: { ...u, ...r.user }, password: r.password, reset: true });
      void qc.invalidateQueries({ queryKey: queryKeys.users });
    },
    onError: (error, u) => {
      setResetting(null);
      setRefusal({ user: u, what: 'new one-time password', error });
    },
  });
  // Two-factor reset for someone who lost the phone and the recovery codes (POST /api/users/:id/reset-2fa).
  const resetTwoFactor = useMutation({
    mutationFn: (u: User) => api.users.resetTwoFactor(u.id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.users }),
    onError: (error, u) => setRefusal({ user: u, what: 'two-factor reset', error }),
  });
  const users = q.data?.items ?? [];
  const match = (u: User) =>
    !filter || [u.email, u.name, u.customer_name ?? ''].some((t) => t.toLowerCase().includes(filter));
  const staff = users.filter((u) => u.role !== 'customer_admin' && match(u));
  const customerAdmins = users.filter((u) => u.role === 'customer_admin' && match(u));
  const orgIds = [...new Set(customerAdmins.map((u) => u.customer_id).filter((id): id is number => id !== null))];
  // GET /api/users names each customer admin's organisation.
  const orgName = (id: number) => customerAdmins.find((u) => u.customer_id === id && u.customer_name)?.customer_name;

  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const ask = (user: User, change: NonNullable<Pending>['change']) => {
    setRefusal(null);
    setPending({ user, change });
  };
  const askReset = (user: User) => {
    setRefusal(null);
    setResetting(user);
  };
  const resetButton = (u: User) => (
    <Button small minimal icon="key" text="New one-time password…" onClick={() => askReset(u)} disabled={reset.isPending} />
  );
  return (
    <div>
      <H4>Users</H4>
      <div className="mg-toolbar">
        <Button icon="envelope" intent="primary" text="Invite user" onClick={() => setInviting(true)} />
        <Button
          small
          minimal
          icon="key"
          text="Add with a one-time password…"
          title="Create the account now with a one-time password you pass on yourself (when an invitation link cannot be sent)"
          onClick={() => setAdding(true)}
        />
        <FilterText
          value={f.get('q')}
          onCommit={(v) => f.set({ q: v })}
          label="Filter users"
          placeholder="e-mail, name or organisation"
          width={240}
          icon="search"
        />
      </div>
      {created && (
        <Callout
          intent="success"
          icon="key"
          title={
            created.reset
              ? `${created.user.email} has a new one-time password — it is shown only once`
              : `${created.user.email} can sign in with this one-time password — it is shown only once`
          }
          className="mg-once"
          data-testid="one-time-password-callout"
        >
          <p>
            <code data-testid="one-time-password">{created.password}</code> <CopyButton text={created.password} label="Copy password" />
          </p>
          {created.reset ? (
            <p>
              Pass it on over a safe channel. Their previous password no longer works and they were signed out everywhere. It works for the next
              sign-in only: {created.user.email} must choose their own password at once.
              {created.user.disabled ? ' The account stays deactivated until an admin reactivates it.' : ''} Marketgate keeps only a hash: it
              cannot be shown again.
            </p>
          ) : (
            <p>
              Pass it on over a safe channel. It works for the first sign-in only: {created.user.email} must choose their own password at once.
              Marketgate keeps only a hash: it cannot be shown again.
            </p>
          )}
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
      <DataTable
        label="Seller staff"
        staticLook
        rows={staff}
        rowKey={(u) => u.id}
        rowProps={(u) => ({ 'data-testid': 'user-row', className: u.disabled ? 'mg-muted-row' : refusal?.user.id === u.id ? 'mg-row-selected' : undefined })}
        columns={[
          {
            id: 'email',
            header: 'E-mail',
            cell: (u) => (
              <>
                {u.email} {u.id === me?.id && <Tag minimal>you</Tag>}
              </>
            ),
          },
          { id: 'name', header: 'Name', cell: (u) => u.name || '—' },
          {
            id: 'role',
            header: 'Role',
            className: 'mg-role',
            cell: (u) => {
              const self = u.id === me?.id;
              return (
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
              );
            },
          },
          {
            id: 'status',
            header: 'Status',
            cell: (u) => (
              <>
                <UserStatus u={u} />{' '}
                {u.sso && (
                  <Tag minimal title="Signs in with the company's identity provider">
                    SSO
                  </Tag>
                )}
                {u.two_factor_enabled && (
                  <Tag minimal intent="success" title="Two-factor authentication is on">
                    2FA
                  </Tag>
                )}
              </>
            ),
          },
          { id: 'last_login', header: 'Last sign-in', cell: (u) => formatDate(u.last_login_at) },
          { id: 'created', header: 'Added', cell: (u) => formatDate(u.created_at) },
          {
            id: 'actions',
            header: '',
            className: 'mg-actions',
            cell: (u) =>
              u.id === me?.id ? (
                <span className={Classes.TEXT_MUTED} title="Change your own password with your current one">
                  your own account
                </span>
              ) : (
                <>
                  {u.disabled ? (
                    <Button small minimal icon="unlock" text="Reactivate…" onClick={() => ask(u, { disabled: false })} />
                  ) : (
                    <Button small minimal icon="disable" intent="danger" text="Deactivate…" onClick={() => ask(u, { disabled: true })} />
                  )}
                  {resetButton(u)}
                  {u.two_factor_enabled && (
                    <Button
                      small
                      minimal
                      icon="mobile-phone"
                      text="Reset 2FA"
                      title="Turns two-factor authentication off and ends the user's sessions (lost phone and recovery codes)"
                      loading={resetTwoFactor.isPending && resetTwoFactor.variables?.id === u.id}
                      onClick={() => resetTwoFactor.mutate(u)}
                      data-testid="reset-2fa"
                    />
                  )}
                </>
              ),
          },
        ]}
      />
      {staff.length === 0 && <p className={Classes.TEXT_MUTED}>No seller user matches “{filter}”.</p>}

      <Invitations filter={filter} />

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
          <DataTable
            label={`Customer admins of ${orgName(id) ?? id}`}
            header={false}
            staticLook
            style={{ maxWidth: 1000 }}
            rows={customerAdmins.filter((u) => u.customer_id === id)}
            rowKey={(u) => u.id}
            rowProps={(u) => ({ 'data-testid': 'customer-admin-row', className: u.disabled ? 'mg-muted-row' : undefined })}
            columns={[
              { id: 'email', header: 'E-mail', style: { width: 280 }, cell: (u) => u.email },
              { id: 'name', header: 'Name', style: { width: 200 }, cell: (u) => u.name || '—' },
              { id: 'status', header: 'Status', style: { width: 160 }, cell: (u) => <UserStatus u={u} /> },
              { id: 'last_login', header: 'Last sign-in', style: { width: 160 }, cell: (u) => `last sign-in ${formatDate(u.last_login_at)}` },
              {
                id: 'actions',
                header: '',
                className: 'mg-actions',
                cell: (u) => (
                  <>
                    {u.disabled ? (
                      <Button small minimal icon="unlock" text="Reactivate…" onClick={() => ask(u, { disabled: false })} />
                    ) : (
                      <Button small minimal icon="disable" intent="danger" text="Deactivate…" onClick={() => ask(u, { disabled: true })} />
                    )}
                    {u.id !== me?.id && resetButton(u)}
                  </>
                ),
              },
            ]}
          />
        </div>
      ))}

      {inviting && <InviteDialog onClose={() => setInviting(false)} />}
      {adding && (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onCreated={(r) => {
            setAdding(false);
            setDone(null);
            setRefusal(null);
            setCreated({ ...r, reset: false });
            void qc.invalidateQueries({ queryKey: queryKeys.users });
          }}
        />
      )}
      <ConfirmDialog
        isOpen={pending !== null}
        icon={pending && 'disabled' in pending.change ? (pending.change.disabled ? 'disable' : 'unlock') : 'person'}
        intent={pending && 'disabled' in pending.change && pending.change.disabled ? 'danger' : 'primary'}
        confirmText={pending ? confirmText(pending.change) : ''}
        loading={update.isPending}
        onConfirm={() => pending && update.mutate(pending)}
        onCancel={() => setPending(null)}
      >
        {pending && <Consequence p={pending} />}
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={resetting !== null}
        icon="key"
        intent="warning"
        confirmText="Sign out and issue a new password"
        loading={reset.isPending}
        onConfirm={() => resetting && reset.mutate(resetting)}
        onCancel={() => setResetting(null)}
      >
        {resetting && (
          <div data-testid="reset-confirm-text">
            <p>
              Give <strong>{resetting.email}</strong> a new one-time password? Their current password stops working and they are{' '}
              <strong>signed out everywhere</strong> — every session they have open ends.
            </p>
            <p>
              They <strong>must change it at their first sign-in</strong> with it. You see it once, next, to pass on over a safe channel.
              {resetting.disabled ? ' The account stays deactivated until an admin reactivates it.' : ''}
            </p>
          </div>
        )}
      </ConfirmDialog>
    </div>
  );
}
