import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogBody, DialogFooter, Tag } from '@blueprintjs/core';
import { api, queryKeys, type TypeInfo, type WebhookEndpoint } from '../../shared/api';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { EndpointDialog, SecretBox } from './EndpointDialog';

export function EndpointStatus({ e }: { e: WebhookEndpoint }) {
  if (e.enabled)
    return (
      <Tag minimal intent="success" data-testid="endpoint-status">
        enabled
      </Tag>
    );
  return (
    <>
      <Tag minimal intent="danger" data-testid="endpoint-status">
        disabled
      </Tag>
      {e.disabled_reason && (
        <div className="mg-stat-danger" data-testid="disabled-reason">
          {e.disabled_reason}
        </div>
      )}
    </>
  );
}

type Confirm = 'disable' | 'rotate' | 'delete' | null;

// EndpointActions: edit, enable/disable, rotate the secret, delete — with
// confirmations that say what happens.
export function EndpointActions(props: { ep: WebhookEndpoint; eventTypes: TypeInfo[]; onError: (e: unknown) => void; onDeleted?: () => void; small?: boolean }) {
  const { ep, eventTypes, onError, onDeleted, small } = props;
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: queryKeys.webhooks });
    void qc.invalidateQueries({ queryKey: queryKeys.webhookDeliveries.of(ep.id) });
  };
  const act = useMutation({
    mutationFn: (what: 'enable' | 'disable' | 'rotate' | 'delete'): Promise<{ endpoint: WebhookEndpoint; secret?: string } | undefined> => {
      onError(null);
      switch (what) {
        case 'enable':
        case 'disable':
          return api.webhooks.update(ep.id, { enabled: what === 'enable' });
        case 'rotate':
          return api.webhooks.rotateSecret(ep.id);
        case 'delete':
          return api.webhooks.remove(ep.id);
      }
    },
    onSuccess: (r, what) => {
      if (what === 'rotate' && r?.secret) setSecret(r.secret);
      if (what === 'delete') {
        qc.removeQueries({ queryKey: queryKeys.webhookDeliveries.of(ep.id) });
        onDeleted?.();
      }
      refresh();
    },
    onError: (e) => onError(e),
    onSettled: () => setConfirm(null),
  });
  const busy = (what: string) => act.isPending && act.variables === what;
  return (
    <span className="mg-actions" style={{ whiteSpace: 'nowrap' }}>
      <Button small={small} minimal={small} icon="edit" text="Edit" onClick={() => setEditing(true)} />
      {ep.enabled ? (
        <Button small={small} minimal={small} icon="pause" text="Disable" onClick={() => setConfirm('disable')} />
      ) : (
        <Button
          small={small}
          minimal={small}
          icon="play"
          intent="success"
          text="Enable"
          loading={busy('enable')}
          title={ep.pending > 0 ? `Resumes the ${ep.pending} waiting deliveries` : undefined}
          onClick={() => act.mutate('enable')}
        />
      )}
      <Button small={small} minimal={small} icon="key" text="Rotate secret" onClick={() => setConfirm('rotate')} />
      <Button small={small} minimal={small} icon="trash" intent="danger" text="Delete" onClick={() => setConfirm('delete')} />
      <ConfirmDialog
        isOpen={confirm !== null}
        intent={confirm === 'disable' ? 'warning' : 'danger'}
        icon={confirm === 'rotate' ? 'key' : confirm === 'delete' ? 'trash' : 'pause'}
        confirmText={confirm === 'rotate' ? 'Rotate secret' : confirm === 'delete' ? 'Delete endpoint' : 'Disable endpoint'}
        loading={act.isPending}
        onConfirm={() => confirm && act.mutate(confirm)}
        onCancel={() => setConfirm(null)}
      >
        {confirm === 'disable' && (
          <p>
            Disable <strong>{ep.url}</strong>? No new events are queued for it while it is disabled; the deliveries already waiting are held and
            resume when you enable it again.
          </p>
        )}
        {confirm === 'rotate' && (
          <p>
            Rotate the signing secret of <strong>{ep.url}</strong>? The old secret stops working at once: every delivery from now on, retries
            included, is signed with the new one, which is shown once. Update the receiver right away, or its signature checks fail.
          </p>
        )}
        {confirm === 'delete' && (
          <p>
            Delete <strong>{ep.url}</strong>? Nothing more is sent to it
            {ep.pending > 0 && ` — the ${ep.pending} deliveries still waiting are dropped —`} and its delivery log goes with it. This cannot be
            undone.
          </p>
        )}
      </ConfirmDialog>
      {editing && <EndpointDialog ep={ep} eventTypes={eventTypes} onClose={() => setEditing(false)} />}
      {secret && (
        <Dialog isOpen title="New signing secret" onClose={() => setSecret(null)} canOutsideClickClose={false} style={{ width: 680 }}>
          <DialogBody>
            <p>The old secret no longer works. Deliveries to {ep.url} are now signed with this one.</p>
            <SecretBox secret={secret} />
          </DialogBody>
          <DialogFooter actions={<Button intent="primary" text="Done" onClick={() => setSecret(null)} />} />
        </Dialog>
      )}
    </span>
  );
}
