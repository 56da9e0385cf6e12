// ConnectionBanner: says, over any page, that the server cannot be reached
// and that the page keeps trying; when it can be reached again, the reads
// that failed meanwhile are read again, so nothing stays broken.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Callout, Spinner } from '@blueprintjs/core';
import { connection } from '../api/client';

/** Whether the last call to the server failed to reach it. */
export function useUnreachable(): boolean {
  return useSyncExternalStore(connection.subscribe, connection.unreachable);
}

export function ConnectionBanner() {
  const down = useUnreachable();
  const qc = useQueryClient();
  const was = useRef(down);
  useEffect(() => {
    if (was.current && !down) void qc.refetchQueries({ type: 'active', predicate: (q) => q.state.status === 'error' });
    was.current = down;
  }, [down, qc]);
  if (!down) return null;
  return (
    <Callout intent="warning" icon={<Spinner size={16} />} className="mg-connection" role="status" data-testid="connection-banner" compact>
      <strong>Can&apos;t reach Marketgate — retrying.</strong> What you see is what was loaded before; it updates by itself when the server
      answers again.
    </Callout>
  );
}
