// InviteDialog: invite a seller user; the answer's one-time link is shown
// here only, to copy and pass on.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Dialog, DialogBody, DialogFooter } from '@blueprintjs/core';
import { api, queryKeys, ApiError } from '../../shared/api';
import { formatDate } from '../../shared/format';
import { CopyButton, fieldError } from '../../shared/components/common';
import { article } from './UserParts';
import { SellerUserForm, type SellerUserInput } from './SellerUserForm';
import { InviteMailed } from './InviteMailed';

/** Invite a seller user: e-mail, name and role; the answer's link is shown once, to copy and pass on. */
export function InviteDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: ({ email, name, role }: SellerUserInput) => api.users.invite({ email, ...(name ? { name } : {}), role }),
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
          <InviteMailed email={inv.email} emailed={made.emailed} />
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
    <SellerUserForm
      title="Invite a seller user"
      formLabel="Invite a seller user"
      idPrefix="invite"
      nameInfo="(optional — they confirm it when they join)"
      note="Marketgate makes a link for you to pass on, shown once. It works once, for 7 days: with it they choose their own password."
      submitText="Create invitation link"
      submitIcon="envelope"
      errorTitle="Not invited"
      error={create.isError ? create.error : null}
      pending={create.isPending}
      emailRefused={Boolean(fieldError(message, 'email'))}
      onSubmit={(input) => create.mutate(input)}
      onClose={onClose}
    />
  );
}
