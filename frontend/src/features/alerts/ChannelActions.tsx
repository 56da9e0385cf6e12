// ChannelActions: the buttons of one alert channel's row (test, edit,
// enable/disable, delete). The cell owns its requests; what they ended in
// (a test sent or refused, a change refused) goes up to the table, which
// shows it in a row under the channel (ChannelOutcomeRow).
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout } from '@blueprintjs/core';
import { api, queryKeys, type AlertChannel } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';

/** What a channel's last requests ended in; an absent field shows nothing. */
export interface ChannelOutcome {
  tested?: boolean;
  testError?: unknown;
  changeError?: unknown;
}

export function ChannelActions({ c, onEdit, onOutcome }: { c: AlertChannel; onEdit: () => void; onOutcome: (o: ChannelOutcome) => void }) {
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: queryKeys.alertChannels });
  const test = useMutation({
    mutationFn: () => api.alerts.testChannel(c.id),
    onMutate: () => onOutcome({ tested: false, testError: undefined }),
    onSuccess: () => onOutcome({ tested: true }),
    onError: (e) => onOutcome({ testError: e }),
    onSettled: refresh, // last sent / last error change
  });
  const change = useMutation({
    mutationFn: (what: 'enable' | 'disable' | 'delete'): Promise<{ channel: AlertChannel } | undefined> =>
      what === 'delete' ? api.alerts.removeChannel(c.id) : api.alerts.updateChannel(c.id, { enabled: what === 'enable' }),
    onMutate: () => onOutcome({ changeError: undefined }),
    onError: (e) => onOutcome({ changeError: e }),
    onSuccess: refresh,
    onSettled: () => setConfirmDelete(false),
  });
  return (
    <>
      <Button small minimal icon="send-message" text="Test" loading={test.isPending} onClick={() => test.mutate()} />
      <Button small minimal icon="edit" text="Edit" onClick={onEdit} />
      <Button
        small
        minimal
        icon={c.enabled ? 'pause' : 'play'}
        text={c.enabled ? 'Disable' : 'Enable'}
        loading={change.isPending && change.variables !== 'delete'}
        onClick={() => change.mutate(c.enabled ? 'disable' : 'enable')}
      />
      <Button small minimal icon="trash" intent="danger" text="Delete" onClick={() => setConfirmDelete(true)} />
      <ConfirmDialog
        isOpen={confirmDelete}
        intent="danger"
        icon="trash"
        confirmText="Delete channel"
        loading={change.isPending}
        onConfirm={() => change.mutate('delete')}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>
          Delete the channel <strong>{c.name}</strong>? Alerts stop going to {c.target}. To pause it instead, disable it.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** The row under a channel with its test result or refused change, if any. */
export function ChannelOutcomeRow({ c, o, columns, onDismiss }: { c: AlertChannel; o: ChannelOutcome | undefined; columns: number; onDismiss: () => void }) {
  if (!o || !(o.tested || o.testError !== undefined || o.changeError !== undefined)) return null;
  return (
    <tr className="mg-detail-row">
      <td colSpan={columns}>
        {o.tested && (
          <Callout intent="success" icon="tick" data-testid="channel-test-result">
            Test alert sent to {c.target}. <Button small minimal text="Dismiss" onClick={onDismiss} />
          </Callout>
        )}
        {o.testError !== undefined && (
          <div data-testid="channel-test-result">
            <ErrorBox error={o.testError} title="Test failed" />
          </div>
        )}
        {o.changeError !== undefined && <ErrorBox error={o.changeError} />}
      </td>
    </tr>
  );
}
