// DataTableHead: the header row of a DataTable: the select-all checkbox,
// and headers that sort on click, Enter or Space (client-side by TanStack,
// or server-side through ServerSort, shift adding a key).
import { type KeyboardEvent } from 'react';
import { Checkbox, Icon } from '@blueprintjs/core';
import { type Table } from '@tanstack/react-table';
import { type Column, type Selection, type ServerSort } from './DataTable';

const sortKeyDown = (e: KeyboardEvent, run: (add: boolean) => void) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    run(e.shiftKey);
  }
};

export function DataTableHead<T>(props: {
  table: Table<T>;
  byId: Map<string, Column<T>>;
  serverSort?: ServerSort;
  selection?: Selection<T>;
  allSelected: boolean;
  hidden: boolean;
}) {
  const { table, byId, serverSort, selection, allSelected, hidden } = props;
  return (
    <thead hidden={hidden} style={hidden ? { display: 'none' } : undefined}>
      <tr>
        {selection && (
          <th style={{ width: 30 }} aria-label={selection.onToggleAll ? undefined : selection.headerLabel}>
            {selection.onToggleAll && (
              <Checkbox
                aria-label={selection.allLabel ?? 'Select all'}
                checked={allSelected}
                onChange={() => selection.onToggleAll?.(!allSelected)}
                style={{ marginBottom: 0 }}
              />
            )}
          </th>
        )}
        {table.getFlatHeaders().map((h) => {
          const c = byId.get(h.column.id)!;
          const name = typeof c.header === 'string' ? c.header : c.id;
          if (serverSort && c.sortField) {
            const field = c.sortField;
            const at = serverSort.keys.findIndex((k) => k.field === field);
            const key = at >= 0 ? serverSort.keys[at] : null;
            return (
              <th
                key={h.id}
                className={['mg-sortable', c.headerClassName].filter(Boolean).join(' ')}
                style={c.headerStyle}
                aria-label={c.headerLabel}
                tabIndex={0}
                aria-sort={key ? (key.desc ? 'descending' : 'ascending') : undefined}
                title={serverSort.title?.(name) ?? c.title ?? `Sort by ${name}`}
                onClick={(e) => serverSort.onSort(field, e.shiftKey)}
                onKeyDown={(e) => sortKeyDown(e, (add) => serverSort.onSort(field, add))}
                data-column={c.id}
              >
                {c.header}
                {key && <Icon icon={key.desc ? 'caret-down' : 'caret-up'} size={12} />}
                {key && serverSort.keys.length > 1 && (
                  <sup className="sub-sort-rank" data-testid="sort-rank">
                    {at + 1}
                  </sup>
                )}
              </th>
            );
          }
          if (h.column.getCanSort()) {
            const dir = h.column.getIsSorted();
            return (
              <th
                key={h.id}
                className={['mg-sortable', c.headerClassName].filter(Boolean).join(' ')}
                style={c.headerStyle}
                aria-label={c.headerLabel}
                tabIndex={0}
                aria-sort={dir ? (dir === 'desc' ? 'descending' : 'ascending') : undefined}
                title={c.title ?? `Sort by ${name}`}
                onClick={h.column.getToggleSortingHandler()}
                onKeyDown={(e) => sortKeyDown(e, () => h.column.toggleSorting())}
                data-column={c.id}
              >
                {c.header}
                {dir && <Icon icon={dir === 'desc' ? 'caret-down' : 'caret-up'} size={12} />}
              </th>
            );
          }
          return (
            <th key={h.id} className={c.headerClassName} style={c.headerStyle} aria-label={c.headerLabel} title={c.title} data-column={c.id}>
              {c.header}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}
