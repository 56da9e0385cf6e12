// The dialog of one agreement money action (refund, cancellation request,
// payment request, withdrawal): its form and the consequence it confirms.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Dialog, DialogBody, DialogFooter, FormGroup, HTMLSelect, InputGroup, TextArea } from '@blueprintjs/core';
import { api, ApiError, queryKeys, type AgreementMoney as Money } from '../../../shared/api';
import { kindName, type Action } from './moneyParts';

const newKey = () => (globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

function fieldMessage(e: unknown, field: string): string | undefined {
  return e instanceof ApiError ? e.fields.find((f) => f.field === field)?.message : undefined;
}

/** The dialog of one action: its form and the consequence it confirms. */
export function ActionDialog({ subscriptionId, m, action, onClose }: { subscriptionId: number | string; m: Money; action: Action; onClose: (done?: string) => void }) {
  const qc = useQueryClient();
  const [key] = useState(newKey);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState(action.kind === 'refund' ? (m.refund_reasons[0] ?? '') : (m.cancellation_reasons[0] ?? ''));
  const [note, setNote] = useState('');
  const [name, setName] = useState('');
  const run = useMutation({
    mutationFn: () => {
      switch (action.kind) {
        case 'refund':
          return api.agreementMoney.refund(subscriptionId, { invoice_id: action.invoice.invoice_id, amount, reason_code: reason, note, confirm: true }, key);
        case 'cancel':
          return api.agreementMoney.cancel(subscriptionId, { reason_code: reason, note, confirm: true }, key);
        case 'pay':
          return api.agreementMoney.pay(subscriptionId, { amount, name, note, confirm: true }, key);
        default:
          return api.agreementMoney.withdraw(subscriptionId, action.request.id, { reason: note, confirm: true });
      }
    },
    onSuccess: (a) => {
      void qc.invalidateQueries({ queryKey: queryKeys.agreementMoney.of(subscriptionId) });
      void qc.invalidateQueries({ queryKey: queryKeys.subscription.detail(subscriptionId) });
      onClose(`${kindName[a.request.kind]}: ${a.request.summary}`);
    },
  });
  const titles = { refund: 'Refund an invoice', cancel: 'Request the agreement’s cancellation', pay: 'Send a payment request', withdraw: 'Withdraw the request' };
  const confirmText = { refund: 'Refund', cancel: 'Send cancellation request', pay: 'Send payment request', withdraw: 'Withdraw' }[action.kind];
  const reasons = action.kind === 'refund' ? m.refund_reasons : m.cancellation_reasons;
  const err = run.error;
  return (
    <Dialog isOpen title={titles[action.kind]} onClose={() => onClose()} style={{ width: 560 }}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate();
        }}
      >
        <DialogBody>
          {(action.kind === 'refund' || action.kind === 'pay') && (
            <FormGroup
              label={`Amount (${action.kind === 'refund' ? action.invoice.currency : (m.variable_term?.currency ?? '')})`}
              labelFor="money-amount"
              helperText={
                fieldMessage(err, 'amount') ??
                (action.kind === 'refund' ? `At most ${action.invoice.max_refundable} ${action.invoice.currency} (AWS's maximum for this invoice).` : `At most ${m.remaining} ${m.variable_term?.currency ?? ''}.`)
              }
              intent={fieldMessage(err, 'amount') ? 'danger' : 'none'}
            >
              <InputGroup id="money-amount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="0.00" required />
            </FormGroup>
          )}
          {action.kind === 'pay' && (
            <FormGroup label="Name (5 to 64 characters, shown to the buyer)" labelFor="money-name" helperText={fieldMessage(err, 'name')} intent={fieldMessage(err, 'name') ? 'danger' : 'none'}>
              <InputGroup id="money-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={64} required />
            </FormGroup>
          )}
          {(action.kind === 'refund' || action.kind === 'cancel') && (
            <FormGroup label="Reason (AWS's reason codes)" labelFor="money-reason">
              <HTMLSelect id="money-reason" value={reason} onChange={(e) => setReason(e.target.value)}>
                {reasons.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </HTMLSelect>
            </FormGroup>
          )}
          <FormGroup
            label={action.kind === 'withdraw' ? 'Why it is withdrawn (AWS requires it for a cancellation request)' : 'Note (optional, shown to AWS)'}
            labelFor="money-note"
          >
            <TextArea id="money-note" value={note} onChange={(e) => setNote(e.target.value)} fill maxLength={action.kind === 'refund' ? 500 : 2000} />
          </FormGroup>
          <Callout intent="warning" data-testid="consequence">
            <Consequence action={action} amount={amount} />
          </Callout>
          {err && !(err instanceof ApiError && err.fields.some((f) => f.field === 'amount' || f.field === 'name')) && (
            <Callout intent="danger" style={{ marginTop: 8 }} data-testid="money-error">
              {err.message}
            </Callout>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={() => onClose()} />
              <Button type="submit" intent={action.kind === 'pay' ? 'primary' : 'danger'} text={confirmText} loading={run.isPending} data-testid="confirm-money" />
            </>
          }
        />
      </form>
    </Dialog>
  );
}

function Consequence({ action, amount }: { action: Action; amount: string }) {
  switch (action.kind) {
    case 'refund':
      return (
        <>
          AWS refunds {amount || 'the amount'} {action.invoice.currency} of invoice {action.invoice.invoice_id} to the buyer. A refund cannot be undone.
        </>
      );
    case 'cancel':
      return (
        <>
          The buyer has 7 days to answer. If they approve, or do not answer, AWS ends the agreement: the customer loses access and their final usage is
          metered. If they reject it, nothing changes.
        </>
      );
    case 'pay':
      return <>AWS asks the buyer to approve a charge of {amount || 'the amount'}. Once approved, the buyer is billed.</>;
    default:
      return <>AWS withdraws the request; the buyer can no longer answer it.</>;
  }
}
