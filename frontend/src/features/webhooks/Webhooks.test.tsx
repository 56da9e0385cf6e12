import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { WebhookDelivery, WebhookEndpoint } from '../../shared/api';
import { pollEvery, WebhooksPage } from './Webhooks';
import { json, mockFetch } from '../../shared/test/testutil';

const eventTypes = [
  { type: 'subscription.created', description: 'a subscription was recorded for the first time' },
  { type: 'subscription.ended', description: 'the subscription ended: remove access' },
  { type: 'seat.assigned', description: 'a customer admin gave a user a seat' },
  { type: 'webhook.test', description: 'sent by the portal’s “Send test event” button' },
];

const endpoint = (over: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 5, url: 'https://hooks.example.com/mg', description: 'billing', event_types: ['*'], enabled: true, disabled_reason: '',
  disabled_at: null, failing_since: null, consecutive_failures: 0, last_success_at: null, created_by: 'admin@example.com',
  created_at: '2026-03-01T10:00:00Z', updated_at: '2026-03-01T10:00:00Z', pending: 0, failed: 0, ...over,
});

const body = { id: 'evt_0001', type: 'seat.assigned', timestamp: '2026-03-01T10:05:00Z', data: { subscription: { id: 42, state: 'active' }, seat: { email: 'ann@contoso.com' } } };

const delivery = (over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 12, event_id: 'evt_0001', event_type: 'seat.assigned', subscription_id: 42, status: 'succeeded', attempts: 1,
  next_attempt_at: '2026-03-01T10:05:00Z', last_attempt_at: '2026-03-01T10:05:01Z', response_status: 200, response_excerpt: 'ok', error: '',
  delivered_at: '2026-03-01T10:05:01Z', created_at: '2026-03-01T10:05:00Z',
  request: {
    headers: { 'webhook-id': 'evt_0001', 'webhook-timestamp': '1772359500', 'webhook-signature': 'v1,c2lnbmF0dXJl', 'content-type': 'application/json' },
    body,
  },
  ...over,
});

function Where() {
  const l = useLocation();
  return <div data-testid="location">{l.pathname + l.search}</div>;
}

function renderAt(url: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path="/webhooks" element={<WebhooksPage />} />
          <Route path="/webhooks/:id" element={<WebhooksPage />} />
        </Routes>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Webhooks: adding an endpoint', () => {
  it('sends the chosen types, shows the signing secret once with a copy button and how to verify, and never again', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    let items: WebhookEndpoint[] = [];
    const calls = mockFetch((c) => {
      if (c.method === 'GET' && c.url === '/api/webhooks') return json(200, { items, event_types: eventTypes });
      if (c.method === 'POST' && c.url === '/api/webhooks') {
        const sent = JSON.parse(c.body) as { url: string; description: string; event_types: string[] };
        items = [endpoint({ url: sent.url, description: sent.description, event_types: sent.event_types })];
        return json(201, { endpoint: items[0], secret });
      }
    });
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });

    renderAt('/webhooks');
    await screen.findByText('No webhook endpoints');
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    let dialog = await screen.findByRole('dialog');
    const add = () => within(dialog).getByRole('button', { name: 'Add endpoint' }) as HTMLButtonElement;
    expect(add().disabled).toBe(true);
    fireEvent.change(within(dialog).getByLabelText('URL'), { target: { value: ' https://hooks.example.com/mg ' } });
    fireEvent.change(within(dialog).getByLabelText('Description (optional)'), { target: { value: 'billing' } });
    // The test event is not something to subscribe to.
    expect(within(dialog).queryByRole('checkbox', { name: /webhook\.test/ })).toBeNull();
    fireEvent.click(within(dialog).getByRole('radio', { name: 'Only the types ticked below' }));
    expect(add().disabled).toBe(true); // nothing ticked yet
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /subscription\.ended/ }));
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /seat\.assigned/ }));
    expect(within(dialog).getByRole('checkbox', { name: /seat\.assigned/ }).closest('label')?.textContent).toContain('a customer admin gave a user a seat');
    fireEvent.click(add());

    const shown = await within(dialog).findByTestId('webhook-secret');
    expect(shown.textContent).toBe(secret);
    const post = calls.find((c) => c.method === 'POST')!;
    expect(JSON.parse(post.body)).toEqual({ url: 'https://hooks.example.com/mg', description: 'billing', event_types: ['subscription.ended', 'seat.assigned'] });
    dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('shown only once');
    expect(dialog.textContent).toContain('webhook-signature');
    expect(dialog.textContent).toContain('Standard Webhooks');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith(secret);
    expect(await within(dialog).findByRole('button', { name: 'Copied' })).toBeTruthy();

    // Done: the secret is gone for good; the list shows the new endpoint.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const row = await screen.findByTestId('endpoint-row');
    expect(row.textContent).toContain('https://hooks.example.com/mg');
    expect(row.textContent).toContain('subscription.ended, seat.assigned');
    expect(document.body.textContent).not.toContain(secret);
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    dialog = await screen.findByRole('dialog');
    expect(within(dialog).queryByTestId('webhook-secret')).toBeNull();
    expect((within(dialog).getByLabelText('URL') as HTMLInputElement).value).toBe('');
    expect(document.body.textContent).not.toContain(secret);
  });

  it("shows the server's refusal with its request id and keeps the dialog open", async () => {
    mockFetch((c) => {
      if (c.method === 'GET') return json(200, { items: [], event_types: eventTypes });
      return json(400, { error: { code: 'invalid_input', message: 'url: the host must not be a private address', request_id: 'req-400' } });
    });
    renderAt('/webhooks');
    await screen.findByText('No webhook endpoints');
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('URL'), { target: { value: 'http://10.0.0.1/x' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText('url: the host must not be a private address')).toBeTruthy();
    expect(within(dialog).getByText('request id: req-400')).toBeTruthy();
    expect(within(dialog).queryByTestId('webhook-secret')).toBeNull();
  });

  it('shows a disabled endpoint with its reason, and rotating the secret asks first and says the old one stops working', async () => {
    const e = endpoint({ enabled: false, disabled_reason: 'failing for 24 hours: last answer 503', disabled_at: '2026-03-02T10:00:00Z', pending: 4 });
    const calls = mockFetch((c) => {
      if (c.method === 'GET') return json(200, { items: [e], event_types: eventTypes });
      if (c.url === '/api/webhooks/5/rotate-secret') return json(200, { endpoint: e, secret: 'whsec_bmV3' });
    });
    renderAt('/webhooks');
    const row = await screen.findByTestId('endpoint-row');
    expect(within(row).getByTestId('endpoint-status').textContent).toBe('disabled');
    expect(within(row).getByTestId('disabled-reason').textContent).toBe('failing for 24 hours: last answer 503');
    expect(screen.getByTestId('disabled-callout').textContent).toContain('failing for 24 hours: last answer 503');
    fireEvent.click(within(row).getByRole('button', { name: 'Rotate secret' }));
    const confirm = await screen.findByRole('alertdialog');
    expect(confirm.textContent).toContain('The old secret stops working at once');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Rotate secret' }));
    expect((await screen.findByTestId('webhook-secret')).textContent).toBe('whsec_bmV3');
  });
});

describe('Webhooks: the delivery log', () => {
  const failed = delivery({
    id: 13, event_id: 'evt_0002', event_type: 'subscription.ended', subscription_id: null, status: 'failed', attempts: 9, response_status: 500,
    response_excerpt: '{"error":"database is down"}', error: 'the endpoint answered 500', delivered_at: null,
    request: { headers: { 'webhook-id': 'evt_0002', 'webhook-timestamp': '1772359600', 'webhook-signature': 'v1,b3RoZXI=' }, body: { id: 'evt_0002', type: 'subscription.ended' } },
  });

  it('expands a row to show the request headers, the pretty JSON body, the response and the error; the open row is in the URL', async () => {
    mockFetch((c) => {
      if (c.url === '/api/webhooks') return json(200, { items: [endpoint({ failed: 1 })], event_types: eventTypes });
      if (c.url.startsWith('/api/webhooks/5/deliveries')) return json(200, { items: [delivery(), failed], total: 2 });
    });
    renderAt('/webhooks/5');
    const rows = await screen.findAllByTestId('delivery-row');
    expect(rows.map((r) => within(r).getByTestId('delivery-status').textContent)).toEqual(['succeeded', 'failed']);
    expect(within(rows[0]).getByRole('link', { name: '#42' }).getAttribute('href')).toBe('/subscriptions/42');
    expect(screen.queryByTestId('delivery-detail')).toBeNull();

    fireEvent.click(rows[1]);
    let detail = await screen.findByTestId('delivery-detail');
    expect(screen.getByTestId('location').textContent).toBe('/webhooks/5?delivery=13');
    const headers = within(detail).getByRole('table', { name: 'Request headers' });
    expect(headers.textContent).toContain('webhook-id');
    expect(headers.textContent).toContain('evt_0002');
    expect(headers.textContent).toContain('v1,b3RoZXI=');
    expect(within(detail).getByTestId('delivery-body').textContent).toBe(JSON.stringify({ id: 'evt_0002', type: 'subscription.ended' }, null, 2));
    expect(within(detail).getByTestId('delivery-response-status').textContent).toBe('500');
    expect(within(detail).getByTestId('delivery-excerpt').textContent).toBe('{"error":"database is down"}');
    expect(within(detail).getByTestId('delivery-error').textContent).toContain('the endpoint answered 500');

    // Another row replaces it; clicking the open row closes it.
    fireEvent.click(rows[0]);
    detail = await screen.findByTestId('delivery-detail');
    expect(within(detail).getByTestId('delivery-body').textContent).toBe(JSON.stringify(body, null, 2));
    expect(within(detail).getByTestId('delivery-body').textContent).toContain('\n  "type": "seat.assigned"');
    expect(within(detail).queryByTestId('delivery-error')).toBeNull();
    expect(screen.getAllByTestId('delivery-detail')).toHaveLength(1);
    fireEvent.click(rows[0]);
    await waitFor(() => expect(screen.queryByTestId('delivery-detail')).toBeNull());
    expect(screen.getByTestId('location').textContent).toBe('/webhooks/5');
  });

  it('pages past a capped count: the next page stays open and the summary says more match', async () => {
    const calls = mockFetch((c) => {
      if (c.url === '/api/webhooks') return json(200, { items: [endpoint()], event_types: eventTypes });
      if (c.url.startsWith('/api/webhooks/5/deliveries')) return json(200, { items: [delivery(), failed], total: 10000, total_capped: true });
    });
    renderAt('/webhooks/5?offset=9950');
    await screen.findAllByTestId('delivery-row');
    expect(screen.getByTestId('pager-summary').textContent).toContain('more than 10,000');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(calls.some((c) => c.url.includes('offset=10000'))).toBe(true));
  });

  it('opens the delivery named in the URL, filters by status, redelivers one and sends a test event', async () => {
    let sentTest = false;
    const calls = mockFetch((c) => {
      if (c.url === '/api/webhooks') return json(200, { items: [endpoint()], event_types: eventTypes });
      if (c.method === 'GET' && c.url.startsWith('/api/webhooks/5/deliveries')) {
        const status = new URLSearchParams(c.url.split('?')[1]).get('status');
        const all = [...(sentTest ? [delivery({ id: 14, event_id: 'evt_test', event_type: 'webhook.test', subscription_id: null, status: 'succeeded' })] : []), delivery(), failed];
        const items = status ? all.filter((d) => d.status === status) : all;
        return json(200, { items, total: items.length });
      }
      if (c.method === 'POST' && c.url === '/api/webhooks/5/deliveries/13/redeliver') return json(200, { delivery: { ...failed, status: 'pending' } });
      if (c.method === 'POST' && c.url === '/api/webhooks/5/test') {
        sentTest = true;
        return json(202, { delivery: delivery({ id: 14, event_id: 'evt_test', event_type: 'webhook.test', status: 'pending' }) });
      }
    });
    renderAt('/webhooks/5?status=failed&delivery=13');
    const detail = await screen.findByTestId('delivery-detail');
    expect(within(detail).getByTestId('delivery-excerpt').textContent).toContain('database is down');
    expect(screen.getAllByTestId('delivery-row')).toHaveLength(1);
    const get = calls.find((c) => c.url.startsWith('/api/webhooks/5/deliveries'))!;
    const q = new URLSearchParams(get.url.split('?')[1]);
    expect([q.get('status'), q.get('limit'), q.get('offset')]).toEqual(['failed', '50', '0']);

    // Redeliver: sent for that delivery, the row stays as it is (no toggle), the log is read again.
    const before = calls.filter((c) => c.url.startsWith('/api/webhooks/5/deliveries?')).length;
    fireEvent.click(within(screen.getByTestId('delivery-row')).getByRole('button', { name: 'Redeliver' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/deliveries/13/redeliver'))).toBe(true));
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith('/api/webhooks/5/deliveries?')).length).toBeGreaterThan(before));
    expect(screen.getByTestId('delivery-detail')).toBeTruthy();

    // Any status again.
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: '' } });
    await waitFor(() => expect(screen.getAllByTestId('delivery-row')).toHaveLength(2));
    expect(screen.getByTestId('location').textContent).toBe('/webhooks/5');

    fireEvent.click(screen.getByRole('button', { name: 'Send test event' }));
    expect((await screen.findByTestId('test-sent')).textContent).toContain('evt_test');
    await waitFor(() => expect(screen.getAllByTestId('delivery-row')).toHaveLength(3));
    expect(screen.getAllByTestId('delivery-row')[0].textContent).toContain('webhook.test');
  });

  it("shows the server's error when a redelivery is refused", async () => {
    mockFetch((c) => {
      if (c.url === '/api/webhooks') return json(200, { items: [endpoint()], event_types: eventTypes });
      if (c.method === 'GET') return json(200, { items: [failed], total: 1 });
      return json(409, { error: { code: 'conflict', message: 'the endpoint is disabled', request_id: 'req-409' } });
    });
    renderAt('/webhooks/5');
    fireEvent.click(within(await screen.findByTestId('delivery-row')).getByRole('button', { name: 'Redeliver' }));
    expect(await screen.findByText('the endpoint is disabled')).toBeTruthy();
    expect(screen.getByText('request id: req-409')).toBeTruthy();
  });

  it('shows the endpoint failing as soon as the polled log shows the failed attempt', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let logReads = 0;
      const since = new Date().toISOString();
      mockFetch((c) => {
        // The server stores the attempt and the endpoint's failure together:
        // from the second read of the log on, the endpoint is failing.
        if (c.url === '/api/webhooks') {
          const ep = logReads >= 2 ? endpoint({ pending: 1, failing_since: since, consecutive_failures: 1 }) : endpoint({ pending: 1 });
          return json(200, { items: [ep], event_types: eventTypes });
        }
        if (c.url.startsWith('/api/webhooks/5/deliveries')) {
          logReads++;
          const next = new Date(Date.now() + 12_000).toISOString();
          return json(200, { items: [delivery({ status: 'pending', attempts: logReads, next_attempt_at: next, response_status: logReads >= 2 ? 500 : 200 })], total: 1 });
        }
      });
      renderAt('/webhooks/5');
      await screen.findAllByTestId('delivery-row');
      expect(screen.queryByTestId('failing-callout')).toBeNull();
      // The log is read again when the retry is due; the endpoint with it.
      await vi.advanceTimersByTimeAsync(13_000);
      expect(logReads).toBe(2);
      await screen.findByTestId('failing-callout');
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows pending deliveries until their next attempt, and stops when none wait', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(pollEvery([delivery()], 0, now)).toBe(false);
    expect(pollEvery([delivery({ status: 'pending', next_attempt_at: '2026-03-01T10:00:00Z' })], 1, now)).toBe(1_000);
    expect(pollEvery([delivery({ status: 'pending', next_attempt_at: '2026-03-01T10:00:05Z' })], 1, now)).toBe(5_500);
    expect(pollEvery([delivery({ status: 'pending', next_attempt_at: '2026-03-01T11:00:00Z' })], 1, now)).toBe(15_000);
    expect(pollEvery([delivery()], 3, now)).toBe(10_000);
  });
});
