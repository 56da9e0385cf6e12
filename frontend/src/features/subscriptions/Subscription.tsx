import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Classes, H4, H5, Tab, Tabs, Tag } from '@blueprintjs/core';
import { api, queryKeys, type AWSMeteringIdentity, type Entitlement, type Agreement, type FreeTrial, type SeatCounts, type SubscriptionDetail } from '../../shared/api';
import { AzureOperationsTable } from './AzurePanel';
import { SubscriptionMetering } from '../metering/Metering';
import { SeatsTab, seatsQuery } from '../seats/Seats';
import { isSeller, SubActions, useRole } from './SubActions';
import { SubRaw } from './SubRaw';
import { mergeTimeline, Timeline, TimelineTab, type TimelineFilter } from './SubTimeline';
import { ErrorBox, Loading } from '../../shared/components/components';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate, marketplaceName, stateIntent, termUnit } from '../../shared/format';
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

export const TABS = ['overview', 'timeline', 'seats', 'metering', 'entitlements', 'raw'] as const;
type TabId = (typeof TABS)[number];

/** How often the page reads the subscription while Microsoft works on it. */
export const POLL_MS = 2000;

export function SubscriptionPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const role = useRole();
  const seller = isSeller(role);
  // Whether the plan is per-user decides if there is a Seats tab. The first
  // page of seats is what the Seats tab shows first, so it is fetched once.
  const seats = useQuery({ ...seatsQuery(id, '', 0), enabled: id !== '' });
  const q = useQuery({
    queryKey: queryKeys.subscription.detail(id),
    queryFn: () => api.subscriptions.get(id),
    // While a Microsoft operation runs, follow its progress.
    refetchInterval: (query) => ((query.state.data?.operations ?? []).some((o) => o.finished_at === null) ? POLL_MS : false),
  });
  const merged = useMemo(
    () => (q.data ? mergeTimeline(q.data.timeline ?? [], q.data.operations ?? [], q.data.audit ?? []) : []),
    [q.data],
  );
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const s = q.data.subscription;
  const aws = s.marketplace === 'aws';
  const hasSeats = !!(seats.data?.summary.seat_based || seats.isError);
  const available: TabId[] = TABS.filter(
    (t) => (t !== 'seats' || hasSeats || params.get('tab') === 'seats') && (t !== 'entitlements' || aws) && (t !== 'raw' || seller),
  );
  const asked = params.get('tab') === 'details' ? 'overview' : params.get('tab');
  const tab: TabId = available.find((t) => t === asked) ?? 'overview';
  const setTab = (t: string) => {
    // Search, paging and filters belong to one tab: a new tab starts afresh.
    const next = new URLSearchParams();
    if (t !== 'overview') next.set('tab', t);
    setParams(next);
  };
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const filter = (['event', 'operation', 'audit'].includes(params.get('show') ?? '') ? params.get('show') : 'all') as TimelineFilter;
  const newestFirst = params.get('order') === 'newest';
  const summary = q.data.seats ?? seats.data?.summary ?? null;

  return (
    <div>
      <div className="sub-title">
        <H4>{s.name || 'Subscription ' + s.id}</H4>
        <Tag intent={stateIntent(s.state)} data-testid="subscription-state">
          {s.state}
        </Tag>
        <Tag minimal>{marketplaceName[s.marketplace] ?? s.marketplace}</Tag>
        <span className={Classes.TEXT_MUTED}>#{s.id}</span>
      </div>
      <SubActions s={s} operations={q.data.operations ?? []} seats={summary} />
      <Tabs id="subscription-tabs" renderActiveTabPanelOnly selectedTabId={tab} onChange={(t) => setTab(String(t))}>
        <Tab id="overview" title="Overview" panel={<Overview d={q.data} merged={merged} seats={summary} seller={seller} onTab={setTab} />} />
        <Tab
          id="timeline"
          title={
            <>
              Timeline <Tag minimal round>{merged.length}</Tag>
            </>
          }
          panel={
            <TimelineTab
              entries={merged}
              filter={filter}
              newestFirst={newestFirst}
              onFilter={(f) => setParam('show', f === 'all' ? '' : f)}
              onOrder={(n) => setParam('order', n ? 'newest' : '')}
            />
          }
        />
        {available.includes('seats') && (
          <Tab
            id="seats"
            title={
              <>
                Seats
                {seats.data?.summary.seat_based && (
                  <Tag minimal round intent={seats.data.summary.over > 0 ? 'danger' : 'none'} style={{ marginLeft: 6 }}>
                    {seats.data.summary.assigned}/{seats.data.summary.bought}
                  </Tag>
                )}
              </>
            }
            panel={<SeatsTab id={id} />}
          />
        )}
        <Tab id="metering" title="Metering" panel={<SubscriptionMetering id={s.id} />} />
        {available.includes('entitlements') && (
          <Tab id="entitlements" title="Entitlements" panel={<Entitlements entitlements={q.data.entitlements ?? []} agreements={q.data.agreements ?? []} />} />
        )}
        {available.includes('raw') && <Tab id="raw" title="Raw" panel={<SubRaw id={s.id} />} />}
      </Tabs>
    </div>
  );
}

function Overview(props: {
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

/** AWS contracts: what the buyer is entitled to, and the agreements behind it. */
export function Entitlements({ entitlements, agreements }: { entitlements: Entitlement[]; agreements: Agreement[] }) {
  return (
    <div>
      <H5>Entitlements</H5>
      {entitlements.length === 0 ? (
        <p className="sub-hint" data-testid="no-entitlements">
          No entitlements: AWS reports entitlements for contract products only.
        </p>
      ) : (
        <DataTable
          label="Entitlements"
          staticLook
          striped={false}
          style={{ maxWidth: 1000 }}
          rows={entitlements}
          rowKey={(e, i) => `${e.dimension}-${i}`}
          columns={[
            { id: 'dimension', header: 'Dimension', cell: (e) => <code>{e.dimension}</code> },
            { id: 'kind', header: 'Kind', cell: (e) => e.kind || '—' },
            { id: 'value', header: 'Value', cell: (e) => e.value },
            {
              id: 'expires',
              header: 'Expires',
              cell: (e) => (
                <>
                  {formatDate(e.expires_at)}
                  {e.expires_at && new Date(e.expires_at) <= new Date() && (
                    <Tag minimal intent="danger" style={{ marginLeft: 6 }}>
                      expired
                    </Tag>
                  )}
                </>
              ),
            },
            { id: 'read', header: 'Read from AWS', cell: (e) => formatDate(e.updated_at) },
          ]}
        />
      )}
      <H5 style={{ marginTop: 16 }}>Agreements</H5>
      {agreements.length === 0 ? (
        <p className="sub-hint" data-testid="no-agreements">
          No agreements recorded (AWS sends them for offers with concurrent agreements).
        </p>
      ) : (
        <DataTable
          label="Agreements"
          staticLook
          striped={false}
          style={{ maxWidth: 1100 }}
          rows={agreements}
          rowKey={(a) => a.agreement_id}
          columns={[
            {
              id: 'agreement',
              header: 'Agreement',
              cell: (a) => (
                <>
                  <code>{a.agreement_id}</code>
                  {a.previous_agreement_id && <div className={Classes.TEXT_MUTED}>follows {a.previous_agreement_id}</div>}
                </>
              ),
            },
            { id: 'offer', header: 'Offer', cell: (a) => a.offer_id || '—' },
            { id: 'intent', header: 'Intent', cell: (a) => a.intent || '—' },
            {
              id: 'status',
              header: 'Status',
              cell: (a) => (
                <>
                  <Tag minimal intent={a.ended_at ? 'none' : 'success'}>
                    {a.status || (a.ended_at ? 'ended' : 'unknown')}
                  </Tag>
                  {a.ended_at && <span className={Classes.TEXT_MUTED}> since {formatDate(a.ended_at)}</span>}
                  {!a.ended_at && a.days_before_end != null && (
                    <Tag minimal intent="warning" style={{ marginLeft: 6 }}>
                      ends in {a.days_before_end} days
                    </Tag>
                  )}
                  {a.free_trial_days != null && (
                    <Tag minimal style={{ marginLeft: 6 }}>
                      {a.free_trial_ends_at ? `free trial until ${formatDate(a.free_trial_ends_at).slice(0, 10)}` : 'free trial'}
                    </Tag>
                  )}
                </>
              ),
            },
            {
              id: 'term',
              header: 'Term',
              cell: (a) => (
                <>
                  {formatDate(a.starts_at)} → {formatDate(a.ends_at)}
                </>
              ),
            },
            { id: 'auto_renewal', header: 'Auto-renewal', cell: (a) => (a.auto_renewal == null ? '—' : a.auto_renewal ? 'on' : 'off') },
          ]}
        />
      )}
    </div>
  );
}
