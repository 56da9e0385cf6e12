// Offers & plans: what the seller sells on each marketplace. Admins create
// and edit offers (marketplace ids, AWS identity model, contract) and plans
// (per user or flat, metered dimensions, activation policy, what a Microsoft
// customer may change, seat limits and seat policies); everyone else reads.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Classes, H4, H5, HTMLTable, Tag } from '@blueprintjs/core';
import { api, queryKeys, type PlanFull, type OfferFull } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { marketplaceName } from '../../shared/format';
import { ADMINS, RequireRole, SELLER, useMe } from '../../shared/components/common';
import { PlanSeatsDialog, PlanSeatSummary } from './PlanSeats';
import { PlanDialog } from './PlanDialog';
import { ChangePolicy, OfferDialog } from './OfferDialog';
import { ACTIVATION, IDENTITY } from './offerLabels';

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
