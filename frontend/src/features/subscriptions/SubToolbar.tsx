import type { RefObject } from 'react';
import { AnchorButton, Button, HTMLSelect, InputGroup } from '@blueprintjs/core';
import type { Offer } from '../../shared/api';
import { Loading } from '../../shared/components/components';
import { marketplaceName, STATES } from '../../shared/format';
import { deleteView, FILTER_PARAMS, formatColumns, saveView, type SavedView } from './SubTable';
import { ColumnChooser, FilterTags, ViewsMenu } from './SubListControls';

export type Filters = Record<(typeof FILTER_PARAMS)[number], string>;

interface Props {
  params: URLSearchParams;
  setParams: (next: URLSearchParams) => void;
  filters: Filters;
  /** Sets (or with '' removes) URL parameters. */
  update: (changes: Record<string, string>) => void;
  text: string;
  setText: (text: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
  offers: Offer[];
  visible: string[];
  columnDefaults: string[];
  views: SavedView[];
  setViews: (views: SavedView[]) => void;
  currentView?: SavedView;
  csv: string;
  fetching: boolean;
}

/** The subscriptions list's search, filters, columns, saved views and CSV export. */
export function SubToolbar(p: Props) {
  const { marketplace, state, offer, plan } = p.filters;
  const planOptions = p.offers.filter((o) => !offer || String(o.id) === offer).flatMap((o) => o.plans.map((pl) => ({ ...pl, offer: o.name })));
  const filtered = FILTER_PARAMS.some((k) => p.filters[k]);
  return (
    <div className="mg-toolbar sub-toolbar">
      <InputGroup
        inputRef={p.searchRef}
        leftIcon="search"
        placeholder="Search customer, e-mail or marketplace id  ( / )"
        value={p.text}
        onChange={(e) => p.setText(e.target.value)}
        style={{ width: 300 }}
        aria-label="Search"
      />
      <HTMLSelect value={marketplace} onChange={(e) => p.update({ marketplace: e.currentTarget.value })} aria-label="Marketplace">
        <option value="">All marketplaces</option>
        <option value="aws">AWS</option>
        <option value="azure">Microsoft</option>
        {marketplace && !['aws', 'azure'].includes(marketplace) && <option value={marketplace}>{marketplace}</option>}
      </HTMLSelect>
      <HTMLSelect value={state} onChange={(e) => p.update({ state: e.currentTarget.value })} aria-label="State">
        <option value="">All states</option>
        {STATES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
        {state && !(STATES as readonly string[]).includes(state) && <option value={state}>{state.split(',').join(', ')}</option>}
      </HTMLSelect>
      <HTMLSelect value={offer} onChange={(e) => p.update({ offer: e.currentTarget.value, plan: '' })} aria-label="Offer">
        <option value="">All offers</option>
        {p.offers.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name} ({marketplaceName[o.marketplace]})
          </option>
        ))}
      </HTMLSelect>
      <HTMLSelect value={plan} onChange={(e) => p.update({ plan: e.currentTarget.value })} aria-label="Plan">
        <option value="">All plans</option>
        {planOptions.map((pl) => (
          <option key={pl.id} value={pl.id}>
            {pl.name} — {pl.offer}
          </option>
        ))}
      </HTMLSelect>
      <FilterTags filters={p.filters} onRemove={p.update} />
      {filtered && (
        <Button
          variant="minimal"
          icon="filter-remove"
          text="Clear filters"
          onClick={() => {
            p.setText('');
            const next = new URLSearchParams();
            for (const k of ['sort', 'cols']) if (p.params.get(k)) next.set(k, p.params.get(k)!);
            p.setParams(next);
          }}
        />
      )}
      <span className="sub-grow" />
      <ColumnChooser visible={p.visible} onChange={(cols) => p.update({ cols: formatColumns(cols.length ? cols : p.columnDefaults, p.columnDefaults) })} />
      <ViewsMenu
        views={p.views}
        current={p.currentView?.name}
        onApply={(v) => p.setParams(new URLSearchParams(v.params))}
        onSave={(name) => p.setViews(saveView(name, p.params))}
        onDelete={(name) => p.setViews(deleteView(name))}
      />
      <AnchorButton icon="download" text="Export CSV" href={p.csv} download="subscriptions.csv" data-testid="export-csv" title="The whole filtered list, in this order, as CSV" />
      {p.fetching && <Loading />}
    </div>
  );
}
