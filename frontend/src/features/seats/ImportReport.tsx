import { Tag } from '@blueprintjs/core';
import { type SeatImportResult } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';

// ImportReport lists what an import adds, keeps, releases and refuses.
export function ImportReport({ r }: { r: SeatImportResult }) {
  const done = r.applied;
  const section = (key: string, title: string, count: number, body: React.ReactNode, intent?: 'danger' | 'warning') => (
    <div data-testid={'import-' + key} style={{ marginBottom: 8 }}>
      <div>
        <Tag minimal intent={intent ?? 'none'}>{count}</Tag> <strong>{title}</strong>
      </div>
      {count > 0 && body}
    </div>
  );
  const table = (head: string[], rows: React.ReactNode[][]) => (
    <DataTable
      label={head.join(', ')}
      striped={false}
      style={{ marginTop: 4 }}
      rows={rows}
      rowKey={(_, i) => i}
      columns={head.map((h, j) => ({ id: h, header: h, cell: (cells: React.ReactNode[]) => cells[j], style: j === head.length - 1 ? { whiteSpace: 'normal' } : undefined }))}
    />
  );
  return (
    <div data-testid="import-report" style={{ maxHeight: 360, overflow: 'auto' }}>
      {section(
        'add',
        done ? 'added' : 'will be added',
        r.add.length,
        table(['Line', 'User', 'Name'], r.add.map((a) => [a.line, a.user, a.name || '—'])),
      )}
      {section('keep', done ? 'kept (already held a seat)' : 'kept (already hold a seat)', r.keep.length, table(['Line', 'User'], r.keep.map((k) => [k.line, k.user])))}
      {(r.mode === 'replace' || r.release.length > 0) &&
        section(
          'release',
          done ? 'released (not in the list)' : 'will be released (not in the list) — they lose access',
          r.release.length,
          table(['User'], r.release.map((x) => [x.user])),
          r.release.length > 0 ? 'warning' : undefined,
        )}
      {section(
        'refused',
        'refused',
        r.refused.length,
        table(['Line', 'Value', 'Reason'], r.refused.map((x) => [x.line, x.value, x.reason])),
        r.refused.length > 0 ? 'danger' : undefined,
      )}
    </div>
  );
}
