import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Classes, Dialog, DialogBody, DialogFooter, FormGroup, InputGroup, Radio, RadioGroup, Tag } from '@blueprintjs/core';
import { api, type Role, type User } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';

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
