// The customer's change requests, newest first: what was asked, its status,
// Microsoft's operation and the seller's answer.
import { useTranslation } from 'react-i18next';
import { Classes, H5, ProgressBar, Tag, type Intent } from '@blueprintjs/core';
import { type ChangeRequest } from '../../shared/api';
import { formatDateTime } from '../../shared/i18n';

/** Whether something the customer started is still running (poll until it ends). */
export function running(requests: ChangeRequest[]): boolean {
  return requests.some((r) => r.status === 'performing' || (r.operation && r.operation.finished_at === null));
}

const statusIntent: Record<ChangeRequest['status'], Intent> = {
  pending: 'warning',
  performing: 'primary',
  performed: 'primary',
  approved: 'success',
  declined: 'danger',
  failed: 'danger',
};

export function Requests({ requests }: { requests: ChangeRequest[] }) {
  const { t } = useTranslation('changes');
  return (
    <section style={{ marginTop: 16 }} aria-labelledby="change-history">
      <H5 id="change-history">{t('requests.heading')}</H5>
      {requests.length === 0 ? (
        <p className={Classes.TEXT_MUTED}>{t('requests.empty')}</p>
      ) : (
        <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid="change-requests">
          {requests.map((r) => (
            <RequestItem key={r.id} r={r} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** What a request asks for, in words. */
export function useChangeWhat() {
  const { t } = useTranslation('changes');
  return (r: Pick<ChangeRequest, 'kind' | 'plan_id' | 'quantity'>) =>
    r.kind === 'plan' ? t('requests.what.plan', { plan: r.plan_id }) : r.kind === 'seats' ? t('requests.what.seats', { count: r.quantity }) : t('requests.what.unsubscribe');
}

function RequestItem({ r }: { r: ChangeRequest }) {
  const { t } = useTranslation('changes');
  const what = useChangeWhat();
  const op = r.operation;
  const opRunning = op && op.finished_at === null;
  return (
    <li data-testid="change-request" data-status={r.status} style={{ padding: '8px 0', borderBottom: '1px solid rgba(128,128,128,.25)' }}>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
        <strong>{what(r)}</strong>
        <Tag minimal intent={statusIntent[r.status]} data-testid="change-status">
          {t(`requests.status.${r.status}`)}
        </Tag>
        {op && (
          <Tag minimal intent={op.status === 'Succeeded' ? 'success' : opRunning ? 'primary' : 'danger'} data-testid="operation-status">
            {t(`requests.operation.${op.status}`, { defaultValue: op.status })}
          </Tag>
        )}
        <span className={Classes.TEXT_MUTED}>{t('requests.requested', { when: formatDateTime(r.created_at) })}</span>
      </div>
      {opRunning && <ProgressBar intent="primary" aria-label={t('requests.progress')} className="mg-change-progress" />}
      {r.note && <div>{t('requests.yourNote', { text: r.note })}</div>}
      {r.status === 'declined' && r.answer && <div data-testid="change-answer">{t('requests.declinedReason', { text: r.answer })}</div>}
      {r.status === 'approved' && r.marketplace === 'aws' && <div>{t('requests.awsApproved')}</div>}
      {r.status === 'approved' && r.answer && <div data-testid="change-answer">{t('requests.answer', { text: r.answer })}</div>}
      {(r.error || (op && op.error_message)) && r.status !== 'approved' && <div>{t('requests.error', { text: op?.error_message || r.error })}</div>}
      {op?.error_message && r.status === 'approved' && <div>{t('requests.error', { text: op.error_message })}</div>}
    </li>
  );
}
