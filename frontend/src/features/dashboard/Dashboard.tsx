import { Link } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Card, H5, Tag } from '@blueprintjs/core';
import { api, queryKeys, type User, type DayCount } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { formatDate, marketplaceName, stateIntent, STATES } from '../../shared/format';
import '../subscriptions/SubDash.css';
import { NEW_COLOR, ENDED_COLOR, DayChart } from './DayChart';
import { MARKETPLACES, METERING_FAILED, subs, SEATS_LINK, EXPIRING_LINK, createdLink, endedLink } from './dashboardLinks';
import { PageTitle } from '../../shared/components/PageTitle';
import { SetupChecklist } from '../setup/SetupChecklist';

/** The first day of the 30 days the API counts (UTC midnight 29 days ago), when it sent none. */
function firstDay(xs: DayCount[]): string {
  return xs[0]?.day ?? new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
}

function MiniStat(props: { label: string; value: number; to: string; title?: string; tone?: 'danger' | 'warning'; testid: string }) {
  const { label, value, to, title, tone, testid } = props;
  return (
    <div title={title}>
      <Link to={to} className={'dash-n' + (tone ? ' dash-' + tone : '')} data-testid={testid}>
        {value}
      </Link>
      <div className="dash-sub">{label}</div>
    </div>
  );
}

function Stat(props: { label: string; value: number | string; to?: string; sub?: React.ReactNode; tone?: 'danger' | 'warning'; testid: string }) {
  const { label, value, to, sub, tone, testid } = props;
  return (
    <Card className="dash-card" data-testid={testid}>
      <div className="dash-label" title={label}>
        {label}
      </div>
      <div className={'dash-n' + (tone ? ' dash-' + tone : '')}>{to ? <Link to={to}>{value}</Link> : value}</div>
      {sub && <div className="dash-sub">{sub}</div>}
    </Card>
  );
}

/** The by-state table's columns: the state, one count per marketplace, and the state's total. */
function byStateColumns(count: (mp: string, st: string) => number, byState: (st: string) => number): Column<string>[] {
  return [
    {
      id: 'state',
      header: 'State',
      cell: (st) => (
        <Tag minimal intent={stateIntent(st)}>
          {st}
        </Tag>
      ),
    },
    ...MARKETPLACES.map(
      (mp): Column<string> => ({
        id: mp,
        header: <Link to={subs({ marketplace: mp })}>{marketplaceName[mp]}</Link>,
        cell: (st) => (
          <Link to={subs({ state: st, marketplace: mp })} data-testid={`count-${mp}-${st}`}>
            {count(mp, st)}
          </Link>
        ),
      }),
    ),
    {
      id: 'all',
      header: 'All',
      cell: (st) => (
        <Link to={subs({ state: st })} data-testid={`count-all-${st}`}>
          {byState(st)}
        </Link>
      ),
    },
  ];
}

export function DashboardPage() {
  const me = useQueryClient().getQueryData<{ user: User }>(queryKeys.me);
  const seller = !!me && me.user.role !== 'customer_admin';
  const q = useQuery({
    queryKey: queryKeys.dashboard,
    queryFn: () => api.dashboard.get(),
    refetchInterval: 30_000,
  });
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} title="The dashboard could not be loaded" />;
  const d = q.data;
  const count = (mp: string, st: string) => d.by_state.find((c) => c.marketplace === mp && c.state === st)?.count ?? 0;
  const byState = (st: string) => d.by_state.filter((c) => c.state === st).reduce((n, c) => n + c.count, 0);
  const byMarketplace = (mp: string) => d.by_state.filter((c) => c.marketplace === mp).reduce((n, c) => n + c.count, 0);
  // States the API knows beyond the usual ones still show.
  const states = [...STATES, ...d.by_state.map((c) => c.state).filter((s) => !(STATES as readonly string[]).includes(s))].filter(
    (s, i, all) => all.indexOf(s) === i,
  );
  const created = d.created_per_day ?? [];
  const ended = d.ended_per_day ?? [];
  const sum = (xs: DayCount[]) => xs.reduce((n, x) => n + x.count, 0);
  // The 30-day totals link to exactly what they count: from the first day of the chart on.
  const since = firstDay(created.length ? created : ended);
  const m = d.metering;
  return (
    <div>
      <PageTitle title="Dashboard" />
      <div className="dash-cards">
        <Stat testid="stat-total" label="Subscriptions" value={d.total} to="/subscriptions" />
        <Stat testid="stat-active" label="Active" value={byState('active')} to={subs({ state: 'active' })} />
        <Stat testid="stat-pending" label="Pending" value={byState('pending')} to={subs({ state: 'pending' })} tone={byState('pending') > 0 ? 'warning' : undefined} />
        {seller && <Stat testid="stat-customers" label="Customers" value={d.customers} to="/customers" />}
        {d.seats && (
          <Stat
            testid="stat-seats"
            label="Seats sold / assigned"
            value={d.seats.sold}
            to={SEATS_LINK}
            sub={
              <>
                <Link to={SEATS_LINK} data-testid="seats-assigned">
                  {d.seats.assigned} assigned
                </Link>
                {d.seats.sold > 0 && ` · ${Math.round((d.seats.assigned / d.seats.sold) * 100)}%`}
              </>
            }
          />
        )}
        {seller && d.inbox_failed !== undefined && (
          <Stat
            testid="stat-inbox-failed"
            label="Inbox: failed messages"
            sub="inbound marketplace messages"
            value={d.inbox_failed}
            to="/notifications?status=failed"
            tone={d.inbox_failed > 0 ? 'danger' : undefined}
          />
        )}
        {seller && m && (
          <Card className="dash-card dash-wide" data-testid="stat-metering">
            <div className="dash-label">
              <Link to="/metering">Metering health</Link>
            </div>
            <div className="dash-multi">
              <MiniStat testid="metering-pending" label="pending" value={m.pending} to="/metering?status=pending" />
              <MiniStat
                testid="metering-expiring"
                label="expiring"
                title="Pending, at most 4 hours before the marketplace stops taking them (24 hours after their hour; AWS: 06:00 UTC on the 1st for a past month)"
                value={m.expiring}
                to={EXPIRING_LINK}
                tone={m.expiring > 0 ? 'warning' : undefined}
              />
              <MiniStat
                testid="metering-failed"
                label="failed (24 h)"
                value={m.failed}
                to={'/metering?status=' + METERING_FAILED}
                tone={m.failed > 0 ? 'danger' : undefined}
              />
              <MiniStat
                testid="metering-expired"
                label="expired (7 d)"
                value={m.expired}
                to="/metering?status=expired"
                tone={m.expired > 0 ? 'danger' : undefined}
              />
            </div>
          </Card>
        )}
      </div>
      <div className="dash-grid">
        <div>
          <H5>Subscriptions by state and marketplace</H5>
          <DataTable
            rows={states}
            columns={byStateColumns(count, byState)}
            rowKey={(st) => st}
            label="Subscriptions by state"
            striped={false}
            bordered
            className="dash-table"
            footer={
              <tr>
                <th>All</th>
                {MARKETPLACES.map((mp) => (
                  <th key={mp}>
                    <Link to={subs({ marketplace: mp })} data-testid={`count-${mp}-all`}>
                      {byMarketplace(mp)}
                    </Link>
                  </th>
                ))}
                <th>
                  <Link to="/subscriptions">{d.total}</Link>
                </th>
              </tr>
            }
          />
        </div>
        <div>
          <H5>New and ended subscriptions, last 30 days</H5>
          <div className="dash-legend">
            <span>
              <span className="dash-swatch" style={{ background: NEW_COLOR }} />
              new:{' '}
              <Link to={createdLink(since, true)} data-testid="new-30">
                {sum(created)}
              </Link>
            </span>
            <span>
              <span className="dash-swatch" style={{ background: ENDED_COLOR }} />
              ended:{' '}
              <Link to={endedLink(since, true)} data-testid="ended-30">
                {sum(ended)}
              </Link>
            </span>
          </div>
          <DayChart created={created} ended={ended} />
          <H5 style={{ marginTop: 12 }}>Recent events</H5>
          {(d.recent_events ?? []).length === 0 ? (
            <p className="sub-hint">No events yet.</p>
          ) : (
            <ul className="dash-events" aria-label="Recent events">
              {(d.recent_events ?? []).map((e) => (
                <li key={e.id} data-testid="recent-event">
                  <span className="dash-when">{formatDate(e.at)}</span>
                  <Link to={`/subscriptions/${e.subscription_id}?tab=timeline`}>#{e.subscription_id}</Link>
                  <span>{e.summary}</span>
                  {e.to_state && (
                    <Tag minimal intent={stateIntent(e.to_state)}>
                      {e.to_state}
                    </Tag>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      {/* Last on the page: the go-live checks take a moment (they call the marketplaces), and a
          checklist appearing above the numbers would move them under the pointer. */}
      {me?.user.role === 'admin' && <SetupChecklist />}
    </div>
  );
}
