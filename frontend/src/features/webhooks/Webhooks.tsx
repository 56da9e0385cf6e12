import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Button, Callout, Classes } from '@blueprintjs/core';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { TypeList } from '../../shared/components/TypePicker';
import { EndpointDialog } from './EndpointDialog';
import { EndpointPage } from './EndpointPage';
import { listQuery } from './webhookShared';
export { pollEvery } from './EndpointPage';
import { EndpointStatus, EndpointActions } from './EndpointActions';
import { PageTitle } from '../../shared/components/PageTitle';

// WebhooksPage: the seller's endpoints (/webhooks) and one endpoint with its
// delivery log (/webhooks/:id?status=&offset=&delivery=). Admins only.
export function WebhooksPage() {
  const { id } = useParams();
  return id ? <EndpointPage id={Number(id)} /> : <EndpointList />;
}

function EndpointList() {
  const list = useQuery({ ...listQuery, refetchInterval: (q) => (q.state.data?.items.some((e) => e.pending > 0) ? 10_000 : false) });
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const disabled = list.data?.items.filter((e) => !e.enabled && e.disabled_reason) ?? [];
  return (
    <div>
      <PageTitle title="Webhooks" />
      <p className={Classes.TEXT_MUTED} style={{ maxWidth: 900 }}>
        Marketgate tells your systems what happened — subscriptions created, activated, changed or ended, seats assigned or released, metering
        records refused — by POSTing signed JSON events to these endpoints, in order per subscription. A delivery that is not answered with a
        2xx is retried with backoff for more than a day; an endpoint failing for 24 hours is disabled and an alert is raised.
      </p>
      <div className="mg-toolbar">
        <Button icon="add" intent="primary" text="Add endpoint" onClick={() => setCreating(true)} disabled={!list.isSuccess} />
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ErrorBox error={list.error} />}
      {actionError !== null && <ErrorBox error={actionError} />}
      {disabled.map((e) => (
        <Callout key={e.id} intent="danger" icon="disable" title={`Disabled: ${e.url}`} style={{ maxWidth: 900, marginBottom: 8 }} data-testid="disabled-callout">
          {e.disabled_reason}
          {e.disabled_at && ` (since ${formatDate(e.disabled_at)})`}. {e.pending > 0 && `${e.pending} deliveries are waiting. `}
          <Link to={`/webhooks/${e.id}`}>Open it</Link> to see the failures and enable it again.
        </Callout>
      ))}
      {list.isSuccess && list.data.items.length === 0 && (
        <Empty title="No webhook endpoints" action={<span>Add one to be told when subscriptions and seats change.</span>} />
      )}
      {list.isSuccess && list.data.items.length > 0 && (
        <DataTable
          label="Webhook endpoints"
          staticLook
          rows={list.data.items}
          rowKey={(e) => e.id}
          rowProps={() => ({ 'data-testid': 'endpoint-row' })}
          columns={[
            {
              id: 'url',
              header: 'URL',
              className: 'mg-wrap',
              style: { maxWidth: 380 },
              cell: (e) => (
                <>
                  <Link to={`/webhooks/${e.id}`}>{e.url}</Link>
                  {e.description && <div className={Classes.TEXT_MUTED}>{e.description}</div>}
                </>
              ),
            },
            { id: 'events', header: 'Events', cell: (e) => <TypeList types={e.event_types} /> },
            { id: 'status', header: 'Status', className: 'mg-prose', style: { maxWidth: 280 }, cell: (e) => <EndpointStatus e={e} /> },
            {
              id: 'failing',
              header: 'Failing since',
              cell: (e) =>
                e.failing_since ? (
                  <span className="mg-stat-danger">
                    {formatDate(e.failing_since)} ({e.consecutive_failures} {e.consecutive_failures === 1 ? 'failure' : 'failures'})
                  </span>
                ) : (
                  '—'
                ),
            },
            { id: 'pending', header: 'Pending', cell: (e) => (e.pending > 0 ? <Link to={`/webhooks/${e.id}?status=pending`}>{e.pending}</Link> : 0) },
            { id: 'failed', header: 'Failed', cell: (e) => (e.failed > 0 ? <Link to={`/webhooks/${e.id}?status=failed`}>{e.failed}</Link> : 0) },
            { id: 'last_success', header: 'Last success', cell: (e) => (e.last_success_at ? formatDate(e.last_success_at) : 'never') },
            { id: 'actions', header: '', cell: (e) => <EndpointActions ep={e} eventTypes={list.data.event_types} onError={setActionError} small /> },
          ]}
        />
      )}
      {creating && list.isSuccess && <EndpointDialog eventTypes={list.data.event_types} onClose={() => setCreating(false)} />}
    </div>
  );
}
