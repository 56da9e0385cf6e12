import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5, HTMLSelect } from '@blueprintjs/core';
import { api, queryKeys, type WebhookDelivery } from '../../shared/api';
import { Empty, ErrorBox, Loading, Pager } from '../../shared/components/components';
import { formatDate } from '../../shared/format';
import { listQuery, DELIVERY_PAGE } from './webhookShared';
import { DeliveriesTable } from './Deliveries';
import { EndpointStatus, EndpointActions } from './EndpointActions';
import { PageTitle } from '../../shared/components/PageTitle';

/** How soon to read the log again: soon after the next attempt is due, while anything waits. */
export function pollEvery(items: WebhookDelivery[] | undefined, waitingOnEndpoint: number, now = Date.now()): number | false {
  const waiting = (items ?? []).filter((d) => d.status === 'pending');
  if (waiting.length === 0) return waitingOnEndpoint > 0 ? 10_000 : false;
  const due = Math.min(...waiting.map((d) => (d.next_attempt_at ? Date.parse(d.next_attempt_at) - now : 0)));
  return Math.min(Math.max(due + 500, 1_000), 15_000);
}

export function EndpointPage({ id }: { id: number }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const offset = Number(params.get('offset') ?? 0) || 0;
  const open = Number(params.get('delivery') ?? 0) || null;
  const [actionError, setActionError] = useState<unknown>(null);
  const [sent, setSent] = useState<WebhookDelivery | null>(null);

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '' || v === '0') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  const list = useQuery(listQuery);
  const ep = list.data?.items.find((e) => e.id === id);
  const deliveries = useQuery({
    queryKey: queryKeys.webhookDeliveries.page(id, status, offset),
    queryFn: () =>
      api.webhooks.deliveries(id, { status, limit: DELIVERY_PAGE, offset }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => pollEvery(q.state.data?.items, ep?.pending ?? 0),
  });
  const polling = pollEvery(deliveries.data?.items, ep?.pending ?? 0);
  // The endpoint's counts, last success and failing state follow the log:
  // read again each time the log is. (A refetchInterval of its own,
  // computed at every render, restarted its timer at every render, so it
  // never fired while the log was polled.)
  const logReadAt = deliveries.dataUpdatedAt;
  useEffect(() => {
    if (logReadAt) void qc.invalidateQueries({ queryKey: queryKeys.webhooks, exact: true });
  }, [logReadAt, qc]);

  const refreshLog = () => {
    void qc.invalidateQueries({ queryKey: queryKeys.webhookDeliveries.of(id) });
    void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
  };
  const test = useMutation({
    mutationFn: () => api.webhooks.sendTest(id),
    onSuccess: (r) => {
      setSent(r.delivery);
      // Show the first page, where the new delivery is, unless the filter hides it.
      update({ offset: null, status: status === '' || status === 'pending' ? status : null, delivery: null });
      refreshLog();
    },
  });

  const title = (
    <PageTitle title={`${ep ? ep.url : '#' + id} · Webhooks`}>
      <Link to="/webhooks">Webhooks</Link> / {ep ? <span className="mg-wrap">{ep.url}</span> : `#${id}`}
    </PageTitle>
  );
  if (list.isPending) return <Loading />;
  if (list.isError)
    return (
      <div>
        {title}
        <ErrorBox error={list.error} />
      </div>
    );
  if (!ep)
    return (
      <div>
        {title}
        <Callout intent="warning" title="No such endpoint">
          Webhook endpoint #{id} does not exist (it may have been deleted). <Link to="/webhooks">See all endpoints</Link>.
        </Callout>
      </div>
    );

  return (
    <div>
      {title}
      {!ep.enabled && (
        <Callout intent="danger" icon="disable" title="This endpoint is disabled" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="disabled-callout">
          {ep.disabled_reason ? <strong>{ep.disabled_reason}</strong> : 'An admin disabled it.'}
          {ep.disabled_at && ` Since ${formatDate(ep.disabled_at)}.`} No new events are queued for it
          {ep.pending > 0 ? `; ${ep.pending} waiting deliveries resume when it is enabled again.` : '.'}
        </Callout>
      )}
      {ep.enabled && ep.failing_since && (
        <Callout intent="warning" icon="warning-sign" title="Failing" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="failing-callout">
          Deliveries have failed since {formatDate(ep.failing_since)} ({ep.consecutive_failures} in a row). They are retried with backoff; after
          24 hours of failures the endpoint is disabled.
        </Callout>
      )}
      <dl className="mg-grid">
        <dt>Status</dt>
        <dd>
          <EndpointStatus e={ep} />
        </dd>
        <dt>Description</dt>
        <dd>{ep.description || '—'}</dd>
        <dt>Event types</dt>
        <dd>{ep.event_types.includes('*') ? 'all' : ep.event_types.join(', ')}</dd>
        <dt>Last success</dt>
        <dd>{ep.last_success_at ? formatDate(ep.last_success_at) : 'never'}</dd>
        <dt>Waiting / given up</dt>
        <dd>
          {ep.pending} / {ep.failed}
        </dd>
        <dt>Added</dt>
        <dd>
          {formatDate(ep.created_at)}
          {ep.created_by && ` by ${ep.created_by}`}
        </dd>
      </dl>
      <div className="mg-toolbar" style={{ marginTop: 8 }}>
        <Button
          icon="send-message"
          intent="primary"
          text="Send test event"
          disabled={!ep.enabled}
          title={ep.enabled ? 'Sends a webhook.test event to this endpoint only' : 'Enable the endpoint to send'}
          loading={test.isPending}
          onClick={() => test.mutate()}
        />
        <EndpointActions ep={ep} eventTypes={list.data.event_types} onError={setActionError} onDeleted={() => navigate('/webhooks')} />
      </div>
      {test.isError && <ErrorBox error={test.error} title="Test event not sent" />}
      {test.isSuccess && sent && (
        <Callout intent="primary" icon="send-message" style={{ maxWidth: 900, marginBottom: 8 }} data-testid="test-sent">
          Test event <code>{sent.event_id}</code> queued. The log below follows it.
        </Callout>
      )}
      {actionError !== null && <ErrorBox error={actionError} />}

      <H5 style={{ marginTop: 16 }}>Deliveries</H5>
      <div className="mg-toolbar">
        <HTMLSelect value={status} onChange={(e) => update({ status: e.currentTarget.value, offset: null, delivery: null })} aria-label="Status">
          <option value="">Any status</option>
          <option value="pending">pending</option>
          <option value="succeeded">succeeded</option>
          <option value="failed">failed (given up)</option>
        </HTMLSelect>
        <Button icon="refresh" text="Refresh" minimal loading={deliveries.isFetching && !deliveries.isPending} onClick={refreshLog} />
        {polling !== false && (
          <span className={Classes.TEXT_MUTED} data-testid="polling">
            following the waiting deliveries…
          </span>
        )}
      </div>
      {deliveries.isPending && <Loading />}
      {deliveries.isError && <ErrorBox error={deliveries.error} />}
      {deliveries.isSuccess && deliveries.data.items.length === 0 && (
        <Empty
          title={status ? `No ${status} deliveries` : 'No deliveries yet'}
          action={status ? undefined : <span>Deliveries appear here as events happen. Send a test event to try the endpoint.</span>}
        />
      )}
      {deliveries.isSuccess && deliveries.data.items.length > 0 && (
        <DeliveriesTable
          endpointId={id}
          items={deliveries.data.items}
          open={open}
          onToggle={(d) => update({ delivery: open === d.id ? null : String(d.id) })}
          onRedelivered={refreshLog}
        />
      )}
      {deliveries.isSuccess && (
        <Pager offset={offset} limit={DELIVERY_PAGE} total={deliveries.data.total} more={deliveries.data.total_capped} onOffset={(o) => update({ offset: String(o), delivery: null })} />
      )}
    </div>
  );
}
