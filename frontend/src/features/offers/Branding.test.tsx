import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import i18n from '../../shared/i18n';
import type { OfferFull } from '../../shared/api';
import { OffersPage } from './Offers';
import { json, refusal, renderRoutes, type Call } from '../../shared/test/testutil';

const offer: OfferFull = {
  id: 3, marketplace: 'aws', name: 'Acme Analytics', marketplace_id: 'acmeanalytics', identity_model: 'legacy', contract: false, plans: [], permissions: [],
  branding: { product_name: '', logo_url: '', accent_color: '', support_email: '', support_url: '', getting_started: [] },
};

function renderAt(handler?: (c: Call) => Response | undefined) {
  return renderRoutes('/offers', 'admin', { '/offers': <OffersPage /> }, (c) => handler?.(c) ?? json(200, { items: [offer] }));
}

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

const fill = (dialog: HTMLElement, label: string, value: string) => fireEvent.change(within(dialog).getByLabelText(label), { target: { value } });

describe('Buyer pages branding', () => {
  it('an admin sets the branding; the request carries it whole, and the preview shows the name', async () => {
    const calls = renderAt((c) => (c.method === 'PATCH' ? json(200, { offer }) : undefined));
    fireEvent.click(await screen.findByRole('button', { name: 'Buyer pages…' }));
    const dialog = await screen.findByRole('dialog');
    fill(dialog, 'Product name', 'Acme Cloud');
    fill(dialog, 'Logo', 'https://cdn.acme.example/logo.png');
    fireEvent.change(within(dialog).getByLabelText('Accent colour', { selector: '#brand-accent' }), { target: { value: '#aa3300' } });
    fill(dialog, 'Support e-mail', 'help@acme.example');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add link' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add link' }));
    fill(dialog, 'Title 1', 'Docs');
    fill(dialog, 'Address 1', 'https://docs.acme.example');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove link 2' }));
    expect(within(screen.getByTestId('branding-preview')).getByText('Acme Cloud')).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url).toBe('/api/offers/3');
    expect(JSON.parse(patch.body)).toEqual({
      branding: {
        product_name: 'Acme Cloud', logo_url: 'https://cdn.acme.example/logo.png', accent_color: '#aa3300', support_email: 'help@acme.example',
        support_url: '', getting_started: [{ title: 'Docs', url: 'https://docs.acme.example' }],
      },
    });
  });

  it("shows the server's refusal by its code, in the user's language", async () => {
    await i18n.changeLanguage('ja');
    renderAt((c) => (c.method === 'PATCH' ? refusal(400, 'branding_url_invalid', 'The support page must be an https:// address.', 'r1') : undefined));
    fireEvent.click(await screen.findByRole('button', { name: '購入者向けページ…' }));
    const dialog = await screen.findByRole('dialog');
    fill(dialog, 'サポートサイト', 'http://acme.example');
    fireEvent.click(within(dialog).getByRole('button', { name: '保存' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('サポートサイトには https:// で始まるアドレスを指定してください。');
  });
});
