// ConfirmDialog: the portal's one "are you sure?" dialog (an alertdialog):
// what happens in the body, a button that says what it does, Cancel, and a
// spinner while the action runs.
import { Alert, type IconName, type Intent } from '@blueprintjs/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export function ConfirmDialog(props: {
  isOpen: boolean;
  /** The confirm button's text: what it does ("Delete endpoint"). */
  confirmText: string;
  /** The cancel button's text (default "Cancel"). */
  cancelText?: string;
  intent?: Intent;
  icon?: IconName;
  loading?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation('common');
  return (
    <Alert
      isOpen={props.isOpen}
      intent={props.intent}
      icon={props.icon}
      confirmButtonText={props.confirmText}
      cancelButtonText={props.cancelText ?? t('cancel')}
      loading={props.loading}
      onConfirm={props.onConfirm}
      onCancel={props.onCancel}
    >
      {props.children}
    </Alert>
  );
}
