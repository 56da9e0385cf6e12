import { beforeEach, describe, expect, it } from 'vitest';
import {
  clickSort,
  DEFAULT_COLUMNS,
  defaultColumns,
  deleteView,
  describeRange,
  formatColumns,
  formatSort,
  loadViews,
  parseColumns,
  parseSort,
  saveView,
  toggleColumn,
  viewQuery,
} from './SubTable';

const click = (sort: string, field: string, shift = false) => formatSort(clickSort(parseSort(sort), field, shift));

describe('multi-sort', () => {
  it('reads and writes the API sort parameter', () => {
    expect(parseSort('state,-quantity, id')).toEqual([
      { field: 'state', desc: false },
      { field: 'quantity', desc: true },
      { field: 'id', desc: false },
    ]);
    expect(parseSort('')).toEqual([]);
    expect(formatSort(parseSort('-created_at,state'))).toBe('-created_at,state');
  });

  it('a plain click sorts by that column alone and toggles its direction', () => {
    expect(click('-created_at', 'quantity')).toBe('quantity');
    expect(click('quantity', 'quantity')).toBe('-quantity');
    expect(click('-quantity', 'quantity')).toBe('quantity');
    // The primary of a multi-sort: a plain click keeps only it, ascending.
    expect(click('state,-quantity', 'state')).toBe('state');
    expect(click('state,-quantity', 'quantity')).toBe('quantity');
  });

  it('a shift-click adds a column, then makes it descending, then removes it', () => {
    expect(click('state', 'quantity', true)).toBe('state,quantity');
    expect(click('state,quantity', 'quantity', true)).toBe('state,-quantity');
    expect(click('state,-quantity', 'quantity', true)).toBe('state');
    // The primary key toggles the same way, keeping the others in order.
    expect(click('state,-quantity', 'state', true)).toBe('-state,-quantity');
    expect(click('-state,-quantity', 'state', true)).toBe('-quantity');
    // The only key never disappears.
    expect(click('-state', 'state', true)).toBe('state');
  });

  it('keeps at most three keys: a fourth replaces the third', () => {
    expect(click('state,-quantity,marketplace', 'id', true)).toBe('state,-quantity,id');
    expect(parseSort(click('state,-quantity,marketplace', 'id', true))).toHaveLength(3);
  });
});

describe('column chooser state', () => {
  it('defaults when the URL names none or only unknown columns', () => {
    expect(parseColumns(null)).toEqual(DEFAULT_COLUMNS);
    expect(parseColumns('nope,,')).toEqual(DEFAULT_COLUMNS);
  });

  it('keeps the display order whatever the URL order', () => {
    expect(parseColumns('state,id,customer')).toEqual(['id', 'customer', 'state']);
  });

  it('toggles a column in place and never hides the last one', () => {
    const without = toggleColumn(DEFAULT_COLUMNS, 'flags');
    expect(without).not.toContain('flags');
    const withIdentity = toggleColumn(without, 'identity');
    expect(withIdentity.indexOf('identity')).toBe(withIdentity.indexOf('marketplace') + 1);
    expect(toggleColumn(['id'], 'id')).toEqual(['id']);
  });

  it('writes nothing to the URL for the default set', () => {
    expect(formatColumns(DEFAULT_COLUMNS)).toBe('');
    expect(formatColumns(toggleColumn(DEFAULT_COLUMNS, 'flags'))).toBe(DEFAULT_COLUMNS.filter((c) => c !== 'flags').join(','));
  });

  it('a list by state change shows "State changed" by default, and it can still be hidden', () => {
    expect(defaultColumns(new URLSearchParams('state=ended'))).toEqual(DEFAULT_COLUMNS);
    const byChange = ['id', 'customer', 'marketplace', 'offer', 'plan', 'quantity', 'state', 'flags', 'state_changed_at', 'created_at', 'updated_at'];
    for (const q of ['sort=-state_changed_at', 'sort=state,state_changed_at', 'changed_from=2026-11-01T00:00:00Z', 'changed_to=2026-11-01T00:00:00Z']) {
      expect(defaultColumns(new URLSearchParams(q))).toEqual(byChange);
    }
    const defaults = defaultColumns(new URLSearchParams('sort=-state_changed_at'));
    expect(parseColumns(null, defaults)).toEqual(byChange);
    expect(formatColumns(byChange, defaults)).toBe('');
    // Hiding it there is a choice of its own: the URL says so.
    expect(formatColumns(toggleColumn(defaults, 'state_changed_at'), defaults)).toBe(DEFAULT_COLUMNS.join(','));
  });
});

describe('time range filters', () => {
  it('reads a whole UTC day as that day, other ranges as they are', () => {
    expect(describeRange('created', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z')).toBe('created on 2026-11-30 (UTC)');
    expect(describeRange('state changed', '2026-10-29T00:00:00Z', '')).toBe('state changed since 2026-10-29 (UTC)');
    expect(describeRange('created', '', '2026-11-02T06:30:00Z')).toBe('created before 2026-11-02 06:30 (UTC)');
    expect(describeRange('created', '2026-11-01T00:00:00Z', '2026-11-03T00:00:00Z')).toBe('created 2026-11-01 – 2026-11-03 (UTC)');
    expect(describeRange('created', 'nonsense', '')).toBe('created since nonsense (UTC)');
    expect(describeRange('created', '', '')).toBe('');
  });
});

describe('saved views', () => {
  beforeEach(() => localStorage.clear());

  it('keeps the filters, search, sort and columns, canonically', () => {
    const p = new URLSearchParams('sort=-created_at&q=contoso&state=active&offset=50&tab=x&cols=' + DEFAULT_COLUMNS.join(','));
    // The default sort and columns, paging and foreign parameters are left out.
    expect(viewQuery(p)).toBe('state=active&q=contoso');
    expect(viewQuery(new URLSearchParams('q=a&marketplace=aws&sort=state,-quantity&cols=id,state'))).toBe(
      'marketplace=aws&q=a&sort=state%2C-quantity&cols=id%2Cstate',
    );
  });

  it('keeps the per-user and time range filters (the dashboard links)', () => {
    const p = new URLSearchParams(
      'sort=-state_changed_at&changed_to=2026-11-12T00:00:00Z&changed_from=2026-11-11T00:00:00Z&state=ended&seat_based=true&created_to=2026-12-01T00:00:00Z&created_from=2026-11-30T00:00:00Z',
    );
    expect(viewQuery(p)).toBe(
      'state=ended&seat_based=true&created_from=2026-11-30T00%3A00%3A00Z&created_to=2026-12-01T00%3A00%3A00Z&changed_from=2026-11-11T00%3A00%3A00Z&changed_to=2026-11-12T00%3A00%3A00Z&sort=-state_changed_at',
    );
  });

  it('saves, replaces by name, lists sorted and deletes', () => {
    saveView('Renewals', new URLSearchParams('state=active&sort=updated_at'));
    saveView('AWS failed', new URLSearchParams('marketplace=aws&state=failed'));
    saveView('Renewals', new URLSearchParams('state=active&sort=-updated_at'));
    expect(loadViews()).toEqual([
      { name: 'AWS failed', params: 'marketplace=aws&state=failed' },
      { name: 'Renewals', params: 'state=active&sort=-updated_at' },
    ]);
    expect(deleteView('AWS failed').map((v) => v.name)).toEqual(['Renewals']);
    expect(loadViews().map((v) => v.name)).toEqual(['Renewals']);
  });

  it('survives garbage in localStorage', () => {
    localStorage.setItem('mg-subscription-views', '{not json');
    expect(loadViews()).toEqual([]);
    localStorage.setItem('mg-subscription-views', JSON.stringify([{ name: 1 }, { name: 'ok', params: '' }]));
    expect(loadViews()).toEqual([{ name: 'ok', params: '' }]);
  });
});
