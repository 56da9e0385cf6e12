import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { Role, AuditEntry } from '../../shared/api';
import { AuditDiff, AuditPage, diffAudit, targetLink } from './Audit';
import { json, paramsOf, renderRoutes, type Call } from '../../shared/test/testutil';

const before = JSON.stringify({ id: 2, email: 'olga@example.com', role: 'admin', disabled: false, tags: ['a', 'b'] });
const after = JSON.stringify({ id: 2, email: 'olga@example.com', role: 'operator', disabled: true, tags: ['a'], must_change_password: false });

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 31,
  at: '2026-11-27T02:00:00Z',
  actor: 'me@example.com',
  action: 'user.update',
  target_type: 'user',
  target_id: '2',
  before,
  after,
  request_id: 'req-31',
  ip: '127.0.0.1',
  ...over,
});

function renderAt(url: string, role: Role = 'admin', handler?: (c: Call) => Response | undefined) {
  return renderRoutes(url, role, { '/audit': <AuditPage /> }, (c) =>
    handler?.(c) ?? json(200, { items: [entry(), entry({ id: 30, action: 'user.create', before: '', after: JSON.stringify({ id: 2, role: 'admin' }) })], total: 2 }),
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('diffAudit', () => {
  it('lists changed, added, removed and unchanged fields by path', () => {
    const rows = Object.fromEntries(diffAudit(before, after).map((r) => [r.path, r]));
    expect(rows.role).toEqual({ path: 'role', before: '"admin"', after: '"operator"', kind: 'changed' });
    expect(rows.disabled).toMatchObject({ before: 'false', after: 'true', kind: 'changed' });
    expect(rows['tags[1]']).toEqual({ path: 'tags[1]', before: '"b"', after: undefined, kind: 'removed' });
    expect(rows.must_change_password).toMatchObject({ before: undefined, after: 'false', kind: 'added' });
    expect(rows.email.kind).toBe('same');
    expect(rows['tags[0]'].kind).toBe('same');
  });
  it('treats a creation as all added and a plain value as one field', () => {
    expect(diffAudit('', '{"a":{"b":1}}')).toEqual([{ path: 'a.b', before: undefined, after: '1', kind: 'added' }]);
    expect(diffAudit('"x"', '"y"')).toEqual([{ path: '(value)', before: '"x"', after: '"y"', kind: 'changed' }]);
  });
});

describe('AuditDiff', () => {
  it('shows what changed, before struck through, and hides unchanged fields until asked', () => {
    render(<AuditDiff before={before} after={after} />);
    expect(screen.getByTestId('diff-summary').textContent).toBe('4 fields changed');
    const rows = screen.getAllByTestId('diff-row') as HTMLTableRowElement[];
    expect(rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent, r.cells[2].textContent, r.dataset.kind])).toEqual([
      ['role', '"admin"', '"operator"', 'changed'],
      ['disabled', 'false', 'true', 'changed'],
      ['must_change_password', '', 'false', 'added'],
      ['tags[1]', '"b"', '', 'removed'],
    ]);
    expect(rows[0].cells[1].className).toContain('mg-diff-old');
    fireEvent.click(screen.getByRole('button', { name: 'Show 3 unchanged' }));
    expect(screen.getAllByTestId('diff-row')).toHaveLength(7);
    fireEvent.click(screen.getByRole('button', { name: 'Before / after JSON' }));
    expect(screen.getByRole('tree', { name: 'Before' }).textContent).toContain('"role": "admin"');
    expect(screen.getByRole('tree', { name: 'After' }).textContent).toContain('"role": "operator"');
  });
  it('says when nothing was recorded', () => {
    render(<AuditDiff before="" after="" />);
    expect(screen.getByText('No values are recorded for this action.')).toBeTruthy();
  });
});

describe('Audit log page', () => {
  it('takes its filters from the URL, exports the same filters as CSV, and opens an entry', async () => {
    const calls = renderAt('/audit?actor=me%40example.com&action=user.&target_type=user&target_id=2&from=2026-11-01T00%3A00%3A00Z&offset=50');
    const rows = await screen.findAllByTestId('audit-row');
    expect(paramsOf(calls[0].url)).toEqual({
      actor: 'me@example.com',
      action: 'user.',
      target_type: 'user',
      target_id: '2',
      from: '2026-11-01T00:00:00Z',
      limit: '50',
      offset: '50',
    });
    const csv = screen.getByTestId('audit-export').getAttribute('href')!;
    expect(csv.startsWith('/api/audit?')).toBe(true);
    expect(paramsOf(csv)).toEqual({ actor: 'me@example.com', action: 'user.', target_type: 'user', target_id: '2', from: '2026-11-01T00:00:00Z', format: 'csv' });
    expect(rows[0].textContent).toContain('role, disabled, must_change_password, tags[1]');

    fireEvent.click(rows[0]);
    expect(paramsOf(screen.getByTestId('where').textContent!).entry).toBe('31');
    const diff = screen.getByTestId('audit-diff');
    expect(within(diff).getAllByTestId('diff-row')[0].textContent).toContain('role');
    fireEvent.click(rows[1]);
    expect(screen.getByTestId('diff-summary').textContent).toBe('created');

    fireEvent.change(screen.getByLabelText('Target type'), { target: { value: 'plan' } });
    await waitFor(() => expect(paramsOf(calls.at(-1)!.url).target_type).toBe('plan'));
    expect(paramsOf(screen.getByTestId('where').textContent!).offset).toBeUndefined();
    expect(paramsOf(screen.getByTestId('audit-export').getAttribute('href')!).target_type).toBe('plan');
  });

  it('staff invitations (user.invite, user.invite_revoke) are a target type of their own, linked to the Users page', async () => {
    renderAt('/audit');
    await screen.findAllByTestId('audit-row');
    const types = [...(screen.getByLabelText('Target type') as HTMLSelectElement).options].map((o) => o.value);
    expect(types).toContain('staff_invite');
    expect(targetLink('staff_invite', '4')).toBe('/users');
  });

  it('a deep link to an entry opens it', async () => {
    renderAt('/audit?entry=30');
    await screen.findAllByTestId('audit-row');
    expect(screen.getByTestId('diff-summary').textContent).toBe('created');
  });

  it('operators and customer admins see "not allowed"', () => {
    renderAt('/audit', 'operator');
    expect(screen.getByTestId('not-allowed').textContent).toContain('Only admins may open the audit log');
    cleanup();
    renderAt('/audit', 'customer_admin');
    expect(screen.getByTestId('not-allowed').textContent).toContain("belongs to the seller's staff");
  });
});
