import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Login } from './Login';
import { safeNext } from '../../shared/safeNext';

function renderAt(url: string, microsoft: boolean) {
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(JSON.stringify({ microsoft }), { status: 200 }));
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Login />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Login page', () => {
  it('offers Microsoft sign-in as a plain link that keeps where to go next', async () => {
    renderAt('/login?next=' + encodeURIComponent('/subscriptions/4?tab=seats'), true);
    const link = await screen.findByTestId('microsoft-sign-in');
    expect(link.tagName).toBe('A');
    expect(link.textContent).toContain('Sign in with Microsoft');
    expect(link.getAttribute('href')).toBe('/auth/microsoft?next=' + encodeURIComponent('/subscriptions/4?tab=seats'));
  });

  it.each(['//evil.example/', '/\\evil.example', '/\t/evil.example', '/%09/evil.example', '/%2F%2Fevil.example', 'https://evil.example', 'javascript:alert(1)', '/x%0d%0aSet-Cookie:a'])(
    'never sends next off the site: %s',
    (bad) => {
      expect(safeNext(bad)).toBe('/');
    },
  );

  it('never sends next off the site', async () => {
    renderAt('/login?next=' + encodeURIComponent('//evil.example/'), true);
    expect((await screen.findByTestId('microsoft-sign-in')).getAttribute('href')).toBe('/auth/microsoft?next=%2F');
  });

  it('has no Microsoft button when it is not configured, and shows ?error=', async () => {
    renderAt('/login?error=' + encodeURIComponent('Your Microsoft account is not an admin of any customer.'), false);
    expect((await screen.findByTestId('login-error')).textContent).toContain('Your Microsoft account is not an admin of any customer.');
    await waitFor(() => expect(globalThis.fetch).toHaveBeenCalledWith('/api/auth/options', expect.anything()));
    expect(screen.queryByTestId('microsoft-sign-in')).toBeNull();
  });

  it('offers single sign-on for seller staff when configured, keeping next', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () => new Response(JSON.stringify({ microsoft: false, sso: { name: 'Okta', url: '/auth/sso' } }), { status: 200 }),
    );
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={['/login?next=' + encodeURIComponent('/audit')]}>
          <Login />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    const link = await screen.findByTestId('sso-sign-in');
    expect(link.tagName).toBe('A');
    expect(link.textContent).toContain('Sign in with Okta');
    expect(link.getAttribute('href')).toBe('/auth/sso?next=%2Faudit');
    expect(screen.queryByTestId('microsoft-sign-in')).toBeNull();
  });

  it('asks for the authenticator code after the password when the account has two-factor authentication', async () => {
    const bodies: { url: string; body: string }[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = String(input);
      bodies.push({ url, body: String(init?.body ?? '') });
      if (url === '/api/auth/options') return new Response(JSON.stringify({ microsoft: false, sso: null }), { status: 200 });
      if (url === '/api/auth/login') return new Response(JSON.stringify({ two_factor_required: true }), { status: 200 });
      if (url === '/api/auth/login/2fa') {
        const b = JSON.parse(String(init?.body));
        if (b.recovery_code === 'abcde-fghjk')
          return new Response(JSON.stringify({ user: { id: 1, email: 'a@b.c', role: 'admin' } }), { status: 200 });
        return new Response(JSON.stringify({ error: { code: 'invalid_credentials', message: 'wrong or already used code', request_id: 'r1' } }), {
          status: 401,
        });
      }
      return new Response('{}', { status: 404 });
    });
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={['/login']}>
          <Login />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    fireEvent.change(screen.getByLabelText('E-mail'), { target: { value: 'a@b.c' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct-horse-battery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByTestId('two-factor-step')).textContent).toContain('6-digit code');
    fireEvent.change(screen.getByLabelText('Code'), { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByText('wrong or already used code')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Use a recovery code instead' }));
    fireEvent.change(screen.getByLabelText('Recovery code'), { target: { value: 'abcde-fghjk' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    await waitFor(() => expect(qc.getQueryData(['me'])).toEqual({ user: { id: 1, email: 'a@b.c', role: 'admin' } }));
    expect(bodies.filter((b) => b.url === '/api/auth/login/2fa').map((b) => JSON.parse(b.body))).toEqual([
      { code: '123456' },
      { recovery_code: 'abcde-fghjk' },
    ]);
  });
});
