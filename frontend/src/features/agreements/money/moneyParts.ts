// What the agreement money's pieces share: a request's status colour and
// name, whether it is still open, and the actions an admin can take.
import type { Intent } from '@blueprintjs/core';
import type { AgreementInvoice, AgreementRequest } from '../../../shared/api';

export const statusIntent: Record<AgreementRequest['status'], Intent> = {
  sending: 'warning',
  pending: 'primary',
  completed: 'success',
  approved: 'success',
  rejected: 'danger',
  withdrawn: 'none',
  failed: 'danger',
};

export const kindName: Record<AgreementRequest['kind'], string> = { refund: 'Refund', cancellation: 'Cancellation request', payment: 'Payment request' };

export const open = (r: AgreementRequest) => r.status === 'pending' || r.status === 'sending';

export type Action = { kind: 'refund'; invoice: AgreementInvoice } | { kind: 'cancel' } | { kind: 'pay' } | { kind: 'withdraw'; request: AgreementRequest };
