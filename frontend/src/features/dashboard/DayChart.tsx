import { Link } from 'react-router';
import { type DayCount } from '../../shared/api';
import { createdLink, endedLink } from './dashboardLinks';

export const NEW_COLOR = '#2d72d2';
export const ENDED_COLOR = '#cd4246';

/**
 * Bars per day, new and ended side by side (SVG, no library). Each bar links
 * to that day's subscriptions: created on it, or ended on it (UTC days, as
 * the API counts them); the whole height of its slot is the link.
 */
export function DayChart({ created, ended }: { created: DayCount[]; ended: DayCount[] }) {
  const w = 640;
  const h = 150;
  const left = 28;
  const bottom = 18;
  const days = created.map((c) => c.day);
  for (const e of ended) if (!days.includes(e.day)) days.push(e.day);
  days.sort();
  const get = (xs: DayCount[], day: string) => xs.find((x) => x.day === day)?.count ?? 0;
  const max = Math.max(1, ...created.map((c) => c.count), ...ended.map((c) => c.count));
  const slot = (w - left) / Math.max(days.length, 1);
  const bw = Math.max(1, slot / 2 - 1);
  const y = (n: number) => ((h - bottom - 8) * n) / max;
  const top = 8;
  const bar = (x: number, n: number, color: string, to: string, label: string, testid: string) => (
    <Link to={to} aria-label={label} data-testid={testid} className="dash-bar">
      <title>{label}</title>
      <rect x={x} y={top} width={bw} height={h - bottom - top} fill="transparent" />
      <rect x={x} y={h - bottom - y(n)} width={bw} height={y(n)} fill={color} />
    </Link>
  );
  return (
    <figure className="dash-chart" style={{ margin: '4px 0 0' }} data-testid="day-chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="group" aria-label="New and ended subscriptions per day">
        <line x1={left} y1={h - bottom} x2={w} y2={h - bottom} stroke="currentColor" opacity={0.4} />
        <text x={0} y={12} fontSize={10} fill="currentColor">
          {max}
        </text>
        <text x={0} y={h - bottom} fontSize={10} fill="currentColor">
          0
        </text>
        {days.map((day, i) => {
          const x = left + i * slot;
          const n = get(created, day);
          const e = get(ended, day);
          return (
            <g key={day} data-testid="chart-day">
              {bar(x, n, NEW_COLOR, createdLink(day), `${day}: ${n} new`, 'chart-new-' + day)}
              {bar(x + bw + 1, e, ENDED_COLOR, endedLink(day), `${day}: ${e} ended`, 'chart-ended-' + day)}
              {(i === days.length - 1 || (i % 7 === 0 && i < days.length - 4)) && (
                <text x={x} y={h - 4} fontSize={10} fill="currentColor">
                  {day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
