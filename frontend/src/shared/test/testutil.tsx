// Test helpers for the admin pages: a mocked fetch that records calls and a
// router with the current location on screen.
import { vi } from 'vitest';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { Role } from '../api';

export function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

export const refusal = (status: number, code: string, message: string, requestId: string) =>
  json(status, { error: { code, message, request_id: requestId } });

export interface Call {
  method: string;
  url: string;
  body: string;
}

/** Mocks fetch: calls are recorded; what the handler does not answer is a 404. */
export function mockFetch(handler: (c: Call) => Response | undefined) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? '') };
    calls.push(c);
    return handler(c) ?? json(404, { error: { code: 'not_found', message: 'unexpected ' + c.method + ' ' + c.url, request_id: 'r0' } });
  });
  return calls;
}

function Where() {
  const l = useLocation();
  return <div data-testid="where">{l.pathname + l.search}</div>;
}

/** Renders routes at url as the given role; every fetch goes to handler. */
export function renderRoutes(
  url: string,
  role: Role,
  routes: Record<string, React.ReactNode>,
  handler: (c: Call) => Response | Promise<Response>,
) {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const c = { method: init?.method ?? 'GET', url: String(input), body: String(init?.body ?? '') };
    calls.push(c);
    return handler(c);
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['me'], { user: { id: 1, email: 'me@example.com', name: 'Me', role, customer_id: role === 'customer_admin' ? 3 : null, must_change_password: false } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          {Object.entries(routes).map(([path, el]) => (
            <Route key={path} path={path} element={el} />
          ))}
        </Routes>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return calls;
}

/** The query parameters of a called URL. */
export const paramsOf = (url: string) => Object.fromEntries(new URL(url, 'http://x').searchParams);
