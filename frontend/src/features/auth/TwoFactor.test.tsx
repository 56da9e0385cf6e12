import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Me } from '../../shared/api';
import { SecurityCard, TwoFactorCard } from './TwoFactor';
import { json, mockFetch, refusal } from '../../shared/test/testutil';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const user: Me = {
  id: 1, email: 'op@seller.com', name: 'Op', role: 'operator', customer_id: null, must_change_password: false,
  created_at: '2026-01-01T00:00:00Z', disabled: false, last_login_at: null, must_enable_two_factor: false, recovery_codes_left: 0, sso: false, two_factor_enabled: false,
};

function renderWith(el: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={qc}>{el}</QueryClientProvider>);
  return qc;
}

describe('Two-factor authentication', () => {
  it('sets up TOTP: the password, then the QR code, the key and the otpauth URI, then the recovery codes once', async () => {
    const calls = mockFetch((c) => {
      if (c.url === '/api/auth/2fa/setup')
        return JSON.parse(c.body).current_password === 'correct-horse-battery'
          ? json(200, { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Marketgate:op%40seller.com?secret=JBSWY3DPEHPK3PXP', qr_code_url: '/api/auth/2fa/qr.png' })
          : refusal(401, 'invalid_credentials', 'the current password is wrong', 'r1');
      if (c.url === '/api/auth/2fa/enable') return json(200, { recovery_codes: ['aaaaa-bbbbb', 'ccccc-ddddd'] });
      return undefined;
    });
    renderWith(<TwoFactorCard user={user} />);
    fireEvent.change(screen.getByLabelText('Current password'), { target: { value: 'nope-nope-nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set up' }));
    expect(await screen.findByText('the current password is wrong')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Current password'), { target: { value: 'correct-horse-battery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set up' }));
    expect((await screen.findByTestId('totp-secret')).textContent).toBe('JBSWY3DPEHPK3PXP');
    expect(screen.getByTestId('totp-uri').getAttribute('href')).toContain('otpauth://totp/');
    expect(screen.getByAltText('QR code for your authenticator app').getAttribute('src')).toBe('/api/auth/2fa/qr.png');
    fireEvent.change(screen.getByLabelText('Code from the app'), { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    const codes = await screen.findByTestId('recovery-codes');
    expect(codes.textContent).toContain('aaaaa-bbbbb');
    expect(codes.textContent).toContain('ccccc-ddddd');
    expect(JSON.parse(calls.find((c) => c.url === '/api/auth/2fa/enable')!.body)).toEqual({ code: '123456' });
    fireEvent.click(screen.getByRole('button', { name: 'I saved them' }));
    await waitFor(() => expect(screen.queryByTestId('recovery-codes')).toBeNull());
  });

  it('says single sign-on accounts get their second factor from the provider', () => {
    mockFetch(() => undefined);
    renderWith(<TwoFactorCard user={{ ...user, sso: true }} />);
    expect(screen.getByTestId('two-factor').textContent).toContain("company's account");
    expect(screen.queryByRole('button', { name: 'Set up' })).toBeNull();
  });

  it('lets an admin require it of all seller staff', async () => {
    let require = false;
    const calls = mockFetch((c) => {
      if (c.url !== '/api/security') return undefined;
      if (c.method === 'PUT') require = JSON.parse(c.body).require_two_factor;
      return json(200, { require_two_factor: require, sso: { name: 'Okta', url: '/auth/sso' } });
    });
    renderWith(<SecurityCard />);
    const toggle = (await screen.findByLabelText(/Require two-factor authentication/)) as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    expect(screen.getByTestId('security-settings').textContent).toContain('Okta');
    fireEvent.click(toggle);
    await waitFor(() => expect((screen.getByLabelText(/Require two-factor authentication/) as HTMLInputElement).checked).toBe(true));
    expect(calls.filter((c) => c.method === 'PUT').map((c) => JSON.parse(c.body))).toEqual([{ require_two_factor: true }]);
  });
});
