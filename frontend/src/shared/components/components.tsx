import { Button, Callout, HTMLSelect, NonIdealState, Spinner } from '@blueprintjs/core';
import { ApiError } from '../api';

/** Shows a failed request: the server's message and its request id. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const e = error instanceof ApiError ? error : null;
  return (
    <Callout intent="danger" title={title ?? (e?.status === 404 ? 'Not found' : 'Something went wrong')} role="alert">
      <div>{e ? e.message : error instanceof Error ? error.message : 'Unknown error'}</div>
      {e?.requestId && <div className="mg-error-id">request id: {e.requestId}</div>}
    </Callout>
  );
}

export function Loading() {
  return <Spinner size={24} aria-label="Loading" />;
}

export function Empty({ title, action }: { title: string; action?: React.ReactNode }) {
  return <NonIdealState icon="search" title={title} action={action as React.JSX.Element | undefined} />;
}

export function Pager(props: {
  offset: number;
  limit: number;
  total: number;
  onOffset: (o: number) => void;
  onLimit?: (l: number) => void;
}) {
  const { offset, limit, total, onOffset, onLimit } = props;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <div className="mg-pager">
      <Button small icon="chevron-left" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))} aria-label="Previous page" />
      <Button small icon="chevron-right" disabled={to >= total} onClick={() => onOffset(offset + limit)} aria-label="Next page" />
      <span data-testid="pager-summary">
        showing {from}–{to} of {total}
      </span>
      {onLimit && (
        <HTMLSelect minimal value={limit} onChange={(e) => onLimit(Number(e.currentTarget.value))} aria-label="Page size">
          {[25, 50, 100, 200].map((n) => (
            <option key={n} value={n}>
              {n} per page
            </option>
          ))}
        </HTMLSelect>
      )}
    </div>
  );
}
