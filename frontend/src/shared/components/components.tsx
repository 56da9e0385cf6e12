import { Button, Callout, HTMLSelect, NonIdealState, Spinner } from '@blueprintjs/core';
import { ApiError } from '../api';
import { UNREACHABLE } from '../api/client';

/** A title for a failed request that says what kind of failure it is. */
export function errorTitle(e: ApiError | null): string {
  if (!e) return 'Something went wrong';
  if (e.code === UNREACHABLE) return "Can't reach Marketgate";
  if (e.code === 'invalid_credentials') return 'Sign-in did not work';
  if (e.status === 400) return 'Please check what you entered';
  if (e.status === 401) return 'Please sign in';
  if (e.status === 403) return 'Not allowed';
  if (e.status === 404) return 'Not found';
  if (e.status === 409) return 'Not possible now';
  if (e.status === 429) return 'Too many attempts';
  if (e.status >= 500) return 'Something went wrong on our side';
  return 'The request did not go through';
}

/** Shows a failed request: the server's message and its request id (and a way to try again). */
export function ErrorBox({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const e = error instanceof ApiError ? error : null;
  const text = e ? e.message : error instanceof Error ? error.message : 'Unknown error';
  return (
    <Callout intent="danger" title={title ?? errorTitle(e)} role="alert">
      <div>{text}</div>
      {e?.requestId && <div className="mg-error-id">request id: {e.requestId}</div>}
      {onRetry && <Button size="small" icon="refresh" text="Try again" onClick={onRetry} style={{ marginTop: 6 }} />}
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
