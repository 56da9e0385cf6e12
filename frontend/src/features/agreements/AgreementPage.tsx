// The agreement page of an AWS subscription (/subscriptions/:id/agreement):
// the agreement's terms as AWS's Agreement Service describes them
// (DescribeAgreement, GetAgreementTerms, GetAgreementEntitlements,
// SearchAgreements for the chain), what the renewal events said, and the
// related agreements (renewals, replacements) linked to their subscriptions.
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Classes, H5, HTMLTable, Tag } from '@blueprintjs/core';
import { api, queryKeys, type AgreementDescription, type AgreementPage as Page, type RenewalItem } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { PageTitle } from '../../shared/components/PageTitle';
import { AgreementMoney } from './money/AgreementMoney';
import { formatDate } from '../../shared/format';
import { AutoRenewTag, behaviourText, durationText, money, PRICING, pricingText, statusIntent } from './agreementText';

export function AgreementPage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: queryKeys.agreements.of(id), queryFn: () => api.agreements.ofSubscription(id) });
  const refresh = async () => {
    const fresh = await api.agreements.ofSubscription(id, true);
    qc.setQueryData(queryKeys.agreements.of(id), fresh);
  };
  return (
    <div>
      <PageTitle title={`Agreement – subscription #${id}`} />
      <p>
        <Link to={`/subscriptions/${id}`}>← Subscription #{id}</Link>
      </p>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && <AgreementBody page={q.data} onRefresh={refresh} subscriptionId={id} />}
    </div>
  );
}

function AgreementBody({ page, onRefresh, subscriptionId }: { page: Page; onRefresh: () => Promise<void>; subscriptionId: string }) {
  const a = page.agreement;
  return (
    <>
      <div className="sub-title" style={{ gap: 8, display: 'flex', alignItems: 'center', flexWrap: 'wrap' }}>
        {page.agreement_id ? <code data-testid="agreement-id">{page.agreement_id}</code> : <span>No agreement linked</span>}
        {a && (
          <Tag intent={statusIntent(a.status)} data-testid="agreement-status">
            {a.status}
          </Tag>
        )}
        <span className={Classes.TEXT_MUTED}>{page.read_at ? `read from AWS ${formatDate(page.read_at)} UTC` : 'not read from AWS yet'}</span>
        {page.agreement_id && <Button small icon="refresh" text="Read again from AWS" onClick={() => void onRefresh()} />}
      </div>
      {page.error && (
        <Callout intent={a ? 'warning' : 'primary'} style={{ margin: '8px 0', maxWidth: 900 }} data-testid="agreement-error">
          {page.error}
        </Callout>
      )}
      {page.renewal_events && <RenewalEvents r={page.renewal_events} />}
      {a && <AgreementSections a={a} />}
{page.agreement_id && (
        <Section title="Invoices, charges and requests">
          <AgreementMoney subscriptionId={subscriptionId} />
        </Section>
      )}
    </>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title} style={{ marginTop: 16 }}>
      <H5>{title}</H5>
      {children}
    </section>
  );
}

function Facts({ rows, label }: { rows: [string, ReactNode][]; label: string }) {
  return (
    <HTMLTable compact aria-label={label} style={{ maxWidth: 900 }}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row" style={{ fontWeight: 'normal', whiteSpace: 'nowrap' }} className={Classes.TEXT_MUTED}>
              {k}
            </th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </HTMLTable>
  );
}

function AgreementSections({ a }: { a: AgreementDescription }) {
  return (
    <>
      <Section title="Terms">
        <Facts
          label="Terms"
          rows={[
            ['Offer', <code key="o">{a.offer_id || '—'}</code>],
            ['Product', <code key="p">{a.product_id || '—'}</code>],
            ['Buyer (acceptor) account', <code key="b">{a.acceptor_account_id || '—'}</code>],
            ['Accepted', formatDate(a.accepted_at)],
            ['Starts', formatDate(a.starts_at)],
            ['Ends', a.ends_at ? formatDate(a.ends_at) : 'no end date (pay as you go)'],
            ['Duration', durationText(a.duration)],
            ['Estimated value', money(a.estimated_value, a.currency)],
            ['Pricing', a.pricing.length ? a.pricing.map((p) => pricingText(p)).join('; ') : '—'],
            ['Refund policy', a.refund_policy || '—'],
            [
              'Legal',
              a.documents.length
                ? a.documents.map((d) => (
                    <span key={d.type + d.url} style={{ marginRight: 8 }}>
                      {d.url ? (
                        <a href={d.url} target="_blank" rel="noreferrer">
                          {d.type}
                        </a>
                      ) : (
                        d.type
                      )}
                      {d.version && ` ${d.version}`}
                    </span>
                  ))
                : '—',
            ],
          ]}
        />
      </Section>
      <Section title="Dimensions">
        <DataTable
          label="Dimensions"
          staticLook
          rows={a.dimensions}
          rowKey={(d, i) => `${d.key}-${d.term}-${i}`}
          rowProps={() => ({ 'data-testid': 'dimension-row' })}
          empty={<p className="sub-hint">The terms name no dimensions.</p>}
          columns={[
            { id: 'key', header: 'Dimension', cell: (d) => <code>{d.key}</code> },
            { id: 'term', header: 'Pricing', cell: (d) => PRICING[d.term] ?? d.term },
            { id: 'price', header: 'Price per unit', cell: (d) => money(d.price, a.currency) },
            { id: 'units', header: 'Units bought', cell: (d) => d.units ?? '—' },
            { id: 'max', header: 'Most the buyer may use', cell: (d) => d.max_quantity ?? '—' },
          ]}
        />
      </Section>
      <Section title="Free trial">
        {a.free_trial ? (
          <p data-testid="agreement-trial">
            {a.free_trial.days ? `${a.free_trial.days} days` : durationText(a.free_trial.duration)}
            {a.free_trial.ends_at && <> — ends {formatDate(a.free_trial.ends_at)} UTC</>}
            {a.free_trial.dimensions.length > 0 && <> (dimensions: {a.free_trial.dimensions.join(', ')})</>}
          </p>
        ) : (
          <p className="sub-hint">No free trial.</p>
        )}
      </Section>
      <Section title="Renewal">
        <Facts
          label="Renewal"
          rows={[
            ['Renewal term', a.renewal.has_renewal_term ? 'yes' : 'no (the agreement cannot renew)'],
            ['Auto-renewal (buyer)', <AutoRenewTag key="a" on={a.renewal.auto_renew} />],
            ['At the end', a.renewal.behavior ? behaviourText(a.renewal.behavior, a.renewal.reason_code) : '—'],
            ['Turned off by', a.renewal.turned_off_by || '—'],
            ['Renews from offer', a.renewal.renewal_offer_id ? <code key="r">{a.renewal.renewal_offer_id}</code> : '—'],
            ['Decision deadline', a.renewal.lockout_period ? `${durationText(a.renewal.lockout_period)} before the end` : 'up to the end'],
            ['Renewals allowed', a.renewal.max_renewals ?? 'unlimited'],
          ]}
        />
      </Section>
      <Section title="Related agreements">
        <DataTable
          label="Related agreements"
          staticLook
          rows={a.related}
          rowKey={(r) => r.agreement_id}
          rowProps={() => ({ 'data-testid': 'related-row' })}
          empty={<p className="sub-hint">No renewals or replacements: this is the only agreement of its chain.</p>}
          columns={[
            { id: 'id', header: 'Agreement', cell: (r) => <code>{r.agreement_id}</code> },
            { id: 'rel', header: 'Relation', cell: (r) => (r.relation === 'earlier' ? 'earlier (renewed or replaced)' : 'later (renewal or replacement)') },
            { id: 'status', header: 'Status', cell: (r) => <Tag minimal intent={statusIntent(r.status)}>{r.status}</Tag> },
            { id: 'starts', header: 'Starts', cell: (r) => formatDate(r.starts_at) },
            { id: 'ends', header: 'Ends', cell: (r) => formatDate(r.ends_at) },
            {
              id: 'sub',
              header: 'Subscription',
              cell: (r) => (r.subscription_id ? <Link to={`/subscriptions/${r.subscription_id}/agreement`}>#{r.subscription_id}</Link> : '—'),
            },
          ]}
        />
      </Section>
      <Section title="Entitlements at AWS">
        <DataTable
          label="Entitlements at AWS"
          staticLook
          rows={a.entitlements}
          rowKey={(e, i) => `${e.license_arn}-${i}`}
          empty={<p className="sub-hint">AWS lists no entitlements for this agreement.</p>}
          columns={[
            { id: 'license', header: 'License', className: 'mg-wrap', cell: (e) => <code>{e.license_arn || '—'}</code> },
            { id: 'status', header: 'Status', cell: (e) => e.status },
            { id: 'reason', header: 'Reason', cell: (e) => e.reason || '—' },
          ]}
        />
      </Section>
    </>
  );
}

function RenewalEvents({ r }: { r: RenewalItem }) {
  return (
    <Section title="What AWS said of the end">
      <Facts
        label="Renewal events"
        rows={[
          ['Ends', formatDate(r.ends_at)],
          ['Latest ending notice', r.days_before_end ? `${r.days_before_end} days before the end` : '—'],
          ['Auto-renewal', <AutoRenewTag key="a" on={r.auto_renew} />],
          ['Turned off by', r.turned_off_by ? `${r.turned_off_by} (${formatDate(r.turned_off_at)})` : '—'],
          ['Renewal decision deadline', formatDate(r.lockout_at)],
          ['Renewal upcoming', formatDate(r.renewal_upcoming_at)],
          ['Renewal terms finalized', formatDate(r.terms_finalized_at)],
        ]}
      />
    </Section>
  );
}
