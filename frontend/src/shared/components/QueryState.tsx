// QueryState: one way to show a query's loading, error and empty states
// before its data: a spinner while it loads, the server's error with its
// request id, an empty state when there is nothing, else the children.
import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { Empty, ErrorBox, Loading } from './components';

export function QueryState<T>(props: {
  query: Pick<UseQueryResult<T>, 'isPending' | 'isError' | 'error' | 'data'>;
  children: (data: T) => ReactNode;
  /** Whether the answer counts as empty (then `empty` shows instead). */
  isEmpty?: (data: T) => boolean;
  /** A string is an empty state with that title. */
  empty?: ReactNode;
  errorTitle?: string;
}) {
  const { query, isEmpty, empty } = props;
  if (query.isError) return <ErrorBox error={query.error} title={props.errorTitle} />;
  if (query.isPending || query.data === undefined) return <Loading />;
  if (isEmpty?.(query.data)) return typeof empty === 'string' ? <Empty title={empty} /> : <>{empty ?? null}</>;
  return <>{props.children(query.data)}</>;
}
