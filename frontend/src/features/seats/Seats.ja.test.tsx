// The Seats tab in Japanese: a Japanese customer admin sees the summary, the
// over-quantity warning, the table, the import dialog and the release
// confirmation in Japanese.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Seat, SeatSummary } from '../../shared/api';
import i18n from '../../shared/i18n';
import { SeatsTab } from './Seats';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const summary: SeatSummary = {
  seat_based: true, bought: 2, assigned: 3, free: 0, over: 1, allow_over_assignment: false, over_quantity_policy: 'newest_unlicensed',
  auto_assign: false, usable: true, state: 'active', can_manage: true, more_seats: { text: '', url: '', label: '' },
};
const seat = (id: number, email: string, over = false): Seat => ({
  id, subscription_id: 1, email, entra_object_id: '', name: '', source: 'import', assigned_by: 'it@contoso.com',
  assigned_at: '2026-11-27T01:00:00Z', over, last_checked_at: null,
});

beforeEach(async () => {
  await i18n.changeLanguage('ja');
});
afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

describe('Seats tab in Japanese', () => {
  it('shows the summary, the warning, the table and the dialogs in Japanese', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () =>
      json(200, { summary, items: [seat(1, 'ann@contoso.com'), seat(2, 'bob@contoso.com'), seat(3, 'cy@contoso.com', true)], total: 3 }),
    );
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={['/subscriptions/9?tab=seats']}>
          <Routes>
            <Route path="/subscriptions/:id" element={<SeatsTab id="9" />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>,
    );
    await screen.findByText('ann@contoso.com');
    expect(screen.getByTestId('seats-bought').textContent).toBe('2 購入済み');
    expect(screen.getByTestId('seat-summary').textContent).toContain('数量を超えたシートはご利用いただけません');
    const warning = screen.getByTestId('over-warning');
    expect(warning.textContent).toContain('購入数を超えてシートが割り当てられています');
    expect(warning.textContent).toContain('（購入 2、割り当て 3）');
    expect(within(warning).getAllByText('数量超過')[0].tagName).toBe('EM');
    expect(screen.getByRole('columnheader', { name: 'ユーザー' })).toBeTruthy();
    expect(screen.getAllByText('インポート').length).toBe(3);
    expect(screen.getByTestId('over-tag').textContent).toBe('数量超過');
    expect(screen.getByRole('form', { name: 'シートの割り当て' })).toBeTruthy();
    expect(screen.queryByText(/Release|Assign|bought/)).toBeNull();

    fireEvent.click(within(warning).getByRole('button', { name: '表示中の数量超過シート 1 件を選択' }));
    fireEvent.click(screen.getByRole('button', { name: '選択したシートを解除（1）' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('cy@contoso.com のシートを解除しますか？');
    expect(within(dialog).getByRole('button', { name: 'キャンセル' })).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'キャンセル' }));

    fireEvent.click(screen.getByRole('button', { name: 'インポート…' }));
    const importDialog = await screen.findByRole('dialog', { name: 'シートのインポート' });
    expect(within(importDialog).getByLabelText('…または一覧を貼り付け')).toBeTruthy();
    expect(within(importDialog).getByText('email').tagName).toBe('CODE');
    expect(within(importDialog).getByRole('button', { name: '適用' })).toBeTruthy();
  });
});
