// The customer's subscriptions on both marketplaces: product, plan, where
// it was bought, its state in plain language, seats and renewal.
import { Link, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { NonIdealState, Spinner } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { api, queryKeys, type MySubscription } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';
import { formatNumber } from '../../shared/i18n';
import { day, PageTitle, PortalError } from './common';
import { StatusTag } from './Status';

/** The query the list and the shell share (the shell names the product). */
export const mySubscriptionsQuery = { queryKey: queryKeys.my.subscriptions, queryFn: () => api.my.subscriptions() };

export function MySubscriptionsPage() {
  const { t } = useTranslation('portal');
  const navigate = useNavigate();
  const q = useQuery(mySubscriptionsQuery);
  const items = q.data?.items ?? [];
  return (
    <div>
      <PageTitle>{t('list.title')}</PageTitle>
      <p className="mg-portal-intro">{t('list.intro')}</p>
      {q.isPending && <Spinner size={24} aria-label={t('common:loading')} />}
      {q.isError && <PortalError error={q.error} onRetry={() => void q.refetch()} />}
      {q.isSuccess && items.length === 0 && <NonIdealState icon="shop" title={t('list.empty')} />}
      {items.length > 0 && (
        <DataTable<MySubscription>
          label={t('list.tableLabel')}
          rows={items}
          rowKey={(s) => s.id}
          interactive
          onRowOpen={(s) => navigate('/subscriptions/' + s.id)}
          openOnClick
          rowProps={() => ({ 'data-testid': 'my-subscription-row' })}
          columns={[
            {
              id: 'offer',
              header: t('list.offer'),
              cell: (s) => (
                <Link to={'/subscriptions/' + s.id} aria-label={t('list.open', { name: s.offer || s.name })}>
                  {s.offer || s.name}
                </Link>
              ),
            },
            { id: 'plan', header: t('list.plan'), cell: (s) => s.plan || '—' },
            { id: 'marketplace', header: t('list.marketplace'), cell: (s) => t(`marketplace.${s.marketplace}`) },
            { id: 'status', header: t('list.status'), cell: (s) => <StatusTag sub={s} /> },
            {
              id: 'seats',
              header: t('list.seats'),
              cell: (s) =>
                s.seats
                  ? t('list.seatsUsed', { assigned: formatNumber(s.seats.assigned), quantity: formatNumber(s.seats.quantity) })
                  : s.quantity > 0
                    ? formatNumber(s.quantity)
                    : '—',
            },
            { id: 'renewal', header: t('list.renewal'), cell: (s) => (s.renews_on ? day(s.renews_on) : t('list.noRenewal')) },
          ]}
        />
      )}
    </div>
  );
}
