// Users: the seller's staff and their roles (invite with a one-time link —
// the usual way —, or add with a one-time password; change role, deactivate
// and reactivate, issue a new one-time password), the staff invitations
// (pending, accepted, expired, revoked; revoke a pending one), and the
// customer admins of each organisation. Admins only. /users?q= filters the
// lists (e-mail, name, organisation).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5 } from '@blueprintjs/core';
import { api, queryKeys, type User } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { ADMINS, FilterText, RequireRole, useMe, useUrlFilters } from '../../shared/components/common';
import { type Pending, type OneTime, describe, confirmText, Consequence, AddUserDialog } from './UserParts';
import { Invitations } from './UserInvitations';
import { InviteDialog } from './InviteDialog';
import { CustomerAdminGroups, OneTimePasswordCallout, ResetConfirmText, staffColumns } from './UserLists';
import { PageTitle } from '../../shared/components/PageTitle';
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
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
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
      <PageTitle title="Users" />
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
      {created && <OneTimePasswordCallout created={created} onDone={() => setCreated(null)} />}
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
        columns={staffColumns({ me, ask, resetButton, updating: update.isPending, resetTwoFactor })}
      />
      {staff.length === 0 && <p className={Classes.TEXT_MUTED}>No seller user matches “{filter}”.</p>}

      <Invitations filter={filter} />

      <H5 style={{ marginTop: 20 }}>Customer admins</H5>
      <p className={Classes.TEXT_MUTED}>
        Each sees only their own organisation&apos;s subscriptions and seats. They join by invitation from their organisation or sign in with Microsoft
        Entra; manage them on the organisation&apos;s admins page.
      </p>
      {orgIds.length === 0 && <p className={Classes.TEXT_MUTED}>{filter ? 'No customer admin matches.' : 'No customer admins yet.'}</p>}
      <CustomerAdminGroups orgIds={orgIds} orgName={orgName} admins={customerAdmins} me={me} ask={ask} resetButton={resetButton} />

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
        {resetting && <ResetConfirmText user={resetting} />}
      </ConfirmDialog>
    </div>
  );
}
