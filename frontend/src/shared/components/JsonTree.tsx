import { useState } from 'react';
import './admin.css';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A pretty, collapsible view of a JSON value; `depth` levels start open
 * (remount it with a new key and depth to expand or collapse everything).
 */
export function JsonTree({ value, depth = 3, label }: { value: unknown; depth?: number; label?: string }) {
  return (
    <div className="mg-json" role="tree" aria-label={label ?? 'JSON'}>
      <JsonNode value={value as Json} level={0} openDepth={depth} last />
    </div>
  );
}

function JsonNode({ name, value, level, openDepth, last }: { name?: string | number; value: Json; level: number; openDepth: number; last: boolean }) {
  const [open, setOpen] = useState(level < openDepth);
  const comma = last ? '' : ',';
  const key =
    name === undefined ? null : typeof name === 'number' ? null : (
      <>
        <span className="mg-json-key">&quot;{name}&quot;</span>:{' '}
      </>
    );
  if (value === null || typeof value !== 'object') {
    return (
      <div className="mg-json-line" role="treeitem">
        {key}
        <JsonScalar value={value} />
        {comma}
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const entries: [string | number, Json][] = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [openCh, closeCh] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return (
      <div className="mg-json-line" role="treeitem">
        {key}
        {openCh}
        {closeCh}
        {comma}
      </div>
    );
  }
  const what = isArray ? `${entries.length} ${entries.length === 1 ? 'item' : 'items'}` : `${entries.length} ${entries.length === 1 ? 'key' : 'keys'}`;
  return (
    <div role="treeitem" aria-expanded={open}>
      <div className="mg-json-line">
        <button
          type="button"
          className="mg-json-toggle"
          aria-label={`${open ? 'Collapse' : 'Expand'} ${name ?? 'root'}`}
          onClick={() => setOpen(!open)}
        >
          {open ? '▾' : '▸'}
        </button>
        {key}
        {openCh}
        {!open && (
          <>
            <button type="button" className="mg-json-more" onClick={() => setOpen(true)} tabIndex={-1}>
              … {what}
            </button>
            {closeCh}
            {comma}
          </>
        )}
      </div>
      {open && (
        <>
          <div className="mg-json-children" role="group">
            {entries.map(([k, v], i) => (
              <JsonNode key={k} name={k} value={v} level={level + 1} openDepth={openDepth} last={i === entries.length - 1} />
            ))}
          </div>
          <div className="mg-json-line">
            {closeCh}
            {comma}
          </div>
        </>
      )}
    </div>
  );
}

function JsonScalar({ value }: { value: null | boolean | number | string }) {
  if (value === null) return <span className="mg-json-null">null</span>;
  if (typeof value === 'string') return <span className="mg-json-string">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span className="mg-json-number">{value}</span>;
  return <span className="mg-json-bool">{String(value)}</span>;
}
