// DataTable: the portal's one list table, over TanStack Table. A list
// declares its columns (header, cell, and optionally how to sort) and gets
// the same markup, empty and loading states, client-side or server-side
// sorting, row selection and keyboard use everywhere:
//   - a sortable header is focusable; Enter or Space sorts by it (shift adds
//     it to a server-side multi-sort), like a click;
//   - with onRowOpen, rows are focusable and Enter opens the focused row;
//   - the keyboard-selected row (activeIndex) takes the focus, so screen
//     readers announce it.
import { Fragment, useEffect, useMemo, useRef, useState, type CSSProperties, type HTMLAttributes, type ReactNode, type Ref, type TdHTMLAttributes } from 'react';
import { Checkbox, HTMLTable } from '@blueprintjs/core';
import { getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type SortingState } from '@tanstack/react-table';
import { Empty, Loading } from './components';
import { focusRow } from './common';
import { DataTableHead } from './DataTableHead';

export interface Column<T> {
  id: string;
  header: ReactNode;
  cell: (row: T, index: number) => ReactNode;
  /** Client-side sorting: the value the column sorts by. */
  sortValue?: (row: T) => string | number;
  /** Server-side sorting: the API's sort field of this column. */
  sortField?: string;
  /** A title on the header (what the column means). */
  title?: string;
  className?: string;
  style?: CSSProperties;
  /** Attributes of one cell (a title, a test id). */
  cellProps?: (row: T) => TdHTMLAttributes<HTMLTableCellElement> & { 'data-testid'?: string };
  headerClassName?: string;
  headerStyle?: CSSProperties;
  /** The header's accessible name when it shows none (an icon column). */
  headerLabel?: string;
}

/** Sorting done by the API: the current keys, and what a header click (or key) asks for. */
export interface ServerSort {
  keys: { field: string; desc: boolean }[];
  onSort: (field: string, add: boolean) => void;
  /** The header's title when it can sort. */
  title?: (header: string) => string;
}

export interface Selection<T> {
  isSelected: (row: T) => boolean;
  onToggle: (row: T) => void;
  /** Selects all shown rows, or none when all are (a header checkbox). */
  onToggleAll?: (select: boolean) => void;
  /** The accessible name of a row's checkbox. */
  label: (row: T) => string;
  /** The accessible name of the header checkbox. */
  allLabel?: string;
  /** The accessible name of the column's header when it has no checkbox (no onToggleAll). */
  headerLabel?: string;
  /** A row that cannot be selected shows no checkbox. */
  selectable?: (row: T) => boolean;
}

type RowAttributes = HTMLAttributes<HTMLTableRowElement> & { 'data-testid'?: string; 'data-status'?: string; ref?: Ref<HTMLTableRowElement> };

export interface DataTableProps<T> {
  /** The rows; undefined while loading. */
  rows: T[] | undefined;
  columns: Column<T>[];
  rowKey: (row: T, index: number) => string | number;
  /** The table's accessible name. */
  label: string;
  loading?: boolean;
  /** Shown instead of the table when there are no rows (a string is an empty state with that title). */
  empty?: ReactNode;
  /** Client-side: the column (and direction) sorted by at first. */
  initialSort?: { id: string; desc?: boolean };
  serverSort?: ServerSort;
  selection?: Selection<T>;
  /** Enter on a focused row (and a click when openOnClick) opens it. */
  onRowOpen?: (row: T, index: number) => void;
  openOnClick?: boolean;
  /** The keyboard-selected row (highlighted, see useRowKeys). */
  activeIndex?: number;
  rowProps?: (row: T, index: number) => RowAttributes;
  /** Rendered after a row (for example its expanded details), spanning the columns. */
  afterRow?: (row: T, index: number) => ReactNode;
  /** Rows after the data (totals, "load more"). */
  footer?: ReactNode;
  className?: string;
  style?: CSSProperties;
  compact?: boolean;
  striped?: boolean;
  bordered?: boolean;
  interactive?: boolean;
  /** The static look of the admin pages' tables (no hover). */
  staticLook?: boolean;
  testId?: string;
  /** false: no header row (a list whose cells say what they are). */
  header?: boolean;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { rows, columns, rowKey, label, loading, empty, initialSort, serverSort, selection, onRowOpen, openOnClick, activeIndex, rowProps, afterRow, footer } = props;
  const [sorting, setSorting] = useState<SortingState>(initialSort ? [{ id: initialSort.id, desc: !!initialSort.desc }] : []);
  const defs = useMemo<ColumnDef<T>[]>(
    () =>
      columns.map((c) => ({
        id: c.id,
        accessorFn: c.sortValue ?? (() => 0),
        enableSorting: !!c.sortValue,
        sortUndefined: 'last',
        header: () => c.header,
        cell: (ctx) => c.cell(ctx.row.original, ctx.row.index),
      })),
    [columns],
  );
  const table = useReactTable({
    data: rows ?? [],
    columns: defs,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    manualSorting: !!serverSort,
    getRowId: (r, i) => String(rowKey(r, i)),
  });

  // The keyboard-selected row takes the focus, so a screen reader announces it.
  const body = useRef<HTMLTableSectionElement>(null);
  useEffect(() => {
    if (activeIndex === undefined || activeIndex < 0) return;
    const tr = body.current?.querySelector<HTMLElement>(`tr[data-row-index="${activeIndex}"]`);
    if (tr) focusRow(tr);
  }, [activeIndex]);

  if (loading || rows === undefined) return loading ? <Loading /> : null;
  if (rows.length === 0 && empty !== undefined) return typeof empty === 'string' ? <Empty title={empty} /> : <>{empty}</>;

  const byId = new Map(columns.map((c) => [c.id, c]));
  const shown = table.getRowModel().rows;
  const allSelected = !!selection && shown.length > 0 && shown.every((r) => !selection.selectable || selection.selectable(r.original) ? selection.isSelected(r.original) : true);
  const classes = ['mg-table', props.staticLook ? 'mg-static' : '', props.className ?? ''].filter(Boolean).join(' ');

  return (
    <HTMLTable
      compact={props.compact ?? true}
      striped={props.striped ?? true}
      bordered={props.bordered}
      interactive={props.interactive ?? !!onRowOpen}
      className={classes}
      style={props.style}
      aria-label={label}
      data-testid={props.testId}
    >
      <DataTableHead table={table} byId={byId} serverSort={serverSort} selection={selection} allSelected={allSelected} hidden={props.header === false} />
      <tbody ref={body}>
        {shown.map((r, i) => {
          const row = r.original;
          const extra = rowProps?.(row, i) ?? {};
          const active = activeIndex === i;
          const open = onRowOpen ? () => onRowOpen(row, i) : undefined;
          return (
            <Fragment key={r.id}>
              <tr
                {...extra}
                data-row-index={i}
                className={[extra.className, active ? 'mg-row-selected' : ''].filter(Boolean).join(' ') || undefined}
                aria-selected={activeIndex !== undefined || selection ? active || (selection?.isSelected(row) ?? false) : extra['aria-selected']}
                tabIndex={open ? 0 : activeIndex !== undefined ? -1 : extra.tabIndex}
                onKeyDown={
                  open
                    ? (e) => {
                        extra.onKeyDown?.(e);
                        if (e.key === 'Enter' && e.target === e.currentTarget) {
                          e.preventDefault();
                          open();
                        }
                      }
                    : extra.onKeyDown
                }
                onClick={
                  open && openOnClick
                    ? (e) => {
                        extra.onClick?.(e);
                        if ((e.target as HTMLElement).closest('a, button, input, label')) return;
                        open();
                      }
                    : extra.onClick
                }
              >
                {selection && (
                  <td>
                    {(!selection.selectable || selection.selectable(row)) && (
                      <Checkbox aria-label={selection.label(row)} checked={selection.isSelected(row)} onChange={() => selection.onToggle(row)} style={{ marginBottom: 0 }} />
                    )}
                  </td>
                )}
                {r.getVisibleCells().map((cell) => {
                  const c = byId.get(cell.column.id)!;
                  return (
                    <td key={cell.id} className={c.className} style={c.style} {...c.cellProps?.(row)}>
                      {c.cell(row, i)}
                    </td>
                  );
                })}
              </tr>
              {afterRow?.(row, i)}
            </Fragment>
          );
        })}
        {footer}
      </tbody>
    </HTMLTable>
  );
}
