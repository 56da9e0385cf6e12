// PlanChangePolicies: per plan of an offer, what a customer admin may
// change from the customer portal — plan change, seat change, unsubscribe —
// each allowed (at once on Microsoft), needing the seller's approval (the
// Change requests queue) or not allowed. Admins edit; others read.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Button, Classes, HTMLSelect, HTMLTable } from '@blueprintjs/core';
import { api, queryKeys, type ChangePolicy, type OfferFull, type PlanFull } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';

const FIELDS = [
  ['customer_plan_change', 'plan'],
  ['customer_seat_change', 'seats'],
  ['customer_unsubscribe', 'unsubscribe'],
] as const;
type Field = (typeof FIELDS)[number][0];
const POLICIES: ChangePolicy[] = ['allowed', 'approval', 'not_allowed'];

export function PlanChangePolicies({ offer, admin }: { offer: OfferFull; admin: boolean }) {
  const { t } = useTranslation('changes');
  if (offer.plans.length === 0) return null;
  return (
    <details style={{ marginTop: 8 }} data-testid="change-policies">
      <summary>{t('policy.heading')}</summary>
      <p className={Classes.TEXT_MUTED}>{t('policy.note')}</p>
      <HTMLTable compact style={{ tableLayout: 'auto' }}>
        <thead>
          <tr>
            <th>{t('policy.planCol')}</th>
            {FIELDS.map(([f, k]) => (
              <th key={f}>{t(`policy.${k}`)}</th>
            ))}
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {offer.plans.map((p) => (
            <PolicyRow key={p.id} plan={p} admin={admin} />
          ))}
        </tbody>
      </HTMLTable>
    </details>
  );
}

function PolicyRow({ plan, admin }: { plan: PlanFull; admin: boolean }) {
  const { t } = useTranslation('changes');
  const qc = useQueryClient();
  const initial = Object.fromEntries(FIELDS.map(([f]) => [f, plan[f]])) as Record<Field, ChangePolicy>;
  const [v, setV] = useState(initial);
  const changed = FIELDS.filter(([f]) => v[f] !== plan[f]).map(([f]) => f);
  const save = useMutation({
    mutationFn: () => api.offers.updatePlan(plan.id, Object.fromEntries(changed.map((f) => [f, v[f]]))),
    onSuccess: () => void qc.invalidateQueries({ queryKey: queryKeys.offers }),
  });
  return (
    <tr data-testid={`policy-row-${plan.plan_id}`}>
      <td>
        {plan.name} <code>{plan.plan_id}</code>
      </td>
      {FIELDS.map(([f, k]) => (
        <td key={f} style={{ whiteSpace: 'nowrap', minWidth: 170 }}>
          {admin ? (
            <HTMLSelect
              minimal
              aria-label={`${t(`policy.${k}`)} — ${plan.plan_id}`}
              value={v[f]}
              onChange={(e) => setV((x) => ({ ...x, [f]: e.target.value as ChangePolicy }))}
            >
              {POLICIES.map((p) => (
                <option key={p} value={p}>
                  {t(`policy.${p}`)}
                </option>
              ))}
            </HTMLSelect>
          ) : (
            t(`policy.${plan[f]}`)
          )}
        </td>
      ))}
      {admin && (
        <td>
          <Button small intent="primary" text={t('policy.save')} disabled={changed.length === 0} loading={save.isPending} onClick={() => save.mutate()} />
          {save.isSuccess && changed.length === 0 && <span className={Classes.TEXT_MUTED}> {t('policy.saved')}</span>}
          {save.isError && <ErrorBox error={save.error} />}
        </td>
      )}
    </tr>
  );
}
