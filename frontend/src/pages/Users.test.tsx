import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Role, User } from '../api';
import { UsersPage } from './Users';
import { json, refusal, renderRoutes, type Call } from './testutil';

const user = (over: Partial<User>): User => ({
  id: 0,
  email: '',
  name: '',
  role: 'viewer',
  customer_id: null,
  must_change_password: false,
  disabled: false,
  last_login_at: null,
  created_at: '2026-11-01T00:00:00Z',
  ...over,
});

const users = [
  user({ id: 1, email: 'me@example.com', name: 'Me', role: 'admin' }),
  user({ id: 2, email: 'olga@example.com', name: 'Olga', role: 'admin' }),
  user({ id: 3, email: 'vic@example.com', name: 'Vic', role: 'viewer', disabled: true }),
  user({ id: 20, email: 'it@contoso.com', role: 'customer_admin', customer_id: 3, customer_name: 'Contoso' }),
  user({ id: 21, email: 'ops@contoso.com', role: 'customer_admin', customer_id: 3, customer_name: 'Contoso' }),
  user({ id: 22, email: 'it@fabrikam.com', role: 'customer_admin', customer_id: 4, customer_name: 'Fabrikam' }),
];

function renderAt(role: Role = 'admin', handler?: (c: Call) => Response | undefined, url = '/users') {
  return renderRoutes(url, role, { '/users': <UsersPage /> }, (c) => {
    const h = handler?.(c);
    if (h) return h;
    if (c.url === '/api/users') return json(200, { items: users });
    return refusal(404, 'not_found', 'unexpected ' + c.method + ' ' + c.url, 'r0');
  });
}

const row = (email: string) => screen.getAllByTestId(/user-row|customer-admin-row/).find((r) => r.textContent!.includes(email))!;

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Users', () => {
  it('lists seller staff, and customer admins grouped by organisation (named by GET /api/users) with a link to it', async () => {
    const calls = renderAt();
    await screen.findAllByTestId('user-row');
    expect(screen.getAllByTestId('user-row').map((r) => r.textContent!.split(' ')[0])).toEqual(['me@example.com', 'olga@example.com', 'vic@example.com']);
    const groups = screen.getAllByTestId('customer-admin-group');
    expect(groups).toHaveLength(2);
    await within(groups[0]).findByText('Contoso');
    expect(within(groups[0]).getByRole('link', { name: 'Contoso' }).getAttribute('href')).toBe('/customers/3');
    expect(within(groups[0]).getAllByTestId('customer-admin-row').map((r) => r.textContent!.split('—')[0])).toEqual(['it@contoso.com', 'ops@contoso.com']);
    await within(groups[1]).findByText('Fabrikam');
    // My own account cannot be demoted or deactivated from here.
    expect((within(row('me@example.com')).getByLabelText('Role of me@example.com') as HTMLSelectElement).disabled).toBe(true);
    expect(within(row('me@example.com')).queryByRole('button', { name: /Deactivate/ })).toBeNull();
    // One request for the whole page: the names come with the users.
    expect(calls.map((c) => c.url)).toEqual(['/api/users']);
  });

  it('a customer admin whose organisation has no name shows its id; the filter matches organisation names', async () => {
    renderAt('admin', (c) =>
      c.url === '/api/users' ? json(200, { items: [...users, user({ id: 23, email: 'x@nameless.com', role: 'customer_admin', customer_id: 9 })] }) : undefined,
    );
    const groups = await screen.findAllByTestId('customer-admin-group');
    expect(groups.map((g) => within(g).getAllByRole('link')[0].textContent)).toEqual(['Contoso', 'Fabrikam', 'Customer #9']);
    cleanup();
    renderAt('admin', undefined, '/users?q=fabri');
    await screen.findAllByTestId('customer-admin-group');
    expect(screen.getAllByTestId('customer-admin-row').map((r) => r.textContent!.split('—')[0])).toEqual(['it@fabrikam.com']);
  });

  it('deactivating says they are signed out at once; the server’s refusal (last admin) is shown with its request id', async () => {
    const calls = renderAt('admin', (c) =>
      c.method === 'PATCH' ? refusal(409, 'conflict', 'this is the last admin: make someone else admin first', 'req-last') : undefined,
    );
    await screen.findAllByTestId('user-row');
    fireEvent.click(within(row('olga@example.com')).getByRole('button', { name: 'Deactivate…' }));
    const confirm = await screen.findByRole('alertdialog');
    expect(within(confirm).getByTestId('confirm-text').textContent).toContain('signed out at once');
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Deactivate and sign out' }));
    const refused = await screen.findByTestId('user-refusal');
    expect(refused.textContent).toContain('Refused: olga@example.com — deactivated and signed out');
    expect(refused.textContent).toContain('this is the last admin: make someone else admin first');
    expect(refused.textContent).toContain('request id: req-last');
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url).toBe('/api/users/2');
    expect(JSON.parse(patch.body)).toEqual({ disabled: true });
  });

  it('changing a role asks first and sends only the role; a refusal about one’s own account is shown too', async () => {
    let answer = json(200, { user: { ...users[1], role: 'operator' } });
    const calls = renderAt('admin', (c) => (c.method === 'PATCH' ? answer : undefined));
    await screen.findAllByTestId('user-row');
    fireEvent.change(within(row('olga@example.com')).getByLabelText('Role of olga@example.com'), { target: { value: 'operator' } });
    const confirm = await screen.findByRole('alertdialog');
    expect(confirm.textContent).toContain('Make olga@example.com an operator?');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Make operator' }));
    expect((await screen.findByTestId('user-updated')).textContent).toBe('olga@example.com: role changed to operator.');
    expect(JSON.parse(calls.find((c) => c.method === 'PATCH')!.body)).toEqual({ role: 'operator' });

    answer = refusal(409, 'conflict', 'you cannot disable your own account', 'req-own');
    fireEvent.click(within(row('vic@example.com')).getByRole('button', { name: 'Reactivate…' }));
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Reactivate' }));
    const refused = await screen.findByTestId('user-refusal');
    expect(refused.textContent).toContain('you cannot disable your own account');
    expect(refused.textContent).toContain('req-own');
    expect(screen.queryByTestId('user-updated')).toBeNull();
  });

  it('adding a user shows the one-time password once, with the note that it must be changed', async () => {
    const calls = renderAt('admin', (c) =>
      c.method === 'POST' ? json(201, { user: user({ id: 9, email: 'new@example.com', role: 'operator', must_change_password: true }), password: 'Xy7-one-time' }) : undefined,
    );
    await screen.findAllByTestId('user-row');
    fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: ' new@example.com ' } });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'New' } });
    fireEvent.click(within(dialog).getByLabelText(/^operator/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add user' }));
    expect((await screen.findByTestId('one-time-password')).textContent).toBe('Xy7-one-time');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ email: 'new@example.com', name: 'New', role: 'operator' });
    const callout = screen.getByTestId('one-time-password-callout');
    expect(callout.textContent).toContain('shown only once');
    expect(callout.textContent).toContain('must choose their own password');
    expect(within(callout).getByRole('button', { name: 'Copy password' })).toBeTruthy();
    fireEvent.click(within(callout).getByRole('button', { name: /Done/ }));
    expect(screen.queryByTestId('one-time-password')).toBeNull();
  });

  it('a refused new user (e-mail taken) keeps the dialog open with the reason', async () => {
    renderAt('admin', (c) => (c.method === 'POST' ? refusal(409, 'conflict', 'olga@example.com already has an account', 'req-dup') : undefined));
    await screen.findAllByTestId('user-row');
    fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: 'olga@example.com' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add user' }));
    expect(await within(dialog).findByText('olga@example.com already has an account')).toBeTruthy();
    expect(screen.queryByTestId('one-time-password')).toBeNull();
  });

  it('a new one-time password: not for oneself; asks first, saying they are signed out everywhere and must change it; shown once with Copy', async () => {
    const calls = renderAt('admin', (c) =>
      c.method === 'POST' ? json(200, { user: { ...users[1], must_change_password: true }, password: 'Zq9-new-one-time' }) : undefined,
    );
    await screen.findAllByTestId('user-row');
    expect(within(row('me@example.com')).queryByRole('button', { name: /New one-time password/ })).toBeNull();
    // Staff, deactivated staff and customer admins may get one.
    for (const email of ['olga@example.com', 'vic@example.com', 'it@contoso.com']) {
      expect(within(row(email)).getByRole('button', { name: 'New one-time password…' })).toBeTruthy();
    }
    const listed = calls.filter((c) => c.url === '/api/users').length;
    fireEvent.click(within(row('olga@example.com')).getByRole('button', { name: 'New one-time password…' }));
    const confirm = await screen.findByRole('alertdialog');
    const text = within(confirm).getByTestId('reset-confirm-text').textContent!;
    expect(text).toContain('olga@example.com');
    expect(text).toContain('signed out everywhere');
    expect(text).toContain('must change it at their first sign-in');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Sign out and issue a new password' }));

    expect((await screen.findByTestId('one-time-password')).textContent).toBe('Zq9-new-one-time');
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.url, c.body])).toEqual([['/api/users/2/reset-password', '']]);
    const callout = screen.getByTestId('one-time-password-callout');
    expect(callout.textContent).toContain('olga@example.com has a new one-time password — it is shown only once');
    expect(callout.textContent).toContain('signed out everywhere');
    expect(callout.textContent).toContain('must choose their own password');
    expect(within(callout).getByRole('button', { name: 'Copy password' })).toBeTruthy();
    // The list is read again (their status: must change password).
    await waitFor(() => expect(calls.filter((c) => c.url === '/api/users').length).toBeGreaterThan(listed));
    fireEvent.click(within(callout).getByRole('button', { name: /Done/ }));
    expect(screen.queryByTestId('one-time-password')).toBeNull();
  });

  it('a refused new one-time password shows the server’s reason and request id, and no password', async () => {
    renderAt('admin', (c) => (c.method === 'POST' ? refusal(404, 'not_found', 'user 21 does not exist', 'req-gone') : undefined));
    await screen.findAllByTestId('user-row');
    fireEvent.click(within(row('ops@contoso.com')).getByRole('button', { name: 'New one-time password…' }));
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Sign out and issue a new password' }));
    const refused = await screen.findByTestId('user-refusal');
    expect(refused.textContent).toContain('Refused: ops@contoso.com — new one-time password');
    expect(refused.textContent).toContain('user 21 does not exist');
    expect(refused.textContent).toContain('request id: req-gone');
    expect(screen.queryByTestId('one-time-password')).toBeNull();
  });

  it('operators see "not allowed" and nothing is fetched', async () => {
    const calls = renderAt('operator');
    expect(screen.getByTestId('not-allowed').textContent).toContain('Only admins');
    await waitFor(() => expect(calls).toHaveLength(0));
  });
});
