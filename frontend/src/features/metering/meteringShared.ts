import { useQueryClient } from '@tanstack/react-query';
import { type Intent } from '@blueprintjs/core';
import { queryKeys, type User } from '../../shared/api';

export const STATUSES = ['pending', 'accepted', 'rejected', 'duplicate', 'conflict', 'expired', 'not_sent_zero', 'not_sent_inactive'];

export function statusIntent(s: string): Intent {
  switch (s) {
    case 'accepted':
      return 'success';
    case 'pending':
      return 'primary';
    case 'rejected':
    case 'duplicate':
    case 'conflict':
    case 'expired':
      return 'danger';
    default:
      return 'none';
  }
}

export function useCanWrite() {
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(queryKeys.me);
  return me?.user.role === 'admin' || me?.user.role === 'operator';
}

export const PAGE = 50;

/** The records list's filters in the URL, passed to GET /api/metering/records as they are. */
export const RECORD_FILTERS = ['marketplace', 'subscription', 'dimension', 'status', 'expiring', 'from', 'to'] as const;
