// The changes a customer admin may ask of a Microsoft subscription: another
// plan among those Microsoft lists, more or fewer licences, unsubscribing.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button, Callout, Card, FormGroup, H5, HTMLSelect, InputGroup } from '@blueprintjs/core';
import { type ChangeOptions } from '../../shared/api';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { kindOf, NoteField, OutcomeLine, SubmitResult, useSubmit } from './changeParts';

export function MicrosoftChanges({ o }: { o: ChangeOptions }) {
  return (
    <div className="mg-change-cards" style={{ display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))' }}>
      <PlanChange o={o} />
      {o.seat_based && <SeatChange key={o.quantity} o={o} />}
      <Unsubscribe o={o} />
    </div>
  );
}

function PlanChange({ o }: { o: ChangeOptions }) {
  const { t } = useTranslation('changes');
  const k = kindOf(o, 'plan');
  const { m, done } = useSubmit(o.subscription_id);
  const [plan, setPlan] = useState('');
  const [note, setNote] = useState('');
  const [confirm, setConfirm] = useState(false);
  const choices = o.plans.filter((p) => !p.current);
  const chosen = choices.find((p) => p.plan_id === plan);
  const now = k.outcome === 'perform';
  return (
    <Card data-testid="change-plan">
      <H5>{t('plan.heading')}</H5>
      <OutcomeLine k={k} />
      {o.plans_unavailable && <Callout intent="warning">{t('plan.unavailable')}</Callout>}
      {k.outcome !== 'refuse' && choices.length > 0 && (
        <>
          <FormGroup label={t('plan.choose')} labelFor="change-plan-select">
            <HTMLSelect id="change-plan-select" fill value={plan} onChange={(e) => setPlan(e.target.value)}>
              <option value="">{t('plan.pick')}</option>
              {choices.map((p) => (
                <option key={p.plan_id} value={p.plan_id}>
                  {p.name}
                  {p.per_seat ? ` (${t('plan.perSeat')})` : ''}
                </option>
              ))}
            </HTMLSelect>
          </FormGroup>
          {!now && <NoteField id="change-plan-note" value={note} onChange={setNote} />}
          <Button intent="primary" disabled={!chosen || m.isPending} text={t(now ? 'plan.submitNow' : 'plan.submitRequest')} onClick={() => setConfirm(true)} />
        </>
      )}
      <SubmitResult m={m} done={done} />
      <ConfirmDialog
        isOpen={confirm}
        confirmText={t(now ? 'plan.submitNow' : 'plan.submitRequest')}
        cancelText={t('cancel')}
        intent="primary"
        loading={m.isPending}
        onCancel={() => setConfirm(false)}
        onConfirm={() => m.mutate({ kind: 'plan', plan_id: plan, note: note || undefined }, { onSettled: () => setConfirm(false) })}
      >
        <p>{t(now ? 'plan.confirmNow' : 'plan.confirmRequest', { plan: chosen?.name ?? plan })}</p>
      </ConfirmDialog>
    </Card>
  );
}

function SeatChange({ o }: { o: ChangeOptions }) {
  const { t } = useTranslation('changes');
  const k = kindOf(o, 'seats');
  const { m, done } = useSubmit(o.subscription_id);
  const [count, setCount] = useState(o.quantity);
  const [note, setNote] = useState('');
  const [confirm, setConfirm] = useState(false);
  const now = k.outcome === 'perform';
  const more = count >= o.quantity;
  const valid = count !== o.quantity && count >= o.min_quantity && count <= o.max_quantity;
  const label = now ? (more ? 'seats.buyMore' : 'seats.reduce') : more ? 'seats.requestMore' : 'seats.requestFewer';
  const confirmText = !now
    ? t('seats.confirmRequest', { from: o.quantity, to: count })
    : more
      ? t('seats.confirmMore', { added: count - o.quantity, from: o.quantity, to: count })
      : t('seats.confirmFewer', { from: o.quantity, to: count });
  return (
    <Card data-testid="change-seats">
      <H5>{t('seats.heading')}</H5>
      <OutcomeLine k={k} />
      {k.outcome !== 'refuse' && (
        <>
          <FormGroup label={t('seats.label')} labelFor="change-seats-count" helperText={t('seats.range', { min: o.min_quantity, max: o.max_quantity })}>
            <InputGroup
              id="change-seats-count"
              type="number"
              min={o.min_quantity}
              max={o.max_quantity}
              value={String(count)}
              onChange={(e) => setCount(e.target.value === '' ? 0 : Math.trunc(Number(e.target.value)))}
              style={{ maxWidth: 160 }}
            />
          </FormGroup>
          {!now && <NoteField id="change-seats-note" value={note} onChange={setNote} />}
          <Button intent="primary" icon={more ? 'plus' : 'minus'} disabled={!valid || m.isPending} text={t(label)} onClick={() => setConfirm(true)} />
        </>
      )}
      <SubmitResult m={m} done={done} />
      <ConfirmDialog
        isOpen={confirm}
        confirmText={t(label)}
        cancelText={t('cancel')}
        intent={more ? 'primary' : 'warning'}
        loading={m.isPending}
        onCancel={() => setConfirm(false)}
        onConfirm={() => m.mutate({ kind: 'seats', quantity: count, note: note || undefined }, { onSettled: () => setConfirm(false) })}
      >
        <p>{confirmText}</p>
      </ConfirmDialog>
    </Card>
  );
}

function Unsubscribe({ o }: { o: ChangeOptions }) {
  const { t } = useTranslation('changes');
  const k = kindOf(o, 'unsubscribe');
  const { m, done } = useSubmit(o.subscription_id);
  const [note, setNote] = useState('');
  const [confirm, setConfirm] = useState(false);
  const now = k.outcome === 'perform';
  return (
    <Card data-testid="change-unsubscribe">
      <H5>{t('unsubscribe.heading')}</H5>
      <OutcomeLine k={k} />
      {k.outcome !== 'refuse' && (
        <>
          <p>{t('unsubscribe.intro')}</p>
          {!now && <NoteField id="change-unsubscribe-note" value={note} onChange={setNote} />}
          <Button intent="danger" icon="cross-circle" disabled={m.isPending} text={t(now ? 'unsubscribe.submitNow' : 'unsubscribe.submitRequest')} onClick={() => setConfirm(true)} />
        </>
      )}
      <SubmitResult m={m} done={done} />
      <ConfirmDialog
        isOpen={confirm}
        confirmText={t('unsubscribe.confirmButton')}
        cancelText={t('cancel')}
        intent="danger"
        icon="warning-sign"
        loading={m.isPending}
        onCancel={() => setConfirm(false)}
        onConfirm={() => m.mutate({ kind: 'unsubscribe', note: note || undefined }, { onSettled: () => setConfirm(false) })}
      >
        <p>{t(now ? 'unsubscribe.confirmNow' : 'unsubscribe.confirmRequest')}</p>
      </ConfirmDialog>
    </Card>
  );
}
