// Offers & plans: what the seller sells on each marketplace. Admins create
// and edit offers (marketplace ids, AWS identity model, contract) and plans
// (per user or flat, metered dimensions, activation policy, what a Microsoft
// customer may change, seat limits and seat policies); everyone else reads.
import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Callout,
  Card,
  Checkbox,
  Classes,
  Dialog,
  DialogBody,
  DialogFooter,
  FormGroup,
  H4,
  H5,
  HTMLSelect,
  HTMLTable,
  InputGroup,
  Radio,
  RadioGroup,
  Switch,
  Tag,
} from '@blueprintjs/core';
import { api, queryKeys, ApiError, type OverQuantityPolicy, type Dimension, type PlanFull, type OfferFull } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { marketplaceName } from '../../shared/format';
import { ADMINS, fieldError, RequireRole, SELLER, useMe } from '../../shared/components/common';
import { consequences, PlanSeatsDialog, PlanSeatSummary } from './PlanSeats';

export const ACTIVATION: Record<string, { label: string; help: string }> = {
  automatic: { label: 'Automatic', help: 'activated as soon as the buyer arrives from the marketplace' },
  buyer_confirms: { label: 'Buyer confirms', help: 'the buyer presses Activate on the welcome page' },
  seller_approves: { label: 'Seller approves', help: 'an admin or operator activates it in this portal' },
};

const IDENTITY: Record<string, string> = {
  legacy: 'CustomerIdentifier + ProductCode (products listed before June 2026)',
  concurrent_agreements: 'CustomerAWSAccountId + LicenseArn (concurrent agreements, from June 2026)',
};

export function OffersPage() {
  return (
    <RequireRole roles={SELLER} what="offers and plans">
      <Offers />
    </RequireRole>
  );
}

type Editing = { kind: 'offer'; offer?: OfferFull } | { kind: 'plan'; offer: OfferFull; plan?: PlanFull } | { kind: 'seats'; plan: PlanFull } | null;

function Offers() {
  const me = useMe();
  const admin = !!me && ADMINS.includes(me.role);
  const [editing, setEditing] = useState<Editing>(null);
  const q = useQuery({ queryKey: queryKeys.offers, queryFn: api.offers.list });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  return (
    <div>
      <H4>Offers &amp; plans</H4>
      <div className="mg-toolbar">
        {admin ? (
          <Button icon="add" intent="primary" text="New offer" onClick={() => setEditing({ kind: 'offer' })} />
        ) : (
          <Tag minimal icon="lock">
            read only — admins change offers and plans
          </Tag>
        )}
        <span className={Classes.TEXT_MUTED} style={{ maxWidth: 820 }}>
          Each offer and plan here matches one listed on the marketplace, by its id. The plan decides what Marketgate meters, how a new
          subscription is activated, what a Microsoft customer may change on their own, and who holds a seat.
        </span>
      </div>
      {q.data.items.length === 0 && (
        <Empty
          title="No offers yet"
          action={admin ? <Button icon="add" text="Create the first offer" onClick={() => setEditing({ kind: 'offer' })} /> : undefined}
        />
      )}
      {q.data.items.map((o) => (
        <Card key={o.id} style={{ marginBottom: 12, padding: '10px 14px' }} data-testid="offer-card">
          <H5 style={{ display: 'flex', alignItems: 'center', gap: 6, flexWrap: 'wrap' }}>
            <span data-testid="offer-name">{o.name}</span>
            <Tag minimal>{marketplaceName[o.marketplace] ?? o.marketplace}</Tag>
            <code>{o.marketplace_id}</code>
            {o.identity_model && (
              <Tag minimal title={IDENTITY[o.identity_model]}>
                {o.identity_model}
              </Tag>
            )}
            {o.contract && <Tag minimal intent="primary">contract</Tag>}
            {admin && (
              <span style={{ marginLeft: 'auto' }}>
                <Button small minimal icon="edit" text="Edit offer…" onClick={() => setEditing({ kind: 'offer', offer: o })} />
                <Button small minimal icon="add" text="Add plan…" onClick={() => setEditing({ kind: 'plan', offer: o })} />
              </span>
            )}
          </H5>
          {o.plans.length === 0 ? (
            <p className={Classes.TEXT_MUTED}>No plans yet.{admin && ' Add the plans listed for this offer on the marketplace.'}</p>
          ) : (
            <HTMLTable compact className="mg-table mg-static" aria-label={'Plans of ' + o.name}>
              <thead>
                <tr>
                  <th>Plan id</th>
                  <th>Name</th>
                  <th>Metered dimensions</th>
                  <th>Activation</th>
                  {o.marketplace === 'azure' && <th>Customer changes</th>}
                  <th>Seats</th>
                  {admin && <th />}
                </tr>
              </thead>
              <tbody>
                {o.plans.map((p) => (
                  <tr key={p.id} data-testid="plan-row">
                    <td>
                      <code>{p.plan_id}</code>
                    </td>
                    <td>
                      {p.name}{' '}
                      {p.needs_review && (
                        <Tag
                          minimal
                          intent="warning"
                          title="Learned from Microsoft when a customer bought it: check its activation, customer changes and seats, then save it."
                        >
                          needs review
                        </Tag>
                      )}
                    </td>
                    <td className="mg-prose" style={{ minWidth: 160 }}>
                      {p.dimensions.length === 0
                        ? '—'
                        : p.dimensions.map((d) => (
                            <div key={d.key}>
                              <code>{d.key}</code> {d.name && d.name !== d.key && d.name} {d.unit && <span className={Classes.TEXT_MUTED}>({d.unit})</span>}{' '}
                              {d.metered && o.contract && (
                                <Tag minimal round>
                                  metered
                                </Tag>
                              )}
                            </div>
                          ))}
                    </td>
                    <td title={ACTIVATION[p.activation_policy]?.help}>{ACTIVATION[p.activation_policy]?.label ?? p.activation_policy}</td>
                    {o.marketplace === 'azure' && (
                      <td className="mg-prose" style={{ minWidth: 140 }}>
                        <ChangePolicy p={p} />
                      </td>
                    )}
                    <td className="mg-prose">
                      <PlanSeatSummary p={p} />
                      {p.seat_based && (p.min_quantity > 0 || p.max_quantity > 0) && (
                        <div className={Classes.TEXT_MUTED}>
                          {p.min_quantity > 0 ? p.min_quantity : 1}–{p.max_quantity > 0 ? p.max_quantity : 'any'} seats
                        </div>
                      )}
                    </td>
                    {admin && (
                      <td>
                        <Button small minimal icon="edit" text="Edit…" aria-label={`Edit plan ${p.plan_id}`} onClick={() => setEditing({ kind: 'plan', offer: o, plan: p })} />
                        <Button small minimal icon="people" text="Seat policies…" onClick={() => setEditing({ kind: 'seats', plan: p })} />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </HTMLTable>
          )}
        </Card>
      ))}
      {editing?.kind === 'offer' && <OfferDialog offer={editing.offer} onClose={() => setEditing(null)} />}
      {editing?.kind === 'plan' && <PlanDialog offer={editing.offer} plan={editing.plan} onClose={() => setEditing(null)} />}
      {editing?.kind === 'seats' && <PlanSeatsDialog plan={editing.plan} onClose={() => setEditing(null)} />}
    </div>
  );
}

function ChangePolicy({ p }: { p: PlanFull }) {
  const parts = [p.reject_plan_change ? 'no plan change' : 'plan change allowed', p.reject_quantity_change ? 'no seat change' : null].filter(Boolean);
  return <span>{parts.join(' · ')}</span>;
}

/** The message of a failed request, for matching it to a field. */
const messageOf = (e: unknown) => (e instanceof ApiError ? e.message : undefined);

function FieldError({ text }: { text?: string }) {
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
  const err = (f: string) => fieldError(msg, f);
  const known = ['marketplace', 'name', 'marketplace_id', 'identity_model'].some((f) => err(f));
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

interface DimRow extends Dimension {
  rid: number;
}

interface PlanForm {
  plan_id: string;
  name: string;
  seat_based: boolean;
  dimensions: DimRow[];
  activation_policy: string;
  reject_plan_change: boolean;
  reject_quantity_change: boolean;
  min_quantity: string;
  max_quantity: string;
  allow_over_assignment: boolean;
  auto_assign_seats: boolean;
  over_quantity_policy: OverQuantityPolicy;
}

const toInt = (s: string) => (s.trim() === '' ? 0 : Math.trunc(Number(s)));
const dims = (rows: Dimension[]) => rows.map((d) => ({ key: d.key.trim(), name: d.name.trim(), unit: d.unit.trim(), metered: !!d.metered }));

/** The plan as the API takes it; a flat plan has no seat limits or seat policies. */
function planBody(v: PlanForm) {
  return {
    name: v.name.trim(),
    seat_based: v.seat_based,
    dimensions: dims(v.dimensions),
    activation_policy: v.activation_policy,
    reject_plan_change: v.reject_plan_change,
    reject_quantity_change: v.reject_quantity_change,
    min_quantity: v.seat_based ? toInt(v.min_quantity) : 0,
    max_quantity: v.seat_based ? toInt(v.max_quantity) : 0,
    allow_over_assignment: v.seat_based && v.allow_over_assignment,
    auto_assign_seats: v.seat_based && v.auto_assign_seats,
    over_quantity_policy: v.over_quantity_policy,
  };
}

export function PlanDialog({ offer, plan, onClose }: { offer: OfferFull; plan?: PlanFull; onClose: () => void }) {
  const qc = useQueryClient();
  const rid = useRef(0);
  const row = (d?: Dimension): DimRow => ({ rid: ++rid.current, key: d?.key ?? '', name: d?.name ?? '', unit: d?.unit ?? '', metered: d?.metered ?? false });
  const [v, setV] = useState<PlanForm>(() => ({
    plan_id: plan?.plan_id ?? '',
    name: plan?.name ?? '',
    seat_based: plan?.seat_based ?? false,
    dimensions: (plan?.dimensions ?? []).map(row),
    activation_policy: plan?.activation_policy ?? 'automatic',
    reject_plan_change: plan?.reject_plan_change ?? false,
    reject_quantity_change: plan?.reject_quantity_change ?? false,
    min_quantity: plan?.min_quantity ? String(plan.min_quantity) : '',
    max_quantity: plan?.max_quantity ? String(plan.max_quantity) : '',
    allow_over_assignment: plan?.allow_over_assignment ?? false,
    auto_assign_seats: plan?.auto_assign_seats ?? false,
    over_quantity_policy: plan?.over_quantity_policy || 'keep_all',
  }));
  const set = <K extends keyof PlanForm>(k: K, val: PlanForm[K]) => setV((x) => ({ ...x, [k]: val }));
  const setDim = (i: number, d: Partial<Dimension>) => setV((x) => ({ ...x, dimensions: x.dimensions.map((r, j) => (j === i ? { ...r, ...d } : r)) }));
  const azure = offer.marketplace === 'azure';

  const full = planBody(v);
  const changed: Record<string, unknown> = {};
  if (plan) {
    const before: Record<string, unknown> = { ...planBody({ ...v, ...planForm(plan) }), dimensions: dims(plan.dimensions) };
    for (const [k, val] of Object.entries(full)) {
      if (JSON.stringify(val) !== JSON.stringify(before[k])) changed[k] = val;
    }
  }
  const effects = plan
    ? consequences(
        { seat_based: plan.seat_based, allow_over_assignment: plan.allow_over_assignment, auto_assign_seats: plan.auto_assign_seats, over_quantity_policy: plan.over_quantity_policy },
        { seat_based: full.seat_based, allow_over_assignment: full.allow_over_assignment, auto_assign_seats: full.auto_assign_seats, over_quantity_policy: full.over_quantity_policy },
      )
    : [];
  const save = useMutation({
    mutationFn: () =>
      plan
        ? api.offers.updatePlan(plan.id, changed)
        : api.offers.createPlan(offer.id, { plan_id: v.plan_id.trim(), ...full }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  const msg = messageOf(save.error);
  const err = (f: string) => fieldError(msg, f);
  const dimMatch = msg?.match(/^dimensions\[(\d+)\]/);
  const dimError = dimMatch ? Number(dimMatch[1]) : -1;
  const quantityError = msg && /^min_quantity|^max_quantity/.test(msg) ? msg : undefined;
  const known = !!(err('plan_id') || err('name') || err('activation_policy') || dimMatch || quantityError);
  const nChanged = Object.keys(changed).length;
  return (
    <Dialog isOpen onClose={onClose} title={plan ? `Edit plan ${plan.plan_id} — ${offer.name}` : `New plan — ${offer.name}`} style={{ width: 760 }}>
      <form
        aria-label={plan ? 'Edit plan' : 'New plan'}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <DialogBody>
          <div className="mg-form-row">
            <FormGroup
              label="Plan id"
              labelFor="plan-id"
              helperText={plan ? 'It identifies the plan at the marketplace and cannot change.' : azure ? 'The plan id in Partner Center.' : 'As AWS knows it (the pricing dimension or offer plan).'}
              intent={err('plan_id') ? 'danger' : 'none'}
            >
              <InputGroup
                id="plan-id"
                value={v.plan_id}
                onValueChange={(s) => set('plan_id', s)}
                disabled={!!plan}
                autoFocus={!plan}
                intent={err('plan_id') ? 'danger' : 'none'}
                style={{ fontFamily: 'monospace' }}
              />
              <FieldError text={err('plan_id')} />
            </FormGroup>
            <FormGroup label="Name" labelFor="plan-name" intent={err('name') ? 'danger' : 'none'}>
              <InputGroup id="plan-name" value={v.name} onValueChange={(s) => set('name', s)} maxLength={200} intent={err('name') ? 'danger' : 'none'} autoFocus={!!plan} />
              <FieldError text={err('name')} />
            </FormGroup>
          </div>

          <div className="mg-section">Pricing</div>
          <RadioGroup selectedValue={v.seat_based ? 'seats' : 'flat'} onChange={(e) => set('seat_based', e.currentTarget.value === 'seats')} inline>
            <Radio value="flat" label="Flat: one price per subscription" />
            <Radio value="seats" label="Per user: the quantity is a number of seats" />
          </RadioGroup>

          <div className="mg-section">
            Metered dimensions{' '}
            <span className={Classes.TEXT_MUTED} style={{ fontWeight: 400 }}>
              — usage your application reports, sent to the marketplace every hour under this key
            </span>
          </div>
          {v.dimensions.length > 0 && (
            <HTMLTable compact className="mg-table mg-dims" aria-label="Metered dimensions">
              <thead>
                <tr>
                  <th>Key (as the marketplace knows it)</th>
                  <th>Name</th>
                  <th>Unit</th>
                  <th title="Contract offers: billed by usage on top of the entitlement">Metered</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {v.dimensions.flatMap((d, i) => {
                  const rows = [
                    <tr key={d.rid} data-testid="dimension-row" className={i === dimError ? 'mg-dim-invalid' : undefined}>
                      <td>
                        <input className="bp6-input bp6-small bp6-fill" aria-label={`Dimension ${i + 1} key`} value={d.key} onChange={(e) => setDim(i, { key: e.currentTarget.value })} style={{ fontFamily: 'monospace' }} />
                      </td>
                      <td>
                        <input className="bp6-input bp6-small bp6-fill" aria-label={`Dimension ${i + 1} name`} value={d.name} onChange={(e) => setDim(i, { name: e.currentTarget.value })} />
                      </td>
                      <td>
                        <input className="bp6-input bp6-small" aria-label={`Dimension ${i + 1} unit`} value={d.unit} onChange={(e) => setDim(i, { unit: e.currentTarget.value })} style={{ width: 110 }} placeholder="e.g. 1000 calls" />
                      </td>
                      <td>
                        <Checkbox aria-label={`Dimension ${i + 1} metered`} checked={!!d.metered} onChange={(e) => setDim(i, { metered: e.currentTarget.checked })} style={{ margin: '4px 0 0' }} />
                      </td>
                      <td>
                        <Button
                          small
                          minimal
                          icon="trash"
                          aria-label={`Remove dimension ${i + 1}`}
                          onClick={() => setV((x) => ({ ...x, dimensions: x.dimensions.filter((_, j) => j !== i) }))}
                        />
                      </td>
                    </tr>,
                  ];
                  if (i === dimError)
                    rows.push(
                      <tr key={d.rid + '-error'} className="mg-dim-invalid" data-testid="dimension-error">
                        <td colSpan={5}>
                          <FieldError text={msg} />
                        </td>
                      </tr>,
                    );
                  return rows;
                })}
              </tbody>
            </HTMLTable>
          )}
          <Button small icon="add" text="Add dimension" onClick={() => setV((x) => ({ ...x, dimensions: [...x.dimensions, row()] }))} style={{ margin: '4px 0 8px' }} />
          {v.dimensions.length === 0 && <span className={Classes.TEXT_MUTED}> No metered dimensions: nothing is metered for this plan.</span>}

          <div className="mg-section">Activation of a new subscription</div>
          <RadioGroup selectedValue={v.activation_policy} onChange={(e) => set('activation_policy', e.currentTarget.value)}>
            {Object.entries(ACTIVATION).map(([k, a]) => (
              <Radio key={k} value={k} label={`${a.label} — ${a.help}`} />
            ))}
          </RadioGroup>
          <FieldError text={err('activation_policy')} />
          {!azure && <p className={Classes.TEXT_MUTED}>On AWS, the subscription becomes active with AWS&apos;s subscribe-success; the policy applies to Microsoft offers.</p>}

          <div className="mg-section">Changes the customer makes {azure ? 'at Microsoft' : ''}</div>
          {azure ? (
            <>
              <Checkbox checked={v.reject_plan_change} onChange={(e) => set('reject_plan_change', e.currentTarget.checked)} label="Refuse plan changes: Microsoft is told the change failed; the customer contacts the seller" />
              <Checkbox
                checked={v.reject_quantity_change}
                onChange={(e) => set('reject_quantity_change', e.currentTarget.checked)}
                label="Refuse seat-count changes"
                disabled={!v.seat_based}
              />
            </>
          ) : (
            <p className={Classes.TEXT_MUTED}>AWS buyers change plans and quantities in AWS Marketplace; the offer&apos;s settings there decide what they may change.</p>
          )}
          {v.seat_based && (
            <div className="mg-form-row">
              <FormGroup label="Fewest seats" labelFor="plan-min" helperText="0: no limit" intent={quantityError ? 'danger' : 'none'}>
                <InputGroup id="plan-min" type="number" min={0} value={v.min_quantity} onValueChange={(s) => set('min_quantity', s)} intent={quantityError ? 'danger' : 'none'} />
              </FormGroup>
              <FormGroup label="Most seats" labelFor="plan-max" helperText="0: no limit" intent={quantityError ? 'danger' : 'none'}>
                <InputGroup id="plan-max" type="number" min={0} value={v.max_quantity} onValueChange={(s) => set('max_quantity', s)} intent={quantityError ? 'danger' : 'none'} />
              </FormGroup>
            </div>
          )}
          <FieldError text={quantityError} />

          {v.seat_based && (
            <>
              <div className="mg-section">Seat policies</div>
              <Switch checked={v.allow_over_assignment} onChange={(e) => set('allow_over_assignment', e.currentTarget.checked)} label="Allow over-assignment: customer admins may assign more seats than bought (flagged)" />
              <Switch checked={v.auto_assign_seats} onChange={(e) => set('auto_assign_seats', e.currentTarget.checked)} label="Auto-assign on first check: the seat check gives a free seat to a user without one" />
              <FormGroup label="Seats over the quantity" labelFor="plan-over" inline>
                <HTMLSelect id="plan-over" value={v.over_quantity_policy} onChange={(e) => set('over_quantity_policy', e.currentTarget.value as OverQuantityPolicy)}>
                  <option value="keep_all">keep access for every seat holder</option>
                  <option value="newest_unlicensed">refuse the newest seats beyond the quantity</option>
                </HTMLSelect>
              </FormGroup>
            </>
          )}
          {effects.length > 0 && (
            <Callout intent="warning" title="What changes, at once, for every subscription on this plan" data-testid="plan-effects" style={{ marginTop: 8 }}>
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {effects.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            </Callout>
          )}
          {save.isError && (
            <div style={{ marginTop: 8 }}>
              {known ? (
                <div className="mg-error-id">request id: {(save.error as ApiError).requestId}</div>
              ) : (
                <ErrorBox error={save.error} title={plan ? 'Not saved' : 'Not created'} />
              )}
            </div>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Cancel" onClick={onClose} />
              <Button
                type="submit"
                intent="primary"
                text={plan ? (nChanged ? 'Save plan' : 'No changes') : 'Create plan'}
                disabled={plan ? nChanged === 0 : false}
                loading={save.isPending}
              />
            </>
          }
        />
      </form>
    </Dialog>
  );
}

/** The form fields of a stored plan (to compare against). */
function planForm(p: PlanFull): Omit<PlanForm, 'plan_id' | 'dimensions'> {
  return {
    name: p.name,
    seat_based: p.seat_based,
    activation_policy: p.activation_policy,
    reject_plan_change: p.reject_plan_change,
    reject_quantity_change: p.reject_quantity_change,
    min_quantity: String(p.min_quantity ?? 0),
    max_quantity: String(p.max_quantity ?? 0),
    allow_over_assignment: p.allow_over_assignment,
    auto_assign_seats: p.auto_assign_seats,
    over_quantity_policy: p.over_quantity_policy || 'keep_all',
  };
}
