// The state of the subscriptions table that lives in the URL and in
// localStorage: multi-sort, visible columns and saved views. Pure functions,
// so the rules are tested on their own (SubTable.test.ts).

/** One sort key of the API's `sort` parameter ("a,-b,c"). */
export interface SortKey {
  field: string;
  desc: boolean;
}

/** The API sorts by up to three fields. */
export const MAX_SORT = 3;
export const DEFAULT_SORT = '-created_at';

export function parseSort(raw: string): SortKey[] {
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== '-')
    .map((p) => ({ field: p.replace(/^-/, ''), desc: p.startsWith('-') }));
}

export function formatSort(keys: SortKey[]): string {
  return keys.map((k) => (k.desc ? '-' : '') + k.field).join(',');
}

/**
 * What a click on a sortable header does to the sort.
 *
 * A plain click sorts by that column alone: ascending, or descending when it
 * already was the only, ascending sort. A shift-click (multi) adds the column
 * as the next key, ascending; a second shift-click makes it descending; a
 * third removes it (unless it is the only key). At most three keys: adding a
 * fourth replaces the third.
 */
export function clickSort(keys: SortKey[], field: string, multi: boolean): SortKey[] {
  if (!multi) {
    const only = keys.length === 1 && keys[0].field === field;
    return [{ field, desc: only && !keys[0].desc }];
  }
  const i = keys.findIndex((k) => k.field === field);
  if (i < 0) {
    const next = [...keys, { field, desc: false }];
    return next.length > MAX_SORT ? [...keys.slice(0, MAX_SORT - 1), { field, desc: false }] : next;
  }
  if (!keys[i].desc) return keys.map((k, j) => (j === i ? { ...k, desc: true } : k));
  if (keys.length === 1) return [{ field, desc: false }];
  return keys.filter((_, j) => j !== i);
}

/** Columns of the table, in their display order. */
export const COLUMNS: { id: string; label: string; sort?: string }[] = [
  { id: 'id', label: 'ID', sort: 'id' },
  { id: 'customer', label: 'Customer' },
  { id: 'name', label: 'Name' },
  { id: 'marketplace', label: 'Marketplace', sort: 'marketplace' },
  { id: 'identity', label: 'Marketplace id' },
  { id: 'offer', label: 'Offer' },
  { id: 'plan', label: 'Plan' },
  { id: 'quantity', label: 'Qty', sort: 'quantity' },
  { id: 'state', label: 'State', sort: 'state' },
  { id: 'flags', label: 'Flags' },
  { id: 'term_end', label: 'Term ends' },
  { id: 'state_changed_at', label: 'State changed', sort: 'state_changed_at' },
  { id: 'created_at', label: 'Created', sort: 'created_at' },
  { id: 'updated_at', label: 'Updated', sort: 'updated_at' },
];

export const DEFAULT_COLUMNS = ['id', 'customer', 'marketplace', 'offer', 'plan', 'quantity', 'state', 'flags', 'created_at', 'updated_at'];

/**
 * The default columns for these URL parameters: a list filtered or sorted by
 * when the state changed (the dashboard's "ended" links) shows that column
 * too, so the order and the range are visible.
 */
export function defaultColumns(params?: URLSearchParams): string[] {
  const byChange =
    !!params && (!!params.get('changed_from') || !!params.get('changed_to') || parseSort(params.get('sort') ?? '').some((k) => k.field === 'state_changed_at'));
  if (!byChange) return DEFAULT_COLUMNS;
  return COLUMNS.map((c) => c.id).filter((c) => c === 'state_changed_at' || DEFAULT_COLUMNS.includes(c));
}

/** The visible columns named by the URL's `cols` (the default when absent or empty). */
export function parseColumns(raw: string | null, defaults: string[] = DEFAULT_COLUMNS): string[] {
  const known = new Set(COLUMNS.map((c) => c.id));
  const wanted = new Set((raw ?? '').split(',').filter((c) => known.has(c)));
  if (wanted.size === 0) return defaults;
  return COLUMNS.map((c) => c.id).filter((c) => wanted.has(c));
}

/** The URL value for a set of visible columns: '' for the default. */
export function formatColumns(cols: string[], defaults: string[] = DEFAULT_COLUMNS): string {
  const ordered = COLUMNS.map((c) => c.id).filter((c) => cols.includes(c));
  return ordered.join(',') === defaults.join(',') ? '' : ordered.join(',');
}

/** Shows or hides one column; the last visible column stays. */
export function toggleColumn(cols: string[], id: string): string[] {
  if (cols.includes(id)) return cols.length === 1 ? cols : cols.filter((c) => c !== id);
  return COLUMNS.map((c) => c.id).filter((c) => c === id || cols.includes(c));
}

// Time ranges of the list (created_from/created_to, changed_from/changed_to):
// RFC 3339 in the URL, as the API takes them; from inclusive, to exclusive.

/** "2026-11-27T00:00:00Z" → "2026-11-27"; other times to the minute; anything else as it is. */
function shortTime(iso: string): string {
  const d = new Date(iso);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(iso) || Number.isNaN(d.getTime())) return iso;
  const s = d.toISOString();
  return s.endsWith('T00:00:00.000Z') ? s.slice(0, 10) : s.slice(0, 16).replace('T', ' ');
}

/** How a filter tag reads a range: "created on 2026-11-27", "state changed since 2026-10-29", … (UTC). */
export function describeRange(what: string, from: string, to: string): string {
  if (from && to) {
    const a = new Date(from).getTime();
    const b = new Date(to).getTime();
    if (shortTime(from).length === 10 && b - a === 86_400_000) return `${what} on ${shortTime(from)} (UTC)`;
    return `${what} ${shortTime(from)} – ${shortTime(to)} (UTC)`;
  }
  if (from) return `${what} since ${shortTime(from)} (UTC)`;
  if (to) return `${what} before ${shortTime(to)} (UTC)`;
  return '';
}

// Saved views: named sets of the URL parameters below, kept in this browser.

/** The list's filters in the URL, in the order the API takes them (GET /api/subscriptions). */
export const FILTER_PARAMS = [
  'marketplace',
  'state',
  'offer',
  'plan',
  'customer',
  'q',
  'seat_based',
  'created_from',
  'created_to',
  'changed_from',
  'changed_to',
] as const;

/** The URL parameters a view holds: filters, search, sort and columns. */
export const VIEW_PARAMS = [...FILTER_PARAMS, 'sort', 'cols'] as const;

export interface SavedView {
  name: string;
  /** The view's URL parameters, canonical (see viewQuery). */
  params: string;
}

const VIEWS_KEY = 'mg-subscription-views';

/** The view part of a URL's parameters, canonical: fixed order, no empty values, the default sort left out. */
export function viewQuery(params: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const k of VIEW_PARAMS) {
    const v = params.get(k);
    if (!v) continue;
    if (k === 'sort' && v === DEFAULT_SORT) continue;
    if (k === 'cols') {
      const defaults = defaultColumns(params);
      if (formatColumns(parseColumns(v, defaults), defaults) === '') continue;
    }
    out.set(k, v);
  }
  return out.toString();
}

export function loadViews(): SavedView[] {
  try {
    const raw = JSON.parse(localStorage.getItem(VIEWS_KEY) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return [];
    return raw.filter((v): v is SavedView => typeof v?.name === 'string' && typeof v?.params === 'string');
  } catch {
    return [];
  }
}

function storeViews(views: SavedView[]): SavedView[] {
  const sorted = [...views].sort((a, b) => a.name.localeCompare(b.name));
  localStorage.setItem(VIEWS_KEY, JSON.stringify(sorted));
  return sorted;
}

/** Saves (or replaces) a view by name. */
export function saveView(name: string, params: URLSearchParams): SavedView[] {
  const n = name.trim();
  if (!n) return loadViews();
  return storeViews([...loadViews().filter((v) => v.name !== n), { name: n, params: viewQuery(params) }]);
}

export function deleteView(name: string): SavedView[] {
  return storeViews(loadViews().filter((v) => v.name !== name));
}
