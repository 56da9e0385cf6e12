// The agreement's invoices, charges and requests, as AWS reports them.
import { Button, Classes, Tag } from '@blueprintjs/core';
import type { AgreementInvoice, AgreementMoney as Money, AgreementRequest } from '../../../shared/api';
import { DataTable, type Column } from '../../../shared/components/DataTable';
import { formatDateTime } from '../../../shared/i18n';
import { kindName, statusIntent } from './moneyParts';

export function Invoices({ m, admin, onRefund }: { m: Money; admin: boolean; onRefund: (i: AgreementInvoice) => void }) {
  if (m.invoices.length === 0) return <p className={Classes.TEXT_MUTED}>No invoices.</p>;
  const columns: Column<AgreementInvoice>[] = [
    { id: 'invoice', header: 'Invoice', cell: (i) => i.invoice_id },
    { id: 'type', header: 'Type', cell: (i) => (i.type === 'CREDIT_MEMO' ? 'Credit memo' : 'Invoice') },
    { id: 'period', header: 'Period', cell: (i) => i.period },
    { id: 'issued', header: 'Issued', cell: (i) => (i.issued_at ? formatDateTime(i.issued_at) : '') },
    { id: 'amount', header: 'Amount', cell: (i) => `${i.amount} ${i.currency}` },
    { id: 'refundable', header: 'Refundable', cell: (i) => (i.max_refundable ? `${i.max_refundable} ${i.currency}` : '') },
  ];
  if (admin) {
    columns.push({
      id: 'actions',
      header: 'Actions',
      cell: (i) =>
        i.type === 'INVOICE' && Number(i.max_refundable) > 0 ? (
          <Button small text="Refund…" onClick={() => onRefund(i)} aria-label={`Refund invoice ${i.invoice_id}`} />
        ) : null,
    });
  }
  return (
    <DataTable
      rows={m.invoices}
      columns={columns}
      rowKey={(i) => i.invoice_id}
      label="Invoices"
      testId="invoices"
      rowProps={(i) => ({ 'data-testid': 'invoice-row', 'data-invoice': i.invoice_id } as React.HTMLAttributes<HTMLTableRowElement>)}
    />
  );
}

const chargeColumns: Column<Money['charges'][number]>[] = [
  { id: 'charge', header: 'Charge', cell: (c) => c.id },
  { id: 'when', header: 'When', cell: (c) => (c.at ? formatDateTime(c.at) : '') },
  { id: 'amount', header: 'Amount', cell: (c) => `${c.amount} ${c.currency}` },
];

export function Charges({ m }: { m: Money }) {
  if (m.charges.length === 0) return <p className={Classes.TEXT_MUTED}>No charges.</p>;
  return <DataTable rows={m.charges} columns={chargeColumns} rowKey={(c) => c.id} label="Charges" testId="charges" />;
}

const requestColumns: Column<AgreementRequest>[] = [
  {
    id: 'requested',
    header: 'Requested',
    cell: (r) => (
      <>
        {formatDateTime(r.created_at)}
        <div className={Classes.TEXT_MUTED}>{r.requested_by}</div>
      </>
    ),
  },
  {
    id: 'what',
    header: 'What',
    cell: (r) => (
      <>
        {kindName[r.kind]}
        {r.amount && ` · ${r.amount} ${r.currency}`}
        {r.reason_code && <div className={Classes.TEXT_MUTED}>{r.reason_code}</div>}
      </>
    ),
  },
  {
    id: 'status',
    header: 'Status',
    cell: (r) => (
      <Tag intent={statusIntent[r.status]} minimal={r.status === 'withdrawn'}>
        {r.status}
      </Tag>
    ),
  },
  {
    id: 'stands',
    header: 'Where it stands',
    style: { maxWidth: 480 },
    cell: (r) => (
      <>
        {r.summary}
        {r.history.length > 0 && (
          <div className={Classes.TEXT_MUTED}>
            {r.history.map((h) => `${formatDateTime(h.at)} ${h.status}${h.aws_status ? ` (${h.aws_status})` : ''} · ${h.source}`).join(' → ')}
          </div>
        )}
      </>
    ),
  },
];

export function Requests({ items }: { items: AgreementRequest[] }) {
  if (items.length === 0) return <p className={Classes.TEXT_MUTED}>None yet.</p>;
  return (
    <DataTable
      rows={items}
      columns={requestColumns}
      rowKey={(r) => r.id}
      label="Requests"
      testId="agreement-requests"
      style={{ width: '100%' }}
      rowProps={(r) => ({ 'data-testid': 'agreement-request', 'data-kind': r.kind, 'data-status': r.status } as React.HTMLAttributes<HTMLTableRowElement>)}
    />
  );
}
