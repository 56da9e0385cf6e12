import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { InboxMessage, Role } from '../../shared/api';
import { NotificationsPage } from './Notifications';
import { json, paramsOf, refusal, renderRoutes, type Call } from '../../shared/test/testutil';

const msg = (over: Partial<InboxMessage> = {}): InboxMessage => ({
  id: 7,
  marketplace: 'aws',
  source: 'aws_sqs',
  dedup_key: 'sns:abc',
  action: 'subscribe-success',
  status: 'failed',
  error: 'not an AWS Marketplace notification: subscribe-success without customer-identifier or product-code',
  attempts: 1,
  subscription_id: 42,
  received_at: '2026-11-27T01:14:11Z',
  processed_at: null,
  ...over,
});

const body = JSON.stringify({ Type: 'Notification', MessageId: 'abc', Message: JSON.stringify({ action: 'subscribe-success' }) });

function renderAt(url: string, role: Role = 'operator', handler?: (c: Call) => Response | undefined) {
  return renderRoutes(url, role, { '/notifications': <NotificationsPage />, '/notifications/:id': <NotificationsPage /> }, (c) => {
    const h = handler?.(c);
    if (h) return h;
    if (c.url.startsWith('/api/inbox/7/replay')) return json(200, { message: { ...msg({ status: 'processed', error: '', attempts: 2 }), body } });
    if (c.url.startsWith('/api/inbox/7')) return json(200, { message: { ...msg(), body, content_type: 'application/json' } });
    return json(200, { items: [msg(), msg({ id: 8, status: 'processed', error: '', action: 'subscribe-fail' })], total: 2, limit: 50, offset: 0 });
  });
}

const where = () => screen.getByTestId('where').textContent!;
const listCalls = (calls: Call[]) => calls.filter((c) => c.url.startsWith('/api/inbox?') || c.url === '/api/inbox');

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Notifications: the inbox', () => {
  it('reads every filter from the URL, shows it in the controls and asks the API for exactly it', async () => {
    const url =
      '/notifications?marketplace=aws&source=aws_sqs&action=subscribe-fail&status=failed&from=2026-11-01T00%3A00%3A00Z&to=2026-11-02T06%3A30%3A00Z&subscription=42&q=sns&offset=50';
    const calls = renderAt(url);
    await screen.findAllByTestId('inbox-row');
    expect(paramsOf(listCalls(calls)[0].url)).toEqual({
      marketplace: 'aws',
      source: 'aws_sqs',
      action: 'subscribe-fail',
      status: 'failed',
      from: '2026-11-01T00:00:00Z',
      to: '2026-11-02T06:30:00Z',
      subscription: '42',
      q: 'sns',
      offset: '50',
      limit: '50',
    });
    expect((screen.getByLabelText('Marketplace') as HTMLSelectElement).value).toBe('aws');
    expect((screen.getByLabelText('Source') as HTMLSelectElement).value).toBe('aws_sqs');
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('failed');
    expect((screen.getByLabelText('Action') as HTMLInputElement).value).toBe('subscribe-fail');
    expect((screen.getByLabelText('Subscription id') as HTMLInputElement).value).toBe('42');
    expect((screen.getByLabelText('Search dedup key') as HTMLInputElement).value).toBe('sns');
    expect((screen.getByLabelText('From (UTC)') as HTMLInputElement).value).toBe('2026-11-01T00:00');
    expect((screen.getByLabelText('To (UTC)') as HTMLInputElement).value).toBe('2026-11-02T06:30');
  });

  it('puts each changed filter in the URL, back on the first page, and asks the API again', async () => {
    const calls = renderAt('/notifications?marketplace=aws&offset=50');
    await screen.findAllByTestId('inbox-row');

    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'failed' } });
    expect(where()).toBe('/notifications?marketplace=aws&status=failed');
    await waitFor(() => expect(paramsOf(listCalls(calls).at(-1)!.url)).toEqual({ marketplace: 'aws', status: 'failed', limit: '50' }));

    fireEvent.change(screen.getByLabelText('Source'), { target: { value: 'azure_webhook' } });
    expect(paramsOf(where())).toEqual({ marketplace: 'aws', status: 'failed', source: 'azure_webhook' });

    // Text filters follow typing after a pause; Enter applies at once.
    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'ChangePlan' } });
    await waitFor(() => expect(paramsOf(where()).action).toBe('ChangePlan'));
    fireEvent.change(screen.getByLabelText('Subscription id'), { target: { value: '9' } });
    fireEvent.keyDown(screen.getByLabelText('Subscription id'), { key: 'Enter' });
    expect(paramsOf(where()).subscription).toBe('9');

    fireEvent.change(screen.getByLabelText('From (UTC)'), { target: { value: '2026-11-03T10:15' } });
    expect(paramsOf(where()).from).toBe('2026-11-03T10:15:00Z');
    await waitFor(() =>
      expect(paramsOf(listCalls(calls).at(-1)!.url)).toEqual({
        marketplace: 'aws',
        status: 'failed',
        source: 'azure_webhook',
        action: 'ChangePlan',
        subscription: '9',
        from: '2026-11-03T10:15:00Z',
        limit: '50',
      }),
    );

    fireEvent.click(screen.getAllByRole('button', { name: 'Clear filters' })[0]);
    expect(where()).toBe('/notifications');
    expect((screen.getByLabelText('Action') as HTMLInputElement).value).toBe('');
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('');
  });

  it('opens a message at /notifications/:id keeping the filters; the payload, error and subscription link show; replay asks first', async () => {
    const calls = renderAt('/notifications?status=failed');
    const rows = await screen.findAllByTestId('inbox-row');
    fireEvent.click(rows[0]);
    expect(where()).toBe('/notifications/7?status=failed');
    const detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).getByTestId('processing-error').textContent).toContain('without customer-identifier');
    expect(within(detail).getByTestId('detail-subscription').getAttribute('href')).toBe('/subscriptions/42');
    expect(within(detail).getByTestId('payload-decoded').textContent).toContain('"action": "subscribe-success"');

    fireEvent.click(within(detail).getByRole('button', { name: 'Replay…' }));
    const confirm = await screen.findByRole('alertdialog');
    expect(confirm.textContent).toContain('Replay message #7');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Replay message' }));
    expect((await screen.findByTestId('replay-result')).textContent).toContain('now processed');
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/inbox/7/replay']);
    expect(screen.getByTestId('detail-status').textContent).toBe('processed');
  });

  it('a deep link opens the message; a refused replay shows the server’s message and request id', async () => {
    renderAt('/notifications/7', 'admin', (c) =>
      c.method === 'POST' ? refusal(409, 'conflict', 'aws_sqs messages cannot be replayed: test', 'req-77') : undefined,
    );
    const detail = await screen.findByTestId('inbox-detail');
    fireEvent.click(within(detail).getByRole('button', { name: 'Replay…' }));
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Replay message' }));
    expect(await within(detail).findByText('aws_sqs messages cannot be replayed: test')).toBeTruthy();
    expect(within(detail).getByText('request id: req-77')).toBeTruthy();
  });

  it('moves through the list with the arrow keys and opens with Enter', async () => {
    renderAt('/notifications?marketplace=aws');
    await screen.findAllByTestId('inbox-row');
    fireEvent.keyDown(document.body, { key: 'ArrowDown' });
    fireEvent.keyDown(document.body, { key: 'ArrowDown' });
    expect(screen.getAllByTestId('inbox-row')[1].getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(document.body, { key: 'Enter' });
    expect(where()).toBe('/notifications/8?marketplace=aws');
  });

  it('viewers read but are not offered replay', async () => {
    renderAt('/notifications/7', 'viewer');
    const detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).queryByRole('button', { name: 'Replay…' })).toBeNull();
    expect(within(detail).queryByTestId('replay-refusal')).toBeNull();
  });

  it.each([
    ['aws_registration', 'register', 'x-amzn-marketplace-token=abc', 'AWS registration messages cannot be replayed'],
    ['azure_landing', 'Resolve', '{"resolved":{}}', 'Microsoft landing page messages cannot be replayed'],
  ])('a %s message is not offered for replay: the reason the server gives shows instead', async (source, action, body, title) => {
    const calls = renderAt('/notifications/7', 'operator', (c) =>
      c.url === '/api/inbox/7' ? json(200, { message: { ...msg({ source, action, marketplace: source.split('_')[0] }), body } }) : undefined,
    );
    const detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).queryByRole('button', { name: 'Replay…' })).toBeNull();
    const why = within(detail).getByTestId('replay-refusal');
    expect(why.textContent).toContain(title);
    expect(why.textContent).toContain('purchase token works for the buyer’s visit only');
    expect(why.textContent).toContain('opens the product from the marketplace again');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    // The body still shows (a registration is a form post).
    if (source === 'aws_registration') expect(within(detail).getByTestId('payload-form').textContent).toContain('x-amzn-marketplace-token');
  });

  it('a Microsoft webhook call is replayed: confirmed with Get Operation again, as the confirmation says', async () => {
    const webhook = msg({ marketplace: 'azure', source: 'azure_webhook', action: 'Unsubscribe', dedup_key: 'op:abc', error: 'Get Operation: 503' });
    const calls = renderAt('/notifications/7', 'operator', (c) => {
      if (c.method === 'POST')
        return json(200, { message: { ...webhook, status: 'failed', attempts: 2, error: 'rejected_unverified: Get Operation does not confirm this call', body: '{}' } });
      if (c.url === '/api/inbox/7') return json(200, { message: { ...webhook, body: '{"id":"abc","action":"Unsubscribe"}', content_type: 'application/json' } });
      return undefined;
    });
    const detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).getByTestId('replay-hint').textContent).toContain('Get Operation');
    fireEvent.click(within(detail).getByRole('button', { name: 'Replay…' }));
    const confirm = await screen.findByRole('alertdialog');
    expect(confirm.textContent).toContain('asks Microsoft to confirm the operation again (Get Operation)');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Replay message' }));
    expect((await screen.findByTestId('replay-result')).textContent).toContain('it failed again');
    expect(within(detail).getByTestId('processing-error').textContent).toContain('rejected_unverified');
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/inbox/7/replay']);
  });

  it('shows the stored request headers: a table sorted by name, the text when it is not JSON, a note when none were stored', async () => {
    const headers = JSON.stringify({ 'X-Amz-Sns-Message-Type': 'Notification', 'Content-Type': 'application/json', Accept: ['*/*', 'text/plain'] });
    renderAt('/notifications/7', 'viewer', (c) => (c.url === '/api/inbox/7' ? json(200, { message: { ...msg(), body, headers } }) : undefined));
    let detail = await screen.findByTestId('inbox-detail');
    const rows = within(detail).getAllByTestId('header-row').map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['Accept', '*/*, text/plain'],
      ['Content-Type', 'application/json'],
      ['X-Amz-Sns-Message-Type', 'Notification'],
    ]);
    expect(within(within(detail).getByTestId('headers')).getByRole('button', { name: 'Copy headers' })).toBeTruthy();
    cleanup();

    renderAt('/notifications/7', 'viewer', (c) => (c.url === '/api/inbox/7' ? json(200, { message: { ...msg(), body, headers: 'not json' } }) : undefined));
    detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).getByTestId('headers-raw').textContent).toBe('not json');
    cleanup();

    renderAt('/notifications/7', 'viewer', (c) => (c.url === '/api/inbox/7' ? json(200, { message: { ...msg(), body, headers: '' } }) : undefined));
    detail = await screen.findByTestId('inbox-detail');
    expect(within(detail).getByTestId('headers-none').textContent).toContain('No request headers were stored');
    expect(within(detail).queryByTestId('header-row')).toBeNull();
  });

  it('customer admins see "not allowed" and nothing is fetched', async () => {
    const calls = renderAt('/notifications', 'customer_admin');
    expect(screen.getByTestId('not-allowed').textContent).toContain('Not allowed');
    expect(calls).toHaveLength(0);
  });

  it('an empty filtered result says so and offers to clear; a failed list shows the message and request id', async () => {
    renderAt('/notifications?status=ignored', 'operator', (c) => (c.url.startsWith('/api/inbox?') ? json(200, { items: [], total: 0 }) : undefined));
    expect(await screen.findByText('No messages match these filters')).toBeTruthy();
    cleanup();
    renderAt('/notifications?from=nonsense', 'operator', () => refusal(400, 'invalid_input', 'from must be an RFC 3339 time', 'req-1'));
    expect(await screen.findByText('from must be an RFC 3339 time')).toBeTruthy();
    expect(screen.getByText('request id: req-1')).toBeTruthy();
  });
});
