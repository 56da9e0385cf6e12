// The Team page in Japanese: a Japanese customer admin sees their admins,
// invitations and the revoke confirmation in Japanese.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { CustomerAdmins } from '../../shared/api';
import i18n from '../../shared/i18n';
import { TeamPage } from './Team';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const future = new Date(Date.now() + 86_400_000).toISOString();
const data: CustomerAdmins = {
  customer: { id: 3, name: 'Contoso', azure_tenant_id: 'tid', aws_account_id: '' },
  admins: [{ id: 5, email: 'megan@contoso.com', name: 'Megan', entra: false, password: true, last_login_at: null, disabled: false }],
  invites: [
    { id: 7, customer_id: 3, email: 'open@contoso.com', created_by: 'megan@contoso.com', created_at: '2026-01-01T00:00:00Z', expires_at: future, used_at: null, revoked_at: null },
    { id: 8, customer_id: 3, email: 'used@contoso.com', created_by: 'megan@contoso.com', created_at: '2026-01-01T00:00:00Z', expires_at: future, used_at: '2026-01-02T00:00:00Z', revoked_at: null },
  ],
};

beforeEach(async () => {
  await i18n.changeLanguage('ja');
});
afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

describe('Team page in Japanese', () => {
  it('shows the team, the invitations and the revoke confirmation in Japanese', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => json(200, data));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    qc.setQueryData(['me'], { user: { id: 1, email: 'me@x', name: '', role: 'customer_admin', customer_id: 3, must_change_password: false } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={['/team']}>
          <Routes>
            <Route path="/team" element={<TeamPage />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>,
    );
    await screen.findByText('Megan');
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('Contoso — チーム');
    expect(screen.getByText(/顧客管理者は、この組織のサブスクリプションを確認し/).textContent).toContain('Entra テナント: tid。');
    const admin = screen.getByTestId('admin-row');
    expect(within(admin).getByText('パスワード')).toBeTruthy();
    expect(within(admin).getByText('なし')).toBeTruthy();
    expect(within(admin).getByText('有効')).toBeTruthy();
    expect(screen.getByRole('columnheader', { name: '最終サインイン' })).toBeTruthy();
    const rows = screen.getAllByTestId('invite-row');
    expect(within(rows[0]).getByText('未承諾')).toBeTruthy();
    expect(within(rows[1]).getByText(/^承諾済み（.*2026.*）$/)).toBeTruthy();
    expect(within(rows[1]).queryByRole('button', { name: '取り消す' })).toBeNull();
    expect(screen.getByRole('button', { name: '管理者を招待' })).toBeTruthy();

    fireEvent.click(within(rows[0]).getByRole('button', { name: '取り消す' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('open@contoso.com 様への招待を取り消しますか？');
    expect(within(dialog).getByRole('button', { name: '招待を取り消す' })).toBeTruthy();
    expect(within(dialog).getByRole('button', { name: 'キャンセル' })).toBeTruthy();
  });
});
