import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Checkbox, Dialog, DialogBody, DialogFooter, FormGroup, InputGroup, Radio, RadioGroup } from '@blueprintjs/core';
import { api, queryKeys, ApiError, type PlanFull, type OfferFull } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { fieldError } from '../../shared/components/common';
import { IDENTITY } from './offerLabels';

export function ChangePolicy({ p }: { p: PlanFull }) {
  const parts = [p.reject_plan_change ? 'no plan change' : 'plan change allowed', p.reject_quantity_change ? 'no seat change' : null].filter(Boolean);
  return <span>{parts.join(' · ')}</span>;
}

/** The message of a failed request, for matching it to a field. */
export const messageOf = (e: unknown) => (e instanceof ApiError ? e.message : undefined);

const LABEL = { marketplace: 'Marketplace', name: 'Name', marketplace_id: 'Product code', identity_model: 'How AWS identifies a buyer' };

export function FieldError({ text }: { text?: string }) {
  return text ? (
    <div className="mg-field-error" role="alert">
      {text}
    </div>
  ) : null;
}

export function OfferDialog({ offer, onClose }: { offer?: OfferFull; onClose: () => void }) {
  const qc = useQueryClient();
  const [marketplace, setMarketplace] = useState<'aws' | 'azure'>(offer?.marketplace ?? 'aws');
  const [name, setName] = useState(offer?.name ?? '');
  const [marketplaceId, setMarketplaceId] = useState(offer?.marketplace_id ?? '');
  const [identity, setIdentity] = useState(offer?.identity_model || 'concurrent_agreements');
  const [contract, setContract] = useState(offer?.contract ?? false);
  const aws = marketplace === 'aws';
  const body = (): Record<string, unknown> => {
    if (!offer) return { marketplace, name: name.trim(), marketplace_id: marketplaceId.trim(), ...(aws ? { identity_model: identity, contract } : {}) };
    const out: Record<string, unknown> = {};
    if (name.trim() !== offer.name) out.name = name.trim();
    if (aws && identity !== offer.identity_model) out.identity_model = identity;
    if (aws && contract !== offer.contract) out.contract = contract;
    return out;
  };
  const changes = Object.keys(body()).length;
  const save = useMutation({
    mutationFn: () =>
      offer ? api.offers.update(offer.id, body()) : api.offers.create(body()),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  const msg = messageOf(save.error);
  // The server names a field by the label shown here ("Product code: …").
  const err = (f: keyof typeof LABEL) => fieldError(msg, f === 'marketplace_id' ? (aws ? 'Product code' : 'Offer id') : LABEL[f]);
  const known = (['marketplace', 'name', 'marketplace_id', 'identity_model'] as const).some((f) => err(f));
  return (
    <Dialog isOpen onClose={onClose} title={offer ? `Edit offer — ${offer.name}` : 'New offer'} style={{ width: 620 }}>
      <form
        aria-label={offer ? 'Edit offer' : 'New offer'}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <DialogBody>
          <FormGroup label="Marketplace" intent={err('marketplace') ? 'danger' : 'none'}>
            <RadioGroup inline selectedValue={marketplace} onChange={(e) => setMarketplace(e.currentTarget.value as 'aws' | 'azure')} disabled={!!offer}>
              <Radio value="aws" label="AWS Marketplace" />
              <Radio value="azure" label="Microsoft commercial marketplace" />
            </RadioGroup>
            <FieldError text={err('marketplace')} />
          </FormGroup>
          <FormGroup label="Name" labelFor="offer-name" intent={err('name') ? 'danger' : 'none'}>
            <InputGroup id="offer-name" value={name} onValueChange={setName} maxLength={200} autoFocus intent={err('name') ? 'danger' : 'none'} />
            <FieldError text={err('name')} />
          </FormGroup>
          <FormGroup
            label={aws ? 'Product code' : 'Offer id'}
            labelFor="offer-marketplace-id"
            helperText={
              offer
                ? 'It identifies the offer at the marketplace and cannot change; create another offer instead.'
                : aws
                  ? 'The AWS Marketplace product code: lower-case letters and digits.'
                  : 'The offer id in Partner Center: lower-case letters, digits, hyphens and underscores.'
            }
            intent={err('marketplace_id') ? 'danger' : 'none'}
          >
            <InputGroup
              id="offer-marketplace-id"
              value={marketplaceId}
              onValueChange={setMarketplaceId}
              disabled={!!offer}
              intent={err('marketplace_id') ? 'danger' : 'none'}
              style={{ fontFamily: 'monospace' }}
            />
            <FieldError text={err('marketplace_id')} />
          </FormGroup>
          {aws && (
            <>
              <FormGroup label="How AWS identifies a buyer" intent={err('identity_model') ? 'danger' : 'none'}>
                <RadioGroup selectedValue={identity} onChange={(e) => setIdentity(e.currentTarget.value)}>
                  {Object.entries(IDENTITY).map(([v, label]) => (
                    <Radio key={v} value={v} label={`${v} — ${label}`} />
                  ))}
                </RadioGroup>
                <FieldError text={err('identity_model')} />
              </FormGroup>
              <Checkbox
                checked={contract}
                onChange={(e) => setContract(e.currentTarget.checked)}
                label="Contract pricing: buyers pay up front for entitlements (Entitlements tab); metered dimensions bill on top"
              />
            </>
          )}
          {save.isError && !known && <ErrorBox error={save.error} title={offer ? 'Not saved' : 'Not created'} />}
          {save.isError && known && (
            <div className="mg-error-id">request id: {(save.error as ApiError).requestId}</div>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button
                type="submit"
                intent="primary"
                text={offer ? (changes ? 'Save offer' : 'No changes') : 'Create offer'}
                disabled={offer ? changes === 0 : !name.trim() || !marketplaceId.trim()}
                loading={save.isPending}
              />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
