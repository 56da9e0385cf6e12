import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Button, Callout, Classes, H6, Icon, Tag } from '@blueprintjs/core';
import { api, type WebhookDelivery } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { statusIntent } from './webhookShared';

function RedeliverButton(props: { endpointId: number; d: WebhookDelivery; onRedelivered: () => void; onError: (e: unknown) => void }) {
  const { endpointId, d, onRedelivered, onError } = props;
  const redeliver = useMutation({
    mutationFn: () => api.webhooks.redeliver(endpointId, d.id),
    onMutate: () => onError(undefined),
    onSuccess: onRedelivered,
    onError,
  });
  return (
    <Button
      small
      minimal
      icon="repeat"
      text="Redeliver"
      title="Send this event again now, with the same webhook-id"
      loading={redeliver.isPending}
      onClick={(e) => {
        e.stopPropagation();
        redeliver.mutate();
      }}
    />
  );
}

function deliveryColumns(
  endpointId: number,
  open: number | null,
  onRedelivered: () => void,
  onRedeliverError: (id: number, e: unknown) => void,
): Column<WebhookDelivery>[] {
  return [
    {
      id: 'expand',
      header: null,
      headerLabel: 'Expand',
      cell: (d) => <Icon icon={open === d.id ? 'chevron-down' : 'chevron-right'} aria-label={open === d.id ? 'Collapse' : 'Expand'} />,
    },
    { id: 'event_type', header: 'Event type', cell: (d) => d.event_type },
    { id: 'event_id', header: 'Event id', className: 'mg-ellipsis', cellProps: (d) => ({ title: d.event_id }), cell: (d) => <code>{d.event_id}</code> },
    {
      id: 'subscription',
      header: 'Subscription',
      cell: (d) =>
        d.subscription_id ? (
          <Link to={`/subscriptions/${d.subscription_id}`} onClick={(e) => e.stopPropagation()}>
            #{d.subscription_id}
          </Link>
        ) : (
          '—'
        ),
    },
    {
      id: 'status',
      header: 'Status',
      cell: (d) => (
        <Tag minimal intent={statusIntent[d.status] ?? 'none'} data-testid="delivery-status">
          {d.status}
        </Tag>
      ),
    },
    { id: 'attempts', header: 'Attempts', cell: (d) => d.attempts },
    {
      id: 'response',
      header: 'Response',
      cellProps: () => ({ 'data-testid': 'delivery-response' }),
      cell: (d) =>
        d.response_status ? (
          <span className={d.response_status >= 200 && d.response_status < 300 ? undefined : 'mg-stat-danger'}>{d.response_status}</span>
        ) : d.error ? (
          <span className="mg-stat-danger">no response</span>
        ) : (
          '—'
        ),
    },
    { id: 'last_attempt', header: 'Last attempt', cell: (d) => (d.last_attempt_at ? formatDate(d.last_attempt_at) : 'not yet') },
    { id: 'next_attempt', header: 'Next attempt', cell: (d) => (d.status === 'pending' ? formatDate(d.next_attempt_at) : '—') },
    {
      id: 'redeliver',
      header: '',
      cell: (d) => <RedeliverButton endpointId={endpointId} d={d} onRedelivered={onRedelivered} onError={(e) => onRedeliverError(d.id, e)} />,
    },
  ];
}

/** An endpoint's deliveries; a click on a row opens its details under it (and closes them). */
export function DeliveriesTable(props: {
  endpointId: number;
  items: WebhookDelivery[];
  open: number | null;
  onToggle: (d: WebhookDelivery) => void;
  onRedelivered: () => void;
}) {
  const { endpointId, items, open, onToggle, onRedelivered } = props;
  // A refused redelivery, by delivery id, shown under its row until the next try.
  const [refused, setRefused] = useState<Record<number, unknown>>({});
  const columns = deliveryColumns(endpointId, open, onRedelivered, (id, e) => setRefused((all) => ({ ...all, [id]: e })));
  return (
    <DataTable
      rows={items}
      columns={columns}
      rowKey={(d) => d.id}
      label="Deliveries"
      striped={false}
      className="mg-deliveries"
      rowProps={(d) => ({ 'data-testid': 'delivery-row', className: open === d.id ? 'mg-expanded' : undefined, onClick: () => onToggle(d) })}
      afterRow={(d) => (
        <>
          {refused[d.id] !== undefined && (
            <tr className="mg-detail-row">
              <td colSpan={columns.length}>
                <ErrorBox error={refused[d.id]} title="Not redelivered" />
              </td>
            </tr>
          )}
          {open === d.id && (
            <tr className="mg-detail-row">
              <td colSpan={columns.length}>
                <DeliveryDetail d={d} />
              </td>
            </tr>
          )}
        </>
      )}
    />
  );
}

function pretty(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return JSON.stringify(body, null, 2);
}

// DeliveryDetail: what was sent (headers and JSON body) and what came back.
export function DeliveryDetail({ d }: { d: WebhookDelivery }) {
  const headers = Object.entries(d.request?.headers ?? {});
  return (
    <div className="mg-delivery-detail" data-testid="delivery-detail">
      <div>
        <H6>Request</H6>
        {headers.length > 0 ? (
          <DataTable
            label="Request headers"
            header={false}
            striped={false}
            rows={headers}
            rowKey={([k]) => k}
            columns={[
              { id: 'name', header: 'Name', style: { width: 160, fontWeight: 600 }, cell: ([k]) => k },
              {
                id: 'value',
                header: 'Value',
                className: 'mg-wrap',
                cell: ([, v]) => <code>{v}</code>,
              },
            ]}
          />
        ) : (
          <p className={Classes.TEXT_MUTED}>Not sent yet.</p>
        )}
        {d.request?.body !== undefined && d.request?.body !== null && (
          <pre className={Classes.CODE_BLOCK} data-testid="delivery-body">
            {pretty(d.request.body)}
          </pre>
        )}
      </div>
      <div>
        <H6>Response</H6>
        <dl className="mg-grid" style={{ gridTemplateColumns: '120px 1fr' }}>
          <dt>Status</dt>
          <dd data-testid="delivery-response-status">{d.response_status || (d.last_attempt_at ? 'no response' : 'not attempted yet')}</dd>
          <dt>Succeeded at</dt>
          <dd>{d.delivered_at ? formatDate(d.delivered_at) : '—'}</dd>
          <dt>Queued</dt>
          <dd>{formatDate(d.created_at)}</dd>
        </dl>
        {d.error && (
          <Callout intent="danger" title="Error" style={{ marginTop: 6 }} data-testid="delivery-error">
            {d.error}
          </Callout>
        )}
        {d.response_excerpt && (
          <>
            <div className={Classes.TEXT_MUTED} style={{ marginTop: 6 }}>
              Response body (first 2 KB)
            </div>
            <pre className={Classes.CODE_BLOCK} data-testid="delivery-excerpt">
              {d.response_excerpt}
            </pre>
          </>
        )}
      </div>
    </div>
  );
}
