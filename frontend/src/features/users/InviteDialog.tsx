// InviteDialog: invite a seller user; the answer's one-time link is shown
// here only, to copy and pass on.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FormGroup, InputGroup, Radio, RadioGroup } from '@blueprintjs/core';
import { api, queryKeys, ApiError } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { formatDate } from '../../shared/format';
import { CopyButton, fieldError } from '../../shared/components/common';
import { article, type SellerRole, ROLE_HELP } from './UserParts';
import { InviteMailed } from './InviteMailed';

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
