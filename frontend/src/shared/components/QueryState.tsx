// QueryState: one way to show a query's loading, error and empty states
// before its data: a spinner while it loads, the server's error with its
// request id and a way to try again, an empty state when there is nothing,
// else the children. Data once loaded stays on screen when a later read
// fails: a note above it says what happened instead.
import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { Callout, Spinner } from '@blueprintjs/core';
import { isUnreachable } from '../api/client';
import { Empty, ErrorBox, Loading } from './components';

type Q<T> = Pick<UseQueryResult<T>, 'isPending' | 'isError' | 'error' | 'data'> & Partial<Pick<UseQueryResult<T>, 'failureReason' | 'refetch'>>;

export function QueryState<T>(props: {
  query: Q<T>;
  children: (data: T) => ReactNode;
  /** Whether the answer counts as empty (then `empty` shows instead). */
  isEmpty?: (data: T) => boolean;
  /** A string is an empty state with that title. */
  empty?: ReactNode;
  errorTitle?: string;
}) {
  const { query, isEmpty, empty } = props;
  const retry = query.refetch ? () => void query.refetch!() : undefined;
  const unreachable = isUnreachable(query.failureReason) || isUnreachable(query.error);
  if (query.data === undefined) {
    if (unreachable) return <Unreachable />;
    if (query.isError) return <ErrorBox error={query.error} title={props.errorTitle} onRetry={retry} />;
    return <Loading />;
  }
  const body = isEmpty?.(query.data) ? (typeof empty === 'string' ? <Empty title={empty} /> : <>{empty ?? null}</>) : props.children(query.data);
  return (
    <>
      {unreachable ? (
        <Unreachable stale />
      ) : (
        query.isError && <ErrorBox error={query.error} title={props.errorTitle ?? 'Could not refresh: this is what was loaded before'} onRetry={retry} />
      )}
      {body}
    </>
  );
}

/** The server cannot be reached: the read is being retried. */
export function Unreachable({ stale }: { stale?: boolean }) {
  return (
    <Callout intent="warning" icon={<Spinner size={16} />} compact role="status" data-testid="unreachable" style={{ marginBottom: 8 }}>
      Can&apos;t reach Marketgate — retrying.{stale ? ' This is what was loaded before.' : ''}
    </Callout>
  );
}
