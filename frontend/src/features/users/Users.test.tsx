import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Role, User, UserInvite } from '../../shared/api';
import { UsersPage, inviteState } from './Users';
import { json, refusal, renderRoutes, type Call } from '../../shared/test/testutil';

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
  sso: false,
  two_factor_enabled: false,
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

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const invite = (over: Partial<UserInvite>): UserInvite => ({
  id: 0,
  email: '',
  name: '',
  role: 'viewer',
  created_by: 'me@example.com',
  created_at: iso(Date.now() - DAY),
  expires_at: iso(Date.now() + 6 * DAY),
  used_at: null,
  revoked_at: null,
  ...over,
});

// Newest first, as GET /api/users/invites answers.
const invites = [
  invite({ id: 14, email: 'pat@example.com', name: 'Pat', role: 'operator' }),
  invite({ id: 13, email: 'ann@example.com', role: 'viewer', created_by: 'olga@example.com', used_at: iso(Date.now() - DAY / 2) }),
  invite({ id: 12, email: 'rex@example.com', role: 'admin', revoked_at: iso(Date.now() - 2 * DAY), created_at: iso(Date.now() - 3 * DAY) }),
  invite({ id: 11, email: 'old@example.com', role: 'viewer', created_at: iso(Date.now() - 8 * DAY), expires_at: iso(Date.now() - DAY) }),
];

function renderAt(role: Role = 'admin', handler?: (c: Call) => Response | Promise<Response> | undefined, url = '/users') {
  return renderRoutes(url, role, { '/users': <UsersPage /> }, (c) => {
    const h = handler?.(c);
    if (h) return h;
    if (c.url === '/api/users') return json(200, { items: users });
    if (c.url === '/api/users/invites' && c.method === 'GET') return json(200, { items: invites });
    return refusal(404, 'not_found', 'unexpected ' + c.method + ' ' + c.url, 'r0');
  });
}

const row = (email: string) => screen.getAllByTestId(/user-row|customer-admin-row/).find((r) => r.textContent!.includes(email))!;
const inviteRow = (email: string) => screen.getAllByTestId('invite-row').find((r) => r.textContent!.includes(email))!;
const cells = (r: HTMLElement) => [...r.querySelectorAll('td')].map((td) => td.textContent!.trim());

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
    // One request for the users (the names come with them), one for the invitations.
    await screen.findAllByTestId('invite-row');
    expect(calls.map((c) => c.method + ' ' + c.url).sort()).toEqual(['GET /api/users', 'GET /api/users/invites']);
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
    fireEvent.click(screen.getByRole('button', { name: 'Add with a one-time password…' }));
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
    fireEvent.click(screen.getByRole('button', { name: 'Add with a one-time password…' }));
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

  it('"Invite user" is the primary action; adding with a one-time password stays, as a smaller secondary one', async () => {
    renderAt();
    await screen.findAllByTestId('user-row');
    const invite = screen.getByRole('button', { name: 'Invite user' });
    const add = screen.getByRole('button', { name: 'Add with a one-time password…' });
    expect(invite.className).toContain('bp6-intent-primary');
    expect(add.className).not.toContain('bp6-intent-primary');
    expect(add.className).toContain('bp6-small');
    expect(screen.queryByRole('button', { name: 'Add user' })).toBeNull();
    fireEvent.click(add);
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByRole('button', { name: 'Add user' })).toBeTruthy();
    expect(dialog.textContent).toContain('one-time password');
  });

  it('inviting shows the link once in the dialog, with Copy, saying it works once for 7 days; the list is read again', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const url = 'http://portal.example/invite?token=tok-123';
    const made = invite({ id: 15, email: 'new@example.com', name: 'New', role: 'operator', expires_at: '2026-12-04T02:00:00Z' });
    const calls = renderAt('admin', (c) => (c.method === 'POST' ? json(201, { invite: made, url }) : undefined));
    await screen.findAllByTestId('invite-row');
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: ' new@example.com ' } });
    fireEvent.change(within(dialog).getByLabelText(/^Name/), { target: { value: ' New ' } });
    fireEvent.click(within(dialog).getByLabelText(/^operator/));
    const listed = calls.filter((c) => c.method === 'GET' && c.url === '/api/users/invites').length;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create invitation link' }));

    expect((await within(dialog).findByTestId('invite-url')).textContent).toBe(url);
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.url, JSON.parse(c.body)])).toEqual([
      ['/api/users/invites', { email: 'new@example.com', name: 'New', role: 'operator' }],
    ]);
    const note = within(dialog).getByTestId('invite-link-note').textContent!;
    expect(note).toContain('works once, for 7 days (until 2026-12-04 02:00 UTC)');
    expect(note).toContain('joins as an operator');
    expect(within(dialog).getByTestId('invite-link').textContent).toContain('shown only now');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Copy link' }));
    expect(writeText).toHaveBeenCalledWith(url);
    await waitFor(() => expect(calls.filter((c) => c.method === 'GET' && c.url === '/api/users/invites').length).toBeGreaterThan(listed));

    // Done: the link is gone for good; inviting again starts from an empty form.
    fireEvent.click(within(dialog).getByRole('button', { name: /Done/ }));
    await waitFor(() => expect(screen.queryByText(url)).toBeNull());
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    const again = await screen.findByRole('dialog');
    expect((within(again).getByLabelText('E-mail') as HTMLInputElement).value).toBe('');
    expect(within(again).queryByTestId('invite-url')).toBeNull();
  });

  it('an invitation without a name sends none; the role is a viewer unless chosen', async () => {
    const calls = renderAt('admin', (c) =>
      c.method === 'POST' ? json(201, { invite: invite({ id: 16, email: 'v@example.com' }), url: 'http://h/invite?token=t' }) : undefined,
    );
    await screen.findAllByTestId('user-row');
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    const dialog = await screen.findByRole('dialog');
    const submit = within(dialog).getByRole('button', { name: 'Create invitation link' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: 'v@example.com' } });
    fireEvent.click(submit);
    await within(dialog).findByTestId('invite-url');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ email: 'v@example.com', role: 'viewer' });
    expect(within(dialog).getByTestId('invite-link-note').textContent).toContain('joins as a viewer');
  });

  it('a refused invitation (account exists, bad e-mail) keeps the dialog open with the server’s reason and request id, and no link', async () => {
    let answer = refusal(409, 'conflict', 'olga@example.com already has an account', 'req-taken');
    renderAt('admin', (c) => (c.method === 'POST' ? answer : undefined));
    await screen.findAllByTestId('user-row');
    fireEvent.click(screen.getByRole('button', { name: 'Invite user' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: 'olga@example.com' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create invitation link' }));
    const box = (await within(dialog).findByText('olga@example.com already has an account')).closest('[role=alert]')!;
    expect(box.textContent).toContain('Not invited');
    expect(box.textContent).toContain('request id: req-taken');
    expect(within(dialog).queryByTestId('invite-url')).toBeNull();
    expect((within(dialog).getByLabelText('E-mail') as HTMLInputElement).getAttribute('aria-invalid')).not.toBe('true');

    answer = refusal(400, 'invalid_input', 'email is not an e-mail address', 'req-bad');
    fireEvent.change(within(dialog).getByLabelText('E-mail'), { target: { value: 'x@y' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create invitation link' }));
    await within(dialog).findByText('email is not an e-mail address');
    expect(dialog.textContent).toContain('request id: req-bad');
    expect(within(dialog).getByLabelText('E-mail').closest('.bp6-input-group')!.className).toContain('bp6-intent-danger');
    expect(within(dialog).queryByTestId('invite-url')).toBeNull();
  });

  it('lists the invitations: e-mail, role, invited by, sent, expires and state; Revoke only for pending ones', async () => {
    renderAt();
    await screen.findAllByTestId('invite-row');
    expect(screen.getAllByTestId('invite-row').map((r) => within(r).getByTestId('invite-state').textContent)).toEqual([
      'pending',
      'accepted',
      'revoked',
      'expired',
    ]);
    const pat = cells(inviteRow('pat@example.com'));
    expect(pat.slice(0, 3)).toEqual(['pat@example.com — Pat', 'operator', 'me@example.com']);
    expect(pat[3]).toBe(invites[0].created_at.slice(0, 16).replace('T', ' '));
    expect(pat[4]).toBe(invites[0].expires_at.slice(0, 16).replace('T', ' '));
    expect(cells(inviteRow('ann@example.com')).slice(1, 3)).toEqual(['viewer', 'olga@example.com']);
    // When it was accepted or revoked, on the state.
    const fmt = (s: string) => s.slice(0, 16).replace('T', ' ');
    expect(within(inviteRow('ann@example.com')).getByTestId('invite-state').title).toBe(`accepted ${fmt(invites[1].used_at!)} UTC`);
    expect(within(inviteRow('rex@example.com')).getByTestId('invite-state').title).toBe(`revoked ${fmt(invites[2].revoked_at!)} UTC`);
    for (const email of ['ann@example.com', 'rex@example.com', 'old@example.com']) {
      expect(within(inviteRow(email)).queryByRole('button', { name: /Revoke/ })).toBeNull();
    }
    expect(within(inviteRow('pat@example.com')).getByRole('button', { name: 'Revoke…' })).toBeTruthy();
    expect(screen.getByTestId('pending-invites').textContent).toBe('1 pending');
  });

  it('the filter applies to the invitations too, and says when none matches', async () => {
    renderAt('admin', undefined, '/users?q=pat');
    await screen.findAllByTestId('invite-row');
    expect(screen.getAllByTestId('invite-row').map((r) => r.textContent!.split(' ')[0])).toEqual(['pat@example.com']);
    cleanup();
    renderAt('admin', undefined, '/users?q=olga');
    expect((await screen.findByTestId('invites-empty')).textContent).toBe('No invitation matches “olga”.');
  });

  it('the invitations’ own loading, empty and error states; the staff list stays usable when they fail', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    renderAt('admin', (c) => (c.url === '/api/users/invites' ? gate.then(() => json(200, { items: [] })) : undefined));
    await screen.findAllByTestId('user-row');
    expect(within(screen.getByTestId('invitations')).getByLabelText('Loading')).toBeTruthy();
    release();
    expect((await screen.findByTestId('invites-empty')).textContent).toContain('No invitations yet');
    cleanup();

    renderAt('admin', (c) => (c.url === '/api/users/invites' ? refusal(500, 'internal', 'database is locked', 'req-inv') : undefined));
    const section = await screen.findByTestId('invitations');
    const box = await within(section).findByRole('alert');
    expect(box.textContent).toContain('database is locked');
    expect(box.textContent).toContain('request id: req-inv');
    expect(screen.getAllByTestId('user-row')).toHaveLength(3);
    expect(screen.getByRole('button', { name: 'Invite user' })).toBeTruthy();
  });

  it('revoking asks first, says the link stops working, sends nothing on Cancel; then the list is read again', async () => {
    const calls = renderAt('admin', (c) =>
      c.method === 'POST' ? json(200, { invite: { ...invites[0], revoked_at: new Date().toISOString() } }) : undefined,
    );
    await screen.findAllByTestId('invite-row');
    fireEvent.click(within(inviteRow('pat@example.com')).getByRole('button', { name: 'Revoke…' }));
    let confirm = await screen.findByRole('alertdialog');
    expect(within(confirm).getByTestId('revoke-confirm-text').textContent).toContain('Revoke the invitation of pat@example.com as an operator?');
    expect(within(confirm).getByTestId('revoke-confirm-text').textContent).toContain('stops working at once');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    const listed = calls.filter((c) => c.method === 'GET' && c.url === '/api/users/invites').length;
    fireEvent.click(within(inviteRow('pat@example.com')).getByRole('button', { name: 'Revoke…' }));
    confirm = await screen.findByRole('alertdialog');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Revoke invitation' }));
    expect((await screen.findByTestId('invite-updated')).textContent).toBe('The invitation for pat@example.com is revoked: its link no longer works.');
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.url, c.body])).toEqual([['/api/users/invites/14/revoke', '']]);
    await waitFor(() => expect(calls.filter((c) => c.method === 'GET' && c.url === '/api/users/invites').length).toBeGreaterThan(listed));
  });

  it('a refused revocation (accepted meanwhile) shows the server’s reason and request id, and reads the lists again', async () => {
    const calls = renderAt('admin', (c) => (c.method === 'POST' ? refusal(409, 'conflict', 'this invitation was already accepted', 'req-used') : undefined));
    await screen.findAllByTestId('invite-row');
    const before = calls.length;
    fireEvent.click(within(inviteRow('pat@example.com')).getByRole('button', { name: 'Revoke…' }));
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Revoke invitation' }));
    const refused = await screen.findByTestId('invite-refusal');
    expect(refused.textContent).toContain('Refused: pat@example.com — revoke invitation');
    expect(refused.textContent).toContain('this invitation was already accepted');
    expect(refused.textContent).toContain('request id: req-used');
    expect(screen.queryByTestId('invite-updated')).toBeNull();
    await waitFor(() =>
      expect(
        calls
          .slice(before)
          .filter((c) => c.method === 'GET')
          .map((c) => c.url)
          .sort(),
      ).toEqual(['/api/users', '/api/users/invites']),
    );
  });

  it('inviteState: accepted and revoked are final; a pending invitation is expired from its expiry on', () => {
    const now = new Date('2026-11-27T00:00:00Z');
    const at = (over: Partial<UserInvite>) => inviteState(invite({ expires_at: '2026-11-28T00:00:00Z', ...over }), now);
    expect(at({})).toBe('pending');
    expect(at({ expires_at: '2026-11-27T00:00:00Z' })).toBe('expired');
    expect(at({ expires_at: '2026-11-26T00:00:00Z', used_at: '2026-11-25T00:00:00Z' })).toBe('accepted');
    expect(at({ expires_at: '2026-11-26T00:00:00Z', revoked_at: '2026-11-25T00:00:00Z' })).toBe('revoked');
  });

  it('operators see "not allowed" and nothing is fetched', async () => {
    const calls = renderAt('operator');
    expect(screen.getByTestId('not-allowed').textContent).toContain('Only admins');
    await waitFor(() => expect(calls).toHaveLength(0));
  });
});

describe('Users: two-factor authentication and single sign-on', () => {
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
  });

  it('tags accounts with 2FA or SSO and lets an admin reset a lost second factor', async () => {
    const list = [
      user({ id: 1, email: 'me@example.com', role: 'admin', two_factor_enabled: true }),
      user({ id: 5, email: 'tfa@example.com', role: 'operator', two_factor_enabled: true }),
      user({ id: 6, email: 'sso@example.com', role: 'viewer', sso: true }),
    ];
    const calls = renderAt('admin', (c) => {
      if (c.url === '/api/users') return json(200, { items: list });
      if (c.url === '/api/users/5/reset-2fa') {
        list[1] = { ...list[1], two_factor_enabled: false };
        return json(200, { user: list[1] });
      }
      return undefined;
    });
    const rows = await screen.findAllByTestId('user-row');
    const row = (email: string) => rows.find((r) => r.textContent?.includes(email))!;
    expect(within(row('tfa@example.com')).getByText('2FA')).toBeTruthy();
    expect(within(row('sso@example.com')).getByText('SSO')).toBeTruthy();
    // Never one's own (that is in Settings).
    expect(within(row('me@example.com')).queryByTestId('reset-2fa')).toBeNull();
    fireEvent.click(within(row('tfa@example.com')).getByTestId('reset-2fa'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.url === '/api/users/5/reset-2fa')).toBe(true));
    await waitFor(() => expect(screen.queryAllByTestId('reset-2fa')).toHaveLength(0));
  });
});
