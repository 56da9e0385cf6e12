// An offer's extra app permissions (Entra admin consent): what the app
// needs beyond sign-in (User.Read) in a Microsoft customer's tenant, each
// with the reason the customer is shown. Admins edit the list.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, Dialog, DialogBody, DialogFooter, InputGroup } from '@blueprintjs/core';
import { api, ApiError, queryKeys, type OfferFull, type OfferPermissionInput } from '../../shared/api';
import { DataTable, type Column } from '../../shared/components/DataTable';

const PERMISSION_COLUMNS: Column<OfferFull['permissions'][number]>[] = [
  { id: 'scope', header: 'Permission', cell: (p) => <code>{p.scope}</code> },
  { id: 'reason', header: 'Why', cell: (p) => p.reason },
];

export function OfferPermissions({ offer, admin }: { offer: OfferFull; admin: boolean }) {
  const [editing, setEditing] = useState(false);
  return (
    <div data-testid="offer-permissions" style={{ marginTop: 8 }}>
      <div style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
        <strong>App permissions after activation</strong>
        <span className={Classes.TEXT_MUTED}>
          {offer.permissions.length === 0 ? 'none beyond sign-in (User.Read)' : `${offer.permissions.length} asked from the customer's administrator`}
        </span>
        {admin && <Button small minimal icon="edit" text="Edit permissions…" onClick={() => setEditing(true)} />}
      </div>
      {offer.permissions.length > 0 && (
        <DataTable
          rows={offer.permissions}
          columns={PERMISSION_COLUMNS}
          rowKey={(p) => p.scope}
          label={`App permissions of ${offer.name}`}
          header={false}
          style={{ marginTop: 4 }}
        />
      )}
      {editing && <PermissionsDialog offer={offer} onClose={() => setEditing(false)} />}
    </div>
  );
}

function PermissionsDialog({ offer, onClose }: { offer: OfferFull; onClose: () => void }) {
  const qc = useQueryClient();
  const [rows, setRows] = useState<OfferPermissionInput[]>(offer.permissions.map((p) => ({ scope: p.scope, reason: p.reason })));
  const save = useMutation({
    mutationFn: () => api.offers.update(offer.id, { permissions: rows.filter((r) => r.scope.trim() || r.reason.trim()) }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  const set = (i: number, k: keyof OfferPermissionInput, v: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <Dialog isOpen onClose={onClose} title={`App permissions: ${offer.name}`} style={{ width: 760 }}>
      <DialogBody>
        <p className={Classes.TEXT_MUTED}>
          List what the app needs in the customer's Microsoft tenant beyond sign-in: a Microsoft Graph permission (
          <code>https://graph.microsoft.com/Directory.Read.All</code> or <code>Directory.Read.All</code>) or your own API's (
          <code>api://&lt;app-id&gt;/.default</code>), and why, in words the customer's administrator understands. They are asked after
          activation, never on the landing page.
        </p>
        {rows.map((r, i) => (
          <div key={i} style={{ display: 'flex', gap: 6, marginBottom: 6 }} data-testid="permission-edit-row">
            <InputGroup aria-label={`Scope ${i + 1}`} placeholder="https://graph.microsoft.com/Directory.Read.All" value={r.scope} onChange={(e) => set(i, 'scope', e.target.value)} style={{ width: 330 }} />
            <InputGroup aria-label={`Reason ${i + 1}`} placeholder="Why the app needs it" value={r.reason} onChange={(e) => set(i, 'reason', e.target.value)} fill />
            <Button minimal icon="trash" aria-label={`Remove permission ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))} />
          </div>
        ))}
        <Button small icon="add" text="Add permission" onClick={() => setRows([...rows, { scope: '', reason: '' }])} />
        {save.isError && (
          <Callout intent="danger" style={{ marginTop: 10 }} role="alert">
            {save.error instanceof ApiError ? save.error.message : 'The server could not be reached; try again.'}
          </Callout>
        )}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button intent="primary" text="Save permissions" loading={save.isPending} onClick={() => save.mutate()} />
          </>
        }
      />
    </Dialog>
  );
}
