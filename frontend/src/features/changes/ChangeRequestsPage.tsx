// ChangeRequestsPage: the seller's queue of changes customer admins asked
// for that need approval (per plan, on the Offers page). Approving a
// Microsoft request asks Microsoft for the change through the seller's own
// change path and follows the operation; approving an AWS request tells the
// customer a private offer follows. Declining needs a reason the customer
// sees.
import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Button, Callout, Classes, FormGroup, HTMLSelect, Tag, TextArea } from '@blueprintjs/core';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { PageTitle } from '../../shared/components/PageTitle';
import { api, ApiError, queryKeys, type ChangeRequest } from '../../shared/api';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { ErrorBox, Loading } from '../../shared/components/components';
import { RequireRole, SELLER, WRITERS, useMe, useUrlFilters } from '../../shared/components/common';
import { marketplaceName } from '../../shared/format';
import { formatDateTime } from '../../shared/i18n';
import { running, useChangeWhat } from './ChangeRequestList';

export function ChangeRequestsPage() {
  return (
    <RequireRole roles={SELLER} what="change requests">
      <ChangeRequests />
    </RequireRole>
  );
}

const STATUSES = ['pending', 'performing', 'performed', 'approved', 'declined', 'failed'] as const;

function ChangeRequests() {
  const { t } = useTranslation('changes');
  const me = useMe();
  const canAnswer = !!me && WRITERS.includes(me.role);
  const f = useUrlFilters();
  const status = f.params.has('status') ? f.get('status') : 'pending';
  const marketplace = f.get('marketplace');
  const q = useQuery({
    queryKey: queryKeys.changes.queue(status, marketplace),
    queryFn: () => api.changes.list({ status, marketplace }),
    refetchInterval: (query) => (query.state.data && running(query.state.data.items) ? 2000 : false),
  });
  const [answering, setAnswering] = useState<{ r: ChangeRequest; approve: boolean } | null>(null);
  const [done, setDone] = useState('');
  return (
    <div>
      <PageTitle title={t('seller.title')} />
      <p className={Classes.TEXT_MUTED} style={{ maxWidth: 820 }}>
        {t('seller.intro')}
      </p>
      <div className="mg-toolbar">
        <FormGroup inline label={t('seller.status')} labelFor="cr-status">
          <HTMLSelect id="cr-status" value={status} onChange={(e) => f.set({ status: e.target.value })}>
            <option value="">{t('seller.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`requests.status.${s}`)}
              </option>
            ))}
          </HTMLSelect>
        </FormGroup>
        <FormGroup inline label={t('seller.marketplace')} labelFor="cr-marketplace">
          <HTMLSelect id="cr-marketplace" value={marketplace} onChange={(e) => f.set({ marketplace: e.target.value })}>
            <option value="">{t('seller.all')}</option>
            <option value="azure">{marketplaceName.azure ?? 'Microsoft'}</option>
            <option value="aws">{marketplaceName.aws ?? 'AWS'}</option>
          </HTMLSelect>
        </FormGroup>
      </div>
      {done && (
        <Callout intent="success" role="status" data-testid="answer-done" style={{ marginBottom: 8 }}>
          {done}
        </Callout>
      )}
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <ErrorBox error={q.error} />
      ) : q.data.items.length === 0 ? (
        <p className={Classes.TEXT_MUTED} data-testid="queue-empty">
          {t('seller.empty')}
        </p>
      ) : (
        <RequestTable
          items={q.data.items}
          canAnswer={canAnswer}
          onAnswer={(r, approve) => {
            setDone('');
            setAnswering({ r, approve });
          }}
        />
      )}
      {answering && (
        <AnswerDialog
          r={answering.r}
          approve={answering.approve}
          onClose={(msg) => {
            setAnswering(null);
            if (msg) setDone(msg);
          }}
        />
      )}
    </div>
  );
}

function RequestTable({ items, canAnswer, onAnswer }: { items: ChangeRequest[]; canAnswer: boolean; onAnswer: (r: ChangeRequest, approve: boolean) => void }) {
  const { t } = useTranslation('changes');
  const what = useChangeWhat();
  const columns: Column<ChangeRequest>[] = [
    {
      id: 'requested',
      header: t('seller.col.requested'),
      style: { whiteSpace: 'normal', minWidth: 120 },
      sortValue: (r) => r.created_at,
      cell: (r) => (
        <>
          {formatDateTime(r.created_at)}
          <div className={Classes.TEXT_MUTED}>{r.requested_by}</div>
        </>
      ),
    },
    { id: 'customer', header: t('seller.col.customer'), style: { whiteSpace: 'normal' }, sortValue: (r) => r.customer_name, cell: (r) => r.customer_name },
    {
      id: 'subscription',
      header: t('seller.col.subscription'),
      style: { whiteSpace: 'normal', minWidth: 140 },
      cell: (r) => (
        <>
          {/* AWS subscriptions have no name: the link still needs a text. */}
          <Link to={`/subscriptions/${r.subscription_id}`}>{r.subscription_name || `#${r.subscription_id}`}</Link>{' '}
          <Tag minimal>{marketplaceName[r.marketplace] ?? r.marketplace}</Tag>
        </>
      ),
    },
    {
      id: 'change',
      header: t('seller.col.change'),
      style: { whiteSpace: 'normal' },
      cell: (r) => (
        <>
          {what(r)}
          {r.kind === 'plan' && r.current_plan_id && <div className={Classes.TEXT_MUTED}>{t('seller.from', { from: r.current_plan_id })}</div>}
        </>
      ),
    },
    { id: 'note', header: t('seller.col.note'), style: { minWidth: 120, maxWidth: 200, whiteSpace: 'pre-wrap' }, cell: (r) => r.note },
    { id: 'status', header: t('seller.col.status'), style: { whiteSpace: 'normal', minWidth: 100 }, sortValue: (r) => r.status, cell: (r) => <RequestStatus r={r} /> },
  ];
  if (canAnswer) {
    columns.push({
      id: 'actions',
      header: t('seller.col.actions'),
      style: { whiteSpace: 'normal', minWidth: 110 },
      cell: (r) =>
        r.status === 'pending' && (
          <>
            <Button small intent="success" icon="tick" text={t('seller.approve')} onClick={() => onAnswer(r, true)} style={{ margin: '0 4px 4px 0' }} />
            <Button small intent="danger" icon="cross" text={t('seller.decline')} onClick={() => onAnswer(r, false)} style={{ marginBottom: 4 }} />
          </>
        ),
    });
  }
  return (
    <div style={{ overflowX: 'auto' }}>
      <DataTable
        label={t('seller.title')}
        testId="change-queue"
        compact
        striped
        style={{ width: '100%' }}
        rows={items}
        rowKey={(r) => r.id}
        rowProps={(r) => ({ 'data-testid': 'queue-row', 'data-status': r.status })}
        columns={columns}
      />
    </div>
  );
}

/** A request's status, Microsoft's operation, the answer and who gave it. */
function RequestStatus({ r }: { r: ChangeRequest }) {
  const { t } = useTranslation('changes');
  return (
    <>
      <Tag minimal intent={r.status === 'pending' ? 'warning' : r.status === 'declined' || r.status === 'failed' ? 'danger' : 'success'}>
        {t(`requests.status.${r.status}`)}
      </Tag>
      {r.operation && (
        <div>
          <Tag minimal data-testid="queue-operation">
            {t(`requests.operation.${r.operation.status}`, { defaultValue: r.operation.status })}
          </Tag>
        </div>
      )}
      {r.answer && <div style={{ whiteSpace: 'pre-wrap' }}>{r.answer}</div>}
      {r.error && r.status === 'pending' && <div className={Classes.TEXT_MUTED}>{t('requests.error', { text: r.error })}</div>}
      {r.decided_by && <div className={Classes.TEXT_MUTED}>{t('seller.decidedBy', { who: r.decided_by })}</div>}
    </>
  );
}

function AnswerDialog({ r, approve, onClose }: { r: ChangeRequest; approve: boolean; onClose: (msg?: string) => void }) {
  const { t } = useTranslation('changes');
  const what = useChangeWhat();
  const qc = useQueryClient();
  const [text, setText] = useState('');
  const m = useMutation({
    mutationFn: () => (approve ? api.changes.approve(r.id, text.trim()) : api.changes.decline(r.id, text.trim())),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.changes.all });
      void qc.invalidateQueries({ queryKey: queryKeys.subscription.detail(r.subscription_id) });
      onClose(t(approve ? 'seller.approved' : 'seller.declined'));
    },
    onError: () => void qc.invalidateQueries({ queryKey: queryKeys.changes.all }),
  });
  const body = approve
    ? r.marketplace === 'azure'
      ? t('seller.approveAzure', { what: what(r), customer: r.customer_name })
      : t('seller.approveAws', { what: what(r) })
    : t('seller.declineText');
  return (
    <ConfirmDialog
      isOpen
      confirmText={t(approve ? 'seller.confirmApprove' : 'seller.confirmDecline')}
      cancelText={t('cancel')}
      intent={approve ? 'success' : 'danger'}
      loading={m.isPending}
      onCancel={() => onClose()}
      onConfirm={() => m.mutate()}
    >
      <p>
        <strong>{t(approve ? 'seller.approveTitle' : 'seller.declineTitle')}</strong>
      </p>
      <p>{body}</p>
      <FormGroup
        label={approve ? t(r.marketplace === 'aws' ? 'seller.approveNoteAws' : 'seller.approveNote') : t('seller.declineReason')}
        labelFor="answer-text"
      >
        <TextArea id="answer-text" fill value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} />
      </FormGroup>
      {m.isError && (
        <Callout intent="danger" role="alert">
          {m.error instanceof ApiError ? m.error.message : t('errors.generic')}
        </Callout>
      )}
    </ConfirmDialog>
  );
}
