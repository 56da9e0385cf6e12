import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { AlertChannel, AlertItem, Role } from '../../shared/api';
import { AlertsPage } from './Alerts';
import { json, mockFetch } from '../../shared/test/testutil';

const alertTypes = [
  { type: 'marketplace_failing', description: 'calls to a marketplace keep failing' },
  { type: 'webhook_disabled', description: 'a webhook endpoint was disabled after failing for 24 hours' },
];

const slack: AlertChannel = {
  id: 3, kind: 'slack', name: 'ops', target: 'https://hooks.slack.com/services/T0/B0/x', alert_types: ['*'], enabled: true,
  last_sent_at: null, last_error: '', created_at: '2026-03-01T00:00:00Z', updated_at: '2026-03-01T00:00:00Z',
};

const recent: AlertItem = {
  id: 1, type: 'webhook_disabled', key: 'endpoint:5', title: 'Webhook endpoint disabled', detail: 'https://hooks.example.com failed for 24 hours',
  link: '/webhooks/5', count: 3, first_at: '2026-03-01T00:00:00Z', last_at: '2026-03-01T02:00:00Z',
};

function renderPage(role: Role) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['me'], { user: { id: 1, email: 'me@x', name: '', role, customer_id: null, must_change_password: false } });
  return render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={['/alerts']}>
        <AlertsPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Alerts page', () => {
  it("a channel's Test shows the server's error and request id, and a later success", async () => {
    let fail = true;
    const calls = mockFetch((c) => {
      if (c.url === '/api/alerts/channels') return json(200, { items: [slack], alert_types: alertTypes, email_configured: true });
      if (c.url.startsWith('/api/alerts?')) return json(200, { items: [recent] });
      if (c.method === 'POST' && c.url === '/api/alerts/channels/3/test')
        return fail
          ? json(502, { error: { code: 'delivery_failed', message: 'slack answered 404: no_service', request_id: 'req-502' } })
          : json(200, { sent: true });
    });
    renderPage('admin');
    const row = await screen.findByTestId('channel-row');
    expect(screen.queryByTestId('channel-test-result')).toBeNull();
    fireEvent.click(within(row).getByRole('button', { name: 'Test' }));
    const result = await screen.findByTestId('channel-test-result');
    expect(within(result).getByRole('heading').textContent).toBe('Test failed');
    expect(result.textContent).toContain('slack answered 404: no_service');
    expect(result.textContent).toContain('request id: req-502');
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/alerts/channels/3/test']);
    // The channel list is read again (its last error changes).
    await waitFor(() => expect(calls.filter((c) => c.url === '/api/alerts/channels').length).toBe(2));

    fail = false;
    fireEvent.click(within(row).getByRole('button', { name: 'Test' }));
    await waitFor(() => expect(screen.getByTestId('channel-test-result').textContent).toContain('Test alert sent to https://hooks.slack.com/services/T0/B0/x'));
    expect(screen.queryByText('slack answered 404: no_service')).toBeNull();
  });

  it('explains that e-mail needs SMTP, and adds a Slack channel with chosen alert types', async () => {
    const calls = mockFetch((c) => {
      if (c.url === '/api/alerts/channels' && c.method === 'GET') return json(200, { items: [], alert_types: alertTypes, email_configured: false });
      if (c.url.startsWith('/api/alerts?')) return json(200, { items: [] });
      if (c.url === '/api/alerts/channels' && c.method === 'POST') return json(201, { channel: { ...slack, ...JSON.parse(c.body) } });
    });
    renderPage('admin');
    expect((await screen.findByTestId('smtp-note')).textContent).toContain('MARKETGATE_SMTP_ADDR');
    fireEvent.click(screen.getByRole('button', { name: 'Add channel' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Kind'), { target: { value: 'email' } });
    expect(within(dialog).getByTestId('smtp-needed').textContent).toContain('MARKETGATE_SMTP_ADDR');
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'ops' } });
    fireEvent.change(within(dialog).getByLabelText('E-mail address'), { target: { value: 'ops@example.com' } });
    const add = () => within(dialog).getByRole('button', { name: 'Add channel' }) as HTMLButtonElement;
    expect(add().disabled).toBe(true);

    fireEvent.change(within(dialog).getByLabelText('Kind'), { target: { value: 'slack' } });
    expect(within(dialog).queryByTestId('smtp-needed')).toBeNull();
    fireEvent.change(within(dialog).getByLabelText('Incoming-webhook URL'), { target: { value: 'https://hooks.slack.com/services/T0/B0/x' } });
    fireEvent.click(within(dialog).getByRole('radio', { name: 'Only the types ticked below' }));
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /webhook_disabled/ }));
    expect(add().disabled).toBe(false);
    fireEvent.click(add());
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(calls.find((c) => c.method === 'POST')!.body)).toEqual({
      kind: 'slack', name: 'ops', target: 'https://hooks.slack.com/services/T0/B0/x', alert_types: ['webhook_disabled'],
    });
  });

  it('seller staff who are not admins see the recent alerts but no channels', async () => {
    const calls = mockFetch((c) => {
      if (c.url.startsWith('/api/alerts?')) return json(200, { items: [recent] });
    });
    renderPage('viewer');
    const row = await screen.findByTestId('alert-row');
    const cells = Array.from(row.querySelectorAll('td')).map((td) => td.textContent);
    expect(cells.slice(0, 6)).toEqual(['webhook_disabled', 'Webhook endpoint disabled', 'https://hooks.example.com failed for 24 hours', '3', '2026-03-01 00:00', '2026-03-01 02:00']);
    expect(within(row).getByRole('link', { name: 'open' }).getAttribute('href')).toBe('/webhooks/5');
    expect(screen.queryByText('Channels')).toBeNull();
    expect(calls.map((c) => c.url)).toEqual(['/api/alerts?limit=50']);
  });
});
