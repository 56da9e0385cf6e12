import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { FormGroup, HTMLSelect, NumericInput, Tag } from '@blueprintjs/core';
import { api, queryKeys, type Subscription, type AzureOperation, type SeatCounts } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { ActionDialog } from './SubDialog';
import { operationIntent } from './SubTimeline';

// The seller's actions on a Microsoft subscription. Every change but
// activation is asynchronous at Microsoft: the API answers 202 with the
// operation, and its progress shows in the subscription's operations.

export const azurePlansQuery = (id: number) => ({
  queryKey: queryKeys.subscription.azurePlans(id),
  queryFn: () => api.subscriptions.azurePlans(id),
  staleTime: 60_000,
});

/** What an operation does, in a few words ("Change the seats to 40"). */
export function describeOperation(o: AzureOperation): string {
  return OPERATION_WORDS[o.action]?.(o).what ?? o.action;
}

// Per action: what it does, and what Microsoft did when it succeeded.
const OPERATION_WORDS: Record<string, (o: AzureOperation) => { what: string; done: string }> = {
  ChangePlan: (o) => ({ what: `Change the plan to ${o.plan_id ?? 'another plan'}`, done: `changed the plan to ${o.plan_id ?? 'another plan'}` }),
  ChangeQuantity: (o) => ({ what: `Change the seats to ${o.quantity ?? '?'}`, done: `changed the seats to ${o.quantity ?? '?'}` }),
  Unsubscribe: () => ({ what: 'Unsubscribe', done: 'ended the subscription' }),
  Suspend: () => ({ what: 'Suspend', done: 'suspended the subscription' }),
  Reinstate: () => ({ what: 'Reinstate', done: 'reinstated the subscription' }),
  Renew: () => ({ what: 'Renew', done: 'renewed the subscription' }),
};

/**
 * How an operation ended, in a sentence: "Microsoft changed the seats to 40."
 * or "Microsoft did not change the seats to 40 (Failed).".
 */
export function operationOutcome(o: AzureOperation): string {
  const words = OPERATION_WORDS[o.action]?.(o);
  if (o.status === 'Succeeded') return words ? `Microsoft ${words.done}.` : `Microsoft completed ${o.action}.`;
  const what = words ? words.what.charAt(0).toLowerCase() + words.what.slice(1) : o.action;
  return `Microsoft did not ${what} (${o.status}).`;
}

/** The subscription's Microsoft operations, newest first. */
export function AzureOperationsTable({ operations }: { operations: AzureOperation[] }) {
  if (operations.length === 0) return <p className="sub-hint">No operations yet.</p>;
  return (
    <div className="sub-xscroll">
      <DataTable
        label="Operations"
        className="sub-ops"
        staticLook
        striped={false}
        rows={operations}
        rowKey={(o) => o.operation_id}
        rowProps={() => ({ 'data-testid': 'azure-operation' })}
        columns={[
          { id: 'started', header: 'Started', cell: (o) => formatDate(o.created_at) },
          { id: 'action', header: 'Action', cell: (o) => describeOperation(o) },
          { id: 'by', header: 'By', cell: (o) => (o.source === 'Partner' ? o.requested_by || 'seller' : 'customer') },
          {
            id: 'status',
            header: 'Status',
            className: 'mg-wrap',
            cell: (o) => (
              <>
                <Tag minimal intent={operationIntent(o)}>
                  {o.status}
                </Tag>
                {o.error_message && <div role="alert">{o.error_message}</div>}
              </>
            ),
          },
          { id: 'finished', header: 'Finished', cell: (o) => formatDate(o.finished_at) },
        ]}
      />
    </div>
  );
}

type Started = (op: AzureOperation) => void;

function useChange(s: Subscription, onStarted: Started, onClose: () => void) {
  return useMutation({
    mutationFn: (body: { action: string; plan_id?: string; quantity?: number }) =>
      api.subscriptions.azureChange(s.id, body),
    onSuccess: (res) => {
      onStarted(res.operation);
      onClose();
    },
  });
}

export function ActivateDialog({ s, onDone, onClose }: { s: Subscription; onDone: () => void; onClose: () => void }) {
  const activate = useMutation({
    mutationFn: () => api.subscriptions.azureActivate(s.id),
    onSuccess: () => {
      onDone();
      onClose();
    },
  });
  const what = s.plan ? `${s.plan.name} (${s.plan.plan_id})` : 'the plan';
  return (
    <ActionDialog
      title="Activate at Microsoft"
      consequence={
        <>
          <strong>Activation starts billing.</strong> Microsoft starts charging the customer for {what}
          {s.quantity > 0 ? `, ${s.quantity} seat${s.quantity === 1 ? '' : 's'},` : ''} from now on. Activate once the customer&apos;s account is
          ready; it cannot be taken back (only unsubscribed).
        </>
      }
      confirm="Activate"
      pending={activate.isPending}
      error={activate.error}
      onConfirm={() => activate.mutate()}
      onClose={onClose}
    />
  );
}

export function ChangePlanDialog({ s, onStarted, onClose }: { s: Subscription; onStarted: Started; onClose: () => void }) {
  const plans = useQuery(azurePlansQuery(s.id));
  const others = (plans.data?.plans ?? []).filter((p) => p.plan_id !== s.plan?.plan_id);
  const [plan, setPlan] = useState('');
  const change = useChange(s, onStarted, onClose);
  const chosen = plan || others[0]?.plan_id || '';
  const target = others.find((p) => p.plan_id === chosen);
  return (
    <ActionDialog
      title="Change plan"
      consequence={
        <>
          Microsoft moves the customer from {s.plan ? `${s.plan.name} (${s.plan.plan_id})` : 'the current plan'} to{' '}
          {target ? `${target.name} (${target.plan_id})` : 'the new plan'} and bills the new plan&apos;s price from the change on. Change a plan
          only after the customer has agreed. Microsoft applies it asynchronously; its progress shows on this page.
        </>
      }
      confirm="Change plan"
      pending={change.isPending}
      error={change.error ?? (plans.isError ? plans.error : null)}
      disabled={!chosen}
      onConfirm={() => change.mutate({ action: 'ChangePlan', plan_id: chosen })}
      onClose={onClose}
    >
      {plans.isPending && <Loading />}
      {plans.isSuccess && others.length === 0 && <p data-testid="no-other-plan">Microsoft offers this customer no other plan.</p>}
      {others.length > 0 && (
        <FormGroup label="New plan (plans Microsoft offers this customer)" labelFor="plan">
          <HTMLSelect id="plan" value={chosen} onChange={(e) => setPlan(e.target.value)}>
            {others.map((p) => (
              <option key={p.plan_id} value={p.plan_id}>
                {p.name} ({p.plan_id}){p.per_seat ? ' · per seat' : ''}
                {p.private ? ' · private' : ''}
              </option>
            ))}
          </HTMLSelect>
        </FormGroup>
      )}
    </ActionDialog>
  );
}

export function ChangeSeatsDialog(props: { s: Subscription; seats: SeatCounts | null; onStarted: Started; onClose: () => void }) {
  const { s, seats, onStarted, onClose } = props;
  const plans = useQuery(azurePlansQuery(s.id));
  const current = plans.data?.plans.find((p) => p.plan_id === s.plan?.plan_id);
  const min = Math.max(1, current?.min_quantity || 1);
  const max = current?.max_quantity || 1_000_000;
  const [q, setQ] = useState(s.quantity || 1);
  const change = useChange(s, onStarted, onClose);
  // Microsoft's own listing decides: a plan it does not price per seat has no seat count to change.
  const flat = current !== undefined && !current.per_seat;
  const valid = !flat && Number.isInteger(q) && q >= min && q <= max && q !== s.quantity;
  const over = seats?.seat_based ? seats.assigned - q : 0;
  return (
    <ActionDialog
      title="Change seats"
      consequence={
        <>
          Microsoft bills the customer for {valid ? q : 'the new number of'} seats instead of {s.quantity} from the change on. Change seats only
          after the customer has agreed. Microsoft applies it asynchronously; its progress shows on this page.
          {valid && over > 0 && (
            <div style={{ marginTop: 6 }} data-testid="seats-over">
              {seats!.assigned} seats are assigned: {over} of them will be over the quantity ({seats!.over_quantity_policy === 'newest_unlicensed' ? 'the newest lose their licence' : 'they keep working until released'}).
            </div>
          )}
        </>
      }
      confirm="Change seats"
      pending={change.isPending}
      error={change.error}
      disabled={!valid}
      onConfirm={() => change.mutate({ action: 'ChangeQuantity', quantity: q })}
      onClose={onClose}
    >
      <FormGroup
        label="Seats"
        labelFor="seats"
        helperText={`Now ${s.quantity}.${current ? ` The plan allows ${min}–${current.max_quantity || 'any'}.` : ''}`}
      >
        <NumericInput id="seats" min={min} max={max} value={q} onValueChange={(v) => setQ(v)} allowNumericCharactersOnly />
      </FormGroup>
      {flat && (
        <p className="dash-danger" data-testid="seats-flat">
          Microsoft prices this plan per subscription, not per seat: there is no seat count to change. Change the plan instead.
        </p>
      )}
      {plans.isError && <ErrorBox error={plans.error} title="Microsoft's plan limits could not be read" />}
    </ActionDialog>
  );
}

export function UnsubscribeDialog({ s, onStarted, onClose }: { s: Subscription; onStarted: Started; onClose: () => void }) {
  const change = useChange(s, onStarted, onClose);
  const hours = (Date.now() - new Date(s.created_at).getTime()) / 3_600_000;
  return (
    <ActionDialog
      title="Unsubscribe at Microsoft"
      intent="danger"
      consequence={
        <>
          <strong>A marketplace unsubscribe cannot be undone.</strong> Microsoft ends the subscription and the customer loses access at once; to
          come back they buy again.{' '}
          {hours < 72
            ? 'This subscription is less than 72 hours old: Microsoft does not charge the customer for it.'
            : 'This subscription is more than 72 hours old: Microsoft bills the customer for the current term.'}{' '}
          The customer&apos;s data is kept for at least 7 days.
        </>
      }
      cancel="Keep the subscription"
      confirm="Unsubscribe"
      pending={change.isPending}
      error={change.error}
      onConfirm={() => change.mutate({ action: 'Unsubscribe' })}
      onClose={onClose}
    />
  );
}
