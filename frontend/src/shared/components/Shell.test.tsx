// The seller shell: skip link, collapsible sidebar (remembered), one <h1>
// and a document title per page, and a way back from the 404 page.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from '../../App';
import { json } from '../test/testutil';
import { SIDEBAR_KEY } from './Shell';
import { documentTitle } from '../useDocumentTitle';

const me = { user: { id: 1, email: 'admin@seller.com', name: 'Admin', role: 'admin', customer_id: null, must_change_password: false, must_enable_two_factor: false } };

function renderApp(url: string) {
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const u = String(input);
    if (u === '/api/auth/me') return json(200, me);
    if (u.startsWith('/api/dashboard')) return json(500, { error: { code: 'internal', message: 'internal error', request_id: 'r' } });
    return json(404, { error: { code: 'not_found', message: 'not found', request_id: 'r' } });
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <App />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('the seller shell', () => {
  it('an unknown address says so in its one <h1>, names the document, and leads back', async () => {
    renderApp('/no/such/page');
    const h1 = await screen.findByRole('heading', { level: 1 });
    expect(h1.textContent).toBe('Page not found');
    expect(screen.getAllByRole('heading', { level: 1 })).toHaveLength(1);
    await waitFor(() => expect(document.title).toBe(documentTitle('Page not found')));
    expect(screen.getByText('/no/such/page')).toBeTruthy();
    const home = screen.getByRole('link', { name: 'Go to the dashboard' });
    fireEvent.click(home);
    await waitFor(() => expect(screen.queryByText('Page not found')).toBeNull());
  });

  it('the first thing a keyboard reaches skips to the content, which is the main landmark', async () => {
    renderApp('/no/such/page');
    await screen.findByRole('heading', { level: 1 });
    const skip = screen.getByRole('link', { name: 'Skip to content' });
    const main = screen.getByRole('main');
    expect(skip.getAttribute('href')).toBe('#' + main.id);
    // It comes before every other focusable element.
    const focusable = document.querySelectorAll('a[href], button, input, [tabindex="0"]');
    expect(focusable[0]).toBe(skip);
    fireEvent.click(skip);
    expect(document.activeElement).toBe(main);
  });

  it('the sidebar collapses to its icons, and the choice is remembered', async () => {
    renderApp('/no/such/page');
    await screen.findByRole('heading', { level: 1 });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(nav.textContent).toContain('Subscriptions');
    fireEvent.click(screen.getByRole('button', { name: 'Collapse the sidebar' }));
    expect(nav.textContent).not.toContain('Subscriptions');
    // Still named for assistive technology.
    expect(nav.querySelector('[aria-label="Subscriptions"]')).toBeTruthy();
    expect(localStorage.getItem(SIDEBAR_KEY)).toBe('collapsed');
    cleanup();
    renderApp('/no/such/page');
    await screen.findByRole('heading', { level: 1 });
    expect(screen.getByRole('button', { name: 'Expand the sidebar' }).getAttribute('aria-expanded')).toBe('false');
  });
});
