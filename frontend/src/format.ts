import type { Intent } from '@blueprintjs/core';

export function formatDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

export function stateIntent(state: string): Intent {
  switch (state) {
    case 'active':
      return 'success';
    case 'pending':
    case 'unsubscribe_pending':
      return 'warning';
    case 'failed':
    case 'suspended':
      return 'danger';
    default:
      return 'none';
  }
}

export const marketplaceName: Record<string, string> = { aws: 'AWS', azure: 'Microsoft' };
