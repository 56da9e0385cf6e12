import { query } from '../../shared/api';
import { dayRange } from '../../shared/format';

export const MARKETPLACES = ['aws', 'azure'];
/** The states that count seats as sold (GET /api/dashboard counts these). */
const SEAT_STATES = 'active,unsubscribe_pending';
/** The Metering page's "failed" filter. */
export const METERING_FAILED = 'rejected,duplicate,conflict';

export const subs = (p: Record<string, string>) => '/subscriptions' + query(p);

/** The subscriptions on per-user plans that count seats (sold and assigned). */
export const SEATS_LINK = subs({ state: SEAT_STATES, seat_based: 'true' });
/** Pending metering records at most 4 hours before their deadline (GET /api/metering/records?expiring=true). */
export const EXPIRING_LINK = '/metering?expiring=true';

/** Subscriptions created on a UTC day ("2026-11-27"), or from that day on (`onward`). */
export function createdLink(day: string, onward = false): string {
  const r = dayRange(day);
  return subs(onward ? { created_from: r.from } : { created_from: r.from, created_to: r.to });
}

/** Subscriptions that ended on a UTC day, or from that day on (`onward`); latest first. */
export function endedLink(day: string, onward = false): string {
  const r = dayRange(day);
  return subs({ state: 'ended', changed_from: r.from, ...(onward ? {} : { changed_to: r.to }), sort: '-state_changed_at' });
}
