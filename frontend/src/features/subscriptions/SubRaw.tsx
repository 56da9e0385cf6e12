import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { Button, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { formatDate, marketplaceName } from '../../shared/format';
import { pretty } from './SubTimeline';

/** A stored body, pretty: JSON indented, SNS's double-encoded Message decoded. */
export function prettyBody(body: string | undefined): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (parsed && typeof parsed.Message === 'string') {
      try {
        parsed.Message = JSON.parse(parsed.Message) as unknown;
      } catch {
        // a plain string message
      }
    }
    return JSON.stringify(parsed, null, 2);
  } catch {
    return body;
  }
}

/** The Raw tab: the marketplace's own record of the subscription (seller staff). */
export function SubRaw({ id }: { id: number }) {
  const q = useQuery({ queryKey: queryKeys.subscription.raw(id), queryFn: () => api.subscriptions.raw(id), staleTime: 0 });
  return (
    <div className="sub-raw">
      <div className="sub-tl-controls">
        <Button size="small" icon="refresh" text="Read again" loading={q.isFetching} onClick={() => void q.refetch()} />
        {q.data && (
          <span className="sub-hint" data-testid="raw-source">
            {marketplaceName[q.data.marketplace] ?? q.data.marketplace} · {q.data.source}
            {q.data.read_at && ` · read ${formatDate(q.data.read_at)}`}
          </span>
        )}
      </div>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} title="The marketplace's record could not be read" />}
      {q.data?.record !== undefined && (
        <pre className="bp6-code-block" data-testid="raw-json" tabIndex={0} aria-label="The record as the marketplace sent it">
          {pretty(q.data.record)}
        </pre>
      )}
      {q.data?.messages && q.data.messages.length === 0 && <p className="sub-hint">No messages are stored for this subscription.</p>}
      {q.data?.messages?.map((m) => (
        <div key={m.id} style={{ marginBottom: 12 }} data-testid="raw-message">
          <div className="sub-tl-line">
            <Link to={'/notifications/' + m.id}>#{m.id}</Link>
            <code>{m.source}</code>
            <span>{m.action}</span>
            <Tag minimal intent={m.status === 'failed' ? 'danger' : m.status === 'processed' ? 'success' : 'none'}>
              {m.status}
            </Tag>
            <span className="sub-tl-meta">received {formatDate(m.received_at)}</span>
          </div>
          {m.error && <div className="dash-danger">{m.error}</div>}
          <pre className="bp6-code-block" data-testid="raw-json" tabIndex={0} aria-label="The record as the marketplace sent it">
            {prettyBody(m.body)}
          </pre>
        </div>
      ))}
    </div>
  );
}
