// The portal's QueryClient settings: how a failed read is retried. A call
// that cannot reach the server is retried until it can (with a growing
// pause, at most RETRY_MAX_MS), so a page comes back by itself when the
// server does, keeping what it showed meanwhile; a refusal (4xx) is not
// retried; a server error is retried twice.
import { QueryClient } from '@tanstack/react-query';
import { ApiError, isUnreachable } from './client';

export const RETRY_MAX_MS = 10_000;

export function shouldRetry(count: number, err: unknown): boolean {
  if (isUnreachable(err)) return true;
  return !(err instanceof ApiError && err.status < 500) && count < 2;
}

export const retryDelay = (attempt: number) => Math.min(1000 * 2 ** attempt, RETRY_MAX_MS);

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 10_000, retry: shouldRetry, retryDelay },
    },
  });
}
