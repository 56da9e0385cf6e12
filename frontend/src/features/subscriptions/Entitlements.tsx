import { Classes, H5, Tag } from '@blueprintjs/core';
import { type Entitlement, type Agreement } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';
import { formatDate } from '../../shared/format';
import './SubDash.css';

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
