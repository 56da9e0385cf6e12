import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type VisibilityState } from '@tanstack/react-table';
import { AnchorButton, Button, Callout, HTMLSelect, Icon, InputGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys, type Subscription } from '../../shared/api';
import { Empty, ErrorBox, Loading } from '../../shared/components/components';
import { formatDate, marketplaceName, stateIntent, STATES, subscriptionName } from '../../shared/format';
import { clickSort, COLUMNS, defaultColumns, DEFAULT_SORT, deleteView, FILTER_PARAMS, formatColumns, formatSort, loadViews, MAX_SORT, parseColumns, parseSort, saveView, viewQuery, type SavedView } from './SubTable';
import './SubDash.css';
import { FilterTags, ColumnChooser, ViewsMenu } from './SubListControls';
import { PageTitle } from '../../shared/components/PageTitle';
import { focusRow } from '../../shared/components/common';

/** Rows per request; later pages follow the API's keyset cursor. */
export const PAGE_SIZE = 100;
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 15;
/** Rows assumed visible before the scroller is measured (and in jsdom). */
const FALLBACK_VISIBLE = 40;

const col = createColumnHelper<Subscription>();

function identity(s: Subscription): string {
  if (s.marketplace === 'azure') return s.azure_subscription_id;
  return s.aws_customer_account_id || s.aws_customer_identifier || s.aws_license_arn;
}

// The cells of each column; headers, order and sort fields come from COLUMNS.
const cells: Record<string, (s: Subscription) => React.ReactNode> = {
  id: (s) => <Link to={'/subscriptions/' + s.id}>{s.id}</Link>,
  customer: (s) => <span title={s.customer?.name}>{s.customer?.name ?? ''}</span>,
  name: (s) => <span title={subscriptionName(s)}>{subscriptionName(s)}</span>,
  marketplace: (s) => marketplaceName[s.marketplace] ?? s.marketplace,
  identity: (s) => <code>{identity(s) || '—'}</code>,
  offer: (s) => <span title={s.offer?.name}>{s.offer?.name ?? ''}</span>,
  plan: (s) => <span title={s.plan?.name}>{s.plan?.name ?? ''}</span>,
  quantity: (s) => s.quantity,
  state: (s) => (
    <Tag minimal intent={stateIntent(s.state)} data-testid="state">
      {s.state}
    </Tag>
  ),
  flags: (s) => (
    <>
      {s.free_trial && <Tag minimal>trial</Tag>} {s.is_test && <Tag minimal>test</Tag>}
    </>
  ),
  term_end: (s) => formatDate(s.term_end),
  state_changed_at: (s) => formatDate(s.state_changed_at),
  created_at: (s) => formatDate(s.created_at),
  updated_at: (s) => formatDate(s.updated_at),
};

const columns = COLUMNS.map((c) =>
  col.display({ id: c.id, header: c.label, cell: (ctx) => cells[c.id](ctx.row.original), meta: { sort: c.sort } }),
);

const sortLabel: Record<string, string> = Object.fromEntries(COLUMNS.filter((c) => c.sort).map((c) => [c.sort!, c.label]));

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
  const filters = Object.fromEntries(FILTER_PARAMS.map((k) => [k, params.get(k) ?? ''])) as Record<(typeof FILTER_PARAMS)[number], string>;
  const { marketplace, state, offer, plan, q } = filters;
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
  const columnVisibility = useMemo<VisibilityState>(() => Object.fromEntries(COLUMNS.map((c) => [c.id, visible.includes(c.id)])), [visible]);
  const table = useReactTable({
    data: rows,
    columns,
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
  const [rowH, setRowH] = useState(26);
  const [scroll, setScroll] = useState({ top: saved?.top ?? 0, height: 0 });
  const firstRow = useRef<HTMLTableRowElement>(null);
  useLayoutEffect(() => {
    const h = firstRow.current?.getBoundingClientRect().height ?? 0;
    if (h > 0 && Math.abs(h - rowH) > 0.5) setRowH(h);
  }, [rowH, rows.length]);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    if (saved && saved.top > 0) el.scrollTop = saved.top;
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows.length > 0]);
  // A new filter or sort starts at the top.
  const shownKey = useRef(listKey);
  useLayoutEffect(() => {
    if (shownKey.current === listKey) return;
    shownKey.current = listKey;
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    setScroll((sc) => ({ ...sc, top: 0 }));
  }, [listKey]);
  const viewRows = scroll.height > 0 ? Math.ceil(scroll.height / rowH) : FALLBACK_VISIBLE;
  const start = Math.max(0, Math.floor(scroll.top / rowH) - OVERSCAN);
  const end = Math.min(rows.length, Math.floor(scroll.top / rowH) + viewRows + OVERSCAN);

  // Near the end of what is loaded (in view, or selected), load the next page.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const near = Math.max(end, selected + 1) >= rows.length - OVERSCAN;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && near) void fetchNextPage();
  }, [near, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Remember the position for the back button.
  const position = useRef({ selected, top: scroll.top });
  position.current = { selected, top: scroll.top };
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
  const keys = useRef({ rows, selected, viewRows, rowH, listKey });
  keys.current = { rows, selected, viewRows, rowH, listKey };
  useEffect(() => {
    const reveal = (i: number) => {
      const el = scrollRef.current;
      if (!el) return;
      const { rowH: h } = keys.current;
      const head = el.querySelector('thead')?.getBoundingClientRect().height ?? h;
      const top = i * h;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + h + head > el.scrollTop + el.clientHeight) el.scrollTop = top + h + head - el.clientHeight;
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      const inSearch = t === searchRef.current;
      if (t?.closest?.('.bp6-portal, .bp6-overlay')) return;
      const typing = !inSearch && !!t && (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || t.isContentEditable);
      if (typing) return;
      const { rows: rs, selected: cur, viewRows: page, listKey: lk } = keys.current;
      const move = (i: number) => {
        const n = Math.max(0, Math.min(i, rs.length - 1));
        setSel({ key: lk, i: n });
        focusNext.current = true;
        reveal(n);
      };
      if (inSearch) {
        if (e.key === 'Escape') {
          e.preventDefault();
          if (searchRef.current?.value) setText('');
          else searchRef.current?.blur();
        } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
          // Leave the search box for the list.
          e.preventDefault();
          searchRef.current?.blur();
          if (e.key === 'ArrowDown') move(0);
        }
        return;
      }
      // Buttons and links keep their own Enter and Space.
      const onControl = !!t && t !== scrollRef.current && !!t.closest?.('button, a, [role=tab], [role=menuitem]');
      switch (e.key) {
        case '/':
          e.preventDefault();
          searchRef.current?.focus();
          searchRef.current?.select();
          break;
        case 'ArrowDown':
        case 'j':
          e.preventDefault();
          move(cur < 0 ? 0 : cur + 1);
          break;
        case 'ArrowUp':
        case 'k':
          e.preventDefault();
          move(cur - 1);
          break;
        case 'PageDown':
          e.preventDefault();
          move(cur + page - 1);
          break;
        case 'PageUp':
          e.preventDefault();
          move(cur - page + 1);
          break;
        case 'Home':
          e.preventDefault();
          move(0);
          break;
        case 'End':
          e.preventDefault();
          move(rs.length - 1);
          break;
        case 'Enter':
          if (onControl || cur < 0 || !rs[cur]) return;
          e.preventDefault();
          navigate('/subscriptions/' + rs[cur].id);
          break;
        case 'Escape':
          setSel({ key: lk, i: -1 });
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  const offerList = offers.data?.items ?? [];
  const planOptions = offerList.filter((o) => !offer || String(o.id) === offer).flatMap((o) => o.plans.map((p) => ({ ...p, offer: o.name })));
  const filtered = FILTER_PARAMS.some((k) => filters[k]);
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
          showing {rows.length === 0 ? 0 : 1}–{rows.length} of {total}
        </span>
        {sortKeys.length > 0 && (
          <span className="sub-summary" data-testid="sort-summary">
            · sorted by {sortKeys.map((k) => `${sortLabel[k.field] ?? k.field} ${k.desc ? '↓' : '↑'}`).join(', ')}
          </span>
        )}
      </div>
      <div className="mg-toolbar sub-toolbar">
        <InputGroup
          inputRef={searchRef}
          leftIcon="search"
          placeholder="Search customer, e-mail or marketplace id  ( / )"
          value={text}
          onChange={(e) => setText(e.target.value)}
          style={{ width: 300 }}
          aria-label="Search"
        />
        <HTMLSelect value={marketplace} onChange={(e) => update({ marketplace: e.currentTarget.value })} aria-label="Marketplace">
          <option value="">All marketplaces</option>
          <option value="aws">AWS</option>
          <option value="azure">Microsoft</option>
          {marketplace && !['aws', 'azure'].includes(marketplace) && <option value={marketplace}>{marketplace}</option>}
        </HTMLSelect>
        <HTMLSelect value={state} onChange={(e) => update({ state: e.currentTarget.value })} aria-label="State">
          <option value="">All states</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
          {state && !(STATES as readonly string[]).includes(state) && <option value={state}>{state.split(',').join(', ')}</option>}
        </HTMLSelect>
        <HTMLSelect value={offer} onChange={(e) => update({ offer: e.currentTarget.value, plan: '' })} aria-label="Offer">
          <option value="">All offers</option>
          {offerList.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name} ({marketplaceName[o.marketplace]})
            </option>
          ))}
        </HTMLSelect>
        <HTMLSelect value={plan} onChange={(e) => update({ plan: e.currentTarget.value })} aria-label="Plan">
          <option value="">All plans</option>
          {planOptions.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} — {p.offer}
            </option>
          ))}
        </HTMLSelect>
        <FilterTags filters={filters} onRemove={update} />
        {filtered && (
          <Button
            variant="minimal"
            icon="filter-remove"
            text="Clear filters"
            onClick={() => {
              setText('');
              const next = new URLSearchParams();
              for (const k of ['sort', 'cols']) if (params.get(k)) next.set(k, params.get(k)!);
              setParams(next);
            }}
          />
        )}
        <span className="sub-grow" />
        <ColumnChooser visible={visible} onChange={(cols) => update({ cols: formatColumns(cols.length ? cols : columnDefaults, columnDefaults) })} />
        <ViewsMenu
          views={views}
          current={currentView?.name}
          onApply={(v) => setParams(new URLSearchParams(v.params))}
          onSave={(name) => setViews(saveView(name, params))}
          onDelete={(name) => setViews(deleteView(name))}
        />
        <AnchorButton icon="download" text="Export CSV" href={csv} download="subscriptions.csv" data-testid="export-csv" title="The whole filtered list, in this order, as CSV" />
        {list.isFetching && <Loading />}
      </div>
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
          onScroll={(e) => {
            const el = e.currentTarget;
            setScroll({ top: el.scrollTop, height: el.clientHeight });
          }}
        >
          <table className="bp6-html-table bp6-compact bp6-interactive mg-table sub-table" aria-label="Subscriptions" aria-rowcount={total + 1}>
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
                        onClick={field ? (e) => headerClick(field, e) : undefined}
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
              {table
                .getRowModel()
                .rows.slice(start, end)
                .map((r, j) => {
                  const i = start + j;
                  return (
                    <tr
                      key={r.original.id}
                      ref={j === 0 ? firstRow : undefined}
                      className={(i === selected ? 'mg-selected ' : '') + (i % 2 ? 'sub-odd' : '')}
                      aria-selected={i === selected}
                      aria-rowindex={i + 2}
                      onClick={(e) => {
                        select(i);
                        if ((e.target as HTMLElement).closest('a') || e.shiftKey || e.ctrlKey || e.metaKey) return;
                        open(r.original.id);
                      }}
                      data-testid="subscription-row"
                    >
                      {r.getVisibleCells().map((c) => (
                        <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
                      ))}
                    </tr>
                  );
                })}
              {end < rows.length && <tr className="sub-spacer" style={{ height: (rows.length - end) * rowH }} aria-hidden />}
              {hasNextPage && (
                <tr className="sub-more">
                  <td colSpan={visible.length}>
                    <Button variant="minimal" size="small" loading={isFetchingNextPage} text="Load more" onClick={() => void fetchNextPage()} />
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      {list.isFetchNextPageError && <ErrorBox error={list.error} title="Could not load more subscriptions" />}
    </div>
  );
}
