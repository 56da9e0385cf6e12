// CustomerChanges: what a customer admin may change of one subscription —
// the plan (among the plans Microsoft lists), the seat count ("buy more
// licences") and unsubscribing — each saying whether it happens now or
// goes to the seller for approval, with the progress of Microsoft's
// operation and the seller's answers. On AWS, where no API changes a
// buyer's subscription, it shows how to change it in AWS and lets the
// buyer ask the seller (who answers with a private offer).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Button, Callout, H4 } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { Loading } from '../../shared/components/components';
import { formatNumber } from '../../shared/i18n';
import { AwsChanges } from './AwsChanges';
import { Requests, running } from './ChangeRequestList';
import { MicrosoftChanges } from './MicrosoftChanges';

export function CustomerChanges({ subscriptionId }: { subscriptionId: number }) {
  const { t } = useTranslation('changes');
  const q = useQuery({
    queryKey: queryKeys.changes.of(subscriptionId),
    queryFn: () => api.changes.options(subscriptionId),
    refetchInterval: (query) => (query.state.data && running(query.state.data.requests) ? 2000 : false),
  });
  if (q.isPending) return <Loading />;
  if (q.isError) {
    return (
      <Callout intent="danger" title={t('errors.generic')}>
        <Button text={t('seller.retry')} icon="refresh" onClick={() => void q.refetch()} />
      </Callout>
    );
  }
  const o = q.data;
  return (
    <div className="mg-changes" data-testid="customer-changes">
      <H4>{t('title')}</H4>
      <p>
        {t('currentPlan')}: <strong>{o.plan_name || o.plan_id || t('noPlan')}</strong>
        {o.seat_based && (
          <>
            {' · '}
            {t('currentSeats')}: <strong data-testid="current-seats">{formatNumber(o.quantity)}</strong>
          </>
        )}
      </p>
      {o.marketplace === 'azure' ? <MicrosoftChanges o={o} /> : <AwsChanges o={o} />}
      <Requests requests={o.requests} />
    </div>
  );
}
