import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Button, ButtonGroup, Callout, FormGroup, HTMLSelect, InputGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { STATUSES, useCanWrite, RECORD_FILTERS } from './meteringShared';
import { UsageEntryDialog } from './UsageEntryDialog';
import { HealthCard, RecordsTable } from './RecordsTable';
import { PageTitle } from '../../shared/components/PageTitle';

export function MeteringPage() {
  const [params, setParams] = useSearchParams();
  const [entry, setEntry] = useState(false);
  const canWrite = useCanWrite();
  const health = useQuery({ queryKey: queryKeys.metering.health, queryFn: api.metering.health, refetchInterval: 15_000 });
  const filters = new URLSearchParams();
  for (const k of RECORD_FILTERS) {
    const v = params.get(k);
    if (v) filters.set(k, v);
  }
  const setAll = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('offset' in changes)) next.delete('offset');
    setParams(next);
  };
  const set = (k: string, v: string) => setAll({ [k]: v });
  // The health cards are presets: a status, or the expiring records (pending, deadline within 4 hours).
  const preset = (status: string) => setAll({ status, expiring: '' });
  const expiring = params.get('expiring') ?? '';
  const toISO = (v: string) => (v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
  const fromISO = (v: string | null) => (v ? v.slice(0, 16) : '');
  const h = health.data?.health;
  return (
    <div>
      <PageTitle title="Metering" />
      {health.isError && <ErrorBox error={health.error} />}
      {h && (
        <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', marginBottom: 12 }} aria-label="Metering health">
          <HealthCard label="Pending" value={h.pending} onClick={() => preset('pending')} />
          <HealthCard
            label="Expiring (over 20 h old)"
            value={h.expiring}
            intent={h.expiring > 0 ? 'warning' : 'none'}
            onClick={() => setAll({ expiring: 'true', status: '' })}
          />
          <HealthCard label="Accepted (24 h)" value={h.accepted} intent="success" onClick={() => preset('accepted')} />
          <HealthCard label="Failed (24 h)" value={h.failed} intent={h.failed > 0 ? 'danger' : 'none'} onClick={() => preset('rejected,duplicate,conflict')} />
          <HealthCard label="Expired (7 days)" value={h.expired} intent={h.expired > 0 ? 'danger' : 'none'} onClick={() => preset('expired')} />
          <HealthCard label="Open usage hours" value={h.unsealed_usage_hours} />
        </div>
      )}
      {h && h.expiring > 0 && (
        <Callout intent="warning" style={{ marginBottom: 12, maxWidth: 900 }}>
          {h.expiring} record{h.expiring === 1 ? '' : 's'} will pass the marketplaces&apos; 24-hour window soon. Check the reasons below and retry.
        </Callout>
      )}
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'flex-end', marginBottom: 8 }}>
        <FormGroup label="Marketplace" labelFor="f-mp" style={{ margin: 0 }}>
          <HTMLSelect id="f-mp" value={params.get('marketplace') ?? ''} onChange={(e) => set('marketplace', e.target.value)}>
            <option value="">All</option>
            <option value="aws">AWS</option>
            <option value="azure">Microsoft</option>
          </HTMLSelect>
        </FormGroup>
        <FormGroup label="Status" labelFor="f-status" style={{ margin: 0 }}>
          <HTMLSelect id="f-status" value={params.get('status') ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">All</option>
            <option value="rejected,duplicate,conflict">Failed</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </HTMLSelect>
        </FormGroup>
        <FormGroup label="Subscription" labelFor="f-sub" style={{ margin: 0 }}>
          <InputGroup id="f-sub" value={params.get('subscription') ?? ''} onValueChange={(v) => set('subscription', v.replace(/\D/g, ''))} style={{ width: 110 }} />
        </FormGroup>
        <FormGroup label="Dimension" labelFor="f-dim" style={{ margin: 0 }}>
          <InputGroup id="f-dim" value={params.get('dimension') ?? ''} onValueChange={(v) => set('dimension', v)} style={{ width: 140 }} />
        </FormGroup>
        <FormGroup label="From (hour)" labelFor="f-from" style={{ margin: 0 }}>
          <input id="f-from" className="bp6-input" type="datetime-local" value={fromISO(params.get('from'))} onChange={(e) => set('from', toISO(e.target.value))} />
        </FormGroup>
        <FormGroup label="To" labelFor="f-to" style={{ margin: 0 }}>
          <input id="f-to" className="bp6-input" type="datetime-local" value={fromISO(params.get('to'))} onChange={(e) => set('to', toISO(e.target.value))} />
        </FormGroup>
        {expiring && (
          <Tag
            large
            minimal
            intent="warning"
            icon="filter"
            onRemove={() => set('expiring', '')}
            data-testid="expiring-filter"
            title="expiring=true: pending records at most 4 hours before their deadline (24 hours after their hour; AWS: 06:00 UTC on the 1st for a past month)"
            style={{ alignSelf: 'flex-end' }}
          >
            {expiring === 'true' ? 'expiring: pending, deadline within 4 h' : `expiring=${expiring}`}
          </Tag>
        )}
        <ButtonGroup>
          <a className="bp6-button" data-testid="metering-export" href={api.metering.recordsCsvUrl(filters)} download>
            Export CSV
          </a>
          {canWrite && <Button icon="add" text="Enter usage" onClick={() => setEntry(true)} />}
        </ButtonGroup>
      </div>
      <RecordsTable filters={filters} offset={Number(params.get('offset') ?? 0)} onOffset={(o) => set('offset', o ? String(o) : '')} />
      {entry && <UsageEntryDialog onClose={() => setEntry(false)} />}
    </div>
  );
}
