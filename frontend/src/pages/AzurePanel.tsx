import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Dialog, DialogBody, DialogFooter, FormGroup, H5, HTMLSelect, HTMLTable, NumericInput, Tag } from '@blueprintjs/core';
import { api, type AzureOperation, type Subscription, type User } from '../api';
import { ErrorBox } from '../components';
import { formatDate } from '../format';

interface AvailablePlan {
  plan_id: string;
  name: string;
  per_seat: boolean;
  min_quantity: number;
  max_quantity: number;
  private: boolean;
}

const running = (o: AzureOperation) => o.finished_at === null;

// AzurePanel: the seller's operations on a Microsoft subscription. Every
// change is asynchronous at Microsoft; its progress shows below and the
// page refreshes while one is running.
export function AzurePanel({ s, operations }: { s: Subscription; operations: AzureOperation[] }) {
  const qc = useQueryClient();
  const me = qc.getQueryData<{ user: User }>(['me']);
  const canWrite = me?.user.role === 'admin' || me?.user.role === 'operator';
  const [dialog, setDialog] = useState<null | 'plan' | 'quantity' | 'cancel'>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['subscription', String(s.id)] });
  const activate = useMutation({
    mutationFn: () => api(`/api/subscriptions/${s.id}/azure/activate`, { method: 'POST' }),
    onSuccess: refresh,
  });
  const busy = operations.some(running);
  return (
    <>
      <H5 style={{ marginTop: 16 }}>Microsoft operations</H5>
      {canWrite && (
        <div style={{ display: 'flex', gap: 8, marginBottom: 8 }}>
          {s.state === 'pending' && (
            <Button intent="primary" icon="tick" text="Approve and activate" loading={activate.isPending} onClick={() => activate.mutate()} />
          )}
          {s.state === 'active' && (
            <>
              <Button icon="swap-horizontal" text="Change plan" disabled={busy} onClick={() => setDialog('plan')} />
              {s.plan && <Button icon="people" text="Change seats" disabled={busy} onClick={() => setDialog('quantity')} />}
            </>
          )}
          {(s.state === 'active' || s.state === 'suspended') && (
            <Button intent="danger" icon="cross" text="Unsubscribe" disabled={busy} onClick={() => setDialog('cancel')} />
          )}
        </div>
      )}
      {activate.isError && <ErrorBox error={activate.error} />}
      {operations.length === 0 ? (
        <p>No operations yet.</p>
      ) : (
        <HTMLTable compact className="mg-table" aria-label="Operations" style={{ maxWidth: 900 }}>
          <thead>
            <tr>
              <th>Started</th>
              <th>Action</th>
              <th>By</th>
              <th>Status</th>
              <th>Finished</th>
            </tr>
          </thead>
          <tbody>
            {operations.map((o) => (
              <tr key={o.operation_id} data-testid="azure-operation">
                <td>{formatDate(o.created_at)}</td>
                <td>
                  {o.action}
                  {o.plan_id && ` → ${o.plan_id}`}
                  {o.action === 'ChangeQuantity' && o.quantity ? ` → ${o.quantity}` : ''}
                </td>
                <td>{o.source === 'Partner' ? o.requested_by || 'seller' : 'customer'}</td>
                <td>
                  <Tag minimal intent={o.status === 'Succeeded' ? 'success' : running(o) ? 'primary' : 'danger'}>{o.status}</Tag>
                  {o.error_message && <div role="alert">{o.error_message}</div>}
                </td>
                <td>{formatDate(o.finished_at)}</td>
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {dialog === 'plan' && <ChangePlanDialog s={s} onClose={() => setDialog(null)} onDone={refresh} />}
      {dialog === 'quantity' && <ChangeQuantityDialog s={s} onClose={() => setDialog(null)} onDone={refresh} />}
      {dialog === 'cancel' && <UnsubscribeDialog s={s} onClose={() => setDialog(null)} onDone={refresh} />}
    </>
  );
}

function useChange(s: Subscription, onDone: () => void, onClose: () => void) {
  return useMutation({
    mutationFn: (body: { action: string; plan_id?: string; quantity?: number }) =>
      api<{ operation: AzureOperation }>(`/api/subscriptions/${s.id}/azure/change`, { method: 'POST', body }),
    onSuccess: () => {
      onDone();
      onClose();
    },
  });
}

function ChangePlanDialog({ s, onClose, onDone }: { s: Subscription; onClose: () => void; onDone: () => void }) {
  const plans = useQuery({
    queryKey: ['azure-plans', s.id],
    queryFn: () => api<{ plans: AvailablePlan[] }>(`/api/subscriptions/${s.id}/azure/plans`),
  });
  const others = (plans.data?.plans ?? []).filter((p) => p.plan_id !== s.plan?.plan_id);
  const [plan, setPlan] = useState('');
  const change = useChange(s, onDone, onClose);
  const chosen = plan || others[0]?.plan_id || '';
  return (
    <Dialog isOpen onClose={onClose} title="Change plan">
      <DialogBody>
        {plans.isError && <ErrorBox error={plans.error} />}
        {plans.isSuccess && others.length === 0 && <p>Microsoft offers this customer no other plan.</p>}
        {others.length > 0 && (
          <FormGroup label="New plan (plans Microsoft offers this customer)" labelFor="plan">
            <HTMLSelect id="plan" value={chosen} onChange={(e) => setPlan(e.target.value)}>
              {others.map((p) => (
                <option key={p.plan_id} value={p.plan_id}>
                  {p.name} ({p.plan_id}){p.private ? ' · private' : ''}
                </option>
              ))}
            </HTMLSelect>
          </FormGroup>
        )}
        <p>Change a plan only after the customer has approved it. Microsoft applies it asynchronously.</p>
        {change.isError && <ErrorBox error={change.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button
              intent="primary"
              text="Change plan"
              disabled={!chosen}
              loading={change.isPending}
              onClick={() => change.mutate({ action: 'ChangePlan', plan_id: chosen })}
            />
          </>
        }
      />
    </Dialog>
  );
}

function ChangeQuantityDialog({ s, onClose, onDone }: { s: Subscription; onClose: () => void; onDone: () => void }) {
  const [q, setQ] = useState(s.quantity || 1);
  const change = useChange(s, onDone, onClose);
  return (
    <Dialog isOpen onClose={onClose} title="Change seats">
      <DialogBody>
        <FormGroup label="Seats" labelFor="seats" helperText={`Now ${s.quantity}. Change seats only after the customer has approved it.`}>
          <NumericInput id="seats" min={1} value={q} onValueChange={(v) => setQ(v)} />
        </FormGroup>
        {change.isError && <ErrorBox error={change.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button
              intent="primary"
              text="Change seats"
              disabled={!Number.isInteger(q) || q < 1 || q === s.quantity}
              loading={change.isPending}
              onClick={() => change.mutate({ action: 'ChangeQuantity', quantity: q })}
            />
          </>
        }
      />
    </Dialog>
  );
}

function UnsubscribeDialog({ s, onClose, onDone }: { s: Subscription; onClose: () => void; onDone: () => void }) {
  const change = useChange(s, onDone, onClose);
  const hours = (Date.now() - new Date(s.created_at).getTime()) / 3_600_000;
  return (
    <Dialog isOpen onClose={onClose} title="Unsubscribe at Microsoft">
      <DialogBody>
        <Callout intent="warning">
          {hours < 72
            ? 'This subscription is less than 72 hours old: Microsoft does not charge the customer for it.'
            : 'This subscription is more than 72 hours old: Microsoft bills the customer for the current term, and the customer loses access at once.'}
        </Callout>
        <p style={{ marginTop: 8 }}>The cancellation cannot be undone. The customer&apos;s data is kept for at least 7 days.</p>
        {change.isError && <ErrorBox error={change.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Keep the subscription" onClick={onClose} />
            <Button intent="danger" text="Unsubscribe" loading={change.isPending} onClick={() => change.mutate({ action: 'Unsubscribe' })} />
          </>
        }
      />
    </Dialog>
  );
}
