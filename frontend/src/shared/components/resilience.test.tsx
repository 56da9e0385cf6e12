// A network failure keeps what a page shows, says so in plain words, retries
// and recovers by itself; an ended session opens a sign-in dialog over the
// page, keeps what was typed, and sends the refused call again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useState } from 'react';
import { QueryClientProvider, useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api';
import { connection, request, UNREACHABLE } from '../api/client';
import { makeQueryClient, shouldRetry } from '../api/queryClient';
import { json, refusal } from '../test/testutil';
import { QueryState } from './QueryState';
import { ConnectionBanner } from './ConnectionBanner';
import { SessionGuard } from './SessionDialog';
import { ErrorBox } from './components';

const clients: ReturnType<typeof makeQueryClient>[] = [];
const client = () => {
  const qc = makeQueryClient();
  clients.push(qc);
  return qc;
};

afterEach(async () => {
  cleanup();
  clients.splice(0).forEach((qc) => qc.clear());
  vi.restoreAllMocks();
  // The connection state is the page's: leave it reachable for the next test.
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => json(200, {}));
  await request('/api/ping');
  vi.restoreAllMocks();
});

const down = () => Promise.reject(new TypeError('Failed to fetch'));

describe('the API client and an unreachable server', () => {
  it('turns "Failed to fetch" into a plain, retryable error and tracks the connection', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementationOnce(down).mockImplementationOnce(async () => json(200, { ok: true }));
    const err = await request('/api/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(UNREACHABLE);
    expect((err as ApiError).message).toMatch(/^Can't reach Marketgate/);
    expect((err as ApiError).message).not.toContain('Failed to fetch');
    expect(connection.unreachable()).toBe(true);
    expect(shouldRetry(50, err)).toBe(true); // retried until the server answers
    expect(shouldRetry(0, new ApiError(400, 'invalid_input', 'no', 'r'))).toBe(false);
    await request('/api/x');
    expect(connection.unreachable()).toBe(false);
  });

  it('a loaded list stays on screen while the server is down, says so, and recovers by itself', async () => {
    let phase: 'up' | 'down' | 'back' = 'up';
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
      if (phase === 'down') return down();
      return json(200, { items: phase === 'up' ? ['Contoso'] : ['Contoso', 'Fabrikam'] });
    });
    const qc = client();
    function List() {
      const q = useQuery({ queryKey: ['list'], queryFn: () => request<{ items: string[] }>('/api/list'), retryDelay: 20 });
      return (
        <>
          <ConnectionBanner />
          <QueryState query={q}>{(d) => <ul>{d.items.map((i) => <li key={i}>{i}</li>)}</ul>}</QueryState>
        </>
      );
    }
    render(
      <QueryClientProvider client={qc}>
        <List />
      </QueryClientProvider>,
    );
    await screen.findByText('Contoso');
    phase = 'down';
    act(() => void qc.refetchQueries({ queryKey: ['list'] }));
    // While it retries: the data stays, the page says what happened, no "Failed to fetch".
    expect(await screen.findByTestId('connection-banner')).toBeTruthy();
    expect(screen.getByTestId('connection-banner').textContent).toContain("Can't reach Marketgate — retrying");
    expect(screen.getByText('Contoso')).toBeTruthy();
    expect(document.body.textContent).not.toContain('Failed to fetch');
    phase = 'back';
    await screen.findByText('Fabrikam', {}, { timeout: 3000 });
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    expect(screen.queryByTestId('unreachable')).toBeNull();
  });

  it('a first load that cannot reach the server says so instead of spinning silently', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(down);
    const qc = client();
    function One() {
      const q = useQuery({ queryKey: ['one'], queryFn: () => request<string>('/api/one'), retryDelay: 20 });
      return <QueryState query={q}>{(d) => <p>{d}</p>}</QueryState>;
    }
    render(
      <QueryClientProvider client={qc}>
        <One />
      </QueryClientProvider>,
    );
    expect((await screen.findByTestId('unreachable')).textContent).toContain("Can't reach Marketgate — retrying");
  });
});

describe('error titles', () => {
  it('a wrong password is not "Something went wrong"', () => {
    render(<ErrorBox error={new ApiError(401, 'invalid_credentials', 'Wrong e-mail or password.', 'r1')} />);
    const box = screen.getByRole('alert');
    expect(box.textContent).toContain('Sign-in did not work');
    expect(box.textContent).toContain('Wrong e-mail or password.');
    expect(box.textContent).not.toContain('Something went wrong');
  });
});

describe('an ended session', () => {
  it('opens a sign-in dialog over the page, keeps what was typed, and sends the call again', async () => {
    let signedIn = false;
    const saves: string[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = String(input);
      if (url === '/api/auth/login') {
        signedIn = true;
        return json(200, { user: { id: 1, email: 'op@seller.com', role: 'operator' } });
      }
      if (url === '/api/things') {
        if (!signedIn) return refusal(401, 'unauthenticated', 'sign in first', 'r1');
        saves.push(String(init?.body));
        return json(200, { ok: true });
      }
      return refusal(404, 'not_found', 'unexpected', 'r0');
    });
    const qc = client();
    function Form() {
      const [name, setName] = useState('');
      const save = useMutation({ mutationFn: () => request('/api/things', { method: 'POST', body: { name } }) });
      return (
        <form onSubmit={(e) => (e.preventDefault(), save.mutate())}>
          <input aria-label="Thing name" value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit">Save</button>
          {save.isSuccess && <p>Saved.</p>}
        </form>
      );
    }
    render(
      <QueryClientProvider client={qc}>
        <Form />
        <SessionGuard email="op@seller.com" />
      </QueryClientProvider>,
    );
    fireEvent.change(screen.getByLabelText('Thing name'), { target: { value: 'Quarterly report' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('Your session has ended');
    expect((screen.getByLabelText('Thing name') as HTMLInputElement).value).toBe('Quarterly report');
    fireEvent.change(within(dialog).getByLabelText('Password'), { target: { value: 'correct-horse' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Sign in' }));
    await screen.findByText('Saved.');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(saves).toEqual([JSON.stringify({ name: 'Quarterly report' })]);
    expect((screen.getByLabelText('Thing name') as HTMLInputElement).value).toBe('Quarterly report');
    expect(api).toBeTruthy();
  });
});
