// PlansTable: the plans of one offer, on the shared DataTable. Admins get
// the buttons that edit a plan and its seat policies.
import { Button, Classes, Tag } from '@blueprintjs/core';
import { type OfferFull, type PlanFull } from '../../shared/api';
import { DataTable, type Column } from '../../shared/components/DataTable';
import { PlanSeatSummary } from './PlanSeats';
import { ChangePolicy } from './OfferDialog';
import { ACTIVATION } from './offerLabels';

function planColumns(o: OfferFull, admin: boolean, onEdit: (p: PlanFull) => void, onSeats: (p: PlanFull) => void): Column<PlanFull>[] {
  const cols: Column<PlanFull>[] = [
    { id: 'plan_id', header: 'Plan id', cell: (p) => <code>{p.plan_id}</code> },
    {
      id: 'name',
      header: 'Name',
      cell: (p) => (
        <>
          {p.name}{' '}
          {p.needs_review && (
            <Tag minimal intent="warning" title="Learned from Microsoft when a customer bought it: check its activation, customer changes and seats, then save it.">
              needs review
            </Tag>
          )}
        </>
      ),
    },
    {
      id: 'dimensions',
      header: 'Metered dimensions',
      className: 'mg-prose',
      style: { minWidth: 160 },
      cell: (p) =>
        p.dimensions.length === 0
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
            )),
    },
    {
      id: 'activation',
      header: 'Activation',
      cellProps: (p) => ({ title: ACTIVATION[p.activation_policy]?.help }),
      cell: (p) => ACTIVATION[p.activation_policy]?.label ?? p.activation_policy,
    },
  ];
  if (o.marketplace === 'azure') cols.push({ id: 'changes', header: 'Customer changes', className: 'mg-prose', style: { minWidth: 140 }, cell: (p) => <ChangePolicy p={p} /> });
  cols.push({
    id: 'seats',
    header: 'Seats',
    className: 'mg-prose',
    cell: (p) => (
      <>
        <PlanSeatSummary p={p} />
        {p.seat_based && (p.min_quantity > 0 || p.max_quantity > 0) && (
          <div className={Classes.TEXT_MUTED}>
            {p.min_quantity > 0 ? p.min_quantity : 1}–{p.max_quantity > 0 ? p.max_quantity : 'any'} seats
          </div>
        )}
      </>
    ),
  });
  if (admin)
    cols.push({
      id: 'actions',
      header: '',
      cell: (p) => (
        <>
          <Button small minimal icon="edit" text="Edit…" aria-label={`Edit plan ${p.plan_id}`} onClick={() => onEdit(p)} />
          <Button small minimal icon="people" text="Seat policies…" onClick={() => onSeats(p)} />
        </>
      ),
    });
  return cols;
}

export function PlansTable(props: { offer: OfferFull; admin: boolean; onEdit: (p: PlanFull) => void; onSeats: (p: PlanFull) => void }) {
  const { offer: o, admin, onEdit, onSeats } = props;
  return (
    <DataTable
      rows={o.plans}
      columns={planColumns(o, admin, onEdit, onSeats)}
      rowKey={(p) => p.id}
      label={'Plans of ' + o.name}
      striped={false}
      staticLook
      rowProps={() => ({ 'data-testid': 'plan-row' })}
    />
  );
}
