import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Button, Callout, Classes, H4, H5, HTMLTable, Tab, Tabs, Tag } from '@blueprintjs/core';
import { api, type Agreement, type AzureOperation, type Entitlement, type Subscription, type TimelineEntry } from '../api';
import { AzurePanel } from './AzurePanel';
import { SubscriptionMetering } from './Metering';
import { SeatsTab, seatsQuery } from './Seats';
import { ErrorBox, Loading } from '../components';
import { formatDate, marketplaceName, stateIntent } from '../format';

const TABS = ['details', 'metering', 'seats'];

export function SubscriptionPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const tab = TABS.includes(params.get('tab') ?? '') ? params.get('tab')! : 'details';
  const setTab = (t: string) => {
    // Search and paging belong to one tab: a new tab starts afresh.
    const next = new URLSearchParams();
    if (t !== 'details') next.set('tab', t);
    setParams(next);
  };
  // Whether the plan is per-user decides if there is a Seats tab. The first
  // page of seats is what the Seats tab shows first, so it is fetched once.
  const seats = useQuery({ ...seatsQuery(id, '', 0), enabled: id !== '' });
  const q = useQuery({
    queryKey: ['subscription', id],
    queryFn: () =>
      api<{
        subscription: Subscription;
        timeline: TimelineEntry[];
        entitlements: Entitlement[];
        agreements: Agreement[];
        operations: AzureOperation[];
      }>('/api/subscriptions/' + id),
    // While a Microsoft operation runs, follow its progress.
    refetchInterval: (query) => ((query.state.data?.operations ?? []).some((o) => o.finished_at === null) ? 3000 : false),
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  const s = q.data.subscription;
  const rows: [string, React.ReactNode][] = [
    ['Customer', s.customer ? <Link to={'/subscriptions?customer=' + s.customer.id}>{s.customer.name}</Link> : '—'],
    ['Marketplace', marketplaceName[s.marketplace]],
    ['Offer', s.offer ? `${s.offer.name} (${s.offer.marketplace_id})` : '—'],
    ['Plan', s.plan ? `${s.plan.name} (${s.plan.plan_id})` : '—'],
    ['Quantity', s.quantity],
  ];
  if (s.marketplace === 'aws') {
    if (s.aws_license_arn) rows.push(['AWS account', s.aws_customer_account_id], ['License ARN', s.aws_license_arn]);
    if (s.aws_customer_identifier) rows.push(['Customer identifier', s.aws_customer_identifier], ['Product code', s.aws_product_code]);
    rows.push(['AWS offer', s.aws_offer_id || '—']);
  } else {
    rows.push(['Subscription id', s.azure_subscription_id], ['Entra tenant', s.azure_tenant_id || '—']);
  }
  rows.push(
    ['Term', `${formatDate(s.term_start)} → ${formatDate(s.term_end)}`],
    ['Free trial', s.free_trial ? 'yes' : 'no'],
    ['Test', s.is_test ? 'yes' : 'no'],
    ['Auto-renew', s.auto_renew ? 'yes' : 'no'],
    ['State since', formatDate(s.state_changed_at)],
    ['Created', formatDate(s.created_at)],
    ['Updated', formatDate(s.updated_at)],
    ['Version', s.version],
  );
  const details = (
    <div>
      {s.marketplace === 'aws' && (
        <Callout icon="info-sign" style={{ maxWidth: 900, marginBottom: 12 }}>
          AWS gives sellers no API to change or cancel a buyer&apos;s subscription: buyers change it in AWS Marketplace, and
          sellers use private offers in the AWS Marketplace Management Portal.
        </Callout>
      )}
      <dl className="mg-grid" aria-label="Details">
        {rows.map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {(q.data.entitlements ?? []).length > 0 && (
        <>
          <H5 style={{ marginTop: 16 }}>Entitlements (AWS contract)</H5>
          <HTMLTable compact className="mg-table" aria-label="Entitlements" style={{ maxWidth: 900 }}>
            <thead>
              <tr>
                <th>Dimension</th>
                <th>Value</th>
                <th>Expires</th>
                <th>Read from AWS</th>
              </tr>
            </thead>
            <tbody>
              {q.data.entitlements.map((e) => (
                <tr key={e.dimension}>
                  <td>
                    <code>{e.dimension}</code>
                  </td>
                  <td>{e.value}</td>
                  <td>
                    {formatDate(e.expires_at)}
                    {e.expires_at && new Date(e.expires_at) <= new Date() && (
                      <Tag minimal intent="danger" style={{ marginLeft: 6 }}>
                        expired
                      </Tag>
                    )}
                  </td>
                  <td>{formatDate(e.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </HTMLTable>
        </>
      )}
      {(q.data.agreements ?? []).length > 0 && (
        <>
          <H5 style={{ marginTop: 16 }}>Agreements (AWS)</H5>
          <HTMLTable compact className="mg-table" aria-label="Agreements" style={{ maxWidth: 900 }}>
            <thead>
              <tr>
                <th>Agreement</th>
                <th>Offer</th>
                <th>Intent</th>
                <th>Status</th>
                <th>Term</th>
                <th>Auto-renewal</th>
              </tr>
            </thead>
            <tbody>
              {q.data.agreements.map((a) => (
                <tr key={a.agreement_id}>
                  <td>
                    <code>{a.agreement_id}</code>
                    {a.previous_agreement_id && <div className={Classes.TEXT_MUTED}>follows {a.previous_agreement_id}</div>}
                  </td>
                  <td>{a.offer_id || '—'}</td>
                  <td>{a.intent || '—'}</td>
                  <td>
                    <Tag minimal intent={a.ended_at ? 'none' : 'success'}>
                      {a.status || (a.ended_at ? 'ended' : 'unknown')}
                    </Tag>
                    {a.ended_at && <span className={Classes.TEXT_MUTED}> since {formatDate(a.ended_at)}</span>}
                    {!a.ended_at && a.days_before_end != null && (
                      <Tag minimal intent="warning" style={{ marginLeft: 6 }}>
                        ends in {a.days_before_end} days
                      </Tag>
                    )}
                  </td>
                  <td>
                    {formatDate(a.starts_at)} → {formatDate(a.ends_at)}
                  </td>
                  <td>{a.auto_renewal == null ? '—' : a.auto_renewal ? 'on' : 'off'}</td>
                </tr>
              ))}
            </tbody>
          </HTMLTable>
        </>
      )}
      {s.marketplace === 'azure' && <AzurePanel s={s} operations={q.data.operations ?? []} />}
      <H5 style={{ marginTop: 16 }}>Timeline</H5>
      {q.data.timeline.length === 0 ? (
        <p>No events yet.</p>
      ) : (
        <ol className="mg-timeline" aria-label="Timeline">
          {q.data.timeline.map((e) => (
            <TimelineItem key={e.id} e={e} />
          ))}
        </ol>
      )}
    </div>
  );
  return (
    <div>
      <H4>
        {s.name || 'Subscription ' + s.id}{' '}
        <Tag intent={stateIntent(s.state)} data-testid="subscription-state">
          {s.state}
        </Tag>
      </H4>
      <Tabs id="subscription-tabs" renderActiveTabPanelOnly selectedTabId={tab} onChange={(t) => setTab(String(t))}>
        <Tab id="details" title="Details" panel={details} />
        <Tab id="metering" title="Metering" panel={<SubscriptionMetering id={s.id} />} />
        {(seats.data?.summary.seat_based || seats.isError || tab === 'seats') && (
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
      </Tabs>
    </div>
  );
}

function TimelineItem({ e }: { e: TimelineEntry }) {
  const [open, setOpen] = useState(false);
  return (
    <li data-testid="timeline-entry">
      <div>
        <strong>{formatDate(e.at)}</strong> · <code>{e.kind}</code> · {e.summary}
        {e.from_state !== e.to_state && (
          <>
            {' '}
            · {e.from_state || 'new'} → <Tag minimal intent={stateIntent(e.to_state)}>{e.to_state}</Tag>
          </>
        )}
      </div>
      <div style={{ opacity: 0.75 }}>
        source {e.source || '—'} · by {e.actor}
        {e.inbox_id !== null && (
          <>
            {' '}
            · <Link to={'/notifications?message=' + e.inbox_id}>inbound message #{e.inbox_id}</Link>
          </>
        )}
        {e.payload !== null && e.payload !== undefined && (
          <Button minimal small icon={open ? 'chevron-up' : 'chevron-down'} text={open ? 'Hide payload' : 'Payload'} onClick={() => setOpen(!open)} />
        )}
      </div>
      {open && <pre className="bp6-code-block">{JSON.stringify(e.payload, null, 2)}</pre>}
    </li>
  );
}
