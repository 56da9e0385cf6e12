// One dimension's usage over a period, drawn with recharts: a bar per hour
// or day for the usage reported (idle buckets at zero, so the time axis has
// no gaps), lines for what was sent to the marketplace and what it
// accepted, and a tooltip with the exact figures and record statuses.
import { useTranslation } from 'react-i18next';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageBucket, UsageDimension } from '../../shared/api';
import { formatDateTime, formatNumber } from '../../shared/i18n';
import type { Granularity } from './period';

const COLORS = { used: '#2d72d2', sent: '#c87619', accepted: '#238551', zero: '#8f99a8' };

/** An exact quantity for the current language (no rounding to 3 digits). */
export const exact = (n: number) => formatNumber(n, { maximumFractionDigits: 6 });

/** A bucket's time on the axis: the hour in the user's time zone, the day in UTC. */
export function tickLabel(at: string, g: Granularity): string {
  return g === 'hour'
    ? formatDateTime(at, { month: 'numeric', day: 'numeric', hour: 'numeric' })
    : formatDateTime(at, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** A bucket's time in full: "Jun 3, 2026, 10:00 AM – 11:00 AM", or the UTC day. */
export function bucketLabel(at: string, g: Granularity): string {
  if (g === 'day') return formatDateTime(at, { dateStyle: 'medium', timeZone: 'UTC' }) + ' (UTC)';
  const end = new Date(Date.parse(at) + 3_600_000).toISOString();
  return formatDateTime(at, { dateStyle: 'medium', timeStyle: 'short' }) + ' – ' + formatDateTime(end, { timeStyle: 'short' });
}

export function UsageTooltip({ bucket, granularity, unit }: { bucket: UsageBucket; granularity: Granularity; unit: string }) {
  const { t } = useTranslation('usage');
  const u = unit ? ' ' + unit : '';
  return (
    <div className="mg-usage-tooltip" data-testid="usage-tooltip">
      <div className="mg-usage-tooltip-time">{bucketLabel(bucket.at, granularity)}</div>
      {(['used', 'sent', 'accepted'] as const).map((k) => (
        <div key={k}>
          <span style={{ color: COLORS[k] }}>■</span> <b>{t('tooltip.line', { label: t('chart.' + k), value: exact(bucket[k]) + u })}</b>
        </div>
      ))}
      {/* Records in another status than accepted (that one is the line above). */}
      {bucket.statuses
        .filter((s) => s.status !== 'accepted')
        .map((s) => (
          <div key={s.status} className="mg-usage-tooltip-status">
            {t('tooltip.status', { status: t('status.' + s.status, { defaultValue: s.status }), quantity: exact(s.quantity) + u, count: s.records })}
          </div>
        ))}
    </div>
  );
}

/** A bucket's bar; zero is a thin mark on the axis (recharts draws nothing for it otherwise). */
function BarShape({ x = 0, y = 0, width = 0, height = 0, fill }: { x?: number; y?: number; width?: number; height?: number; fill?: string }) {
  if (!height) return <rect className="mg-usage-zero" x={x} y={y - 1} width={width} height={2} fill={COLORS.zero} />;
  return <rect x={x} y={y} width={width} height={height} fill={fill} />;
}

export function UsageChart({ dimension, granularity, range }: { dimension: UsageDimension; granularity: Granularity; range: string }) {
  const { t } = useTranslation('usage');
  return (
    <figure className="mg-usage-chart" data-testid="usage-chart" data-dimension={dimension.key} aria-label={t('chart.label', { name: dimension.name, range })}>
      <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 800, height: 240 }}>
        <ComposedChart data={dimension.buckets} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="at" tickFormatter={(v: string) => tickLabel(v, granularity)} minTickGap={24} interval="preserveStartEnd" fontSize={11} />
          <YAxis allowDecimals tickFormatter={(v: number) => formatNumber(v, { notation: 'compact' })} width={56} fontSize={11} />
          <Tooltip
            isAnimationActive={false}
            content={({ active, payload }) => {
              const b = active ? (payload?.[0]?.payload as UsageBucket | undefined) : undefined;
              return b ? <UsageTooltip bucket={b} granularity={granularity} unit={dimension.unit} /> : null;
            }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {/* Each bucket's slot is shaded and an idle one is marked at zero, so no hour or day goes missing. */}
          <Bar dataKey="used" name={t('chart.used')} fill={COLORS.used} background={{ fill: 'rgba(143, 153, 168, 0.12)' }} shape={BarShape} isAnimationActive={false} />
          <Line dataKey="sent" name={t('chart.sent')} stroke={COLORS.sent} dot={false} strokeWidth={2} isAnimationActive={false} />
          <Line dataKey="accepted" name={t('chart.accepted')} stroke={COLORS.accepted} dot={false} strokeDasharray="4 3" strokeWidth={2} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
