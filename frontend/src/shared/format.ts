import type { Intent } from '@blueprintjs/core';

export function formatDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

const TERM_UNITS: Record<string, string> = {
  P1M: '1 month',
  P1Y: '1 year',
  P2Y: '2 years',
  P3Y: '3 years',
  P4Y: '4 years',
  P5Y: '5 years',
  PAY: 'pay as you go',
};

/** Names Microsoft's term unit; a value Marketgate does not know is shown as Microsoft sent it. */
export function termUnit(u: string | null | undefined): string {
  if (!u) return '';
  return TERM_UNITS[u.toUpperCase()] ?? u;
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

/** A UTC day ("2026-11-27") as the RFC 3339 time it starts at, and the start of the next day. */
export function dayRange(day: string): { from: string; to: string } {
  const start = new Date(day + 'T00:00:00Z');
  const next = new Date(start.getTime() + 86_400_000);
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { from: iso(start), to: iso(next) };
}

/** A subscription's states, in the order the portal lists them. */
export const STATES = ['pending', 'active', 'suspended', 'unsubscribe_pending', 'ended', 'failed'] as const;

/**
 * A subscription's name by the one rule (the server's
 * subscriptions.DisplayName): the marketplace's name when it gives one,
 * else "<Customer> – <Offer>"; only with neither known, its number.
 */
export function subscriptionName(s: { id: number; name: string; customer?: { name: string } | null; offer?: { name: string } | null }): string {
  if (s.name.trim()) return s.name;
  const parts = [s.customer?.name, s.offer?.name].filter((p): p is string => !!p && !!p.trim());
  return parts.length > 0 ? parts.join(' – ') : `Subscription #${s.id}`;
}
