import { Tag } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { type SeatImportResult } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';

// ImportReport lists what an import adds, keeps, releases and refuses.
export function ImportReport({ r }: { r: SeatImportResult }) {
  const { t } = useTranslation('seats');
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
        done ? t('report.added') : t('report.willAdd'),
        r.add.length,
        table([t('columns.line'), t('columns.user'), t('columns.name')], r.add.map((a) => [a.line, a.user, a.name || '—'])),
      )}
      {section('keep', done ? t('report.kept') : t('report.willKeep'), r.keep.length, table([t('columns.line'), t('columns.user')], r.keep.map((k) => [k.line, k.user])))}
      {(r.mode === 'replace' || r.release.length > 0) &&
        section(
          'release',
          done ? t('report.released') : t('report.willRelease'),
          r.release.length,
          table([t('columns.user')], r.release.map((x) => [x.user])),
          r.release.length > 0 ? 'warning' : undefined,
        )}
      {section(
        'refused',
        t('report.refused'),
        r.refused.length,
        table([t('columns.line'), t('columns.value'), t('columns.reason')], r.refused.map((x) => [x.line, x.value, x.reason])),
        r.refused.length > 0 ? 'danger' : undefined,
      )}
    </div>
  );
}
