// CustomerChanges: what a customer admin may change of one subscription —
// the plan (among the plans Microsoft lists), the seat count ("buy more
// licences") and unsubscribing — each saying whether it happens now or
// goes to the seller for approval, with the progress of Microsoft's
// operation and the seller's answers. On AWS, where no API changes a
// buyer's subscription, it shows how to change it in AWS and lets the
// buyer ask the seller (who answers with a private offer).
import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import {
  Button,
  Callout,
  Card,
  Classes,
  FormGroup,
  H4,
  H5,
  HTMLSelect,
  InputGroup,
  ProgressBar,
  Tag,
  TextArea,
  type Intent,
} from '@blueprintjs/core';
import { api, ApiError, queryKeys, type ChangeAnswer, type ChangeInput, type ChangeKindOption, type ChangeOptions, type ChangeRequest } from '../../shared/api';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { Loading } from '../../shared/components/components';
import { formatDateTime, formatNumber } from '../../shared/i18n';

/** AWS Marketplace's console page where buyers manage their subscriptions. */
export const AWS_MANAGE_SUBSCRIPTIONS = 'https://console.aws.amazon.com/marketplace/home#/subscriptions';

const newKey = () => (globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/** Whether something the customer started is still running (poll until it ends). */
export function running(requests: ChangeRequest[]): boolean {
  return requests.some((r) => r.status === 'performing' || (r.operation && r.operation.finished_at === null));
}

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

function kindOf(o: ChangeOptions, kind: ChangeInput['kind']): ChangeKindOption {
  return o.kinds.find((k) => k.kind === kind) ?? { kind, policy: 'approval', outcome: 'refuse', reason: 'other' };
}

/** Says what happens to a change of this kind: now, with approval, or not at all (and why). */
function OutcomeLine({ k }: { k: ChangeKindOption }) {
  const { t } = useTranslation('changes');
  if (k.outcome === 'refuse') {
    const reason = ['policy', 'not_active', 'not_seat_based', 'no_other_plans', 'unsubscribe_aws'].includes(k.reason ?? '') ? k.reason! : 'other';
    return (
      <p data-testid={`outcome-${k.kind}`}>
        <Tag minimal intent="none" icon="disable">
          {t('outcome.refuse')}
        </Tag>{' '}
        <span>{t(`reason.${reason}`)}</span>
      </p>
    );
  }
  const now = k.outcome === 'perform';
  return (
    <p data-testid={`outcome-${k.kind}`}>
      <Tag minimal intent={now ? 'success' : 'warning'} icon={now ? 'flash' : 'time'}>
        {t(now ? 'outcome.perform' : 'outcome.request')}
      </Tag>{' '}
      <span>{t(now ? 'outcome.performHint' : 'outcome.requestHint')}</span>
    </p>
  );
}

/** Submits a change with one idempotency key per attempt (a double click or a retry sends the same key). */
function useSubmit(subscriptionId: number) {
  const qc = useQueryClient();
  const key = useRef(newKey());
  const [done, setDone] = useState<ChangeAnswer | null>(null);
  const m = useMutation({
    mutationFn: (body: ChangeInput) => api.changes.submit(subscriptionId, body, key.current),
    onSuccess: (a) => {
      key.current = newKey();
      setDone(a);
      void qc.invalidateQueries({ queryKey: queryKeys.changes.of(subscriptionId) });
      void qc.invalidateQueries({ queryKey: queryKeys.subscription.detail(subscriptionId) });
      void qc.invalidateQueries({ queryKey: queryKeys.seats.of(subscriptionId) });
    },
    onError: (e) => {
      // A refusal is final for this attempt: a new attempt gets a new key.
      if (e instanceof ApiError) key.current = newKey();
      void qc.invalidateQueries({ queryKey: queryKeys.changes.of(subscriptionId) });
    },
  });
  return { m, done, reset: () => setDone(null) };
}

function SubmitResult({ m, done }: { m: ReturnType<typeof useSubmit>['m']; done: ChangeAnswer | null }) {
  const { t } = useTranslation('changes');
  if (m.isError) {
    const code = m.error instanceof ApiError ? m.error.code : 'network';
    const known = ['change_not_allowed', 'conflict', 'invalid_input', 'marketplace_error', 'network'].includes(code) ? code : 'generic';
    return (
      <Callout intent="danger" role="alert" data-testid="change-error" style={{ marginTop: 8 }}>
        {t(`errors.${known}`)}
      </Callout>
    );
  }
  if (!done) return null;
  const msg = done.existing ? 'done.existing' : done.outcome === 'perform' ? 'done.perform' : 'done.request';
  return (
    <Callout intent="success" role="status" data-testid="change-done" style={{ marginTop: 8 }}>
      {t(msg)}
    </Callout>
  );
}

function NoteField({ value, onChange, id }: { value: string; onChange: (v: string) => void; id: string }) {
  const { t } = useTranslation('changes');
  return (
    <FormGroup label={t('note')} labelFor={id}>
      <TextArea id={id} fill value={value} maxLength={2000} placeholder={t('notePlaceholder')} onChange={(e) => onChange(e.target.value)} />
    </FormGroup>
  );
}

function MicrosoftChanges({ o }: { o: ChangeOptions }) {
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

function AwsChanges({ o }: { o: ChangeOptions }) {
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

const statusIntent: Record<ChangeRequest['status'], Intent> = {
  pending: 'warning',
  performing: 'primary',
  performed: 'primary',
  approved: 'success',
  declined: 'danger',
  failed: 'danger',
};

function Requests({ requests }: { requests: ChangeRequest[] }) {
  const { t } = useTranslation('changes');
  return (
    <section style={{ marginTop: 16 }} aria-labelledby="change-history">
      <H5 id="change-history">{t('requests.heading')}</H5>
      {requests.length === 0 ? (
        <p className={Classes.TEXT_MUTED}>{t('requests.empty')}</p>
      ) : (
        <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid="change-requests">
          {requests.map((r) => (
            <RequestItem key={r.id} r={r} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** What a request asks for, in words. */
export function useChangeWhat() {
  const { t } = useTranslation('changes');
  return (r: Pick<ChangeRequest, 'kind' | 'plan_id' | 'quantity'>) =>
    r.kind === 'plan' ? t('requests.what.plan', { plan: r.plan_id }) : r.kind === 'seats' ? t('requests.what.seats', { count: r.quantity }) : t('requests.what.unsubscribe');
}

function RequestItem({ r }: { r: ChangeRequest }) {
  const { t } = useTranslation('changes');
  const what = useChangeWhat();
  const op = r.operation;
  const opRunning = op && op.finished_at === null;
  return (
    <li data-testid="change-request" data-status={r.status} style={{ padding: '8px 0', borderBottom: '1px solid rgba(128,128,128,.25)' }}>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
        <strong>{what(r)}</strong>
        <Tag minimal intent={statusIntent[r.status]} data-testid="change-status">
          {t(`requests.status.${r.status}`)}
        </Tag>
        {op && (
          <Tag minimal intent={op.status === 'Succeeded' ? 'success' : opRunning ? 'primary' : 'danger'} data-testid="operation-status">
            {t(`requests.operation.${op.status}`, { defaultValue: op.status })}
          </Tag>
        )}
        <span className={Classes.TEXT_MUTED}>{t('requests.requested', { when: formatDateTime(r.created_at) })}</span>
      </div>
      {opRunning && <ProgressBar intent="primary" aria-label={t('requests.progress')} className="mg-change-progress" />}
      {r.note && <div>{t('requests.yourNote', { text: r.note })}</div>}
      {r.status === 'declined' && r.answer && <div data-testid="change-answer">{t('requests.declinedReason', { text: r.answer })}</div>}
      {r.status === 'approved' && r.marketplace === 'aws' && <div>{t('requests.awsApproved')}</div>}
      {r.status === 'approved' && r.answer && <div data-testid="change-answer">{t('requests.answer', { text: r.answer })}</div>}
      {(r.error || (op && op.error_message)) && r.status !== 'approved' && <div>{t('requests.error', { text: op?.error_message || r.error })}</div>}
      {op?.error_message && r.status === 'approved' && <div>{t('requests.error', { text: op.error_message })}</div>}
    </li>
  );
}
