// Users: the seller's staff and their roles (invite with a one-time link —
// the usual way —, or add with a one-time password; change role, deactivate
// and reactivate, issue a new one-time password), the staff invitations
// (pending, accepted, expired, revoked; revoke a pending one), and the
// customer admins of each organisation. Admins only. /users?q= filters the
// lists (e-mail, name, organisation).
import { useState } from 'react';
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
  InputGroup,
  Radio,
  RadioGroup,
  Tag,
} from '@blueprintjs/core';
import { api, queryKeys, ApiError, type Role, type User, type UserInvite } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { ADMINS, CopyButton, FilterText, RequireRole, fieldError, useMe, useUrlFilters } from '../../shared/components/common';

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

/** A one-time password to pass on: of a new user, or a new one of an existing user. */
type OneTime = { user: User; password: string; reset: boolean };

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
    mutationFn: () => api.users.create({ email: email.trim(), name: name.trim(), role }),
    onSuccess: onCreated,
  });
  return (
    <Dialog isOpen onClose={onClose} title="Add a seller user with a one-time password" style={{ width: 560 }}>
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
          <p className={Classes.TEXT_MUTED}>
            The account exists at once. Marketgate makes a one-time password and shows it once; they choose their own at first sign-in. To let them
            choose their password themselves, use “Invite user” instead.
          </p>
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

export type InviteState = 'pending' | 'accepted' | 'expired' | 'revoked';

/** Where an invitation stands: accepted and revoked are final; a pending one expires at expires_at. */
export function inviteState(i: UserInvite, now: Date = new Date()): InviteState {
  if (i.used_at) return 'accepted';
  if (i.revoked_at) return 'revoked';
  if (new Date(i.expires_at).getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

const STATE_INTENT: Record<InviteState, 'primary' | 'success' | 'warning' | 'none'> = {
  pending: 'primary',
  accepted: 'success',
  expired: 'warning',
  revoked: 'none',
};

const article = (role: SellerRole) => (role === 'viewer' ? 'a' : 'an');

/** The staff invitations (GET /api/users/invites, newest first), with Revoke for pending ones. */
function Invitations({ filter }: { filter: string }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: queryKeys.userInvites, queryFn: api.users.invites });
  const [revoking, setRevoking] = useState<UserInvite | null>(null);
  const [outcome, setOutcome] = useState<{ invite: UserInvite; error?: unknown } | null>(null);
  const revoke = useMutation({
    mutationFn: (i: UserInvite) => api.users.revokeInvite(i.id),
    onMutate: () => setOutcome(null),
    onSuccess: (r, i) => {
      setRevoking(null);
      setOutcome({ invite: { ...i, ...r.invite } });
      void qc.invalidateQueries({ queryKey: queryKeys.userInvites });
    },
    onError: (error, i) => {
      setRevoking(null);
      setOutcome({ invite: i, error });
      // Accepted meanwhile (409) or gone (404): show where it stands now.
      void qc.invalidateQueries({ queryKey: queryKeys.userInvites });
      void qc.invalidateQueries({ queryKey: queryKeys.users });
    },
  });
  const now = new Date();
  const items = q.data?.items ?? [];
  const shown = items.filter((i) => !filter || [i.email, i.name ?? ''].some((t) => t.toLowerCase().includes(filter)));
  const pending = items.filter((i) => inviteState(i, now) === 'pending').length;
  return (
    <section aria-label="Pending invitations" data-testid="invitations">
      <H5 style={{ marginTop: 20 }}>
        Pending invitations{' '}
        {q.isSuccess && (
          <Tag minimal round intent={pending > 0 ? 'primary' : 'none'} data-testid="pending-invites">
            {pending} pending
          </Tag>
        )}
      </H5>
      <p className={Classes.TEXT_MUTED}>
        An invitation link works once, for 7 days: with it they choose their name and password and join with the role you gave. Revoke a pending
        one to stop its link working.
      </p>
      {outcome &&
        (outcome.error ? (
          <div className="mg-once" data-testid="invite-refusal">
            <ErrorBox error={outcome.error} title={`Refused: ${outcome.invite.email} — revoke invitation`} />
          </div>
        ) : (
          <Callout intent="success" icon="tick" className="mg-once" role="status" data-testid="invite-updated">
            The invitation for {outcome.invite.email} is revoked: its link no longer works.
          </Callout>
        ))}
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <ErrorBox error={q.error} title="The invitations could not be loaded" />
      ) : items.length === 0 ? (
        <p className={Classes.TEXT_MUTED} data-testid="invites-empty">
          No invitations yet. “Invite user” makes a link to pass on.
        </p>
      ) : shown.length === 0 ? (
        <p className={Classes.TEXT_MUTED} data-testid="invites-empty">
          No invitation matches “{filter}”.
        </p>
      ) : (
        <DataTable
          label="Invitations"
          staticLook
          rows={shown}
          rowKey={(i) => i.id}
          rowProps={(i) => ({
            'data-testid': 'invite-row',
            className: outcome?.error && outcome.invite.id === i.id ? 'mg-row-selected' : inviteState(i, now) !== 'pending' ? 'mg-muted-row' : undefined,
          })}
          columns={[
            {
              id: 'email',
              header: 'E-mail',
              cell: (i) => (
                <>
                  {i.email}
                  {i.name && <span className={Classes.TEXT_MUTED}> — {i.name}</span>}
                </>
              ),
            },
            { id: 'role', header: 'Role', cellProps: (i) => ({ title: ROLE_HELP[i.role] }), cell: (i) => i.role },
            { id: 'by', header: 'Invited by', cell: (i) => i.created_by || '—' },
            { id: 'sent', header: 'Sent', cell: (i) => formatDate(i.created_at) },
            { id: 'expires', header: 'Expires', cell: (i) => formatDate(i.expires_at) },
            {
              id: 'state',
              header: 'State',
              cell: (i) => {
                const st = inviteState(i, now);
                const when = st === 'accepted' ? i.used_at : st === 'revoked' ? i.revoked_at : null;
                return (
                  <Tag minimal intent={STATE_INTENT[st]} data-testid="invite-state" title={when ? `${st} ${formatDate(when)} UTC` : undefined}>
                    {st}
                  </Tag>
                );
              },
            },
            {
              id: 'actions',
              header: '',
              className: 'mg-actions',
              cell: (i) =>
                inviteState(i, now) === 'pending' && (
                  <Button
                    small
                    minimal
                    icon="disable"
                    intent="danger"
                    text="Revoke…"
                    disabled={revoke.isPending}
                    onClick={() => {
                      setOutcome(null);
                      setRevoking(i);
                    }}
                  />
                ),
            },
          ]}
        />
      )}
      <ConfirmDialog
        isOpen={revoking !== null}
        icon="disable"
        intent="danger"
        confirmText="Revoke invitation"
        loading={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onCancel={() => setRevoking(null)}
      >
        {revoking && (
          <p data-testid="revoke-confirm-text">
            Revoke the invitation of <strong>{revoking.email}</strong> as {article(revoking.role)} {revoking.role}? Its link{' '}
            <strong>stops working at once</strong>: whoever opens it is told it no longer works. You can invite them again.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

/** Invite a seller user: e-mail, name and role; the answer's link is shown once, to copy and pass on. */
function InviteDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<SellerRole>('viewer');
  const create = useMutation({
    mutationFn: () =>
      api.users.invite({ email: email.trim(), ...(name.trim() ? { name: name.trim() } : {}), role }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.userInvites }),
  });
  const made = create.data;
  const message = create.error instanceof ApiError ? create.error.message : undefined;
  if (made) {
    const inv = made.invite;
    return (
      // The link is shown only here: a stray click or Escape must not lose it.
      <Dialog isOpen onClose={onClose} title={`Invitation for ${inv.email}`} style={{ width: 640 }} canOutsideClickClose={false} canEscapeKeyClose={false}>
        <DialogBody>
          <Callout intent="success" icon="envelope" title="Pass this link on — it is shown only now" data-testid="invite-link">
            <p>
              <code data-testid="invite-url" style={{ userSelect: 'all', wordBreak: 'break-all' }}>
                {made.url}
              </code>{' '}
              <CopyButton text={made.url} label="Copy link" />
            </p>
            <p data-testid="invite-link-note">
              It works <strong>once</strong>, for <strong>7 days</strong> (until {formatDate(inv.expires_at)} UTC). With it {inv.email} chooses a name
              and password and joins as {article(inv.role)} <strong>{inv.role}</strong>. Marketgate keeps only a hash: it cannot be shown again — if
              it is lost, revoke the invitation and invite them again.
            </p>
          </Callout>
        </DialogBody>
        <DialogFooter actions={<Button intent="primary" text="Done — I have passed it on" onClick={onClose} />} />
      </Dialog>
    );
  }
  return (
    <Dialog isOpen onClose={onClose} title="Invite a seller user" style={{ width: 560 }}>
      <form
        aria-label="Invite a seller user"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="E-mail" labelFor="invite-email" intent={fieldError(message, 'email') ? 'danger' : 'none'}>
            <InputGroup
              id="invite-email"
              type="email"
              value={email}
              onValueChange={setEmail}
              autoFocus
              intent={fieldError(message, 'email') ? 'danger' : 'none'}
            />
          </FormGroup>
          <FormGroup label="Name" labelInfo="(optional — they confirm it when they join)" labelFor="invite-name">
            <InputGroup id="invite-name" value={name} onValueChange={setName} maxLength={200} />
          </FormGroup>
          <FormGroup label="Role">
            <RadioGroup selectedValue={role} onChange={(e) => setRole(e.currentTarget.value as SellerRole)}>
              {(['viewer', 'operator', 'admin'] as const).map((r) => (
                <Radio key={r} value={r} label={`${r} — ${ROLE_HELP[r]}`} />
              ))}
            </RadioGroup>
          </FormGroup>
          <p className={Classes.TEXT_MUTED}>
            Marketgate makes a link for you to pass on, shown once. It works once, for 7 days: with it they choose their own password.
          </p>
          {create.isError && <ErrorBox error={create.error} title="Not invited" />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button type="submit" intent="primary" icon="envelope" text="Create invitation link" disabled={!email.trim()} loading={create.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
