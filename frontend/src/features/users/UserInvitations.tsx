import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5, Tag } from '@blueprintjs/core';
import { api, queryKeys, type UserInvite } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';
import { article, ROLE_HELP } from './UserParts';

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
