import { useMutation } from '@tanstack/react-query';
import { Tag } from '@blueprintjs/core';
import { api, type Role, type User } from '../../shared/api';
import { SellerUserForm, type SellerUserInput } from './SellerUserForm';

export type SellerRole = Exclude<Role, 'customer_admin'>;

export const ROLE_HELP: Record<SellerRole, string> = {
  admin: 'everything, including users, the audit log, API keys, webhooks and offers',
  operator: 'acts on subscriptions (activate, change plan or seats, unsubscribe), replays messages, manages customer admins and seats',
  viewer: 'reads everything seller staff see and changes nothing',
};

/** The article before a role's name ("a viewer", "an operator"). */
export const article = (role: SellerRole) => (role === 'viewer' ? 'a' : 'an');

export type Pending = { user: User; change: { role: SellerRole } | { disabled: boolean } } | null;

/** A one-time password to pass on: of a new user, or a new one of an existing user. */
export type OneTime = { user: User; password: string; reset: boolean };

export function describe(change: NonNullable<Pending>['change']): string {
  if ('role' in change) return `role changed to ${change.role}`;
  return change.disabled ? 'deactivated and signed out' : 'reactivated';
}

export function confirmText(change: NonNullable<Pending>['change']): string {
  if ('role' in change) return `Make ${change.role}`;
  return change.disabled ? 'Deactivate and sign out' : 'Reactivate';
}

export function Consequence({ p }: { p: NonNullable<Pending> }) {
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

export function UserStatus({ u }: { u: User }) {
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

export function AddUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: { user: User; password: string }) => void }) {
  const create = useMutation({
    mutationFn: (input: SellerUserInput) => api.users.create(input),
    onSuccess: onCreated,
  });
  return (
    <SellerUserForm
      title="Add a seller user with a one-time password"
      formLabel="Add a seller user"
      idPrefix="user"
      note={
        <>
          The account exists at once. Marketgate makes a one-time password and shows it once; they choose their own at first sign-in. To let them choose
          their password themselves, use “Invite user” instead.
        </>
      }
      submitText="Add user"
      errorTitle="Not added"
      error={create.isError ? create.error : null}
      pending={create.isPending}
      onSubmit={(input) => create.mutate(input)}
      onClose={onClose}
    />
  );
}
