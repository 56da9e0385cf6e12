// How the agreement page and the renewals list put AWS's agreement terms
// into words: pricing kinds, renewal behaviour and its reasons, durations.
import { Tag, type Intent } from '@blueprintjs/core';
import type { AgreementDescription } from '../../shared/api';

export const PRICING: Record<string, string> = {
  usage: 'Usage-based (pay as you go)',
  configurable_upfront: 'Contract, configurable upfront',
  fixed_upfront: 'Fixed upfront',
  recurring: 'Recurring payment',
  payment_schedule: 'Payment schedule',
  variable_payment: 'Variable payment (seller payment requests)',
  byol: 'Bring your own licence',
};

const REASONS: Record<string, string> = {
  PROPOSER_RENEW_OPTED_OUT: 'the seller opted out of renewing',
  ACCEPTOR_RENEW_OPTED_OUT: 'the buyer turned auto-renewal off',
  NO_RENEWAL_TERM: 'the terms have no renewal term',
  RENEWAL_LIMIT_EXHAUSTED: 'the renewal limit is reached',
};

export function statusIntent(status: string): Intent {
  switch (status) {
    case 'ACTIVE':
      return 'success';
    case 'RENEWED':
    case 'REPLACED':
      return 'primary';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'danger';
  }
  return 'none';
}

/** ISO 8601 durations as people say them: P12M → 12 months. */
export function durationText(d: string): string {
  const m = /^P(\d+)([DWMY])$/.exec(d);
  if (!m) return d || '—';
  const unit = { D: 'day', W: 'week', M: 'month', Y: 'year' }[m[2] as 'D' | 'W' | 'M' | 'Y'];
  return `${m[1]} ${unit}${m[1] === '1' ? '' : 's'}`;
}

export function money(v: string, cur: string): string {
  return v ? `${v} ${cur}`.trim() : '—';
}

export function pricingText(p: AgreementDescription['pricing'][number]): string {
  let s = PRICING[p.kind] ?? p.kind;
  if (p.price) s += ` ${money(p.price, p.currency)}`;
  if (p.billing_period) s += ` every ${p.billing_period}`;
  if (p.duration) s += ` for ${durationText(p.duration)}`;
  if (p.max_total) s += `, at most ${money(p.max_total, p.currency)}`;
  return s;
}

export function behaviourText(behavior: string, reason: string): string {
  const what = { RENEW: 'renews', REPLACE: 'is replaced', EXPIRE: 'expires' }[behavior] ?? behavior;
  return reason ? `${what} — ${REASONS[reason] ?? reason}` : what;
}

export function AutoRenewTag({ on }: { on: boolean | null | undefined }) {
  if (on === null || on === undefined) return <Tag minimal>not said</Tag>;
  return on ? (
    <Tag minimal intent="success">
      on
    </Tag>
  ) : (
    <Tag minimal intent="warning">
      off
    </Tag>
  );
}
