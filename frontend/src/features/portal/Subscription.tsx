// One subscription as its customer sees it, in tabs: Overview (state in
// plain language, product, plan, seats, term, renewal, purchaser and
// beneficiary) and Seats (the seats feature as it is). TABS is the list of
// tabs: other features add theirs (usage, changes, permissions) to it.
import type { ReactNode } from 'react';
import { Link, Navigate, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Spinner, Tab, Tabs } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { api, queryKeys, type MyParty, type MySubscription } from '../../shared/api';
import { SeatsTab } from '../seats/Seats';
import { SubscriptionUsage } from '../usage/SubscriptionUsage';
import { CustomerChanges } from '../changes/CustomerChanges';
import { PermissionsPanel } from '../consent/PermissionsPanel';
import { MyAgreement } from '../agreements/money/MyAgreement';
import { formatNumber } from '../../shared/i18n';
import { day, PageTitle, PortalError } from './common';
import { StatusExplanation } from './Status';

/** What a tab gets: the subscription's id and its customer-facing view. */
export interface TabContext {
  subscriptionId: number;
  subscription: MySubscription;
}

/** One tab of the subscription page. */
export interface SubscriptionTab {
  /** The tab's id in the address: /subscriptions/:id?tab=<id>. */
  id: string;
  /** Its title, from the portal's catalogues. */
  title: (t: TFunction<'portal'>) => string;
  element: (ctx: TabContext) => ReactNode;
  /** Whether the tab applies to this subscription (default: always). */
  shows?: (sub: MySubscription) => boolean;
}

/**
 * The subscription page's tabs, in order. To add one:
 *   { id: 'usage', title: (t) => t('tabs.usage'), element: ({ subscriptionId }) => <SubscriptionUsage subscriptionId={subscriptionId} /> }
 * (the catalogues already hold tabs.usage, tabs.changes and tabs.permissions).
 */
export const TABS: SubscriptionTab[] = [
  { id: 'overview', title: (t) => t('detail.overview'), element: ({ subscription }) => <Overview sub={subscription} /> },
  {
    id: 'seats',
    title: (t) => t('detail.seats'),
    element: ({ subscriptionId }) => <SeatsTab id={String(subscriptionId)} />,
    shows: (sub) => sub.seats !== null,
  },
  { id: 'usage', title: (t) => t('tabs.usage'), element: ({ subscriptionId }) => <SubscriptionUsage subscriptionId={subscriptionId} /> },
  { id: 'changes', title: (t) => t('tabs.changes'), element: ({ subscriptionId }) => <CustomerChanges subscriptionId={subscriptionId} /> },
  {
    id: 'permissions',
    title: (t) => t('tabs.permissions'),
    element: ({ subscriptionId }) => <PermissionsPanel subscriptionId={subscriptionId} />,
    shows: (sub) => sub.marketplace === 'azure',
  },
  // The AWS agreement's charges and the seller's requests waiting for the customer (read-only).
  { id: 'agreement', title: (t) => t('tabs.agreement'), element: ({ subscriptionId }) => <MyAgreement subscriptionId={subscriptionId} />, shows: (sub) => sub.marketplace === 'aws' },
];

export function MySubscriptionPage({ tabs = TABS }: { tabs?: SubscriptionTab[] }) {
  const { t } = useTranslation('portal');
  const params = useParams();
  const [search, setSearch] = useSearchParams();
  const id = Number(params.id);
  const q = useQuery({ queryKey: queryKeys.my.subscription(id), queryFn: () => api.my.subscription(id) });
  if (q.isPending) return <Spinner size={24} aria-label={t('common:loading')} />;
  if (q.isError) {
    return (
      <div>
        <PageTitle>{t('list.title')}</PageTitle>
        <PortalError error={q.error} onRetry={() => void q.refetch()} />
        <p>
          <Link to="/subscriptions">{t('detail.back')}</Link>
        </p>
      </div>
    );
  }
  const sub = q.data.subscription;
  const shown = tabs.filter((tab) => !tab.shows || tab.shows(sub));
  const current = shown.find((tab) => tab.id === (search.get('tab') || 'overview'));
  if (!current) return <Navigate to={`/subscriptions/${id}`} replace />;
  const ctx: TabContext = { subscriptionId: id, subscription: sub };
  return (
    <div>
      <p className="mg-portal-crumb">
        <Link to="/subscriptions">{t('detail.back')}</Link>
      </p>
      <PageTitle>{[sub.offer || sub.name, sub.plan].filter(Boolean).join(' · ')}</PageTitle>
      <Tabs
        id="subscription-tabs"
        selectedTabId={current.id}
        // A tab's own parameters (a search, a page) do not carry over to another.
        onChange={(tab) => setSearch(tab === 'overview' ? {} : { tab: String(tab) })}
        aria-label={t('detail.tabsLabel')}
        renderActiveTabPanelOnly
      >
        {shown.map((tab) => (
          <Tab key={tab.id} id={tab.id} title={tab.title(t)} panel={<div className="mg-portal-panel">{tab.element(ctx)}</div>} />
        ))}
      </Tabs>
    </div>
  );
}

/** Overview: the state and what happens next, then the subscription's facts. */
function Overview({ sub }: { sub: MySubscription }) {
  const { t } = useTranslation('portal');
  const dash = t('detail.unknown');
  return (
    <div className="mg-portal-overview">
      <StatusExplanation sub={sub} />
      <h2 className="bp6-heading mg-portal-h2">{t('detail.details')}</h2>
      <dl className="mg-grid mg-portal-facts" data-testid="subscription-facts">
        <dt>{t('detail.offer')}</dt>
        <dd>{sub.offer || sub.name}</dd>
        <dt>{t('detail.plan')}</dt>
        <dd>{sub.plan || dash}</dd>
        <dt>{t('detail.marketplace')}</dt>
        <dd>{t(`marketplace.${sub.marketplace}`)}</dd>
        {sub.seats ? (
          <>
            <dt>{t('detail.seats_bought')}</dt>
            <dd data-testid="fact-seats">{t('detail.seatsValue', { quantity: formatNumber(sub.seats.quantity), assigned: formatNumber(sub.seats.assigned) })}</dd>
          </>
        ) : (
          sub.quantity > 0 && (
            <>
              <dt>{t('detail.quantity')}</dt>
              <dd>{formatNumber(sub.quantity)}</dd>
            </>
          )
        )}
        <dt>{t('detail.term')}</dt>
        <dd>{sub.term_start || sub.term_end ? t('detail.termValue', { start: day(sub.term_start), end: day(sub.term_end) }) : dash}</dd>
        <dt>{t('detail.renewal')}</dt>
        <dd data-testid="fact-renewal">{sub.renews_on ? day(sub.renews_on) : t('list.noRenewal')}</dd>
        <dt>{t('detail.autoRenew')}</dt>
        <dd>{sub.auto_renew ? t('detail.on') : t('detail.off')}</dd>
        {sub.free_trial && (
          <>
            <dt>{t('detail.freeTrial')}</dt>
            <dd>{t('detail.on')}</dd>
          </>
        )}
        <dt>{t('detail.purchaser')}</dt>
        <dd data-testid="fact-purchaser">
          <Party p={sub.purchaser} />
        </dd>
        <dt>{t('detail.beneficiary')}</dt>
        <dd data-testid="fact-beneficiary">
          <Party p={sub.beneficiary} />
        </dd>
      </dl>
    </div>
  );
}

/** A purchaser or beneficiary as the buyer knows it. */
function Party({ p }: { p: MyParty | null }) {
  const { t } = useTranslation('portal');
  if (!p || (!p.email && !p.tenant_id && !p.aws_account_id)) return <>{t('detail.unknown')}</>;
  if (p.aws_account_id) return <>{t('detail.awsAccount', { id: p.aws_account_id })}</>;
  return (
    <>
      {p.email && <div>{p.email}</div>}
      {p.tenant_id && <div className="mg-portal-muted">{t('detail.tenant', { id: p.tenant_id })}</div>}
    </>
  );
}
