import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { Button, H4, HTMLSelect, HTMLTable, Icon, InputGroup, Tag } from '@blueprintjs/core';
import { api, query, STATES, type Offer, type Page, type Subscription } from '../api';
import { Empty, ErrorBox, Loading, Pager } from '../components';
import { formatDate, marketplaceName, stateIntent } from '../format';

const col = createColumnHelper<Subscription>();

// Columns; `sort` names the server's sort field where the column sorts.
const columns = [
  col.accessor('id', { header: 'ID', meta: { sort: 'id' } }),
  col.accessor((s) => s.customer?.name ?? '', { id: 'customer', header: 'Customer' }),
  col.accessor('marketplace', { header: 'Marketplace', cell: (c) => marketplaceName[c.getValue()] ?? c.getValue(), meta: { sort: 'marketplace' } }),
  col.accessor((s) => s.offer?.name ?? '', { id: 'offer', header: 'Offer' }),
  col.accessor((s) => s.plan?.name ?? '', { id: 'plan', header: 'Plan' }),
  col.accessor('quantity', { header: 'Qty', meta: { sort: 'quantity' } }),
  col.accessor('state', {
    header: 'State',
    cell: (c) => (
      <Tag minimal intent={stateIntent(c.getValue())} data-testid="state">
        {c.getValue()}
      </Tag>
    ),
    meta: { sort: 'state' },
  }),
  col.display({
    id: 'flags',
    header: 'Flags',
    cell: (c) => (
      <>
        {c.row.original.free_trial && <Tag minimal>trial</Tag>} {c.row.original.is_test && <Tag minimal>test</Tag>}
      </>
    ),
  }),
  col.accessor('created_at', { header: 'Created', cell: (c) => formatDate(c.getValue()), meta: { sort: 'created_at' } }),
  col.accessor('updated_at', { header: 'Updated', cell: (c) => formatDate(c.getValue()), meta: { sort: 'updated_at' } }),
];

export function SubscriptionsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const searchRef = useRef<HTMLInputElement>(null);
  const marketplace = params.get('marketplace') ?? '';
  const state = params.get('state') ?? '';
  const offer = params.get('offer') ?? '';
  const plan = params.get('plan') ?? '';
  const customer = params.get('customer') ?? '';
  const q = params.get('q') ?? '';
  const sort = params.get('sort') ?? '-created_at';
  const limit = Number(params.get('limit') ?? 50) || 50;
  const offset = Number(params.get('offset') ?? 0) || 0;
  const [text, setText] = useState(q);
  const [selected, setSelected] = useState(0);

  const update = (changes: Record<string, string | number>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === undefined) next.delete(k);
      else next.set(k, String(v));
    }
    if (resetPage) next.delete('offset');
    setParams(next);
  };

  // Debounced search box.
  useEffect(() => {
    if (text === q) return;
    const t = setTimeout(() => update({ q: text }), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);

  const offers = useQuery({ queryKey: ['offers'], queryFn: () => api<{ items: Offer[] }>('/api/offers'), staleTime: 60_000 });
  const list = useQuery({
    queryKey: ['subscriptions', marketplace, state, offer, plan, customer, q, sort, limit, offset],
    queryFn: () =>
      api<Page<Subscription>>('/api/subscriptions' + query({ marketplace, state, offer, plan, customer, q, sort, limit, offset })),
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => list.data?.items ?? [], [list.data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true, manualPagination: true });

  // Keyboard: "/" focuses search, arrows move, Enter opens.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
      if (e.key === '/' && !typing) {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (!typing && e.key === 'ArrowDown') {
        e.preventDefault();
        setSelected((s) => Math.min(s + 1, rows.length - 1));
      } else if (!typing && e.key === 'ArrowUp') {
        e.preventDefault();
        setSelected((s) => Math.max(s - 1, 0));
      } else if (!typing && e.key === 'Enter' && rows[selected]) {
        navigate('/subscriptions/' + rows[selected].id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rows, selected, navigate]);

  const planOptions = (offers.data?.items ?? []).filter((o) => !offer || String(o.id) === offer).flatMap((o) => o.plans.map((p) => ({ ...p, offer: o.name })));
  const sortField = sort.replace(/^-/, '');
  const desc = sort.startsWith('-');
  const filtered = marketplace || state || offer || plan || customer || q;

  return (
    <div>
      <H4>Subscriptions</H4>
      <div className="mg-toolbar">
        <InputGroup
          inputRef={searchRef}
          leftIcon="search"
          placeholder="Search customer, e-mail or marketplace id  ( / )"
          value={text}
          onChange={(e) => setText(e.target.value)}
          style={{ width: 320 }}
          aria-label="Search"
        />
        <HTMLSelect value={marketplace} onChange={(e) => update({ marketplace: e.currentTarget.value })} aria-label="Marketplace">
          <option value="">All marketplaces</option>
          <option value="aws">AWS</option>
          <option value="azure">Microsoft</option>
        </HTMLSelect>
        <HTMLSelect value={state} onChange={(e) => update({ state: e.currentTarget.value })} aria-label="State">
          <option value="">All states</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </HTMLSelect>
        <HTMLSelect value={offer} onChange={(e) => update({ offer: e.currentTarget.value, plan: '' })} aria-label="Offer">
          <option value="">All offers</option>
          {(offers.data?.items ?? []).map((o) => (
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
        {filtered && (
          <Button
            minimal
            icon="filter-remove"
            text="Clear filters"
            onClick={() => {
              setText('');
              setParams(new URLSearchParams());
            }}
          />
        )}
        {list.isFetching && <Loading />}
      </div>
      {list.isError && <ErrorBox error={list.error} />}
      {list.isPending && <Loading />}
      {list.data && rows.length === 0 && <Empty title="No subscriptions match these filters" />}
      {rows.length > 0 && (
        <HTMLTable compact striped interactive className="mg-table" aria-label="Subscriptions">
          <thead>
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const field = (h.column.columnDef.meta as { sort?: string } | undefined)?.sort;
                  return (
                    <th
                      key={h.id}
                      className={field ? 'mg-sortable' : undefined}
                      onClick={field ? () => update({ sort: sortField === field && !desc ? '-' + field : field }) : undefined}
                      aria-sort={field === sortField ? (desc ? 'descending' : 'ascending') : undefined}
                    >
                      {flexRender(h.column.columnDef.header, h.getContext())}
                      {field === sortField && <Icon icon={desc ? 'caret-down' : 'caret-up'} size={12} />}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((r, i) => (
              <tr
                key={r.id}
                className={i === selected ? 'mg-selected' : undefined}
                onClick={() => navigate('/subscriptions/' + r.original.id)}
                data-testid="subscription-row"
              >
                {r.getVisibleCells().map((c) => (
                  <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </HTMLTable>
      )}
      {list.data && (
        <Pager
          offset={offset}
          limit={limit}
          total={list.data.total}
          onOffset={(o) => update({ offset: o }, false)}
          onLimit={(l) => update({ limit: l })}
        />
      )}
    </div>
  );
}
