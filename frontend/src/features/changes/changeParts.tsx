// The pieces every change form shares: what a change of a kind will do
// (now, with approval, not at all), submitting with one idempotency key per
// attempt, the answer, and the note to the seller.
import { useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Callout, FormGroup, Tag, TextArea } from '@blueprintjs/core';
import { api, ApiError, queryKeys, type ChangeAnswer, type ChangeInput, type ChangeKindOption, type ChangeOptions } from '../../shared/api';

const newKey = () => (globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

export function kindOf(o: ChangeOptions, kind: ChangeInput['kind']): ChangeKindOption {
  return o.kinds.find((k) => k.kind === kind) ?? { kind, policy: 'approval', outcome: 'refuse', reason: 'other' };
}

/** Says what happens to a change of this kind: now, with approval, or not at all (and why). */
export function OutcomeLine({ k }: { k: ChangeKindOption }) {
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
export function useSubmit(subscriptionId: number) {
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

export function SubmitResult({ m, done }: { m: ReturnType<typeof useSubmit>['m']; done: ChangeAnswer | null }) {
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

export function NoteField({ value, onChange, id }: { value: string; onChange: (v: string) => void; id: string }) {
  const { t } = useTranslation('changes');
  return (
    <FormGroup label={t('note')} labelFor={id}>
      <TextArea id={id} fill value={value} maxLength={2000} placeholder={t('notePlaceholder')} onChange={(e) => onChange(e.target.value)} />
    </FormGroup>
  );
}
