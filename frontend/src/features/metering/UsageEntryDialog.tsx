import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogBody, DialogFooter, FormGroup, InputGroup, NumericInput } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';

export function UsageEntryDialog({ onClose, subscription }: { onClose: () => void; subscription?: number }) {
  const qc = useQueryClient();
  const [sub, setSub] = useState(subscription ? String(subscription) : '');
  const [dim, setDim] = useState('');
  const [qty, setQty] = useState(1);
  const [at, setAt] = useState('');
  const save = useMutation({
    mutationFn: () =>
      api.metering.enterUsage({
        subscription_id: Number(sub),
        dimension: dim,
        quantity: qty,
        ...(at ? { timestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.metering.health });
      void qc.invalidateQueries({ queryKey: queryKeys.usage.all });
      onClose();
    },
  });
  return (
    <Dialog isOpen onClose={onClose} title="Enter usage">
      <DialogBody>
        <p>For sellers who do not report usage through the API. It counts in its hour like any usage event.</p>
        <FormGroup label="Subscription id" labelFor="u-sub">
          <InputGroup id="u-sub" value={sub} onValueChange={(v) => setSub(v.replace(/\D/g, ''))} />
        </FormGroup>
        <FormGroup label="Dimension" labelFor="u-dim">
          <InputGroup id="u-dim" value={dim} onValueChange={setDim} placeholder="api_calls" />
        </FormGroup>
        <FormGroup label="Quantity" labelFor="u-qty">
          <NumericInput id="u-qty" min={0} value={qty} onValueChange={(v) => setQty(v)} />
        </FormGroup>
        <FormGroup label="When (empty: now)" labelFor="u-at">
          <input id="u-at" className="bp6-input" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
        </FormGroup>
        {save.isError && <ErrorBox error={save.error} />}
      </DialogBody>
      <DialogFooter
        actions={
          <>
            <Button text="Cancel" onClick={onClose} />
            <Button intent="primary" text="Record usage" disabled={!sub || !dim || !(qty > 0)} loading={save.isPending} onClick={() => save.mutate()} />
          </>
        }
      />
    </Dialog>
  );
}
