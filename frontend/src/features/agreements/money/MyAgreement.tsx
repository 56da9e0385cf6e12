// MyAgreement: the customer portal's read-only view of an AWS
// subscription's agreement — its charges and invoices as AWS bills them,
// and the seller's cancellation or payment request waiting for the
// customer's answer in AWS Marketplace.
import { useQuery } from '@tanstack/react-query';
import { Callout, Spinner } from '@blueprintjs/core';
import { DataTable } from '../../../shared/components/DataTable';
import { useTranslation } from 'react-i18next';
import { api, queryKeys, type MyAgreement as Agreement } from '../../../shared/api';
import { formatDateTime, formatDay } from '../../../shared/i18n';

export function MyAgreement({ subscriptionId }: { subscriptionId: number }) {
  const { t } = useTranslation('agreements');
  const q = useQuery({ queryKey: queryKeys.agreementMoney.mine(subscriptionId), queryFn: () => api.agreementMoney.mine(subscriptionId) });
  if (q.isPending) return <Spinner size={24} aria-label={t('common:loading')} />;
  if (q.isError) return <Callout intent="danger">{q.error.message}</Callout>;
  const a = q.data;
  return (
    <div data-testid="my-agreement">
      <h2 className="bp6-heading mg-portal-h2">{t('title')}</h2>
      <p>{t('intro')}</p>
      {a.agreement_id ? <p className="bp6-text-muted">{t('agreementId', { id: a.agreement_id })}</p> : <p>{t('noAgreement')}</p>}
      <Pending a={a} />
      {a.agreement_id && !a.available && <Callout intent="warning">{t('unavailable')}</Callout>}
      {a.available && (
        <>
          <h3 className="bp6-heading">{t('charges')}</h3>
          <DataTable
            label={t('charges')}
            testId="my-charges"
            compact
            striped
            rows={a.charges}
            rowKey={(c) => c.id}
            empty={<p>{t('noCharges')}</p>}
            columns={[
              { id: 'charge', header: t('col.charge'), cell: (c) => c.id },
              { id: 'when', header: t('col.when'), cell: (c) => (c.at ? formatDay(c.at) : '') },
              { id: 'amount', header: t('col.amount'), cell: (c) => `${c.amount} ${c.currency}` },
            ]}
          />
          <h3 className="bp6-heading">{t('invoices')}</h3>
          <DataTable
            label={t('invoices')}
            testId="my-invoices"
            compact
            striped
            rows={a.invoices}
            rowKey={(i) => i.invoice_id}
            empty={<p>{t('noInvoices')}</p>}
            columns={[
              { id: 'invoice', header: t('col.invoice'), cell: (i) => i.invoice_id },
              { id: 'type', header: t('col.type'), cell: (i) => t(`type.${i.type === 'CREDIT_MEMO' ? 'CREDIT_MEMO' : 'INVOICE'}`) },
              { id: 'period', header: t('col.period'), cell: (i) => i.period },
              { id: 'issued', header: t('col.issued'), cell: (i) => (i.issued_at ? formatDay(i.issued_at) : '') },
              { id: 'amount', header: t('col.amount'), cell: (i) => `${i.amount} ${i.currency}` },
            ]}
          />
        </>
      )}
    </div>
  );
}

const REASONS = [
  'INCORRECT_TERMS_ACCEPTED',
  'REPLACING_AGREEMENT',
  'TEST_AGREEMENT',
  'ALTERNATIVE_PROCUREMENT_CHANNEL',
  'PRODUCT_DISCONTINUED',
  'UNINTENDED_RENEWAL',
  'BUYER_DISSATISFACTION',
  'OTHER',
] as const;

function Pending({ a }: { a: Agreement }) {
  const { t } = useTranslation('agreements');
  const c = a.pending_cancellation;
  const p = a.pending_payment;
  if (!c && !p) return a.agreement_id ? <p data-testid="nothing-pending">{t('nothingPending')}</p> : null;
  const reason = (code: string) => t(`reason.${REASONS.find((r) => r === code) ?? 'OTHER'}`);
  return (
    <>
      {c && (
        <Callout intent="warning" data-testid="my-pending-cancellation" style={{ marginBottom: 8 }}>
          <p>{t('pendingCancellation', { reason: reason(c.reason_code) })}</p>
          {c.respond_by && <p>{t('respondBy', { date: formatDateTime(c.respond_by) })}</p>}
        </Callout>
      )}
      {p && (
        <Callout intent="primary" data-testid="my-pending-payment" style={{ marginBottom: 8 }}>
          <p>{t('pendingPayment', { amount: p.amount, currency: p.currency, name: p.name })}</p>
          <p>{t('paymentHow')}</p>
        </Callout>
      )}
    </>
  );
}
