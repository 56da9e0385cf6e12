import { useQuery } from '@tanstack/react-query';
import { api, queryKeys } from '../../shared/api';

/** The go-live checks: run by the server on each fetch, kept a minute. */
export function useSetupReport() {
  return useQuery({ queryKey: queryKeys.setup, queryFn: api.setup.get, staleTime: 60_000 });
}
