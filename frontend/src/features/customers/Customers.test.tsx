import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen, within } from '@testing-library/react';
import type { CustomerDetail } from '../../shared/api';
import { CustomerPage } from './Customers';
import { json, refusal, renderRoutes, type Call } from '../../shared/test/testutil';

const contoso: CustomerDetail = {
  id: 5,
  name: 'Contoso Ltd',
  email: 'billing@contoso.example',
  name_source: '',
  aws_account_id: '123456789012',
  azure_tenant_id: 'tenant-5',
  created_at: '2026-10-01T08:00:00Z',
  updated_at: '2026-11-20T09:30:00Z',
  subscriptions: 7,
  active_subscriptions: 4,
  admins: 2,
  billing_contact: { name: 'Ann Billing', email: 'ap@contoso.example', phone: '+81 3-1234-5678' },
  technical_contact: { name: '', email: '', phone: '' },
};

const admins = {
  customer: { id: 5, name: 'Contoso Ltd', azure_tenant_id: 'tenant-5', aws_account_id: '123456789012' },
  admins: [
    { id: 20, email: 'it@contoso.example', name: 'Ida', entra: true, password: false, last_login_at: null, disabled: false },
    { id: 21, email: 'ops@contoso.example', name: '', entra: false, password: true, last_login_at: null, disabled: true },
  ],
  invites: [],
};

function renderAt(url: string, handler?: (c: Call) => Response | undefined) {
  return renderRoutes(url, 'viewer', { '/customers/:id': <CustomerPage /> }, (c) => {
    const h = handler?.(c);
    if (h) return h;
    if (c.url === '/api/customers/5') return json(200, { customer: contoso });
    if (c.url === '/api/customer-admins?customer_id=5') return json(200, admins);
    if (c.url.startsWith('/api/subscriptions?')) return json(200, { items: [], total: 0, limit: 50, offset: 0 });
    return refusal(404, 'not_found', 'unexpected ' + c.url, 'r0');
  });
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Customer page', () => {
  it('the header comes from GET /api/customers/:id: identities, dates and counts, linked', async () => {
    const calls = renderAt('/customers/5');
    expect((await screen.findByTestId('customer-name')).textContent).toBe('Contoso Ltd');
    expect(calls.some((c) => c.url === '/api/customers/5')).toBe(true);
    const header = screen.getByTestId('customer-header');
    expect(within(header).getByTestId('customer-email').textContent).toBe('billing@contoso.example');
    expect(header.textContent).toContain('123456789012');
    expect(header.textContent).toContain('tenant-5');
    expect(header.textContent).toContain('2026-10-01 08:00');
    expect(header.textContent).toContain('2026-11-20 09:30');
    const all = within(header).getByTestId('customer-subscriptions');
    expect(all.textContent).toBe('7');
    expect(all.getAttribute('href')).toBe('/subscriptions?customer=5');
    const active = within(header).getByTestId('customer-active');
    expect(active.textContent).toBe('4 active');
    expect(decodeURIComponent(active.getAttribute('href')!)).toBe('/subscriptions?customer=5&state=active,unsubscribe_pending');
    const adminsLink = within(header).getByTestId('customer-admins-count');
    expect(adminsLink.textContent).toBe('2');
    // The contacts the customer's admins keep in their portal.
    expect(within(header).getByTestId('customer-billing-contact').textContent).toBe('Ann Billing · ap@contoso.example · +81 3-1234-5678');
    expect(within(header).getByTestId('customer-technical-contact').textContent).toBe('—');
    expect(adminsLink.getAttribute('href')).toBe('/customers/5/admins');
    // The admins' list is still there, with how they sign in.
    const rows = await screen.findAllByTestId('customer-admin');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('it@contoso.example'),
      expect.stringContaining('ops@contoso.example'),
    ]);
    expect(rows[0].textContent).toContain('Microsoft Entra');
  });

  it('a customer that does not exist says so with the server’s message', async () => {
    renderAt('/customers/77', (c) => (c.url === '/api/customers/77' ? refusal(404, 'not_found', 'customer 77 does not exist', 'req-c77') : undefined));
    expect(await screen.findByText('customer 77 does not exist')).toBeTruthy();
    expect(screen.getByText('request id: req-c77')).toBeTruthy();
    expect(screen.queryByTestId('customer-name')).toBeNull();
  });

  it('the header shows even when the admins cannot be read', async () => {
    renderAt('/customers/5', (c) =>
      c.url.startsWith('/api/customer-admins') ? refusal(500, 'internal', 'database is locked', 'req-adm') : undefined,
    );
    expect((await screen.findByTestId('customer-name')).textContent).toBe('Contoso Ltd');
    expect(await screen.findByText('database is locked')).toBeTruthy();
    expect(screen.getByTestId('customer-admins-count').textContent).toBe('2');
  });
});
