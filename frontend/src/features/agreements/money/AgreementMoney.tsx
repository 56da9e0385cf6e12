// AgreementMoney: an AWS subscription's agreement money (issue 20) — its
// invoices and charges as AWS reports them, refunds against an invoice
// (billing adjustment requests), the seller's cancellation request (the
// buyer has 7 days; no answer approves it) and payment requests against
// the agreement's variable-payment term. Staff read; admins act, each
// action confirmed with its consequence stated.
import { useState, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, FormGroup, H5, HTMLSelect, HTMLTable, InputGroup, Tag, TextArea, type Intent } from '@blueprintjs/core';
import { api, ApiError, queryKeys, type AgreementInvoice, type AgreementMoney as Money, type AgreementRequest } from '../../../shared/api';
import { ErrorBox, Loading } from '../../../shared/components/components';
import { ADMINS, useMe } from '../../../shared/components/common';
import { formatDateTime } from '../../../shared/i18n';

const statusIntent: Record<AgreementRequest['status'], Intent> = {
  sending: 'warning',
  pending: 'primary',
  completed: 'success',
  approved: 'success',
  rejected: 'danger',
  withdrawn: 'none',
  failed: 'danger',
};

const kindName: Record<AgreementRequest['kind'], string> = { refund: 'Refund', cancellation: 'Cancellation request', payment: 'Payment request' };

const open = (r: AgreementRequest) => r.status === 'pending' || r.status === 'sending';

type Action = { kind: 'refund'; invoice: AgreementInvoice } | { kind: 'cancel' } | { kind: 'pay' } | { kind: 'withdraw'; request: AgreementRequest };

/** The agreement money of one AWS subscription (mounted on its page). */
export function AgreementMoney({ subscriptionId }: { subscriptionId: number | string }) {
  const me = useMe();
  const admin = !!me && ADMINS.includes(me.role);
  const q = useQuery({
    queryKey: queryKeys.agreementMoney.of(subscriptionId),
    queryFn: () => api.agreementMoney.get(subscriptionId),
    refetchInterval: (query) => (query.state.data?.requests.some(open) ? 3000 : false),
  });
  const [action, setAction] = useState<Action | null>(null);
  const [done, setDone] = useState('');
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const m = q.data;
  const pendingCancel = m.requests.find((r) => r.kind === 'cancellation' && open(r));
  const pendingPay = m.requests.find((r) => r.kind === 'payment' && open(r));
  // An approved cancellation has ended the agreement: nothing more to ask.
  const ended = m.requests.some((r) => r.kind === 'cancellation' && r.status === 'approved');
  const start = (a: Action) => {
    setDone('');
    setAction(a);
  };
  return (
    <div data-testid="agreement-money" style={{ maxWidth: 1100 }}>
      <p className={Classes.TEXT_MUTED}>
        Agreement <code>{m.agreement_id || '—'}</code>. Refunds, cancellation requests and payment requests go to AWS's Agreement Service; AWS tells the
        outcome by EventBridge events, and Marketgate also asks every few minutes. {admin ? '' : 'Only admins can act here.'}
      </p>
      {!m.available && (
        <Callout intent="warning" data-testid="money-unavailable" style={{ marginBottom: 8 }}>
          {m.note}
        </Callout>
      )}
      {done && (
        <Callout intent="success" role="status" data-testid="money-done" style={{ marginBottom: 8 }}>
          {done}
        </Callout>
      )}
      <Section title="Invoices">
        <Invoices m={m} admin={admin} onRefund={(invoice) => start({ kind: 'refund', invoice })} />
      </Section>
      <Section title="Charges">
        <Charges m={m} />
      </Section>
      <Section title="Cancellation">
        <p className={Classes.TEXT_MUTED}>
          A seller's cancellation request waits 7 days for the buyer. If the buyer approves it, or does not answer within 7 days, AWS ends the agreement:
          Purchase Agreement Ended arrives, the customer loses access and their final usage is metered. If the buyer rejects it, the agreement continues.
        </p>
        {pendingCancel ? (
          <Callout intent="primary" data-testid="pending-cancellation">
            Waiting for the buyer{pendingCancel.respond_by ? ` until ${formatDateTime(pendingCancel.respond_by)}` : ''} (reason {pendingCancel.reason_code}).{' '}
            {admin && (
              <Button small text="Withdraw" onClick={() => start({ kind: 'withdraw', request: pendingCancel })} data-testid="withdraw-cancellation" />
            )}
          </Callout>
        ) : ended ? (
          <Callout data-testid="agreement-ended">The buyer approved a cancellation request: AWS ended the agreement.</Callout>
        ) : (
          admin && m.agreement_id && <Button intent="danger" text="Request cancellation…" onClick={() => start({ kind: 'cancel' })} data-testid="request-cancellation" />
        )}
      </Section>
      <Section title="Payment requests">
        {m.variable_term ? (
          <>
            <p className={Classes.TEXT_MUTED} data-testid="variable-term">
              Variable-payment term {m.variable_term.term_id}: at most {m.variable_term.max_total} {m.variable_term.currency} in all;{' '}
              <strong>{m.remaining} {m.variable_term.currency}</strong> can still be requested. The buyer approves or rejects each request
              {m.variable_term.approval === 'AUTO_APPROVE_ON_EXPIRATION' ? ` (no answer approves it after ${m.variable_term.expires})` : ''}.
            </p>
            {pendingPay ? (
              <Callout intent="primary" data-testid="pending-payment">
                {pendingPay.amount} {pendingPay.currency} ({pendingPay.name}) waits for the buyer.{' '}
                {admin && <Button small text="Withdraw" onClick={() => start({ kind: 'withdraw', request: pendingPay })} data-testid="withdraw-payment" />}
              </Callout>
            ) : (
              admin && <Button text="Send payment request…" onClick={() => start({ kind: 'pay' })} data-testid="send-payment" />
            )}
          </>
        ) : (
          <p className={Classes.TEXT_MUTED}>The agreement has no variable-payment term: payment requests need one (set in the offer's terms).</p>
        )}
      </Section>
      <Section title="Requests">
        <Requests items={m.requests} />
      </Section>
      {action && (
        <ActionDialog
          subscriptionId={subscriptionId}
          m={m}
          action={action}
          onClose={(msg) => {
            setAction(null);
            if (msg) setDone(msg);
          }}
        />
      )}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section style={{ marginBottom: 16 }}>
      <H5>{title}</H5>
      {children}
    </section>
  );
}

function Invoices({ m, admin, onRefund }: { m: Money; admin: boolean; onRefund: (i: AgreementInvoice) => void }) {
  if (m.invoices.length === 0) return <p className={Classes.TEXT_MUTED}>No invoices.</p>;
  return (
    <HTMLTable compact striped data-testid="invoices">
      <thead>
        <tr>
          <th>Invoice</th>
          <th>Type</th>
          <th>Period</th>
          <th>Issued</th>
          <th>Amount</th>
          <th>Refundable</th>
          {admin && <th>Actions</th>}
        </tr>
      </thead>
      <tbody>
        {m.invoices.map((i) => (
          <tr key={i.invoice_id} data-testid="invoice-row" data-invoice={i.invoice_id}>
            <td>{i.invoice_id}</td>
            <td>{i.type === 'CREDIT_MEMO' ? 'Credit memo' : 'Invoice'}</td>
            <td>{i.period}</td>
            <td>{i.issued_at ? formatDateTime(i.issued_at) : ''}</td>
            <td>
              {i.amount} {i.currency}
            </td>
            <td>{i.max_refundable && `${i.max_refundable} ${i.currency}`}</td>
            {admin && (
              <td>
                {i.type === 'INVOICE' && Number(i.max_refundable) > 0 && (
                  <Button small text="Refund…" onClick={() => onRefund(i)} aria-label={`Refund invoice ${i.invoice_id}`} />
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </HTMLTable>
  );
}

function Charges({ m }: { m: Money }) {
  if (m.charges.length === 0) return <p className={Classes.TEXT_MUTED}>No charges.</p>;
  return (
    <HTMLTable compact striped data-testid="charges">
      <thead>
        <tr>
          <th>Charge</th>
          <th>When</th>
          <th>Amount</th>
        </tr>
      </thead>
      <tbody>
        {m.charges.map((c) => (
          <tr key={c.id}>
            <td>{c.id}</td>
            <td>{c.at ? formatDateTime(c.at) : ''}</td>
            <td>
              {c.amount} {c.currency}
            </td>
          </tr>
        ))}
      </tbody>
    </HTMLTable>
  );
}

function Requests({ items }: { items: AgreementRequest[] }) {
  if (items.length === 0) return <p className={Classes.TEXT_MUTED}>None yet.</p>;
  return (
    <HTMLTable compact striped data-testid="agreement-requests" style={{ width: '100%' }}>
      <thead>
        <tr>
          <th>Requested</th>
          <th>What</th>
          <th>Status</th>
          <th>Where it stands</th>
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-testid="agreement-request" data-kind={r.kind} data-status={r.status}>
            <td>
              {formatDateTime(r.created_at)}
              <div className={Classes.TEXT_MUTED}>{r.requested_by}</div>
            </td>
            <td>
              {kindName[r.kind]}
              {r.amount && ` · ${r.amount} ${r.currency}`}
              {r.reason_code && <div className={Classes.TEXT_MUTED}>{r.reason_code}</div>}
            </td>
            <td>
              <Tag intent={statusIntent[r.status]} minimal={r.status === 'withdrawn'}>
                {r.status}
              </Tag>
            </td>
            <td style={{ maxWidth: 480 }}>
              {r.summary}
              {r.history.length > 0 && (
                <div className={Classes.TEXT_MUTED}>
                  {r.history.map((h) => `${formatDateTime(h.at)} ${h.status}${h.aws_status ? ` (${h.aws_status})` : ''} · ${h.source}`).join(' → ')}
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </HTMLTable>
  );
}

const newKey = () => (globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

function fieldMessage(e: unknown, field: string): string | undefined {
  return e instanceof ApiError ? e.fields.find((f) => f.field === field)?.message : undefined;
}

/** The dialog of one action: its form and the consequence it confirms. */
function ActionDialog({ subscriptionId, m, action, onClose }: { subscriptionId: number | string; m: Money; action: Action; onClose: (done?: string) => void }) {
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
