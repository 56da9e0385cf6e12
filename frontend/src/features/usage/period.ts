// The usage report's periods: the current and previous billing period (the
// calendar month in UTC, as both marketplaces bill), the last 7 days, or
// days the user picks. Pure, so it is tested without a clock.

export const PERIODS = ['current', 'previous', 'last7', 'custom'] as const;
export type PeriodKind = (typeof PERIODS)[number];
export type Granularity = 'hour' | 'day';

/** A period as the API takes it: RFC 3339 in UTC, to exclusive. */
export interface Period {
  from: string;
  to: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The longest period the API reports, per granularity (server/api/usage.go). */
export const MAX_SPAN: Record<Granularity, number> = { hour: 31 * DAY, day: 400 * DAY };

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** "2026-06-03" → the UTC midnight starting that day (NaN when not a date). */
function day(s: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(s + 'T00:00:00Z') : NaN;
}

/**
 * The period of a kind at now; custom days are "YYYY-MM-DD", both included.
 * null when the custom days are missing or the first is after the last.
 */
export function periodOf(kind: PeriodKind, now: Date, custom: { from: string; to: string }): Period | null {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  switch (kind) {
    case 'current':
      return { from: iso(Date.UTC(y, m, 1)), to: iso(Date.UTC(y, m + 1, 1)) };
    case 'previous':
      return { from: iso(Date.UTC(y, m - 1, 1)), to: iso(Date.UTC(y, m, 1)) };
    case 'last7': {
      const hour = Math.floor(now.getTime() / HOUR) * HOUR;
      return { from: iso(hour + HOUR - 7 * DAY), to: iso(hour + HOUR) };
    }
    case 'custom': {
      const from = day(custom.from);
      const to = day(custom.to);
      if (Number.isNaN(from) || Number.isNaN(to) || to < from) return null;
      return { from: iso(from), to: iso(to + DAY) };
    }
  }
}

/** Whether the API reports the period at this granularity (not longer than its cap). */
export function withinCap(p: Period, g: Granularity): boolean {
  const unit = g === 'hour' ? HOUR : DAY;
  const from = Math.floor(Date.parse(p.from) / unit) * unit;
  const to = Math.ceil(Date.parse(p.to) / unit) * unit;
  return to - from <= MAX_SPAN[g];
}

/** The last moment of a period (to is exclusive): for "until" labels. */
export function lastMoment(p: Period): string {
  return iso(Date.parse(p.to) - 1000);
}
