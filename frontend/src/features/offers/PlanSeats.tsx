import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FormGroup, HTMLSelect, Switch, Tag } from '@blueprintjs/core';
import { api, queryKeys, type Plan, type OverQuantityPolicy, type PlanSeatPolicies } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';

export const policyLabel: Record<OverQuantityPolicy, string> = {
  keep_all: 'keep access',
  newest_unlicensed: 'newest refused',
};

/** One line per policy for the Offers table. */
export function PlanSeatSummary({ p }: { p: Plan }) {
  if (!p.seat_based) return <span className={Classes.TEXT_MUTED}>not per user</span>;
  return (
    <span data-testid="plan-seat-summary">
      <Tag minimal intent="primary">
        per user
      </Tag>{' '}
      {p.allow_over_assignment ? 'over-assignment allowed' : 'no over-assignment'} · {p.auto_assign_seats ? 'auto-assign on first check' : 'assigned by admins'} ·
      over quantity: {policyLabel[p.over_quantity_policy] ?? p.over_quantity_policy}
    </span>
  );
}

const pick = (p: Plan): PlanSeatPolicies => ({
  seat_based: p.seat_based,
  allow_over_assignment: p.allow_over_assignment,
  auto_assign_seats: p.auto_assign_seats,
  over_quantity_policy: p.over_quantity_policy || 'keep_all',
});

/** What each change means for customer admins and the seat check. */
export function consequences(before: PlanSeatPolicies, after: PlanSeatPolicies): string[] {
  const out: string[] = [];
  if (before.seat_based !== after.seat_based) {
    out.push(
      after.seat_based
        ? 'The plan becomes per user: its subscriptions get a Seats tab, customer admins assign seats up to the quantity, and the seat check answers for each user by their seat (no_seat for users without one).'
        : 'The plan is no longer per user: its subscriptions have no seats to manage, and the seat check stops counting them (no_seat_based_subscription when the organisation has no other per-user subscription). Seats already assigned are kept in case you switch back.',
    );
  }
  if (!after.seat_based) return out;
  if (before.allow_over_assignment !== after.allow_over_assignment) {
    out.push(
      after.allow_over_assignment
        ? 'Customer admins may assign more seats than bought; the extra seats are flagged over quantity and the seat check treats them by the over-quantity policy below.'
        : 'Assigning a seat beyond the quantity is refused (no_free_seat). Seats already over the quantity stay until an admin releases them.',
    );
  }
  if (before.auto_assign_seats !== after.auto_assign_seats) {
    out.push(
      after.auto_assign_seats
        ? 'The seat check hands a free seat to a user who has none on their first check (seat_auto_assigned), first come first served, until the seats run out (no_free_seat).'
        : 'The seat check no longer hands out seats: a user without a seat is refused (no_seat) until a customer admin assigns one. Seats given out so far are kept.',
    );
  }
  if (before.over_quantity_policy !== after.over_quantity_policy) {
    out.push(
      after.over_quantity_policy === 'newest_unlicensed'
        ? 'When more seats are assigned than bought, the seat check refuses the newest seats beyond the quantity (seat_over_quantity) until seats are released or more are bought — users may lose access at once.'
        : 'When more seats are assigned than bought, every seat holder keeps access (seat_assigned); the extra seats stay flagged until released.',
    );
  }
  return out;
}

// PlanSeatsDialog edits a plan's seat policies and says, before saving,
// what the change means for the seat check.
export function PlanSeatsDialog({ plan, onClose }: { plan: Plan; onClose: () => void }) {
  const qc = useQueryClient();
  const before = pick(plan);
  const [v, setV] = useState<PlanSeatPolicies>(before);
  const set = <K extends keyof PlanSeatPolicies>(k: K, val: PlanSeatPolicies[K]) => setV((x) => ({ ...x, [k]: val }));
  const changed = (Object.keys(before) as (keyof PlanSeatPolicies)[]).filter((k) => before[k] !== v[k]);
  const effects = consequences(before, v);
  const save = useMutation({
    mutationFn: () =>
      api.offers.updatePlanSeats(plan.id, Object.fromEntries(changed.map((k) => [k, v[k]]))),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  return (
    <Dialog isOpen title={`Seat policies — ${plan.name}`} onClose={onClose} style={{ width: 640 }}>
      <DialogBody>
        <Switch
          label="Per user: the quantity is a number of seats"
          checked={v.seat_based}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            // A flat plan has no seat policies: the server refuses them on one.
            setV((x) => (on ? { ...x, seat_based: true } : { ...x, seat_based: false, allow_over_assignment: false, auto_assign_seats: false }));
          }}
        />
        <div style={{ paddingLeft: 24, opacity: v.seat_based ? 1 : 0.5 }}>
          <Switch
            label="Allow over-assignment: customer admins may assign more seats than bought (flagged)"
            disabled={!v.seat_based}
            checked={v.allow_over_assignment}
            onChange={(e) => set('allow_over_assignment', e.currentTarget.checked)}
          />
          <Switch
            label="Auto-assign on first check: the seat check gives a free seat to a user without one"
            disabled={!v.seat_based}
            checked={v.auto_assign_seats}
            onChange={(e) => set('auto_assign_seats', e.currentTarget.checked)}
          />
          <FormGroup label="Seats over the quantity (after the quantity drops, or over-assigned)" labelFor={`plan-${plan.id}-over`}>
            <HTMLSelect
              id={`plan-${plan.id}-over`}
              disabled={!v.seat_based}
              value={v.over_quantity_policy}
              onChange={(e) => set('over_quantity_policy', e.currentTarget.value as OverQuantityPolicy)}
            >
              <option value="keep_all">keep access for every seat holder</option>
              <option value="newest_unlicensed">refuse the newest seats beyond the quantity</option>
            </HTMLSelect>
          </FormGroup>
        </div>
        {changed.length > 0 && (
          <Callout intent="warning" title="What changes, at once, for every subscription on this plan" data-testid="plan-seat-effects">
            {effects.length > 0 ? (
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {effects.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            ) : (
              <p style={{ margin: 0 }}>The other settings only matter while the plan is per user; they are saved for when it is.</p>
            )}
          </Callout>
        )}
        {save.isError && <ErrorBox error={save.error} title="Not saved" />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button
              intent={changed.length > 0 ? 'warning' : 'primary'}
              text={changed.length > 0 ? `Apply ${changed.length === 1 ? 'this change' : `these ${changed.length} changes`}` : 'No changes'}
              disabled={changed.length === 0}
              loading={save.isPending}
              onClick={() => save.mutate()}
            />
          </>
        }
      />
    </Dialog>
  );
}
