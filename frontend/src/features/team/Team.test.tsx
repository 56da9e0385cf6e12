import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { CustomerAdmins, Role } from '../../shared/api';
import '../../shared/i18n';
import { TeamPage } from './Team';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const future = new Date(Date.now() + 86_400_000).toISOString();
const data: CustomerAdmins = {
  customer: { id: 3, name: 'Contoso', azure_tenant_id: 'tid', aws_account_id: '' },
  admins: [{ id: 5, email: 'megan@contoso.com', name: 'Megan', entra: true, password: false, last_login_at: null, disabled: false }],
  invites: [
    { id: 7, customer_id: 3, email: 'open@contoso.com', created_by: 'megan@contoso.com', created_at: '2026-01-01T00:00:00Z', expires_at: future, used_at: null, revoked_at: null },
    { id: 8, customer_id: 3, email: 'used@contoso.com', created_by: 'megan@contoso.com', created_at: '2026-01-01T00:00:00Z', expires_at: future, used_at: '2026-01-02T00:00:00Z', revoked_at: null },
  ],
};

function renderAt(url: string, role: Role) {
  const calls: { url: string; method: string; body: string }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    calls.push({ url: String(input), method: init?.method ?? 'GET', body: String(init?.body ?? '') });
    if (String(input).endsWith('/invites'))
      return json(201, { invite: { ...data.invites[0], id: 9, email: 'new@contoso.com' }, url: 'http://host/invite?token=secret123' });
    if (String(input).endsWith('/revoke')) return json(200, { invite: { ...data.invites[0], revoked_at: '2026-01-03T00:00:00Z' } });
    return json(200, data);
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['me'], { user: { id: 1, email: 'me@x', name: '', role, customer_id: role === 'customer_admin' ? 3 : null, must_change_password: false } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/team" element={<TeamPage />} />
          <Route path="/customers/:id/admins" element={<TeamPage />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return calls;
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Team page', () => {
  it("a customer admin invites a colleague and sees the link once; only open invitations can be revoked", async () => {
    const calls = renderAt('/team', 'customer_admin');
    await screen.findByText('Megan');
    expect(calls[0].url).toBe('/api/customer-admins');
    const rows = screen.getAllByTestId('invite-row');
    expect(within(rows[0]).getByRole('button', { name: 'Revoke' })).toBeTruthy();
    expect(within(rows[1]).queryByRole('button', { name: 'Revoke' })).toBeNull();

    fireEvent.change(screen.getByLabelText('E-mail of the new admin'), { target: { value: 'new@contoso.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite an admin' }));
    expect((await screen.findByTestId('invite-url')).textContent).toBe('http://host/invite?token=secret123');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ email: 'new@contoso.com' });

    fireEvent.click(within(rows[0]).getByRole('button', { name: 'Revoke' }));
    const confirm = await screen.findByRole('alertdialog');
    expect(within(confirm).getByText(/Revoke the invitation for .*\? The link stops working\./)).toBeTruthy();
    expect(calls.some((c) => c.url.endsWith('/revoke'))).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Revoke invitation' }));
    await waitFor(() => expect(calls.some((c) => c.url === '/api/customer-admins/invites/7/revoke' && c.method === 'POST')).toBe(true));
  });

  it('seller staff manage a given customer; viewers only read', async () => {
    const calls = renderAt('/customers/3/admins', 'operator');
    await screen.findByText('Megan');
    expect(calls[0].url).toBe('/api/customer-admins?customer_id=3');
    fireEvent.change(screen.getByLabelText('E-mail of the new admin'), { target: { value: 'new@contoso.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite an admin' }));
    await screen.findByTestId('invite-url');
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({ email: 'new@contoso.com', customer_id: 3 });
    cleanup();

    renderAt('/customers/3/admins', 'viewer');
    await screen.findByText('Megan');
    expect(screen.queryByLabelText('E-mail of the new admin')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Revoke' })).toBeNull();
  });
});
