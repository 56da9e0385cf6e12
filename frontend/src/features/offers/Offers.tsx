// Offers & plans: what the seller sells on each marketplace. Admins create
// and edit offers (marketplace ids, AWS identity model, contract) and plans
// (per user or flat, metered dimensions, activation policy, what a Microsoft
// customer may change, seat limits and seat policies); everyone else reads.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Classes, H5, Tag } from '@blueprintjs/core';
import { api, queryKeys, type PlanFull, type OfferFull } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { marketplaceName } from '../../shared/format';
import { ADMINS, RequireRole, SELLER, useMe } from '../../shared/components/common';
import { PlanSeatsDialog } from './PlanSeats';
import { PlansTable } from './PlansTable';
import { PlanChangePolicies } from './PlanChangePolicies';
import { PlanDialog } from './PlanDialog';
import { OfferDialog } from './OfferDialog';
import { BrandingButton } from './Branding';
import { IDENTITY } from './offerLabels';
import { OfferPermissions } from './OfferPermissions';
import { PageTitle } from '../../shared/components/PageTitle';

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
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  return (
    <div>
      <PageTitle title="Offers & plans" />
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
                <BrandingButton offer={o} />
              </span>
            )}
          </H5>
          {o.plans.length === 0 ? (
            <p className={Classes.TEXT_MUTED}>No plans yet.{admin && ' Add the plans listed for this offer on the marketplace.'}</p>
          ) : (
            <PlansTable offer={o} admin={admin} onEdit={(p) => setEditing({ kind: 'plan', offer: o, plan: p })} onSeats={(p) => setEditing({ kind: 'seats', plan: p })} />
          )}
          <PlanChangePolicies offer={o} admin={admin} />
          {o.marketplace === 'azure' && <OfferPermissions offer={o} admin={admin} />}
        </Card>
      ))}
      {editing?.kind === 'offer' && <OfferDialog offer={editing.offer} onClose={() => setEditing(null)} />}
      {editing?.kind === 'plan' && <PlanDialog offer={editing.offer} plan={editing.plan} onClose={() => setEditing(null)} />}
      {editing?.kind === 'seats' && <PlanSeatsDialog plan={editing.plan} onClose={() => setEditing(null)} />}
    </div>
  );
}
