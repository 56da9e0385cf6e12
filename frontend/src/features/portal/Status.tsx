// A subscription's state in plain language: a short tag for lists, and an
// explanation for its page: what it means, who acts next, what to do and,
// for a suspended Microsoft subscription, by when.
import { Callout, Tag, type Intent } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import type { MySubscription } from '../../shared/api';
import { formatDay } from '../../shared/i18n';
import { day } from './common';

type Situation = MySubscription['status']['situation'];

const INTENT: Record<Situation, Intent> = {
  pending_seller: 'primary',
  pending_buyer: 'warning',
  pending_marketplace: 'primary',
  active: 'success',
  suspended_payment: 'danger',
  unsubscribe_pending: 'warning',
  ended: 'none',
  failed: 'danger',
};

/** The short status of a subscription (lists). */
export function StatusTag({ sub }: { sub: MySubscription }) {
  const { t } = useTranslation('portal');
  const s = sub.status.situation;
  return (
    <Tag minimal round intent={INTENT[s]} data-testid="status-tag" data-situation={s}>
      {t(`status.label.${s}`)}
    </Tag>
  );
}

/** The plain-language explanation of a subscription's state (its page). */
export function StatusExplanation({ sub }: { sub: MySubscription }) {
  const { t } = useTranslation('portal');
  const st = sub.status;
  const marketplace = t(`marketplace.${sub.marketplace}`);
  const s = st.situation;
  // pending_buyer says what to do on each marketplace; the others are one text.
  const body = s === 'pending_buyer' ? t(`status.pending_buyer.${sub.marketplace}`) : t(`status.${s}.body`, { marketplace });
  return (
    <Callout intent={INTENT[s]} title={t(`status.${s}.title`)} data-testid="status-explanation" data-situation={s}>
      <p>{body}</p>
      {s === 'suspended_payment' && st.ends_by && (
        <p data-testid="status-deadline">
          <strong>{t('status.suspended_payment.deadline', { date: day(st.ends_by) })}</strong>
        </p>
      )}
      {s === 'active' && sub.renews_on && <p>{t('status.renews', { date: day(sub.renews_on) })}</p>}
      {s === 'active' && !sub.renews_on && sub.term_end && <p>{t('status.endsOn', { date: day(sub.term_end) })}</p>}
      <p className="mg-portal-muted">
        {t('status.actor.label')}: <span data-testid="status-actor">{t(`status.actor.${st.actor}`, { marketplace })}</span>
        {' · '}
        {t('status.since', { date: formatDay(st.since) })}
      </p>
    </Callout>
  );
}
