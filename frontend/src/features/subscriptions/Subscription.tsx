import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Classes, Tab, Tabs, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { SubscriptionMetering } from '../metering/SubscriptionMetering';
import { SeatsTab, seatsQuery } from '../seats/Seats';
import { isSeller, SubActions, useRole } from './SubActions';
import { SubRaw } from './SubRaw';
import { mergeTimeline, TimelineTab, type TimelineFilter } from './SubTimeline';
import { ErrorBox, Loading } from '../../shared/components/components';
import { marketplaceName, stateIntent, subscriptionName } from '../../shared/format';
import './SubDash.css';
import { Entitlements } from './Entitlements';
import { Overview } from './SubOverview';
import { ConsentSummary } from '../consent/ConsentSummary';
import { PageTitle } from '../../shared/components/PageTitle';
import { AgreementMoney } from '../agreements/money/AgreementMoney';
export { freeTrialText } from './SubOverview';

export const TABS = ['overview', 'timeline', 'seats', 'metering', 'entitlements', 'money', 'raw'] as const;
type TabId = (typeof TABS)[number];

/** How often the page reads the subscription while Microsoft works on it. */
export const POLL_MS = 2000;

export function SubscriptionPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const role = useRole();
  const seller = isSeller(role);
  // Whether the plan is per-user decides if there is a Seats tab. The first
  // page of seats is what the Seats tab shows first, so it is fetched once.
  const seats = useQuery({ ...seatsQuery(id, '', 0), enabled: id !== '' });
  const q = useQuery({
    queryKey: queryKeys.subscription.detail(id),
    queryFn: () => api.subscriptions.get(id),
    // While a Microsoft operation runs, follow its progress.
    refetchInterval: (query) => ((query.state.data?.operations ?? []).some((o) => o.finished_at === null) ? POLL_MS : false),
  });
  const merged = useMemo(
    () => (q.data ? mergeTimeline(q.data.timeline ?? [], q.data.operations ?? [], q.data.audit ?? []) : []),
    [q.data],
  );
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  const s = q.data.subscription;
  const aws = s.marketplace === 'aws';
  const hasSeats = !!(seats.data?.summary.seat_based || seats.isError);
  const available: TabId[] = TABS.filter(
    (t) => (t !== 'seats' || hasSeats || params.get('tab') === 'seats') && (t !== 'entitlements' || aws) && (t !== 'money' || (aws && seller)) && (t !== 'raw' || seller),
  );
  const asked = params.get('tab') === 'details' ? 'overview' : params.get('tab');
  const tab: TabId = available.find((t) => t === asked) ?? 'overview';
  const setTab = (t: string) => {
    // Search, paging and filters belong to one tab: a new tab starts afresh.
    const next = new URLSearchParams();
    if (t !== 'overview') next.set('tab', t);
    setParams(next);
  };
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const filter = (['event', 'operation', 'audit'].includes(params.get('show') ?? '') ? params.get('show') : 'all') as TimelineFilter;
  const newestFirst = params.get('order') === 'newest';
  const summary = q.data.seats ?? seats.data?.summary ?? null;

  return (
    <div>
      <div className="sub-title">
        <PageTitle title={subscriptionName(s)} />
        <Tag intent={stateIntent(s.state)} data-testid="subscription-state">
          {s.state}
        </Tag>
        <Tag minimal>{marketplaceName[s.marketplace] ?? s.marketplace}</Tag>
        <span className={Classes.TEXT_MUTED}>#{s.id}</span>
        {aws && seller && (
          <Link to={`/subscriptions/${s.id}/agreement`} data-testid="agreement-link">
            Agreement, terms and renewal
          </Link>
        )}
      </div>
      <SubActions s={s} operations={q.data.operations ?? []} seats={summary} />
      {seller && q.data.consent && <ConsentSummary consent={q.data.consent} />}
      <Tabs id="subscription-tabs" renderActiveTabPanelOnly selectedTabId={tab} onChange={(t) => setTab(String(t))}>
        <Tab id="overview" title="Overview" panel={<Overview d={q.data} merged={merged} seats={summary} seller={seller} onTab={setTab} />} />
        <Tab
          id="timeline"
          title={
            <>
              Timeline <Tag minimal round>{merged.length}</Tag>
            </>
          }
          panel={
            <TimelineTab
              entries={merged}
              filter={filter}
              newestFirst={newestFirst}
              onFilter={(f) => setParam('show', f === 'all' ? '' : f)}
              onOrder={(n) => setParam('order', n ? 'newest' : '')}
            />
          }
        />
        {available.includes('seats') && (
          <Tab
            id="seats"
            title={
              <>
                Seats
                {seats.data?.summary.seat_based && (
                  <Tag minimal round intent={seats.data.summary.over > 0 ? 'danger' : 'none'} style={{ marginLeft: 6 }}>
                    {seats.data.summary.assigned}/{seats.data.summary.bought}
                  </Tag>
                )}
              </>
            }
            panel={<SeatsTab id={id} />}
          />
        )}
        <Tab id="metering" title="Metering" panel={<SubscriptionMetering id={s.id} />} />
        {available.includes('entitlements') && (
          <Tab id="entitlements" title="Entitlements" panel={<Entitlements entitlements={q.data.entitlements ?? []} agreements={q.data.agreements ?? []} />} />
        )}
        {/* The agreement's money (issue 20); the lead moves it to the Agreement page at merge. */}
        {available.includes('money') && <Tab id="money" title="Billing & requests" panel={<AgreementMoney subscriptionId={s.id} />} />}
        {available.includes('raw') && <Tab id="raw" title="Raw" panel={<SubRaw id={s.id} />} />}
      </Tabs>
    </div>
  );
}
