import { Button, Callout, Dialog, DialogBody, DialogFooter, type Intent } from '@blueprintjs/core';
import { ErrorBox } from '../../shared/components/components';

/**
 * A confirmation for a marketplace action: what it will do (the
 * consequence, always shown first), the inputs it needs, and the server's
 * (or the marketplace's) error when it is refused.
 */
export function ActionDialog(props: {
  title: string;
  consequence: React.ReactNode;
  children?: React.ReactNode;
  confirm: string;
  cancel?: string;
  intent?: Intent;
  pending: boolean;
  error: unknown;
  disabled?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { title, consequence, children, confirm, cancel, intent, pending, error, disabled, onConfirm, onClose } = props;
  return (
    <Dialog isOpen onClose={onClose} title={title} canOutsideClickClose={!pending}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!disabled && !pending) onConfirm();
        }}
      >
        <DialogBody>
          <Callout intent={intent === 'danger' ? 'danger' : 'warning'} icon="warning-sign" data-testid="consequence">
            {consequence}
          </Callout>
          {children && <div style={{ marginTop: 12 }}>{children}</div>}
          {error !== null && error !== undefined && (
            <div style={{ marginTop: 12 }}>
              <ErrorBox error={error} title="Refused" />
            </div>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text={cancel ?? 'Cancel'} onClick={onClose} disabled={pending} />
              <Button type="submit" intent={intent ?? 'primary'} text={confirm} loading={pending} disabled={disabled} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
