import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, ButtonGroup, H5 } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { useCanWrite } from './meteringShared';
import { RecordsTable } from './RecordsTable';
import { UsageEntryDialog } from './UsageEntryDialog';

// SubscriptionMetering is the subscription page's Metering tab.
export function SubscriptionMetering({ id }: { id: number }) {
  const [day, setDay] = useState(false);
  const [offset, setOffset] = useState(0);
  const [entry, setEntry] = useState(false);
  const canWrite = useCanWrite();
  const q = useQuery({
    queryKey: queryKeys.subscription.usage(id, day),
    queryFn: () => api.subscriptions.usage(id, day ? 'day' : 'hour'),
  });
  return (
    <div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginBottom: 8 }}>
        <H5 style={{ margin: 0 }}>Usage</H5>
        <ButtonGroup>
          <Button text="Hourly (48 h)" active={!day} onClick={() => setDay(false)} />
          <Button text="Daily (30 days)" active={day} onClick={() => setDay(true)} />
        </ButtonGroup>
        {canWrite && <Button icon="add" text="Enter usage" onClick={() => setEntry(true)} />}
      </div>
      {q.isPending && <Loading />}
      {q.isError && <ErrorBox error={q.error} />}
      {q.isSuccess && Object.keys(q.data.series).length === 0 && <p>No usage reported in this period.</p>}
      {q.isSuccess &&
        Object.entries(q.data.series).map(([dim, points]) => <UsageChart key={dim} dimension={dim} points={points} day={day} />)}
      <H5 style={{ marginTop: 16 }}>Hourly records</H5>
      <RecordsTable filters={new URLSearchParams({ subscription: String(id) })} offset={offset} onOffset={setOffset} />
      {entry && <UsageEntryDialog onClose={() => setEntry(false)} subscription={id} />}
    </div>
  );
}

// UsageChart draws one dimension's usage as bars (SVG, no library).
export function UsageChart({ dimension, points, day }: { dimension: string; points: { at: string; quantity: number }[]; day: boolean }) {
  const w = 720;
  const h = 140;
  const pad = 28;
  const max = Math.max(1, ...points.map((p) => p.quantity));
  const bw = Math.max(2, Math.floor((w - pad) / Math.max(points.length, 1)) - 2);
  const total = points.reduce((s, p) => s + p.quantity, 0);
  return (
    <figure style={{ margin: '8px 0 16px' }} data-testid="usage-chart">
      <figcaption>
        <code>{dimension}</code> · total {Math.round(total * 1000) / 1000} over {points.length} {day ? 'days' : 'hours'} with usage
      </figcaption>
      <svg width={w} height={h + 18} role="img" aria-label={`usage of ${dimension}`}>
        <line x1={pad} y1={h} x2={w} y2={h} stroke="currentColor" opacity={0.4} />
        <text x={0} y={12} fontSize={10} fill="currentColor">
          {max}
        </text>
        {points.map((p, i) => {
          const bh = (p.quantity / max) * (h - 10);
          const x = pad + i * (bw + 2);
          return (
            <g key={p.at}>
              <rect x={x} y={h - bh} width={bw} height={bh} fill="#2d72d2">
                <title>{`${p.at.slice(0, day ? 10 : 13).replace('T', ' ')}${day ? '' : ':00'} — ${p.quantity}`}</title>
              </rect>
              {(i === 0 || i === points.length - 1) && (
                <text x={x} y={h + 14} fontSize={10} fill="currentColor">
                  {p.at.slice(5, day ? 10 : 13).replace('T', ' ')}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
