// A subscription's usage: per dimension of its plan, a chart of every hour
// or day of the chosen period (the current billing period by default), the
// totals, the hourly records sent to the marketplace with their status, and
// the same report as a CSV file. Used by the customer portal and by the
// seller's subscription page.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { AnchorButton, Button, ButtonGroup, Callout, FormGroup, HTMLSelect, NonIdealState, Tag } from '@blueprintjs/core';
import { api, queryKeys, type UsageDimension, type UsageParams, type UsageSeries } from '../../shared/api';
import { QueryState } from '../../shared/components/QueryState';
import { formatDateTime } from '../../shared/i18n';
import { statusIntent } from '../metering/meteringShared';
import { exact, UsageChart } from './UsageChart';
import { UsageRecords } from './UsageRecords';
import { lastMoment, PERIODS, periodOf, withinCap, type Granularity, type Period, type PeriodKind } from './period';
import './usage.css';

/** A UTC day for the current language: "Jun 1, 2026". */
const utcDay = (s: string) => formatDateTime(s, { dateStyle: 'medium', timeZone: 'UTC' });

function DimensionUsage({ d, granularity, range }: { d: UsageDimension; granularity: Granularity; range: string }) {
  const { t } = useTranslation('usage');
  const unit = d.unit ? ' ' + d.unit : '';
  return (
    <section className="mg-usage-dimension" aria-labelledby={'usage-dim-' + d.key} data-testid="usage-dimension">
      <h3 id={'usage-dim-' + d.key} className="mg-usage-h">
        {d.name} {d.unit && <span className="mg-usage-muted">({d.unit})</span>}{' '}
        {!d.metered && (
          <Tag minimal intent="warning">
            {t('noLongerOnPlan')}
          </Tag>
        )}
      </h3>
      <div className="mg-usage-totals" data-testid="usage-totals">
        <span>{t('total.used', { value: exact(d.total.used) + unit })}</span>
        <span>{t('total.sent', { value: exact(d.total.sent) + unit })}</span>
        <span>{t('total.accepted', { value: exact(d.total.accepted) + unit })}</span>
        {d.total.statuses
          .filter((s) => s.status !== 'accepted')
          .map((s) => (
          <Tag key={s.status} minimal intent={statusIntent(s.status)} title={t('chart.records', { count: s.records })}>
            {t('status.' + s.status, { defaultValue: s.status })}: {exact(s.quantity) + unit}
          </Tag>
        ))}
      </div>
      <UsageChart dimension={d} granularity={granularity} range={range} />
    </section>
  );
}

function Report({ data, granularity, period }: { data: UsageSeries; granularity: Granularity; period: Period }) {
  const { t } = useTranslation('usage');
  const range = t('period.range', { from: utcDay(period.from), to: utcDay(lastMoment(period)) });
  if (!data.metered && data.dimensions.length === 0) {
    return <NonIdealState icon="disable" title={t('notMetered.title')} description={t('notMetered.body')} />;
  }
  const nothing = data.dimensions.every((d) => d.total.used === 0 && d.total.sent === 0);
  return (
    <>
      {nothing ? (
        <NonIdealState
          icon="timeline-bar-chart"
          title={t('nothingUsed.title')}
          description={t('nothingUsed.body', { from: utcDay(period.from), to: utcDay(lastMoment(period)) })}
        />
      ) : (
        data.dimensions.map((d) => <DimensionUsage key={d.key} d={d} granularity={granularity} range={range} />)
      )}
      <p className="mg-usage-muted">
        {t('utcDays')} {data.marketplace === 'azure' && t('azureZeros')}
      </p>
      <UsageRecords key={period.from + period.to} subscriptionId={data.subscription_id} period={period} dimensions={data.dimensions} />
    </>
  );
}

export function SubscriptionUsage({ subscriptionId }: { subscriptionId: number }) {
  const { t } = useTranslation('usage');
  const [now] = useState(() => new Date());
  const [kind, setKind] = useState<PeriodKind>('current');
  const [granularity, setGranularity] = useState<Granularity>('hour');
  const [custom, setCustom] = useState(() => {
    const today = now.toISOString().slice(0, 10);
    return { from: today.slice(0, 8) + '01', to: today };
  });
  const period = periodOf(kind, now, custom);
  const allowed = period !== null && withinCap(period, granularity);
  const params: UsageParams = { granularity, from: period?.from, to: period?.to };
  const q = useQuery({
    queryKey: queryKeys.subscription.usage(subscriptionId, JSON.stringify(params)),
    queryFn: () => api.subscriptions.usage(subscriptionId, params),
    enabled: allowed,
  });
  return (
    <div className="mg-usage">
      <div className="mg-usage-toolbar" role="group" aria-label={t('title')}>
        <FormGroup label={t('period.label')} labelFor="usage-period" inline>
          <HTMLSelect id="usage-period" value={kind} onChange={(e) => setKind(e.currentTarget.value as PeriodKind)}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t('period.' + p)}
              </option>
            ))}
          </HTMLSelect>
        </FormGroup>
        {kind === 'custom' && (
          <>
            <FormGroup label={t('period.from')} labelFor="usage-from" inline>
              <input id="usage-from" className="bp6-input" type="date" value={custom.from} onChange={(e) => setCustom({ ...custom, from: e.currentTarget.value })} />
            </FormGroup>
            <FormGroup label={t('period.to')} labelFor="usage-to" inline>
              <input id="usage-to" className="bp6-input" type="date" value={custom.to} onChange={(e) => setCustom({ ...custom, to: e.currentTarget.value })} />
            </FormGroup>
          </>
        )}
        <span className="mg-usage-label" id="usage-granularity">
          {t('granularity.label')}
        </span>
        <ButtonGroup aria-labelledby="usage-granularity">
          {(['hour', 'day'] as const).map((g) => (
            <Button key={g} text={t('granularity.' + g)} active={granularity === g} aria-pressed={granularity === g} onClick={() => setGranularity(g)} />
          ))}
        </ButtonGroup>
        <AnchorButton
          icon="download"
          text={t('downloadCsv')}
          href={allowed ? api.subscriptions.usageCsvUrl(subscriptionId, params) : undefined}
          disabled={!allowed}
          download
          data-testid="usage-csv"
        />
      </div>
      {period && (
        <p className="mg-usage-muted" data-testid="usage-range">
          {t('period.range', { from: utcDay(period.from), to: utcDay(lastMoment(period)) })}
        </p>
      )}
      {period === null ? (
        <Callout intent="warning">{t('badDates')}</Callout>
      ) : !allowed ? (
        <Callout intent="warning" data-testid="usage-too-long">
          {t('tooLong.' + granularity)}{' '}
          {granularity === 'hour' && <Button small text={t('tooLong.showDaily')} onClick={() => setGranularity('day')} />}
        </Callout>
      ) : (
        <>
          <QueryState query={q} errorTitle={t('loadError')}>
            {(data) => <Report data={data} granularity={granularity} period={period} />}
          </QueryState>
        </>
      )}
    </div>
  );
}
