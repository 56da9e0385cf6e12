import { Link } from 'react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { Tag } from '@blueprintjs/core';
import type { Subscription } from '../../shared/api';
import { formatDate, marketplaceName, stateIntent, subscriptionName } from '../../shared/format';
import { COLUMNS } from './SubTable';

// The subscriptions list's columns: headers, order and sort fields come from
// COLUMNS (SubTable.ts); the cells are here.

const col = createColumnHelper<Subscription>();

/** The buyer's identity at the marketplace, as the list shows it. */
function identity(s: Subscription): string {
  if (s.marketplace === 'azure') return s.azure_subscription_id;
  return s.aws_customer_account_id || s.aws_customer_identifier || s.aws_license_arn;
}

const cells: Record<string, (s: Subscription) => React.ReactNode> = {
  id: (s) => <Link to={'/subscriptions/' + s.id}>{s.id}</Link>,
  customer: (s) => <span title={s.customer?.name}>{s.customer?.name ?? ''}</span>,
  name: (s) => <span title={subscriptionName(s)}>{subscriptionName(s)}</span>,
  marketplace: (s) => marketplaceName[s.marketplace] ?? s.marketplace,
  identity: (s) => <code>{identity(s) || '—'}</code>,
  offer: (s) => <span title={s.offer?.name}>{s.offer?.name ?? ''}</span>,
  plan: (s) => <span title={s.plan?.name}>{s.plan?.name ?? ''}</span>,
  quantity: (s) => s.quantity,
  state: (s) => (
    <Tag minimal intent={stateIntent(s.state)} data-testid="state">
      {s.state}
    </Tag>
  ),
  flags: (s) => (
    <>
      {s.free_trial && <Tag minimal>trial</Tag>} {s.is_test && <Tag minimal>test</Tag>}
    </>
  ),
  term_end: (s) => formatDate(s.term_end),
  state_changed_at: (s) => formatDate(s.state_changed_at),
  created_at: (s) => formatDate(s.created_at),
  updated_at: (s) => formatDate(s.updated_at),
};

export const subColumns = COLUMNS.map((c) =>
  col.display({ id: c.id, header: c.label, cell: (ctx) => cells[c.id](ctx.row.original), meta: { sort: c.sort } }),
);

/** A sort field's column label ("Created", …), for the sort summary. */
export const sortLabel: Record<string, string> = Object.fromEntries(COLUMNS.filter((c) => c.sort).map((c) => [c.sort!, c.label]));
