// The shared error box, pager, loading spinner and confirmation dialog in
// Japanese: what a Japanese customer admin sees when something fails.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { ApiError } from '../api';
import i18n from '../i18n';
import { ErrorBox, Loading, Pager } from './components';
import { ConfirmDialog } from './ConfirmDialog';

beforeEach(async () => {
  await i18n.changeLanguage('ja');
});
afterEach(async () => {
  cleanup();
  await i18n.changeLanguage('en');
});

describe('shared components in Japanese', () => {
  it('says what went wrong, pages and confirms in Japanese', async () => {
    const notFound = new ApiError(404, 'not_found', 'subscription 9 not found', 'req-404');
    render(
      <>
        <ErrorBox error={notFound} />
        <ErrorBox error={{}} />
        <Loading />
        <Pager offset={0} limit={50} total={1234} onOffset={() => {}} onLimit={() => {}} />
        <ConfirmDialog isOpen confirmText="OK" onConfirm={() => {}} onCancel={() => {}}>
          body
        </ConfirmDialog>
      </>,
    );
    const alerts = screen.getAllByRole('alert');
    expect(alerts[0].textContent).toContain('見つかりません');
    expect(alerts[0].textContent).toContain('リクエストID: req-404');
    expect(alerts[1].textContent).toContain('エラーが発生しました');
    expect(alerts[1].textContent).toContain('原因不明のエラーが発生しました');
    expect(screen.getByLabelText('読み込み中')).toBeTruthy();
    expect(screen.getByTestId('pager-summary').textContent).toBe('1,234 件中 1–50 件を表示');
    expect(screen.getByRole('button', { name: '次のページ' })).toBeTruthy();
    expect(screen.getByRole('option', { name: '50 件ずつ表示' })).toBeTruthy();
    expect((await screen.findByRole('button', { name: 'キャンセル' })).textContent).toBe('キャンセル');
  });

  it('pages on past a capped count, saying more than it counted', () => {
    const moved: number[] = [];
    render(<Pager offset={9950} limit={50} total={10000} more onOffset={(o) => moved.push(o)} />);
    expect(screen.getByTestId('pager-summary').textContent).toBe('10,000 件超のうち 9,951–10,000 件を表示');
    const next = screen.getByRole('button', { name: '次のページ' });
    expect((next as HTMLButtonElement).disabled).toBe(false);
    next.click();
    expect(moved).toEqual([10000]);
    cleanup();
    render(<Pager offset={9950} limit={50} total={10000} onOffset={() => {}} />);
    expect((screen.getByRole('button', { name: '次のページ' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
