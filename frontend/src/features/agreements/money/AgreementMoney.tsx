// AgreementMoney: an AWS subscription's agreement money (issue 20) — its
// invoices and charges as AWS reports them, refunds against an invoice
// (billing adjustment requests), the seller's cancellation request (the
// buyer has 7 days; no answer approves it) and payment requests against
// the agreement's variable-payment term. Staff read; admins act, each
// action confirmed with its consequence stated.
import { useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Callout, Classes, H5 } from '@blueprintjs/core';
import { api, queryKeys } from '../../../shared/api';
import { ErrorBox, Loading } from '../../../shared/components/components';
import { ADMINS, useMe } from '../../../shared/components/common';
import { formatDateTime } from '../../../shared/i18n';
import { ActionDialog } from './ActionDialog';
import { Charges, Invoices, Requests } from './MoneyLists';
import { open, type Action } from './moneyParts';


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

