import { useState } from 'react';
import { Button, ButtonGroup, Classes, Tag } from '@blueprintjs/core';
import { type AuditEntry } from '../../shared/api';
import { DataTable } from '../../shared/components/DataTable';
import { JsonTree } from '../../shared/components/common';

export const changedOf = (e: AuditEntry) => diffAudit(e.before, e.after).filter((r) => r.kind !== 'same');

export type DiffKind = 'changed' | 'added' | 'removed' | 'same';
export interface DiffRow {
  path: string;
  before?: string;
  after?: string;
  kind: DiffKind;
}

function parse(s: string): { ok: boolean; value: unknown } {
  if (!s) return { ok: false, value: undefined };
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: true, value: s };
  }
}

/** Flattens JSON into "a.b[0].c" → JSON text of the value; empty objects and arrays stay whole. */
export function flatten(v: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (v !== null && typeof v === 'object') {
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [`${prefix}[${i}]`, x]) : Object.entries(v).map(([k, x]) => [prefix ? `${prefix}.${k}` : k, x]);
    if (entries.length === 0) out.set(prefix || '(value)', JSON.stringify(v));
    for (const [p, x] of entries) flatten(x, p, out);
    return out;
  }
  out.set(prefix || '(value)', JSON.stringify(v));
  return out;
}

/** Field by field, what an audit entry changed. */
export function diffAudit(before: string, after: string): DiffRow[] {
  const b = parse(before);
  const a = parse(after);
  const fb = b.ok ? flatten(b.value) : new Map<string, string>();
  const fa = a.ok ? flatten(a.value) : new Map<string, string>();
  const paths = [...fa.keys(), ...[...fb.keys()].filter((k) => !fa.has(k))];
  return paths.map((path) => {
    const x = fb.get(path);
    const y = fa.get(path);
    const kind: DiffKind = x === undefined ? 'added' : y === undefined ? 'removed' : x === y ? 'same' : 'changed';
    return { path, before: x, after: y, kind };
  });
}

export function AuditDiff({ before, after }: { before: string; after: string }) {
  const [showSame, setShowSame] = useState(false);
  const [view, setView] = useState<'fields' | 'json'>('fields');
  if (!before && !after) return <p className={Classes.TEXT_MUTED}>No values are recorded for this action.</p>;
  const rows = diffAudit(before, after);
  const same = rows.filter((r) => r.kind === 'same').length;
  const shown = rows.filter((r) => showSame || r.kind !== 'same');
  const summary = !before ? 'created' : !after ? 'removed' : `${rows.length - same} ${rows.length - same === 1 ? 'field' : 'fields'} changed`;
  return (
    <div data-testid="audit-diff">
      <div className="mg-toolbar">
        <ButtonGroup>
          <Button small text="Changes" active={view === 'fields'} onClick={() => setView('fields')} />
          <Button small text="Before / after JSON" active={view === 'json'} onClick={() => setView('json')} />
        </ButtonGroup>
        <Tag minimal data-testid="diff-summary">
          {summary}
        </Tag>
        {view === 'fields' && same > 0 && (
          <Button small minimal text={showSame ? 'Hide unchanged' : `Show ${same} unchanged`} onClick={() => setShowSame(!showSame)} />
        )}
      </div>
      {view === 'fields' ? (
        shown.length === 0 ? (
          <p className={Classes.TEXT_MUTED}>Nothing changed.</p>
        ) : (
          <DataTable
            label="Changes"
            className="mg-diff"
            striped={false}
            bordered
            rows={shown}
            rowKey={(r) => r.path}
            rowProps={(r) => {
              const attrs = { className: 'mg-diff-' + r.kind, 'data-testid': 'diff-row', 'data-kind': r.kind };
              return attrs;
            }}
            columns={[
              { id: 'field', header: 'Field', cell: (r) => r.path },
              { id: 'before', header: 'Before', cell: (r) => r.before ?? '', cellProps: (r) => ({ className: r.kind === 'changed' || r.kind === 'removed' ? 'mg-diff-old' : undefined }) },
              { id: 'after', header: 'After', cell: (r) => r.after ?? '' },
            ]}
          />
        )
      ) : (
        <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0,1fr) minmax(0,1fr)', gap: 12 }}>
          <div>
            <div className="mg-section">Before</div>
            {before ? <JsonTree value={parse(before).value} label="Before" /> : <p className={Classes.TEXT_MUTED}>nothing (created)</p>}
          </div>
          <div>
            <div className="mg-section">After</div>
            {after ? <JsonTree value={parse(after).value} label="After" /> : <p className={Classes.TEXT_MUTED}>nothing (removed)</p>}
          </div>
        </div>
      )}
    </div>
  );
}
