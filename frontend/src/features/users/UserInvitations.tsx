import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FormGroup, H5, InputGroup, Radio, RadioGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys, ApiError, type UserInvite } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { CopyButton, fieldError } from '../../shared/components/common';
import { type SellerRole, ROLE_HELP } from './UserParts';

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
export function Invitations({ filter }: { filter: string }) {
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
export function InviteDialog({ onClose }: { onClose: () => void }) {
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
