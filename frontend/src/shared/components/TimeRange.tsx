import { Button, HTMLSelect } from '@blueprintjs/core';
import './admin.css';

const PRESETS: { label: string; ms: number }[] = [
  { label: 'last hour', ms: 3600_000 },
  { label: 'last 24 hours', ms: 86_400_000 },
  { label: 'last 7 days', ms: 7 * 86_400_000 },
  { label: 'last 30 days', ms: 30 * 86_400_000 },
];

/** "2026-11-27T01:00:00Z" → "2026-11-27T01:00" for a datetime-local box (UTC). */
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 16);
}

/** "2026-11-27T01:00" (UTC) → "2026-11-27T01:00:00Z", as the API takes it (RFC 3339). */
export function fromLocalInput(v: string): string {
  return v ? v + ':00Z' : '';
}

/** From and to (UTC) in the URL as RFC 3339, with a few quick ranges. */
export function TimeRange({ from, to, onChange }: { from: string; to: string; onChange: (from: string, to: string) => void }) {
  return (
    <span className="mg-time-range">
      <HTMLSelect
        minimal
        aria-label="Time range"
        value=""
        onChange={(e) => {
          const ms = Number(e.currentTarget.value);
          if (ms > 0) onChange(new Date(Date.now() - ms).toISOString().slice(0, 17) + '00Z', '');
        }}
      >
        <option value="">{from || to ? 'custom range' : 'any time'}</option>
        {PRESETS.map((p) => (
          <option key={p.ms} value={p.ms}>
            {p.label}
          </option>
        ))}
      </HTMLSelect>
      <label>
        from
        <input
          className="bp6-input bp6-small"
          type="datetime-local"
          aria-label="From (UTC)"
          value={toLocalInput(from)}
          onChange={(e) => onChange(fromLocalInput(e.currentTarget.value), to)}
        />
      </label>
      <label>
        to
        <input
          className="bp6-input bp6-small"
          type="datetime-local"
          aria-label="To (UTC)"
          value={toLocalInput(to)}
          onChange={(e) => onChange(from, fromLocalInput(e.currentTarget.value))}
        />
      </label>
      <span className="mg-muted">UTC</span>
      {(from || to) && <Button small minimal icon="cross" aria-label="Any time" title="Any time" onClick={() => onChange('', '')} />}
    </span>
  );
}

/** Copies text to the clipboard and says so. */
