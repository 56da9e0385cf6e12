// Renewals (/renewals): AWS agreements by end date, soonest first, with
// whether they renew and who turned auto-renewal off, so sales can act
// before the end. Fed by AWS's Purchase Agreement Ending (180, 120, 90, 60
// and 30 days before), Amended, Renewal Upcoming and Renewal Terms
// Finalized events.
import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Checkbox, Classes, HTMLSelect, Tag } from '@blueprintjs/core';
import { api, queryKeys, type RenewalItem } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { PageTitle } from '../../shared/components/PageTitle';
import { formatDate } from '../../shared/format';
import { AutoRenewTag } from '../agreements/agreementText';

export const WINDOWS = [
  { value: '30', label: 'next 30 days' },
  { value: '60', label: 'next 60 days' },
  { value: '90', label: 'next 90 days' },
  { value: '180', label: 'next 180 days' },
  { value: '365', label: 'next year' },
  { value: 'all', label: 'all, ended ones included' },
];

/** Days left until t (negative once past), from now. */
export function daysLeft(t: string | null, now = Date.now()): number | null {
  if (!t) return null;
  return Math.ceil((new Date(t).getTime() - now) / 86_400_000);
}

export function RenewalsPage() {
  const [params, setParams] = useSearchParams();
  const win = WINDOWS.some((w) => w.value === params.get('window')) ? params.get('window')! : '180';
  const off = params.get('auto_renew') === 'off';
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const q = useQuery({
    queryKey: queryKeys.agreements.renewals(`${win}|${off}`),
    queryFn: () => api.agreements.renewals(win === "all" ? { all: true, auto_renew_off: off } : { window: Number(win), auto_renew_off: off }),
    refetchInterval: 60_000,
  });
  return (
    <div>
      <PageTitle title="Renewals" />
      <p className={Classes.TEXT_MUTED} style={{ maxWidth: 900 }}>
        AWS agreements by end date. AWS tells 180, 120, 90, 60 and 30 days before an agreement ends, and when the buyer (or you) turns auto-renewal off;
        an agreement whose auto-renewal is off expires at its end unless the buyer accepts a new offer.
      </p>
      <div style={{ display: 'flex', gap: 16, alignItems: 'center', marginBottom: 8 }}>
        <label>
          Ending within{' '}
          <HTMLSelect value={win} onChange={(e) => set('window', e.currentTarget.value === '180' ? '' : e.currentTarget.value)} aria-label="Ending within">
            {WINDOWS.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </HTMLSelect>
        </label>
        <Checkbox checked={off} label="Only auto-renewal off" onChange={(e) => set('auto_renew', e.currentTarget.checked ? 'off' : '')} style={{ margin: 0 }} />
      </div>
      {q.isError && <ErrorBox error={q.error} />}
      <DataTable
        label="Renewals"
        loading={q.isPending}
        rows={q.data?.items}
        rowKey={(r) => r.agreement_id}
        rowProps={() => ({ 'data-testid': 'renewal-row' })}
        empty={<p className="sub-hint">No AWS agreement ends in this window.</p>}
        columns={[
          { id: 'ends', header: 'Ends', sortValue: (r) => r.ends_at ?? '', cell: (r) => <EndsCell r={r} /> },
          {
            id: 'subscription',
            header: 'Subscription',
            cell: (r) =>
              r.subscription_id ? (
                <Link to={`/subscriptions/${r.subscription_id}/agreement`}>{r.subscription_name || `#${r.subscription_id}`}</Link>
              ) : (
                <span className={Classes.TEXT_MUTED}>not linked yet</span>
              ),
          },
          { id: 'customer', header: 'Customer', cell: (r) => r.customer_name || '—' },
          { id: 'offer', header: 'Offer', cell: (r) => r.offer_name || '—' },
          { id: 'agreement', header: 'Agreement', cell: (r) => <code>{r.agreement_id}</code> },
          { id: 'auto', header: 'Auto-renewal', cell: (r) => <AutoRenewTag on={r.auto_renew} /> },
          { id: 'off_by', header: 'Turned off by', cell: (r) => (r.turned_off_by ? `${r.turned_off_by}, ${formatDate(r.turned_off_at)}` : '—') },
          { id: 'lockout', header: 'Decision deadline', cell: (r) => formatDate(r.lockout_at) },
          { id: 'notice', header: 'Latest notice', cell: (r) => (r.days_before_end ? `${r.days_before_end} days before` : '—') },
        ]}
      />
    </div>
  );
}

function EndsCell({ r }: { r: RenewalItem }) {
  const left = daysLeft(r.ends_at);
  return (
    <>
      {formatDate(r.ends_at)}
      {left !== null && (
        <Tag minimal round intent={left < 0 ? 'none' : left <= 30 ? 'danger' : left <= 90 ? 'warning' : 'none'} style={{ marginLeft: 6 }}>
          {left < 0 ? 'ended' : `${left} d`}
        </Tag>
      )}
    </>
  );
}
