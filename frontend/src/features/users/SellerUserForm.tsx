// SellerUserForm: the form both dialogs that add a seller user share —
// e-mail, name and role — around what differs: the note under the fields and
// what submitting does (an invitation link, or an account with a one-time
// password). The caller owns the <Dialog>, so a dialog that shows its answer
// in place (the invitation link) stays the same dialog.
import { useState, type ReactNode } from 'react';
import { Button, Classes, DialogBody, DialogFooter, FormGroup, InputGroup, Radio, RadioGroup, type IconName } from '@blueprintjs/core';
import { ErrorBox } from '../../shared/components/components';
import { ROLE_HELP, type SellerRole } from './UserParts';

export type SellerUserInput = { email: string; name: string; role: SellerRole };

export function SellerUserForm(props: {
  formLabel: string;
  /** Prefix of the fields' ids: `${idPrefix}-email`, `${idPrefix}-name`. */
  idPrefix: string;
  nameInfo?: string;
  note: ReactNode;
  submitText: string;
  submitIcon?: IconName;
  errorTitle: string;
  error: unknown;
  pending: boolean;
  /** Whether the server refused the e-mail address (marks the field). */
  emailRefused?: boolean;
  onSubmit: (input: SellerUserInput) => void;
  onClose: () => void;
}) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<SellerRole>('viewer');
  const emailIntent = props.emailRefused ? 'danger' : 'none';
  return (
      <form
        aria-label={props.formLabel}
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit({ email: email.trim(), name: name.trim(), role });
        }}
      >
        <DialogBody>
          <FormGroup label="E-mail" labelFor={`${props.idPrefix}-email`} intent={emailIntent}>
            <InputGroup id={`${props.idPrefix}-email`} type="email" value={email} onValueChange={setEmail} autoFocus intent={emailIntent} />
          </FormGroup>
          <FormGroup label="Name" labelInfo={props.nameInfo} labelFor={`${props.idPrefix}-name`}>
            <InputGroup id={`${props.idPrefix}-name`} value={name} onValueChange={setName} maxLength={200} />
          </FormGroup>
          <FormGroup label="Role">
            <RadioGroup selectedValue={role} onChange={(e) => setRole(e.currentTarget.value as SellerRole)}>
              {(['viewer', 'operator', 'admin'] as const).map((r) => (
                <Radio key={r} value={r} label={`${r} — ${ROLE_HELP[r]}`} />
              ))}
            </RadioGroup>
          </FormGroup>
          <p className={Classes.TEXT_MUTED}>{props.note}</p>
          {props.error != null && <ErrorBox error={props.error} title={props.errorTitle} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={props.onClose} />
              <Button type="submit" intent="primary" icon={props.submitIcon} text={props.submitText} disabled={!email.trim()} loading={props.pending} />
            </>
          }
        />
      </form>
  );
}
