// AWS: no API changes a buyer's subscription, so the customer admin is shown
// how to change it in AWS Marketplace and may ask the seller, who answers
// with a private offer.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button, Callout, Card, FormGroup, H5, HTMLSelect, InputGroup } from '@blueprintjs/core';
import { type ChangeOptions } from '../../shared/api';
import { kindOf, NoteField, OutcomeLine, SubmitResult, useSubmit } from './changeParts';

/** AWS Marketplace's console page where buyers manage their subscriptions. */
export const AWS_MANAGE_SUBSCRIPTIONS = 'https://console.aws.amazon.com/marketplace/home#/subscriptions';

export function AwsChanges({ o }: { o: ChangeOptions }) {
  const { t } = useTranslation('changes');
  const planKind = kindOf(o, 'plan');
  const seatKind = kindOf(o, 'seats');
  const { m, done } = useSubmit(o.subscription_id);
  const [kind, setKind] = useState<'plan' | 'seats'>(planKind.outcome !== 'refuse' || seatKind.outcome === 'refuse' ? 'plan' : 'seats');
  const [what, setWhat] = useState('');
  const [count, setCount] = useState(o.quantity || 1);
  const [note, setNote] = useState('');
  const current = kind === 'plan' ? planKind : seatKind;
  const valid = kind === 'plan' ? what.trim() !== '' : count > 0 && count !== o.quantity;
  const submit = () =>
    m.mutate(kind === 'plan' ? { kind: 'plan', plan_id: what.trim(), note: note || undefined } : { kind: 'seats', quantity: count, note: note || undefined });
  return (
    <>
      <Callout intent="primary" icon="info-sign" title={t('aws.heading')} data-testid="aws-howto">
        <p>{t('aws.intro')}</p>
        <ol>
          <li>{t('aws.step1')}</li>
          <li>{t('aws.step2')}</li>
          {o.contract && <li>{t('aws.step3contract')}</li>}
          <li>{t('aws.step3')}</li>
          <li>{t('aws.step4')}</li>
        </ol>
        <a href={AWS_MANAGE_SUBSCRIPTIONS} target="_blank" rel="noopener noreferrer">
          {t('aws.openConsole')}
        </a>
      </Callout>
      <Card style={{ marginTop: 12 }} data-testid="aws-request">
        <H5>{t('aws.requestHeading')}</H5>
        {o.seat_based && (
          <FormGroup label={t('aws.kind')} labelFor="aws-kind">
            <HTMLSelect id="aws-kind" value={kind} onChange={(e) => setKind(e.target.value as 'plan' | 'seats')}>
              <option value="plan">{t('aws.kindPlan')}</option>
              <option value="seats">{t('aws.kindSeats')}</option>
            </HTMLSelect>
          </FormGroup>
        )}
        <OutcomeLine k={current} />
        {current.outcome !== 'refuse' && (
          <>
            {kind === 'plan' ? (
              <FormGroup label={t('aws.what')} labelFor="aws-what">
                <InputGroup id="aws-what" fill maxLength={64} value={what} placeholder={t('aws.whatPlaceholder')} onChange={(e) => setWhat(e.target.value)} />
              </FormGroup>
            ) : (
              <FormGroup label={t('aws.seatCount')} labelFor="aws-seats">
                <InputGroup
                  id="aws-seats"
                  type="number"
                  min={1}
                  value={String(count)}
                  onChange={(e) => setCount(e.target.value === '' ? 0 : Math.trunc(Number(e.target.value)))}
                  style={{ maxWidth: 160 }}
                />
              </FormGroup>
            )}
            <NoteField id="aws-note" value={note} onChange={setNote} />
            <Button intent="primary" icon="send-message" disabled={!valid || m.isPending} loading={m.isPending} text={t('aws.send')} onClick={submit} />
          </>
        )}
        <SubmitResult m={m} done={done} />
      </Card>
    </>
  );
}
