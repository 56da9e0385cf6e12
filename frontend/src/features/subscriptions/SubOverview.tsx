import { Link } from 'react-router';
import { Classes, H5, Tag } from '@blueprintjs/core';
import { type AWSMeteringIdentity, type FreeTrial, type SeatCounts, type SubscriptionDetail } from '../../shared/api';
import { AzureOperationsTable } from './AzurePanel';
import { mergeTimeline, Timeline } from './SubTimeline';
import { formatDate, marketplaceName, termUnit } from '../../shared/format';
import './SubDash.css';

/** The Overview's free-trial line: "Free trial until <date>" when AWS's terms say so. */
export function freeTrialText(ft: FreeTrial): string {
  const day = (s: string | null) => formatDate(s).slice(0, 10);
  const days = ft.days ? ` (${ft.days} days)` : '';
  switch (ft.status) {
    case 'active':
      return ft.ends_at ? `Free trial until ${day(ft.ends_at)}${days}` : `Free trial${days}${ft.note ? ' — ' + ft.note : ''}`;
    case 'ended':
      return `Free trial ended ${day(ft.ends_at)}${days}`;
    case 'none':
      return 'No free trial';
  }
  return `Unknown${ft.note ? ' — ' + ft.note : ''}`;
}

export function Overview(props: {
  d: SubscriptionDetail;
  merged: ReturnType<typeof mergeTimeline>;
  seats: SeatCounts | null;
  seller: boolean;
  onTab: (t: string) => void;
}) {
  const { d, merged, seats, seller, onTab } = props;
  const s = d.subscription;
  const rows: [string, React.ReactNode][] = [
    [
      'Customer',
      s.customer ? (
        <span key="customer">
          {seller ? <Link to={'/customers/' + s.customer.id}>{s.customer.name}</Link> : s.customer.name}{' '}
          <Link to={'/subscriptions?customer=' + s.customer.id} className="sub-hint">
            all subscriptions
          </Link>
        </span>
      ) : (
        '—'
      ),
    ],
    ['Marketplace', marketplaceName[s.marketplace]],
    ['Offer', s.offer ? `${s.offer.name} (${s.offer.marketplace_id})` : '—'],
    ['Plan', s.plan ? `${s.plan.name} (${s.plan.plan_id})` : '—'],
    ['Quantity', s.quantity],
  ];
  if (seats?.seat_based) {
    rows.push([
      'Seats',
      <Link
        key="seats"
        to="?tab=seats"
        onClick={(e) => {
          e.preventDefault();
          onTab('seats');
        }}
        data-testid="overview-seats"
      >
        {seats.bought} bought · {seats.assigned} assigned · {seats.free} free{seats.over > 0 ? ` · ${seats.over} over` : ''}
      </Link>,
    ]);
  }
  if (d.free_trial) {
    rows.push([
      'Free trial',
      <span key="trial" data-testid="free-trial">
        {freeTrialText(d.free_trial)}
      </span>,
    ]);
  }
  rows.push(
    ['Term', `${s.term_unit ? termUnit(s.term_unit) + ' · ' : ''}${formatDate(s.term_start)} → ${formatDate(s.term_end)}`],
    [
      'Flags',
      <span className="sub-flags" key="flags" data-testid="flags">
        {s.free_trial && <Tag minimal>free trial</Tag>}
        {s.is_test && <Tag minimal>test</Tag>}
        <Tag minimal>{s.auto_renew ? 'auto-renew' : 'no auto-renew'}</Tag>
      </span>,
    ],
    ['State since', formatDate(s.state_changed_at)],
    ['Created', formatDate(s.created_at)],
    ['Updated', formatDate(s.updated_at)],
    ['Version', s.version],
  );
  const ids: [string, string][] =
    s.marketplace === 'aws'
      ? [
          ['AWS account', s.aws_customer_account_id],
          ['Customer identifier', s.aws_customer_identifier],
          ['License ARN', s.aws_license_arn],
          ['Product code', s.aws_product_code],
          ['AWS offer', s.aws_offer_id],
        ]
      : [
          ['Subscription id', s.azure_subscription_id],
          ['Entra tenant', s.azure_tenant_id],
        ];
  const latest = merged.slice(-5).reverse();
  return (
    <div className="sub-overview">
      <div>
        <H5>Subscription</H5>
        <dl className="mg-grid" aria-label="Details">
          {rows.map(([k, v]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      </div>
      <div>
        <H5>Marketplace identities</H5>
        <dl className="mg-grid" aria-label="Marketplace identities">
          {ids.map(([k, v]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd>{v ? <code>{v}</code> : '—'}</dd>
            </div>
          ))}
        </dl>
        {d.aws_metering_identity && <MeteredAs id={d.aws_metering_identity} />}
        {s.marketplace === 'azure' && (
          <>
            <H5 style={{ marginTop: 12 }}>Microsoft operations</H5>
            <AzureOperationsTable operations={d.operations ?? []} />
          </>
        )}
      </div>
      <div style={{ gridColumn: '1 / -1' }}>
        <H5>
          Latest activity{' '}
          <Link
            to="?tab=timeline"
            onClick={(e) => {
              e.preventDefault();
              onTab('timeline');
            }}
            style={{ fontSize: 12, fontWeight: 'normal' }}
          >
            full timeline ({merged.length})
          </Link>
        </H5>
        <Timeline entries={latest} />
      </div>
    </div>
  );
}

const modelNames: Record<string, string> = {
  legacy: 'CustomerIdentifier + ProductCode (legacy)',
  concurrent_agreements: 'CustomerAWSAccountId + LicenseArn (concurrent agreements)',
};

/** Which one of the AWS identities the hourly usage records carry. */
function MeteredAs({ id }: { id: AWSMeteringIdentity }) {
  const value =
    id.model === 'legacy'
      ? `${id.customer_identifier || '—'} · ${id.product_code || '—'}`
      : id.model === 'concurrent_agreements'
        ? `${id.customer_aws_account_id || '—'} · ${id.license_arn || '—'}`
        : '';
  return (
    <dl className="mg-grid" aria-label="Metering identity" data-testid="metering-identity" style={{ marginTop: 8 }}>
      <dt>Metered as</dt>
      <dd>
        {id.model ? modelNames[id.model] ?? id.model : 'not known yet'}
        <span className="sub-hint">{id.source === 'offer' ? " (the offer's identity model)" : ' (inferred: the offer names no identity model)'}</span>
        {value && (
          <div>
            <code>{value}</code>
          </div>
        )}
        {id.missing && <div className={Classes.TEXT_MUTED}>Usage cannot be sent yet: {id.missing}.</div>}
      </dd>
    </dl>
  );
}
