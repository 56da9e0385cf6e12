import { Fragment } from 'react';
import { Link } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Button, Callout, Classes, H6, Icon, Tag } from '@blueprintjs/core';
import { api, type WebhookDelivery } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import { statusIntent } from './webhookShared';

const COLUMNS = 10;

export function DeliveryRow(props: { endpointId: number; d: WebhookDelivery; open: boolean; onToggle: () => void; onRedelivered: () => void }) {
  const { endpointId, d, open, onToggle, onRedelivered } = props;
  const redeliver = useMutation({
    mutationFn: () => api.webhooks.redeliver(endpointId, d.id),
    onSuccess: onRedelivered,
  });
  const ok = d.response_status >= 200 && d.response_status < 300;
  return (
    <Fragment>
      <tr data-testid="delivery-row" className={open ? 'mg-expanded' : undefined} onClick={onToggle} aria-expanded={open}>
        <td>
          <Icon icon={open ? 'chevron-down' : 'chevron-right'} aria-label={open ? 'Collapse' : 'Expand'} />
        </td>
        <td>{d.event_type}</td>
        <td className="mg-ellipsis" title={d.event_id}>
          <code>{d.event_id}</code>
        </td>
        <td>
          {d.subscription_id ? (
            <Link to={`/subscriptions/${d.subscription_id}`} onClick={(e) => e.stopPropagation()}>
              #{d.subscription_id}
            </Link>
          ) : (
            '—'
          )}
        </td>
        <td>
          <Tag minimal intent={statusIntent[d.status] ?? 'none'} data-testid="delivery-status">
            {d.status}
          </Tag>
        </td>
        <td>{d.attempts}</td>
        <td data-testid="delivery-response">
          {d.response_status ? (
            <span className={ok ? undefined : 'mg-stat-danger'}>{d.response_status}</span>
          ) : d.error ? (
            <span className="mg-stat-danger">no response</span>
          ) : (
            '—'
          )}
        </td>
        <td>{d.last_attempt_at ? formatDate(d.last_attempt_at) : 'not yet'}</td>
        <td>{d.status === 'pending' ? formatDate(d.next_attempt_at) : '—'}</td>
        <td>
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
        </td>
      </tr>
      {redeliver.isError && (
        <tr className="mg-detail-row">
          <td colSpan={COLUMNS}>
            <ErrorBox error={redeliver.error} title="Not redelivered" />
          </td>
        </tr>
      )}
      {open && (
        <tr className="mg-detail-row">
          <td colSpan={COLUMNS}>
            <DeliveryDetail d={d} />
          </td>
        </tr>
      )}
    </Fragment>
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
