// The go-live checks (GET /api/setup) grouped for the Setup page and the
// dashboard's first-run checklist.
import type { SetupCheck, SetupReport } from '../../shared/api';

export type Marketplace = SetupCheck['marketplace'];

export const MARKETPLACES: { id: Marketplace; name: string }[] = [
  { id: 'aws', name: 'AWS Marketplace' },
  { id: 'azure', name: 'Microsoft commercial marketplace' },
];

/** Blueprint intent and icon of a check's status. */
export function statusLook(s: SetupCheck['status']): { intent: 'success' | 'warning' | 'danger' | 'none'; icon: 'tick-circle' | 'warning-sign' | 'error' | 'minus'; text: string } {
  switch (s) {
    case 'ok':
      return { intent: 'success', icon: 'tick-circle', text: 'OK' };
    case 'warn':
      return { intent: 'warning', icon: 'warning-sign', text: 'Attention' };
    case 'fail':
      return { intent: 'danger', icon: 'error', text: 'Failed' };
    default:
      return { intent: 'none', icon: 'minus', text: 'Skipped' };
  }
}

/** A marketplace's checks and whether it is done (nothing failed). */
export interface Group {
  id: Marketplace;
  name: string;
  checks: SetupCheck[];
  passed: number;
  failed: number;
  /** Configured at all: not only the one "not configured" skip. */
  configured: boolean;
  done: boolean;
}

export function groups(r: SetupReport): Group[] {
  return MARKETPLACES.map(({ id, name }) => {
    const checks = r.checks.filter((c) => c.marketplace === id);
    const failed = checks.filter((c) => c.status === 'fail').length;
    const passed = checks.filter((c) => c.status === 'ok' || c.status === 'warn').length;
    const configured = !checks.every((c) => c.id.endsWith('.configured'));
    return { id, name, checks, passed, failed, configured, done: failed === 0 };
  });
}

const DISMISSED = 'mg-setup-dismissed-';

/** The checklist of a marketplace was dismissed (only possible once done). */
export const isDismissed = (mp: Marketplace) => localStorage.getItem(DISMISSED + mp) === '1';
export const dismiss = (mp: Marketplace) => localStorage.setItem(DISMISSED + mp, '1');
