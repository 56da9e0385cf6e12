import type { RefObject } from 'react';
import { flexRender, type Table } from '@tanstack/react-table';
import { Button, Icon } from '@blueprintjs/core';
import type { Subscription } from '../../shared/api';
import { MAX_SORT, type SortKey } from './SubTable';

interface Props {
  table: Table<Subscription>;
  total: number; // -1: unknown (more than the server counted)
  sortKeys: SortKey[];
  onSort: (field: string, e: React.MouseEvent) => void;
  /** The rows drawn: [start, end) of those loaded; spacers stand for the others. */
  start: number;
  end: number;
  rowH: number;
  firstRow: RefObject<HTMLTableRowElement | null>;
  selected: number;
  onRowClick: (i: number, id: number, e: React.MouseEvent) => void;
  more?: { loading: boolean; load: () => void };
}

/**
 * The subscriptions table: sortable headers (shift-click adds a key), the
 * window of rows in view between two spacers, and "Load more".
 */
export function SubGrid({ table, total, sortKeys, onSort, start, end, rowH, firstRow, selected, onRowClick, more }: Props) {
  const rows = table.getRowModel().rows;
  return (
    <table className="bp6-html-table bp6-compact bp6-interactive mg-table sub-table" aria-label="Subscriptions" aria-rowcount={total < 0 ? -1 : total + 1}>
      <thead>
        {table.getHeaderGroups().map((hg) => (
          <tr key={hg.id}>
            {hg.headers.map((h) => {
              const field = (h.column.columnDef.meta as { sort?: string } | undefined)?.sort;
              const at = field ? sortKeys.findIndex((k) => k.field === field) : -1;
              const key = at >= 0 ? sortKeys[at] : null;
              return (
                <th
                  key={h.id}
                  className={field ? 'mg-sortable' : undefined}
                  onClick={field ? (e) => onSort(field, e) : undefined}
                  aria-sort={key ? (key.desc ? 'descending' : 'ascending') : undefined}
                  title={field ? `Sort by ${h.column.columnDef.header as string}; shift-click to add it to the sort (up to ${MAX_SORT})` : undefined}
                  data-column={h.column.id}
                >
                  {flexRender(h.column.columnDef.header, h.getContext())}
                  {key && <Icon icon={key.desc ? 'caret-down' : 'caret-up'} size={12} />}
                  {key && sortKeys.length > 1 && (
                    <sup className="sub-sort-rank" data-testid="sort-rank">
                      {at + 1}
                    </sup>
                  )}
                </th>
              );
            })}
          </tr>
        ))}
      </thead>
      <tbody>
        {start > 0 && <tr className="sub-spacer" style={{ height: start * rowH }} aria-hidden />}
        {rows.slice(start, end).map((r, j) => {
          const i = start + j;
          return (
            <tr
              key={r.original.id}
              ref={j === 0 ? firstRow : undefined}
              className={(i === selected ? 'mg-selected ' : '') + (i % 2 ? 'sub-odd' : '')}
              aria-selected={i === selected}
              aria-rowindex={i + 2}
              onClick={(e) => onRowClick(i, r.original.id, e)}
              data-testid="subscription-row"
            >
              {r.getVisibleCells().map((c) => (
                <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
              ))}
            </tr>
          );
        })}
        {end < rows.length && <tr className="sub-spacer" style={{ height: (rows.length - end) * rowH }} aria-hidden />}
        {more && (
          <tr className="sub-more">
            <td colSpan={table.getVisibleLeafColumns().length}>
              <Button variant="minimal" size="small" loading={more.loading} text="Load more" onClick={more.load} />
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
