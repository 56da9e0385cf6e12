import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Login } from './Login';
import { safeNext } from '../safeNext';

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
});
