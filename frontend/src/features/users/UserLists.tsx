// The parts of the users page: the one-time password shown once, the seller
// staff's columns, the customer admins by organisation, and what a new
// one-time password does.
import { Link } from 'react-router';
import type { UseMutationResult } from '@tanstack/react-query';
import { Button, Callout, Classes, HTMLSelect, Tag } from '@blueprintjs/core';
import type { Me, User } from '../../shared/api';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { CopyButton } from '../../shared/components/common';
import { formatDate } from '../../shared/format';
import { type SellerRole, ROLE_HELP, type Pending, type OneTime, UserStatus } from './UserParts';

type Ask = (user: User, change: NonNullable<Pending>['change']) => void;

/** A new account's or a reset's one-time password, shown once. */
export function OneTimePasswordCallout({ created, onDone }: { created: OneTime; onDone: () => void }) {
  return (
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
      <Button small text="Done — I have passed it on" onClick={onDone} />
    </Callout>
  );
}

/** The seller staff list's columns. */
export function staffColumns(p: {
  me: Me | undefined;
  ask: Ask;
  resetButton: (u: User) => React.ReactNode;
  updating: boolean;
  resetTwoFactor: UseMutationResult<unknown, Error, User>;
}): Column<User>[] {
  const { me, ask, resetButton, resetTwoFactor } = p;
  return [
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
            disabled={self || p.updating}
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
  ];
}

/** The customer admins, grouped by organisation. */
export function CustomerAdminGroups(p: {
  orgIds: number[];
  orgName: (id: number) => string | undefined;
  admins: User[];
  me: Me | undefined;
  ask: Ask;
  resetButton: (u: User) => React.ReactNode;
}) {
  const { orgIds, orgName, admins: customerAdmins, me, ask, resetButton } = p;
  return (
    <>
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
    </>
  );
}

/** What a new one-time password does, asked before it is issued. */
export function ResetConfirmText({ user }: { user: User }) {
  return (
    <div data-testid="reset-confirm-text">
      <p>
        Give <strong>{user.email}</strong> a new one-time password? Their current password stops working and they are{' '}
        <strong>signed out everywhere</strong> — every session they have open ends.
      </p>
      <p>
        They <strong>must change it at their first sign-in</strong> with it. You see it once, next, to pass on over a safe channel.
        {user.disabled ? ' The account stays deactivated until an admin reactivates it.' : ''}
      </p>
    </div>
  );
}
