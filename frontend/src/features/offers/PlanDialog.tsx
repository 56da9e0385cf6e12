import { useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Checkbox, Classes, Dialog, DialogBody, DialogFooter, FormGroup, HTMLSelect, InputGroup, Radio, RadioGroup, Switch } from '@blueprintjs/core';
import { api, queryKeys, ApiError, type OverQuantityPolicy, type Dimension, type PlanFull, type OfferFull } from '../../shared/api';
import { dims, initialForm, planBody, planForm, type DimRow, type PlanForm } from './planForm';
import { ErrorBox } from '../../shared/components/components';
import { fieldError } from '../../shared/components/common';
import { consequences } from './PlanSeats';
import { ACTIVATION } from './offerLabels';
import { DimensionsEditor } from './DimensionsEditor';
import { messageOf, FieldError } from './OfferDialog';

const LABEL = { plan_id: 'Plan id', name: 'Name', activation_policy: 'Activation' };

export function PlanDialog({ offer, plan, onClose }: { offer: OfferFull; plan?: PlanFull; onClose: () => void }) {
  const qc = useQueryClient();
  const rid = useRef(0);
  const row = (d?: Dimension): DimRow => ({ rid: ++rid.current, key: d?.key ?? '', name: d?.name ?? '', unit: d?.unit ?? '', metered: d?.metered ?? false });
  const [v, setV] = useState<PlanForm>(() => initialForm(plan, row));
  const set = <K extends keyof PlanForm>(k: K, val: PlanForm[K]) => setV((x) => ({ ...x, [k]: val }));
  const setDim = (i: number, d: Partial<Dimension>) => setV((x) => ({ ...x, dimensions: x.dimensions.map((r, j) => (j === i ? { ...r, ...d } : r)) }));
  const azure = offer.marketplace === 'azure';

  const full = planBody(v);
  const changed: Record<string, unknown> = {};
  if (plan) {
    const before: Record<string, unknown> = { ...planBody({ ...v, ...planForm(plan) }), dimensions: dims(plan.dimensions) };
    for (const [k, val] of Object.entries(full)) {
      if (JSON.stringify(val) !== JSON.stringify(before[k])) changed[k] = val;
    }
  }
  const effects = plan
    ? consequences(
        { seat_based: plan.seat_based, allow_over_assignment: plan.allow_over_assignment, auto_assign_seats: plan.auto_assign_seats, over_quantity_policy: plan.over_quantity_policy },
        { seat_based: full.seat_based, allow_over_assignment: full.allow_over_assignment, auto_assign_seats: full.auto_assign_seats, over_quantity_policy: full.over_quantity_policy },
      )
    : [];
  const save = useMutation({
    mutationFn: () =>
      plan
        ? api.offers.updatePlan(plan.id, changed)
        : api.offers.createPlan(offer.id, { plan_id: v.plan_id.trim(), ...full }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  const msg = messageOf(save.error);
  // The server names a field by the label shown here ("Plan id: …", "Dimension 2: …").
  const err = (f: keyof typeof LABEL) => fieldError(msg, LABEL[f]);
  const dimMatch = msg?.match(/^Dimension (\d+):/);
  const dimError = dimMatch ? Number(dimMatch[1]) - 1 : -1;
  const quantityError = msg && /^Fewest and most seats/.test(msg) ? msg : undefined;
  const known = !!(err('plan_id') || err('name') || err('activation_policy') || dimMatch || quantityError);
  const nChanged = Object.keys(changed).length;
  return (
    <Dialog isOpen onClose={onClose} title={plan ? `Edit plan ${plan.plan_id} — ${offer.name}` : `New plan — ${offer.name}`} style={{ width: 760 }}>
      <form
        aria-label={plan ? 'Edit plan' : 'New plan'}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <DialogBody>
          <div className="mg-form-row">
            <FormGroup
              label="Plan id"
              labelFor="plan-id"
              helperText={plan ? 'It identifies the plan at the marketplace and cannot change.' : azure ? 'The plan id in Partner Center.' : 'As AWS knows it (the pricing dimension or offer plan).'}
              intent={err('plan_id') ? 'danger' : 'none'}
            >
              <InputGroup
                id="plan-id"
                value={v.plan_id}
                onValueChange={(s) => set('plan_id', s)}
                disabled={!!plan}
                autoFocus={!plan}
                intent={err('plan_id') ? 'danger' : 'none'}
                style={{ fontFamily: 'monospace' }}
              />
              <FieldError text={err('plan_id')} />
            </FormGroup>
            <FormGroup label="Name" labelFor="plan-name" intent={err('name') ? 'danger' : 'none'}>
              <InputGroup id="plan-name" value={v.name} onValueChange={(s) => set('name', s)} maxLength={200} intent={err('name') ? 'danger' : 'none'} autoFocus={!!plan} />
              <FieldError text={err('name')} />
            </FormGroup>
          </div>

          <div className="mg-section">Pricing</div>
          <RadioGroup selectedValue={v.seat_based ? 'seats' : 'flat'} onChange={(e) => set('seat_based', e.currentTarget.value === 'seats')} inline>
            <Radio value="flat" label="Flat: one price per subscription" />
            <Radio value="seats" label="Per user: the quantity is a number of seats" />
          </RadioGroup>

          <div className="mg-section">
            Metered dimensions{' '}
            <span className={Classes.TEXT_MUTED} style={{ fontWeight: 400 }}>
              — usage your application reports, sent to the marketplace every hour under this key
            </span>
          </div>
          {v.dimensions.length > 0 && (
            <DimensionsEditor
              dimensions={v.dimensions}
              dimError={dimError}
              message={msg}
              setDim={setDim}
              onRemove={(i) => setV((x) => ({ ...x, dimensions: x.dimensions.filter((_, j) => j !== i) }))}
            />
          )}
          <Button small icon="add" text="Add dimension" onClick={() => setV((x) => ({ ...x, dimensions: [...x.dimensions, row()] }))} style={{ margin: '4px 0 8px' }} />
          {v.dimensions.length === 0 && <span className={Classes.TEXT_MUTED}> No metered dimensions: nothing is metered for this plan.</span>}

          <div className="mg-section">Activation of a new subscription</div>
          <RadioGroup selectedValue={v.activation_policy} onChange={(e) => set('activation_policy', e.currentTarget.value)}>
            {Object.entries(ACTIVATION).map(([k, a]) => (
              <Radio key={k} value={k} label={`${a.label} — ${a.help}`} />
            ))}
          </RadioGroup>
          <FieldError text={err('activation_policy')} />
          {!azure && <p className={Classes.TEXT_MUTED}>On AWS, the subscription becomes active with AWS&apos;s subscribe-success; the policy applies to Microsoft offers.</p>}

          <div className="mg-section">Changes the customer makes {azure ? 'at Microsoft' : ''}</div>
          {azure ? (
            <>
              <Checkbox checked={v.reject_plan_change} onChange={(e) => set('reject_plan_change', e.currentTarget.checked)} label="Refuse plan changes: Microsoft is told the change failed; the customer contacts the seller" />
              <Checkbox
                checked={v.reject_quantity_change}
                onChange={(e) => set('reject_quantity_change', e.currentTarget.checked)}
                label="Refuse seat-count changes"
                disabled={!v.seat_based}
              />
            </>
          ) : (
            <p className={Classes.TEXT_MUTED}>AWS buyers change plans and quantities in AWS Marketplace; the offer&apos;s settings there decide what they may change.</p>
          )}
          {v.seat_based && (
            <div className="mg-form-row">
              <FormGroup label="Fewest seats" labelFor="plan-min" helperText="0: no limit" intent={quantityError ? 'danger' : 'none'}>
                <InputGroup id="plan-min" type="number" min={0} value={v.min_quantity} onValueChange={(s) => set('min_quantity', s)} intent={quantityError ? 'danger' : 'none'} />
              </FormGroup>
              <FormGroup label="Most seats" labelFor="plan-max" helperText="0: no limit" intent={quantityError ? 'danger' : 'none'}>
                <InputGroup id="plan-max" type="number" min={0} value={v.max_quantity} onValueChange={(s) => set('max_quantity', s)} intent={quantityError ? 'danger' : 'none'} />
              </FormGroup>
            </div>
          )}
          <FieldError text={quantityError} />

          {v.seat_based && (
            <>
              <div className="mg-section">Seat policies</div>
              <Switch checked={v.allow_over_assignment} onChange={(e) => set('allow_over_assignment', e.currentTarget.checked)} label="Allow over-assignment: customer admins may assign more seats than bought (flagged)" />
              <Switch checked={v.auto_assign_seats} onChange={(e) => set('auto_assign_seats', e.currentTarget.checked)} label="Auto-assign on first check: the seat check gives a free seat to a user without one" />
              <FormGroup label="Seats over the quantity" labelFor="plan-over" inline>
                <HTMLSelect id="plan-over" value={v.over_quantity_policy} onChange={(e) => set('over_quantity_policy', e.currentTarget.value as OverQuantityPolicy)}>
                  <option value="keep_all">keep access for every seat holder</option>
                  <option value="newest_unlicensed">refuse the newest seats beyond the quantity</option>
                </HTMLSelect>
              </FormGroup>
            </>
          )}
          {effects.length > 0 && (
            <Callout intent="warning" title="What changes, at once, for every subscription on this plan" data-testid="plan-effects" style={{ marginTop: 8 }}>
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {effects.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            </Callout>
          )}
          {save.isError && (
            <div style={{ marginTop: 8 }}>
              {known ? (
                <div className="mg-error-id">request id: {(save.error as ApiError).requestId}</div>
              ) : (
                <ErrorBox error={save.error} title={plan ? 'Not saved' : 'Not created'} />
              )}
            </div>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button
                type="submit"
                intent="primary"
                text={plan ? (nChanged ? 'Save plan' : 'No changes') : 'Create plan'}
                disabled={plan ? nChanged === 0 : false}
                loading={save.isPending}
              />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
