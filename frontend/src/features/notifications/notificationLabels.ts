import { type Intent } from '@blueprintjs/core';

export const INBOX_STATUSES = ['received', 'processed', 'failed', 'ignored'] as const;

export const SOURCES: Record<string, string> = {
  aws_registration: 'AWS registration',
  aws_sqs: 'AWS notification (SQS)',
  azure_landing: 'Microsoft landing page',
  azure_webhook: 'Microsoft webhook',
};

// Suggestions for the action filter (it matches exactly).
export const ACTIONS = [
  'register',
  'subscribe-success',
  'subscribe-fail',
  'unsubscribe-pending',
  'unsubscribe-success',
  'entitlement-updated',
  'License Updated',
  'License Deprovisioned',
  'Purchase Agreement Created',
  'Purchase Agreement Amended',
  'Purchase Agreement Ended',
  'Resolve',
  'ChangePlan',
  'ChangeQuantity',
  'Suspend',
  'Reinstate',
  'Renew',
  'Unsubscribe',
];

export const statusIntent = (s: string): Intent => (s === 'processed' ? 'success' : s === 'failed' ? 'danger' : s === 'received' ? 'warning' : 'none');

/** Filters of the inbox, in the order the API takes them. */
export const FILTERS = ['marketplace', 'source', 'action', 'status', 'from', 'to', 'subscription', 'q'] as const;
