import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AnchorButton, Button, Callout, ProgressBar } from '@blueprintjs/core';
import { api, invalidateAll, queryKeys, staleAfter, type Role, type User, type Subscription, type AzureOperation, type InboxMessage, type SeatCounts } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { formatDate } from '../../shared/format';
import { ActivateDialog, ChangePlanDialog, ChangeSeatsDialog, describeOperation, operationOutcome, UnsubscribeDialog } from './AzurePanel';
import { ActionDialog } from './SubDialog';
import { replayEffect, replayRefusal } from '../notifications/replay';

export const AWS_PORTAL = 'https://aws.amazon.com/marketplace/management/';

/** The signed-in user's role (App loads it before any page). */
export function useRole(): Role | undefined {
  return useQueryClient().getQueryData<{ user: User }>(queryKeys.me)?.user.role;
}

/** Who may act on subscriptions: admins and operators. */
export const canAct = (role: Role | undefined) => role === 'admin' || role === 'operator';
export const isSeller = (role: Role | undefined) => role === 'admin' || role === 'operator' || role === 'viewer';

type Dialog = null | 'activate' | 'plan' | 'seats' | 'unsubscribe' | 'replay';

/**
 * The subscription's action toolbar: the marketplace actions the role may
 * take (each behind a confirmation), the progress of Microsoft's operations
 * and their outcome. AWS gives sellers no API to change a buyer's plan or
 * quantity: the toolbar says so, links to the AWS Marketplace Management
 * Portal, and points to what AWS does let sellers do on an agreement
 * (refunds, cancellation and payment requests: the Billing & requests tab).
 */
export function SubActions(props: { s: Subscription; operations: AzureOperation[]; seats: SeatCounts | null }) {
  const { s, operations, seats } = props;
  const role = useRole();
  const qc = useQueryClient();
  const act = canAct(role);
  const [dialog, setDialog] = useState<Dialog>(null);
  // Operations started from this page: their outcome shows when they finish.
  const [watched, setWatched] = useState<string[]>([]);
  const [activated, setActivated] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: queryKeys.subscription.detail(s.id) });
  const started = (op: AzureOperation) => {
    setWatched((w) => [op.operation_id, ...w]);
    void refresh();
  };

  // The newest failed inbound message of this subscription, to replay.
  const failed = useQuery({
    queryKey: queryKeys.inbox.failedOf(s.id),
    queryFn: () => api.inbox.list({ subscription: s.id, status: 'failed', limit: 1 }),
    enabled: act,
  });
  const lastFailed = failed.data?.items[0];
  // Registrations and landing-page resolves cannot be replayed (the server answers 409): say why.
  const refused = lastFailed ? replayRefusal(lastFailed.source) : null;
  const replayable = !!lastFailed && refused === null;
  const [replayed, setReplayed] = useState<InboxMessage | null>(null);
  const replay = useMutation({
    mutationFn: (id: number) => api.inbox.replay(id),
    onSuccess: (res) => {
      setReplayed(res.message);
      setDialog(null);
      void refresh();
      void qc.invalidateQueries({ queryKey: queryKeys.inbox.all });
    },
  });

  // An operation that finished changed the plan, the seats or the state:
  // read again what shows them (the seat counts, lists, the dashboard).
  const runningIds = operations.filter((o) => o.finished_at === null).map((o) => o.operation_id).join(' ');
  const lastRunning = useRef(runningIds);
  useEffect(() => {
    const finished = lastRunning.current.split(' ').some((op) => op !== '' && !runningIds.split(' ').includes(op));
    lastRunning.current = runningIds;
    if (finished) void invalidateAll(qc, staleAfter.subscriptionChange(s.id));
  }, [runningIds, qc, s.id]);

  if (!isSeller(role)) return null;
  const running = operations.filter((o) => o.finished_at === null);
  const busy = running.length > 0;
  const results = operations.filter((o) => watched.includes(o.operation_id) && o.finished_at !== null);
  const azure = s.marketplace === 'azure';
  const buttons: React.ReactNode[] = [];
  if (act && azure) {
    if (s.state === 'pending')
      buttons.push(<Button key="activate" intent="primary" icon="tick" text="Approve and activate" onClick={() => setDialog('activate')} />);
    if (s.state === 'active') {
      buttons.push(
        <Button key="plan" icon="swap-horizontal" text="Change plan" disabled={busy} onClick={() => setDialog('plan')} />,
      );
      // Only a per-user plan has a seat count to change: Microsoft refuses ChangeQuantity on a flat-rate plan.
      if (seats?.seat_based)
        buttons.push(<Button key="seats" icon="people" text="Change seats" disabled={busy} onClick={() => setDialog('seats')} />);
    }
    if (s.state === 'active' || s.state === 'suspended')
      buttons.push(<Button key="unsubscribe" intent="danger" icon="cross" text="Unsubscribe" disabled={busy} onClick={() => setDialog('unsubscribe')} />);
  }
  if (act && lastFailed && replayable)
    buttons.push(
      <Button key="replay" icon="refresh" text={`Replay failed message #${lastFailed.id}`} onClick={() => setDialog('replay')} />,
    );

  return (
    <div data-testid="sub-actions">
      {(buttons.length > 0 || (act && lastFailed && !replayable) || (busy && act)) && (
        <div className="sub-actions" role="toolbar" aria-label="Actions">
          {buttons}
          {busy && act && azure && <span className="sub-hint">Changes wait until Microsoft finishes the running operation.</span>}
          {act && lastFailed && !replayable && (
            <span className="sub-hint" data-testid="replay-refusal">
              The last failed message, <Link to={'/notifications/' + lastFailed.id}>#{lastFailed.id}</Link> ({lastFailed.source}), cannot be
              replayed: {refused}
            </span>
          )}
        </div>
      )}
      {!azure && (
        <Callout icon="info-sign" className="sub-callout" data-testid="aws-no-api">
          AWS offers sellers no API to change a buyer&apos;s plan or quantity: buyers change it in AWS Marketplace, and sellers make private
          offers in the AWS Marketplace Management Portal. What AWS does let sellers do on an agreement — refund an invoice, ask the buyer to
          cancel (they have 7 days to answer), request a payment — is on the{' '}
          <Link to={`/subscriptions/${s.id}?tab=money`}>Billing &amp; requests</Link> tab.{' '}
          <AnchorButton
            size="small"
            variant="minimal"
            intent="primary"
            endIcon="share"
            href={AWS_PORTAL}
            target="_blank"
            rel="noopener noreferrer"
            text="AWS Marketplace Management Portal"
          />
        </Callout>
      )}
      {running.map((o) => (
        <Callout key={o.operation_id} compact intent="primary" icon="refresh" className="sub-progress" data-testid="operation-progress">
          In progress at Microsoft: <strong>{describeOperation(o)}</strong> ({o.status}, started {formatDate(o.created_at)}
          {o.requested_by ? ` by ${o.requested_by}` : ''}). This page follows it.
          <ProgressBar intent="primary" animate stripes />
        </Callout>
      ))}
      {results.map((o) => (
        <Callout
          key={o.operation_id}
          compact
          intent={o.status === 'Succeeded' ? 'success' : 'danger'}
          className="sub-progress"
          data-testid="operation-result"
        >
          <strong>
            {operationOutcome(o)}
          </strong>{' '}
          {o.error_message && <span role="alert">Microsoft: {o.error_message}</span>}
          <Button size="small" variant="minimal" text="Dismiss" onClick={() => setWatched((w) => w.filter((x) => x !== o.operation_id))} />
        </Callout>
      ))}
      {activated && (
        <Callout compact intent="success" className="sub-progress" data-testid="activated">
          <strong>Activated at Microsoft:</strong> billing has started.{' '}
          <Button size="small" variant="minimal" text="Dismiss" onClick={() => setActivated(false)} />
        </Callout>
      )}
      {replayed && (
        <Callout compact intent={replayed.status === 'failed' ? 'danger' : 'success'} className="sub-progress" data-testid="replay-result">
          <strong>
            Message #{replayed.id} replayed: {replayed.status}.
          </strong>{' '}
          {replayed.error && <span>{replayed.error}</span>}
          <Button size="small" variant="minimal" text="Dismiss" onClick={() => setReplayed(null)} />
        </Callout>
      )}
      {failed.isError && <ErrorBox error={failed.error} title="Failed messages could not be read" />}
      {dialog === 'activate' && <ActivateDialog s={s} onDone={() => {
            setActivated(true);
            void refresh();
          }} onClose={() => setDialog(null)} />}
      {dialog === 'plan' && <ChangePlanDialog s={s} onStarted={started} onClose={() => setDialog(null)} />}
      {dialog === 'seats' && <ChangeSeatsDialog s={s} seats={seats} onStarted={started} onClose={() => setDialog(null)} />}
      {dialog === 'unsubscribe' && <UnsubscribeDialog s={s} onStarted={started} onClose={() => setDialog(null)} />}
      {dialog === 'replay' && lastFailed && (
        <ActionDialog
          title={`Replay message #${lastFailed.id}`}
          consequence={
            <>
              Replays the {lastFailed.source} message <code>{lastFailed.action || 'message'}</code> received {formatDate(lastFailed.received_at)}.{' '}
              {replayEffect(lastFailed.source)} The subscription may change state. Processing is idempotent: what was already applied is not
              applied twice.
            </>
          }
          confirm="Replay"
          pending={replay.isPending}
          error={replay.error}
          onConfirm={() => replay.mutate(lastFailed.id)}
          onClose={() => setDialog(null)}
        >
          <div>
            Why it failed{lastFailed.attempts ? ` (after ${lastFailed.attempts} attempt${lastFailed.attempts === 1 ? '' : 's'})` : ''}:{' '}
            <span className="dash-danger">{lastFailed.error || 'no error recorded'}</span>
          </div>
          <div style={{ marginTop: 4 }}>
            <Link to={'/notifications/' + lastFailed.id}>Open the message</Link>
          </div>
        </ActionDialog>
      )}
    </div>
  );
}
