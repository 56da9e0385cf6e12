import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Checkbox, Dialog, DialogBody, DialogFooter, FormGroup, H5, InputGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { QueryState } from '../../shared/components/QueryState';
import { DataTable } from '../../shared/components/DataTable';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { formatDate } from '../../shared/format';

const scopeHelp: Record<string, string> = {
  usage: 'report usage (POST /api/v1/usage)',
  access: 'ask whether a customer may use the product (GET /api/v1/access)',
  seats: 'ask whether a user holds a seat (GET /api/v1/seats/check)',
};

// ApiKeys: the keys the seller's application uses (admins only).
export function ApiKeys() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: queryKeys.apiKeys, queryFn: api.apiKeys.list });
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<{ id: number; name: string } | null>(null);
  const revoke = useMutation({
    mutationFn: (id: number) => api.apiKeys.revoke(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.apiKeys }),
    onSettled: () => setRevoking(null),
  });
  return (
    <>
      <H5 style={{ marginTop: 16 }}>API keys</H5>
      <p>Your application sends one in <code>Authorization: Bearer mgk_…</code>. Only a hash is stored: a key is shown once, when created.</p>
      {shown && (
        <Callout intent="success" title="Copy the key now — it will not be shown again" style={{ maxWidth: 900, marginBottom: 8 }}>
          <code data-testid="new-api-key" style={{ userSelect: 'all' }}>
            {shown}
          </code>{' '}
          <Button small icon="duplicate" text="Copy" onClick={() => void navigator.clipboard?.writeText(shown)} />
        </Callout>
      )}
      <Button icon="key" text="Create API key" onClick={() => setCreating(true)} style={{ marginBottom: 8 }} />
      {revoke.isError && <ErrorBox error={revoke.error} />}
      <QueryState query={q}>
        {(data) => (
          <DataTable
            label="API keys"
            striped={false}
            style={{ maxWidth: 900 }}
            rows={data.items}
            rowKey={(k) => k.id}
            rowProps={() => ({ 'data-testid': 'api-key' })}
            columns={[
              { id: 'name', header: 'Name', cell: (k) => k.name },
              { id: 'key', header: 'Key', cell: (k) => <code>{k.prefix}…</code> },
              { id: 'scopes', header: 'Scopes', cell: (k) => (k.scopes.length === 0 ? 'all' : k.scopes.join(', ')) },
              { id: 'created', header: 'Created', cell: (k) => formatDate(k.created_at) },
              { id: 'last_used', header: 'Last used', cell: (k) => (k.last_used_at ? formatDate(k.last_used_at) : 'never') },
              {
                id: 'actions',
                header: '',
                cell: (k) =>
                  k.revoked_at ? (
                    <Tag minimal>revoked {formatDate(k.revoked_at)}</Tag>
                  ) : (
                    <Button
                      small
                      intent="danger"
                      text="Revoke"
                      onClick={() => setRevoking(k)}
                    />
                  ),
              },
            ]}
          />
        )}
      </QueryState>
      <ConfirmDialog
        isOpen={revoking !== null}
        confirmText="Revoke key"
        intent="danger"
        icon="trash"
        loading={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onCancel={() => setRevoking(null)}
      >
        Revoke “{revoking?.name}”? Applications using it stop working at once.
      </ConfirmDialog>
      {creating && q.isSuccess && (
        <CreateKeyDialog
          scopes={q.data.scopes}
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setShown(key);
            setCreating(false);
            void qc.invalidateQueries({ queryKey: queryKeys.apiKeys });
          }}
        />
      )}
    </>
  );
}

function CreateKeyDialog({ scopes, onClose, onCreated }: { scopes: string[]; onClose: () => void; onCreated: (key: string) => void }) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>(scopes);
  const create = useMutation({
    mutationFn: () => api.apiKeys.create(name, chosen),
    onSuccess: (r) => onCreated(r.key),
  });
  return (
    <Dialog isOpen onClose={onClose} title="Create API key">
      <DialogBody>
        <FormGroup label="Name (what uses it)" labelFor="key-name">
          <InputGroup id="key-name" value={name} onValueChange={setName} maxLength={200} placeholder="billing service" />
        </FormGroup>
        <FormGroup label="Scopes">
          {scopes.map((s) => (
            <Checkbox
              key={s}
              checked={chosen.includes(s)}
              label={`${s} — ${scopeHelp[s] ?? s}`}
              onChange={() => setChosen(chosen.includes(s) ? chosen.filter((x) => x !== s) : [...chosen, s])}
            />
          ))}
        </FormGroup>
        {create.isError && <ErrorBox error={create.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button intent="primary" text="Create" disabled={!name.trim() || chosen.length === 0} loading={create.isPending} onClick={() => create.mutate()} />
          </>
        }
      />
    </Dialog>
  );
}
