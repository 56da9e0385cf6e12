import { useEffect, useMemo, useRef, useState } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { getCoreRowModel, useReactTable, type VisibilityState } from '@tanstack/react-table';
import { Callout, Tag } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { clickSort, COLUMNS, defaultColumns, DEFAULT_SORT, FILTER_PARAMS, formatSort, loadViews, parseColumns, parseSort, viewQuery, type SavedView } from './SubTable';
import './SubDash.css';
import { PageTitle } from '../../shared/components/PageTitle';
import { focusRow } from '../../shared/components/common';
import { sortLabel, subColumns } from './SubColumns';
import { SubToolbar, type Filters } from './SubToolbar';
import { SubGrid } from './SubGrid';
import { useListKeys } from './useListKeys';
import { OVERSCAN, useRowWindow } from './useRowWindow';

/** Rows per request; later pages follow the API's keyset cursor. */
export const PAGE_SIZE = 100;

// Where the list was when the user left it (selection, scroll), per history
// entry, so the back button returns to the same row.
const memory = new Map<string, { selected: number; top: number }>();

export function SubscriptionsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const searchRef = useRef<HTMLInputElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  // Every filter of the URL goes to the API, the CSV export and saved views.
  const filters = Object.fromEntries(FILTER_PARAMS.map((k) => [k, params.get(k) ?? ''])) as Filters;
  const { q } = filters;
  const sort = params.get('sort') || DEFAULT_SORT;
  const sortKeys = useMemo(() => parseSort(sort), [sort]);
  const columnDefaults = useMemo(() => defaultColumns(params), [params]);
  const visible = useMemo(() => parseColumns(params.get('cols'), columnDefaults), [params, columnDefaults]);
  const viewName = params.get('view');
  const [text, setText] = useState(q);
  const [views, setViews] = useState<SavedView[]>(() => loadViews());
  const [missingView, setMissingView] = useState('');

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '') next.delete(k);
      else next.set(k, v);
    }
    // Paging follows the keyset cursor, never the URL.
    next.delete('offset');
    next.delete('limit');
    setParams(next);
  };

  // ?view=Name opens a saved view of this browser.
  useEffect(() => {
    if (!viewName) return;
    const v = loadViews().find((x) => x.name === viewName);
    setMissingView(v ? '' : viewName);
    setParams(
      (prev) => {
        if (v) return new URLSearchParams(v.params);
        const next = new URLSearchParams(prev);
        next.delete('view');
        return next;
      },
      { replace: true },
    );
  }, [viewName, setParams]);

  // The search box follows the URL (back button, views, clear filters)…
  const [urlQ, setUrlQ] = useState(q);
  if (urlQ !== q) {
    setUrlQ(q);
    setText(q);
  }
  // …and writes to it, debounced.
  useEffect(() => {
    if (text === q) return;
    const t = setTimeout(() => update({ q: text }), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);

  const listKey = JSON.stringify([filters, sort]);
  const offers = useQuery({ queryKey: queryKeys.offers, queryFn: api.offers.list, staleTime: 60_000 });
  const list = useInfiniteQuery({
    queryKey: queryKeys.subscriptions.list(filters, sort),
    queryFn: ({ pageParam }) => api.subscriptions.list({ ...filters, sort, limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor || undefined,
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const total = list.data?.pages[0]?.total ?? 0;
  // More match than total (the server counts up to 10,000; 1,000 for a broad text search).
  const capped = list.data?.pages[0]?.total_capped ?? false;
  const columnVisibility = useMemo<VisibilityState>(() => Object.fromEntries(COLUMNS.map((c) => [c.id, visible.includes(c.id)])), [visible]);
  const table = useReactTable({
    data: rows,
    columns: subColumns,
    state: { columnVisibility },
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
  });

  // The selected row; a new filter or sort starts at the first row.
  const saved = memory.get(location.key);
  const [sel, setSel] = useState({ key: listKey, i: saved?.selected ?? 0 });
  if (sel.key !== listKey) setSel({ key: listKey, i: 0 });
  const selected = sel.key === listKey ? Math.min(sel.i, rows.length - 1) : 0;
  const select = (i: number) => setSel({ key: listKey, i });

  // Windowing: only the rows in view (and a margin) are in the DOM.
  const { rowH, firstRow, top, viewRows, start, end, onScroll } = useRowWindow(scrollRef, rows.length, listKey, saved?.top ?? 0);

  // Near the end of what is loaded (in view, or selected), load the next page.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const near = Math.max(end, selected + 1) >= rows.length - OVERSCAN;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && near) void fetchNextPage();
  }, [near, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Remember the position for the back button.
  const position = useRef({ selected, top });
  position.current = { selected, top };
  useEffect(() => {
    const key = location.key;
    return () => {
      memory.set(key, position.current);
    };
  }, [location.key]);

  const open = (id: number) => navigate('/subscriptions/' + id);

  // A row chosen with the keyboard takes the focus (once it is drawn), so a
  // screen reader announces it.
  const focusNext = useRef(false);
  useEffect(() => {
    if (!focusNext.current) return;
    const tr = scrollRef.current?.querySelector<HTMLElement>(`tr[aria-rowindex="${selected + 2}"]`);
    if (!tr) return;
    focusNext.current = false;
    focusRow(tr);
  }, [selected, start, end]);

  // Keyboard: "/" searches, arrows (and page keys) move, Enter opens, Esc clears.
  const ids = useMemo(() => rows.map((r) => r.id), [rows]);
  useListKeys({
    state: { ids, selected, viewRows, rowH },
    searchRef,
    scrollRef,
    select: (i, focus) => {
      select(i);
      if (focus) focusNext.current = true;
    },
    clearSearch: () => setText(''),
    navigate,
  });

  const currentView = views.find((v) => v.params === viewQuery(params));
  const csv = api.subscriptions.csvUrl({ ...filters, sort });

  const headerClick = (field: string, e: React.MouseEvent) => {
    const next = formatSort(clickSort(sortKeys, field, e.shiftKey));
    update({ sort: next === DEFAULT_SORT ? '' : next });
  };

  return (
    <div className="sub-page">
      <div className="sub-head">
        <PageTitle title="Subscriptions" style={{ margin: 0 }} />
        {currentView && (
          <Tag minimal icon="bookmark" data-testid="current-view">
            {currentView.name}
          </Tag>
        )}
        <span className="sub-grow" />
        <span className="sub-summary" data-testid="pager-summary">
          showing {rows.length === 0 ? 0 : 1}–{rows.length} of {capped ? `more than ${total}` : total}
        </span>
        {sortKeys.length > 0 && (
          <span className="sub-summary" data-testid="sort-summary">
            · sorted by {sortKeys.map((k) => `${sortLabel[k.field] ?? k.field} ${k.desc ? '↓' : '↑'}`).join(', ')}
          </span>
        )}
      </div>
      <SubToolbar
        params={params}
        setParams={setParams}
        filters={filters}
        update={update}
        text={text}
        setText={setText}
        searchRef={searchRef}
        offers={offers.data?.items ?? []}
        visible={visible}
        columnDefaults={columnDefaults}
        views={views}
        setViews={setViews}
        currentView={currentView}
        csv={csv}
        fetching={list.isFetching}
      />
      {missingView && (
        <Callout intent="warning" style={{ marginBottom: 8 }}>
          This browser has no saved view named “{missingView}”.
        </Callout>
      )}
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.data && rows.length === 0 && <Empty title="No subscriptions match these filters" />}
      {rows.length > 0 && (
        <div
          className="sub-scroll"
          ref={scrollRef}
          tabIndex={0}
          aria-label="Subscriptions list (arrow keys move, Enter opens)"
          onScroll={(e) => onScroll(e.currentTarget)}
        >
          <SubGrid
            table={table}
            total={capped ? -1 : total}
            sortKeys={sortKeys}
            onSort={headerClick}
            start={start}
            end={end}
            rowH={rowH}
            firstRow={firstRow}
            selected={selected}
            onRowClick={(i, id, e) => {
              select(i);
              if ((e.target as HTMLElement).closest('a') || e.shiftKey || e.ctrlKey || e.metaKey) return;
              open(id);
            }}
            more={hasNextPage ? { loading: isFetchingNextPage, load: () => void fetchNextPage() } : undefined}
          />
        </div>
      )}
      {list.isFetchNextPageError && <ErrorBox error={list.error} title="Could not load more subscriptions" />}
    </div>
  );
}
